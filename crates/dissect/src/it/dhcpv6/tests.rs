use proptest::prelude::*;

use super::*;

/// A Windows-like SOLICIT.
const SOLICIT: [u8; 89] = [
    0x01, // msg-type: SOLICIT
    0x4a, 0x2c, 0x01, // transaction id 0x4a2c01
    0x00, 0x08, 0x00, 0x02, 0x00, 0x64, // elapsed time: 100 (1 s)
    0x00, 0x01, 0x00, 0x0e, // client identifier, 14 bytes
    0x00, 0x01, // DUID-LLT
    0x00, 0x01, // hardware type 1 (Ethernet)
    0x2a, 0x1b, 0x3c, 0x4d, // time
    0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35, // link-layer address
    0x00, 0x03, 0x00, 0x0c, // IA_NA, 12 bytes
    0x0e, 0x00, 0x0c, 0x29, // IAID
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // T1, T2
    0x00, 0x27, 0x00, 0x0b, // client FQDN, 11 bytes
    0x00, // flags
    0x06, b'h', b'm', b'i', b'-', b'0', b'1', // label "hmi-01"
    0x02, b'l', b'n', // label "ln" (partial name: no root)
    0x00, 0x10, 0x00, 0x0e, // vendor class, 14 bytes
    0x00, 0x00, 0x01, 0x37, // enterprise 311 (Microsoft)
    0x00, 0x08, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // "MSFT 5.0"
    0x00, 0x06, 0x00, 0x08, // option request, 8 bytes
    0x00, 0x11, 0x00, 0x17, 0x00, 0x18, 0x00, 0x27, // 17, 23, 24, 39
];

fn solicit() -> Vec<u8> {
    SOLICIT.to_vec()
}

#[test]
fn a_solicit_is_read() {
    let m = parse_datagram(&solicit()).expect("DHCPv6");
    assert_eq!(m.flags, Flags::default());
    assert_eq!((m.msg_type, m.transaction_id), (1, 0x4a2c01));
    assert_eq!(message_type_name(m.msg_type), "SOLICIT");
    assert!(m.from_client());
    assert_eq!(m.elapsed_time, Some(100));
    let id = m.client_id.as_ref().expect("client id");
    assert_eq!(id.kind, 1);
    assert_eq!(id.mac, Some(MacAddr([0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35])));
    assert_eq!(id.hex, "00:01:00:01:2a:1b:3c:4d:00:0c:29:4f:8e:35");
    assert_eq!(m.fqdn, Some((0, "hmi-01.ln".into())));
    assert_eq!(
        m.vendor_class,
        Some(VendorClass {
            enterprise: 311,
            data: vec!["MSFT 5.0".into()]
        })
    );
    assert_eq!(m.oro_fingerprint(), "17,23,24,39");
    let mut facts = Vec::new();
    m.identity_facts(Direction::Orig, &mut facts);
    assert_eq!(facts.len(), 1);
    assert_eq!(
        (facts[0].kind, facts[0].value.as_str()),
        (IdentityKind::Hostname, "hmi-01.ln")
    );
}

#[test]
fn a_relayed_reply_is_unwrapped() {
    let mut reply = vec![
        0x07, 0x00, 0x00, 0x01, // REPLY, transaction 1
        0x00, 0x02, 0x00, 0x0a, // server identifier, 10 bytes
        0x00, 0x03, 0x00, 0x01, // DUID-LL, Ethernet
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // link-layer address
        0x00, 0x03, 0x00, 0x28, // IA_NA, 40 bytes
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x00, 0x15,
        0x18, // IAID, T1, T2
        0x00, 0x05, 0x00, 0x18, // IAADDR, 24 bytes
    ];
    reply.extend_from_slice(&"2001:db8::10".parse::<Ipv6Addr>().unwrap().octets());
    reply.extend_from_slice(&[0, 0, 0x1c, 0x20, 0, 0, 0x2a, 0x30]); // preferred, valid
    let mut relay = vec![0x0d, 0x00]; // RELAY-REPL, hop count 0
    relay.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets()); // link
    relay.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets()); // peer
    relay.extend_from_slice(&[0x00, 0x09]); // relay message
    relay.extend_from_slice(&(reply.len() as u16).to_be_bytes());
    relay.extend_from_slice(&reply);
    let m = parse_datagram(&relay).expect("DHCPv6");
    assert_eq!(m.flags, Flags::default());
    assert_eq!(m.msg_type, 7);
    assert_eq!(m.relays.len(), 1);
    assert_eq!(
        m.relays[0].peer_address,
        "fe80::1".parse::<Ipv6Addr>().unwrap()
    );
    assert_eq!(m.addresses, ["2001:db8::10".parse::<Ipv6Addr>().unwrap()]);
    let sid = m.server_id.expect("server id");
    assert_eq!((sid.kind, sid.mac), (3, Some(MacAddr([2, 0, 0, 0, 0, 1]))));
}

#[test]
fn a_transaction_is_one_record() {
    let mut reply = vec![0x07, 0x4a, 0x2c, 0x01]; // REPLY, the SOLICIT's transaction id
    reply.extend_from_slice(&SOLICIT[10..28]); // the client identifier echoed
    reply.extend_from_slice(&[
        0x00, 0x03, 0x00, 0x28, // IA_NA, 40 bytes
        0x0e, 0x00, 0x0c, 0x29, 0, 0, 0, 0, 0, 0, 0, 0, // IAID, T1, T2
        0x00, 0x05, 0x00, 0x18, // IAADDR, 24 bytes
    ]);
    reply.extend_from_slice(&"2001:db8::7".parse::<Ipv6Addr>().unwrap().octets());
    reply.extend_from_slice(&[0; 8]); // lifetimes
    let mut s = Session::default();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    assert!(s.on_datagram(Direction::Orig, 0, &solicit(), &mut records, &mut facts));
    assert!(s.on_datagram(Direction::Resp, 5, &reply, &mut records, &mut facts));
    let mut other = solicit();
    other[3] = 0x02; // another transaction, never answered
    assert!(s.on_datagram(Direction::Orig, 9, &other, &mut records, &mut facts));
    s.expire(9 + EXCHANGE_TIMEOUT, &mut records);
    assert_eq!(records.len(), 2);
    let r = &records[0];
    assert_eq!(r.msg_types, [1, 7]);
    assert_eq!(
        r.client_mac,
        Some(MacAddr([0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35]))
    );
    assert_eq!(r.fqdn.as_deref(), Some("hmi-01.ln"));
    assert_eq!(r.vendor_class.as_deref(), Some("311 MSFT 5.0"));
    assert_eq!(r.oro.as_deref(), Some("17,23,24,39"));
    assert_eq!(
        r.assigned_addrs,
        ["2001:db8::7".parse::<Ipv6Addr>().unwrap()]
    );
    assert_eq!((r.duration, r.flags), (5, Flags::default()));
    assert!(records[1].flags.has(Flags::NO_RESPONSE));
    assert_eq!(facts.len(), 2, "one host name per transaction");
}

#[test]
fn relays_nest_only_so_deep() {
    let mut m = solicit();
    for _ in 0..MAX_RELAY_DEPTH + 2 {
        let mut r = vec![0x0c, 0x00];
        r.extend_from_slice(&[0; 32]);
        r.extend_from_slice(&[0x00, 0x09]);
        r.extend_from_slice(&(m.len() as u16).to_be_bytes());
        r.extend_from_slice(&m);
        m = r;
    }
    let msg = parse_datagram(&m).expect("DHCPv6");
    assert_eq!(msg.relays.len(), MAX_RELAY_DEPTH);
    assert!(msg.flags.has(Flags::RESERVED_SET));
}

#[test]
fn malformed_options_are_flagged() {
    let mut m = solicit();
    m[12] = 0x01; // client identifier claims 270 bytes
    let msg = parse_datagram(&m).expect("DHCPv6");
    assert!(msg.flags.has(Flags::BAD_LENGTH));
    assert_eq!(msg.client_id, None);
    assert_eq!(parse_datagram(&[0x01, 0x00]), None, "cut short");
    assert_eq!(parse_datagram(b"GET / HTTP/1.1"), None);
}

proptest! {
    /// The parser keeps the contract on any bytes.
    #[test]
    fn parser_keeps_the_contract(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        match Parser.parse(Direction::Orig, &bytes) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= bytes.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > bytes.len()),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any options after a valid header never panic.
    #[test]
    fn options_never_panic(t in 1u8..=13, opts in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut m = vec![t, 0, 0, 1];
        if t >= 12 {
            m.extend_from_slice(&[0; 30]);
        }
        m.extend_from_slice(&opts);
        let msg = parse_datagram(&m);
        prop_assert!(msg.is_some());
    }
}
