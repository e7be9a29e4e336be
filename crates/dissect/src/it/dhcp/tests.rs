use proptest::prelude::*;

use super::*;

const XP_MAC: [u8; 6] = [0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35];

/// The fixed BOOTP header: op, xid, flags, ciaddr, yiaddr, chaddr (Ethernet), then
/// zeroed sname and file, then the magic cookie.
fn header(op: u8, xid: u32, broadcast: bool, ciaddr: [u8; 4], yiaddr: [u8; 4]) -> Vec<u8> {
    let mut m = vec![
        op,   // op: 1 BOOTREQUEST, 2 BOOTREPLY
        0x01, // htype: Ethernet
        0x06, // hlen: 6
        0x00, // hops
    ];
    m.extend_from_slice(&xid.to_be_bytes()); // xid
    m.extend_from_slice(&[0x00, 0x00]); // secs
    m.extend_from_slice(&[if broadcast { 0x80 } else { 0 }, 0x00]); // flags (broadcast bit)
    m.extend_from_slice(&ciaddr); // ciaddr
    m.extend_from_slice(&yiaddr); // yiaddr
    m.extend_from_slice(&[0; 4]); // siaddr
    m.extend_from_slice(&[0; 4]); // giaddr
    m.extend_from_slice(&XP_MAC); // chaddr
    m.extend_from_slice(&[0; 10]); // chaddr padding
    m.extend_from_slice(&[0; 64]); // sname
    m.extend_from_slice(&[0; 128]); // file
    assert_eq!(m.len(), 236);
    m.extend_from_slice(&MAGIC_COOKIE);
    m
}

/// A Windows XP SP3 DHCPREQUEST at boot, options as XP sends them.
fn xp_request() -> Vec<u8> {
    let mut m = header(1, 0x3903_f326, false, [0; 4], [0; 4]);
    m.extend_from_slice(&[
        53, 1, 3, // message type: REQUEST
        61, 7, 0x01, 0x00, 0x0c, 0x29, 0x4f, 0x8e, 0x35, // client id: type 1 + MAC
        50, 4, 192, 168, 0, 10, // requested address 192.168.0.10
        54, 4, 192, 168, 0, 1, // server identifier 192.168.0.1
        12, 7, b'X', b'P', b'-', b'L', b'A', b'B', b'1', // host name "XP-LAB1"
        81, 11, 0x00, 0x00, 0x00, // client FQDN: flags 0 (ASCII), rcode1, rcode2
        b'X', b'P', b'-', b'L', b'A', b'B', b'1', b'.', // name "XP-LAB1."
        60, 8, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', // vendor class "MSFT 5.0"
        55, 11, 1, 15, 3, 6, 44, 46, 47, 31, 33, 249, 43, // parameter request list (XP)
        43, 3, 220, 1, 0,   // vendor specific (not decoded)
        255, // end
    ]);
    m
}

/// The server's ACK to it.
fn xp_ack() -> Vec<u8> {
    let mut m = header(2, 0x3903_f326, false, [0; 4], [192, 168, 0, 10]);
    m.extend_from_slice(&[
        53, 1, 5, // message type: ACK
        54, 4, 192, 168, 0, 1, // server identifier
        51, 4, 0x00, 0x01, 0x51, 0x80, // lease time 86400 s
        1, 4, 255, 255, 255, 0, // subnet mask
        3, 4, 192, 168, 0, 1, // router
        6, 8, 192, 168, 0, 1, 8, 8, 8, 8, // DNS servers
        15, 9, b'l', b'a', b'b', b'.', b'l', b'o', b'c', b'a', b'l', // domain "lab.local"
        255,  // end
    ]);
    m
}

fn parse(bytes: &[u8]) -> Message<'_> {
    parse_datagram(bytes).expect("DHCP")
}

fn run(msgs: &[(Ipv4Addr, Vec<u8>)]) -> (Vec<DhcpRecord>, Vec<IdentityFact>) {
    let mut s = Session::default();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    for (i, (src, m)) in msgs.iter().enumerate() {
        assert!(s.on_datagram(
            Direction::Orig,
            i as i64 * 1_000_000,
            *src,
            m,
            &mut records,
            &mut facts
        ));
    }
    s.finish(&mut records);
    (records, facts)
}

#[test]
fn windows_xp_request_gives_what_the_ledger_needs() {
    let bytes = xp_request();
    let m = parse(&bytes);
    assert_eq!((m.op, m.htype, m.hlen, m.xid), (1, 1, 6, 0x3903_f326));
    assert!(m.cookie && !m.broadcast() && m.from_client());
    assert_eq!(m.flags, Flags::default());
    assert_eq!(m.mac(), Some(MacAddr(XP_MAC)));
    assert_eq!(m.message_type, Some(3));
    assert_eq!(m.host_name.as_deref(), Some(&b"XP-LAB1"[..]));
    assert_eq!(m.requested_addr, Some(Ipv4Addr::new(192, 168, 0, 10)));
    assert_eq!(m.server_id, Some(Ipv4Addr::new(192, 168, 0, 1)));
    assert_eq!(m.vendor_class.as_deref(), Some(&b"MSFT 5.0"[..]));
    assert_eq!(
        m.param_fingerprint().as_deref(),
        Some("1,15,3,6,44,46,47,31,33,249,43")
    );
    assert_eq!(
        m.client_fqdn,
        Some(ClientFqdn {
            flags: 0,
            name: "XP-LAB1.".into()
        })
    );
    assert_eq!(m.option_count, 9);

    let (records, facts) = run(&[
        (Ipv4Addr::UNSPECIFIED, bytes),
        (Ipv4Addr::new(192, 168, 0, 1), xp_ack()),
    ]);
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r.mac, Some(MacAddr(XP_MAC)));
    assert_eq!(r.host_name.as_deref(), Some("XP-LAB1"));
    assert_eq!(r.client_fqdn.as_deref(), Some("XP-LAB1."));
    assert_eq!(r.vendor_class.as_deref(), Some("MSFT 5.0"));
    assert_eq!(
        r.param_list.as_deref(),
        Some("1,15,3,6,44,46,47,31,33,249,43")
    );
    assert_eq!(r.client_id.as_deref(), Some("01:00:0c:29:4f:8e:35"));
    assert_eq!(r.os_hint, Some("Windows 2000/XP/Server 2003"));
    assert_eq!(r.msg_type_names().collect::<Vec<_>>(), ["REQUEST", "ACK"]);
    assert_eq!(r.assigned_addr, Some(Ipv4Addr::new(192, 168, 0, 10)));
    assert_eq!(r.requested_addr, Some(Ipv4Addr::new(192, 168, 0, 10)));
    assert_eq!(r.server_addr, Some(Ipv4Addr::new(192, 168, 0, 1)));
    assert_eq!(r.client_addr, None, "the client sent from 0.0.0.0");
    assert_eq!(r.lease_time, Some(86_400));
    assert_eq!(r.domain.as_deref(), Some("lab.local"));
    assert_eq!(r.routers, [Ipv4Addr::new(192, 168, 0, 1)]);
    assert_eq!(
        r.dns_servers,
        [Ipv4Addr::new(192, 168, 0, 1), Ipv4Addr::new(8, 8, 8, 8)]
    );
    assert_eq!((r.ts, r.duration), (0, 1_000_000));
    assert_eq!(r.flags, Flags::default());
    let found: Vec<_> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        found,
        [
            (IdentityKind::Hostname, "XP-LAB1"),
            (IdentityKind::Hostname, "XP-LAB1.")
        ]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Side(Direction::Orig) && f.protocol == "dhcp")
    );
}

#[test]
fn os_hints() {
    let win7 = [1, 15, 3, 6, 44, 46, 47, 31, 33, 121, 249, 43];
    assert_eq!(
        os_hint("MSFT 5.0", Some(&win7)),
        Some("Windows Vista or later")
    );
    assert_eq!(os_hint("MSFT 98", None), Some("Windows 98/ME"));
    assert_eq!(
        os_hint("udhcp 1.30.1", None),
        Some("BusyBox udhcpc (embedded Linux)")
    );
    assert_eq!(
        os_hint("dhcpcd-9.4.1:Linux-6.1:x86_64:GenuineIntel", None),
        Some("dhcpcd (Linux/BSD/Android)")
    );
    assert_eq!(os_hint("Siemens", None), None);
}

#[test]
fn a_full_exchange_is_one_record_and_a_renewal_another() {
    let mut discover = header(1, 7, true, [0; 4], [0; 4]);
    discover.extend_from_slice(&[53, 1, 1, 12, 3, b'p', b'c', b'1', 255]);
    let mut offer = header(2, 7, true, [0; 4], [10, 0, 0, 5]);
    offer.extend_from_slice(&[53, 1, 2, 54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0x0e, 0x10, 255]);
    let mut request = header(1, 7, true, [0; 4], [0; 4]);
    request.extend_from_slice(&[53, 1, 3, 50, 4, 10, 0, 0, 5, 12, 3, b'p', b'c', b'1', 255]);
    let mut ack = offer.clone();
    ack[240 + 2] = 5; // ACK
    let mut renew = header(1, 8, false, [10, 0, 0, 5], [0; 4]);
    renew.extend_from_slice(&[53, 1, 3, 12, 3, b'p', b'c', b'1', 255]);
    let server = Ipv4Addr::new(10, 0, 0, 1);
    let (records, facts) = run(&[
        (Ipv4Addr::UNSPECIFIED, discover),
        (server, offer),
        (Ipv4Addr::UNSPECIFIED, request),
        (server, ack),
        (Ipv4Addr::new(10, 0, 0, 5), renew),
    ]);
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0].msg_type_names().collect::<Vec<_>>(),
        ["DISCOVER", "OFFER", "REQUEST", "ACK"]
    );
    assert_eq!(records[0].assigned_addr, Some(Ipv4Addr::new(10, 0, 0, 5)));
    assert_eq!(records[0].lease_time, Some(3600));
    assert_eq!(records[1].msg_type_names().collect::<Vec<_>>(), ["REQUEST"]);
    assert_eq!(records[1].client_addr, Some(Ipv4Addr::new(10, 0, 0, 5)));
    assert!(records[1].flags.has(Flags::NO_RESPONSE));
    // One host name fact per exchange.
    assert_eq!(facts.len(), 2);
}

#[test]
fn exchanges_time_out_on_packet_time_and_are_bounded() {
    let mut s = Session::default();
    let (mut records, mut facts) = (Vec::new(), Vec::new());
    for xid in 0..(MAX_EXCHANGES as u32 + 1) {
        let mut d = header(1, xid, true, [0; 4], [0; 4]);
        d.extend_from_slice(&[53, 1, 1, 255]);
        s.on_datagram(
            Direction::Orig,
            0,
            Ipv4Addr::UNSPECIFIED,
            &d,
            &mut records,
            &mut facts,
        );
    }
    assert_eq!(records.len(), 1);
    assert!(records[0].flags.has(Flags::TOO_MANY_OUTSTANDING));
    s.expire(EXCHANGE_TIMEOUT, &mut records);
    assert_eq!(records.len(), MAX_EXCHANGES + 1);
}

#[test]
fn a_relayed_exchange_and_a_release() {
    let relay = Ipv4Addr::new(10, 1, 0, 1);
    // The XP request relayed: giaddr set, sent by the relay to the server.
    let mut request = xp_request();
    request[3] = 1; // hops
    request[24..28].copy_from_slice(&relay.octets()); // giaddr
    let mut ack = xp_ack();
    ack[24..28].copy_from_slice(&relay.octets());
    // A later REQUEST without options 55 and 60 keeps the exchange's hint.
    let mut again = header(1, 0x3903_f326, false, [0; 4], [0; 4]);
    again[24..28].copy_from_slice(&relay.octets());
    again.extend_from_slice(&[
        53, 1, 3, 60, 8, b'M', b'S', b'F', b'T', b' ', b'5', b'.', b'0', 255,
    ]);
    let mut release = header(1, 9, false, [192, 168, 0, 10], [0; 4]);
    release.extend_from_slice(&[53, 1, 7, 54, 4, 192, 168, 0, 1, 255]); // RELEASE
    let (records, _) = run(&[
        (relay, request),
        (relay, again),
        (Ipv4Addr::new(192, 168, 0, 1), ack),
        (Ipv4Addr::new(192, 168, 0, 10), release),
    ]);
    assert_eq!(records.len(), 2);
    let r = &records[0];
    assert_eq!(r.relay_addr, Some(relay));
    assert_eq!(r.client_addr, None, "the relay is not the client");
    assert_eq!(r.server_addr, Some(Ipv4Addr::new(192, 168, 0, 1)));
    assert_eq!(r.os_hint, Some("Windows 2000/XP/Server 2003"));
    assert_eq!(
        r.msg_type_names().collect::<Vec<_>>(),
        ["REQUEST", "REQUEST", "ACK"]
    );
    let r = &records[1];
    assert_eq!(r.msg_type_names().collect::<Vec<_>>(), ["RELEASE"]);
    assert_eq!(r.client_addr, Some(Ipv4Addr::new(192, 168, 0, 10)));
    assert_eq!(r.flags, Flags::default(), "a RELEASE expects no answer");
}

#[test]
fn a_reply_without_request_is_flagged() {
    let (records, _) = run(&[(Ipv4Addr::new(192, 168, 0, 1), xp_ack())]);
    assert!(records[0].flags.has(Flags::UNSOLICITED_RESPONSE));
}

#[test]
fn options_continue_in_file_and_sname_when_overloaded() {
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    // file field (offset 108): host name, then end.
    m[108..116].copy_from_slice(&[12, 4, b'h', b'o', b's', b't', 255, 0]);
    // sname field (offset 44): vendor class split from the options field (RFC 3396),
    // and an overload option that must be ignored there.
    m[44..53].copy_from_slice(&[60, 2, b'.', b'0', 52, 1, 3, 255, 0]);
    m.extend_from_slice(&[
        53, 1, 1, // DISCOVER
        52, 1, 3, // overload: file and sname hold options
        60, 6, b'M', b'S', b'F', b'T', b' ', b'5', // vendor class, first part
        255,
    ]);
    let msg = parse(&m);
    assert_eq!(msg.overload, Some(3));
    assert_eq!(msg.host_name.as_deref(), Some(&b"host"[..]));
    assert_eq!(msg.vendor_class.as_deref(), Some(&b"MSFT 5.0"[..]));
    assert!(msg.flags.has(Flags::RESERVED_SET), "option 52 inside sname");
    assert!(!msg.flags.has(Flags::BAD_LENGTH));
}

#[test]
fn malformed_options_are_flagged() {
    // Length past the end.
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    m.extend_from_slice(&[53, 1, 1, 12, 40, b'a', b'b']);
    let msg = parse(&m);
    assert!(msg.flags.has(Flags::BAD_LENGTH));
    assert_eq!((msg.message_type, msg.host_name), (Some(1), None));
    // No end option.
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    m.extend_from_slice(&[53, 1, 1]);
    assert!(parse(&m).flags.has(Flags::BAD_LENGTH));
    // Wrong fixed lengths, unknown message type.
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    m.extend_from_slice(&[53, 1, 200, 50, 3, 1, 2, 3, 51, 2, 0, 1, 255]);
    let msg = parse(&m);
    assert!(msg.flags.has(Flags::BAD_LENGTH) && msg.flags.has(Flags::UNKNOWN_FUNCTION));
    assert_eq!((msg.requested_addr, msg.lease_time), (None, None));
    // Missing cookie: plain BOOTP, no options, flagged.
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    m[236..240].copy_from_slice(&[1, 2, 3, 4]);
    m.extend_from_slice(&[53, 1, 1, 255]);
    let msg = parse(&m);
    assert!(!msg.cookie && msg.flags.has(Flags::RESERVED_SET));
    assert_eq!(msg.message_type, None);
    // Overload with a bad value, and twice.
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    m.extend_from_slice(&[52, 1, 9, 52, 1, 3, 53, 1, 1, 255]);
    let msg = parse(&m);
    assert_eq!(msg.overload, Some(9));
    assert!(msg.flags.has(Flags::RESERVED_SET));
}

#[test]
fn fqdn_in_wire_encoding() {
    let mut m = header(1, 1, false, [0; 4], [0; 4]);
    m.extend_from_slice(&[
        53, 1, 3, // REQUEST
        81, 17, 0x05, 0, 0, // flags S + E (canonical wire format), rcode1, rcode2
        3, b'h', b'm', b'i', // label "hmi"
        5, b'p', b'l', b'a', b'n', b't', // label "plant"
        2, b'j', b'p', 0, // label "jp", root
        255,
    ]);
    let msg = parse(&m);
    assert_eq!(
        msg.client_fqdn.map(|f| (f.flags, f.name)),
        Some((5, "hmi.plant.jp".into()))
    );
    assert_eq!(msg.flags, Flags::default());
}

#[test]
fn not_bootp_is_refused_and_short_is_incomplete() {
    assert_eq!(
        Parser.parse(Direction::Orig, b"GET / HTTP/1.1\r\n"),
        Parsed::NotThisProtocol
    );
    assert_eq!(
        Parser.parse(Direction::Orig, &xp_request()[..100]),
        Parsed::Incomplete { needed: 236 }
    );
    let mut s = Session::default();
    assert!(!s.on_datagram(
        Direction::Orig,
        0,
        Ipv4Addr::UNSPECIFIED,
        b"\x05junk",
        &mut Vec::new(),
        &mut Vec::new()
    ));
    assert_eq!(s.not_dhcp, 1);
}

proptest! {
    /// The parser keeps the contract on any bytes.
    #[test]
    fn parser_keeps_the_contract(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        match Parser.parse(Direction::Orig, &bytes) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= bytes.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > bytes.len()),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any options after a valid header never panic the parser or the session.
    #[test]
    fn options_never_panic(op in 1u8..=2, sname in proptest::collection::vec(any::<u8>(), 64),
                           opts in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut m = header(op, 1, false, [0; 4], [0; 4]);
        m[44..108].copy_from_slice(&sname);
        m.extend_from_slice(&opts);
        let mut s = Session::default();
        let (mut records, mut facts) = (Vec::new(), Vec::new());
        prop_assert!(s.on_datagram(Direction::Orig, 0, Ipv4Addr::UNSPECIFIED, &m, &mut records, &mut facts));
        s.finish(&mut records);
        prop_assert_eq!(records.len(), 1);
    }

    /// Truncating a valid message anywhere never panics.
    #[test]
    fn truncation_never_panics(cut in 0usize..400) {
        let m = xp_request();
        let _ = Parser.parse(Direction::Orig, &m[..cut.min(m.len())]);
    }
}
