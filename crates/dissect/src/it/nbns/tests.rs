use proptest::prelude::*;

use super::*;

/// First-level encoding of "PLC-HMI01" padded with spaces, suffix <00>.
const PLC_HMI01_00: &[u8; 32] = b"FAEMEDCNEIENEJDADBCACACACACACAAA";

/// Broadcast registration of PLC-HMI01<00> at 192.168.10.5.
fn registration() -> Vec<u8> {
    let mut b = vec![
        0x12, 0x34, // id
        0x29, 0x10, // opcode 5 (registration), RD, broadcast
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // qd 1, ar 1
        0x20, // 32-byte label
    ];
    b.extend_from_slice(PLC_HMI01_00);
    b.extend_from_slice(&[
        0x00, // root
        0x00, 0x20, 0x00, 0x01, // NB IN
        0xc0, 0x0c, // additional: name = question's
        0x00, 0x20, 0x00, 0x01, // NB IN
        0x00, 0x04, 0x93, 0xe0, // ttl 300000
        0x00, 0x06, // rdlength 6
        0x00, 0x00, // NB_FLAGS: unique, B-node
        192, 168, 10, 5, // address
    ]);
    b
}

/// Node status response: names PLC-HMI01<00> (unique), WORKGROUP<00> (group),
/// PLC-HMI01<20> (unique), then MAC 00:0e:8c:01:02:03.
fn node_status() -> Vec<u8> {
    let mut b = vec![
        0x00, 0x07, 0x84, 0x00, // id 7, response, AA
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // an 1
        0x20,
    ];
    b.extend_from_slice(b"CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); // "*" and NULs
    b.extend_from_slice(&[0x00, 0x00, 0x21, 0x00, 0x01, 0, 0, 0, 0]);
    let mut data = vec![3u8];
    for (name, suffix, flags) in [
        (b"PLC-HMI01      ", 0x00, 0x0400u16),
        (b"WORKGROUP      ", 0x00, 0x8400),
        (b"PLC-HMI01      ", 0x20, 0x0400),
    ] {
        data.extend_from_slice(name);
        data.push(suffix);
        data.extend_from_slice(&flags.to_be_bytes());
    }
    data.extend_from_slice(&[0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03]);
    data.extend_from_slice(&[0; 40]); // statistics
    b.extend_from_slice(&(data.len() as u16).to_be_bytes());
    b.extend_from_slice(&data);
    b
}

#[test]
fn names_decode() {
    let n = NbName::decode(PLC_HMI01_00).unwrap();
    assert_eq!((n.name(), n.suffix()), (&b"PLC-HMI01"[..], 0));
    assert_eq!(n.to_string(), "PLC-HMI01<00>");
    assert_eq!(suffix_name(0x1D), "master_browser");
    assert!(NbName::decode(b"ZZ").is_none());
    let mut bad = *PLC_HMI01_00;
    bad[3] = b'Q';
    assert!(NbName::decode(&bad).is_none());
}

#[test]
fn registration_names_its_sender() {
    let b = registration();
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.flags, Flags::default());
    assert!(m.broadcast());
    assert_eq!(opcode_name(m.header.opcode()), "registration");
    assert_eq!(m.question.unwrap().1, TYPE_NB);
    let r: Vec<_> = m.resources().collect();
    assert_eq!(r.len(), 1);
    assert_eq!(
        r[0].addresses().collect::<Vec<_>>(),
        vec![(0, Ipv4Addr::new(192, 168, 10, 5))]
    );
    let row = record(Direction::Orig, 5, &m);
    assert_eq!(row.query.as_deref(), Some("PLC-HMI01<00>"));
    assert_eq!(
        (row.qtype_name, row.opcode, row.rcode),
        (Some("NB"), 5, None)
    );
    assert!(
        row.answers.is_empty(),
        "a request's additional record is not an answer"
    );
    let mut facts = Vec::new();
    identity(Direction::Orig, &m, &mut facts);
    assert_eq!(
        facts,
        vec![IdentityFact {
            about: Subject::Side(Direction::Orig),
            kind: IdentityKind::Hostname,
            value: "PLC-HMI01".into(),
            protocol: "nbns",
        }]
    );
    // A group registration (WORKGROUP-style) names no host.
    let mut g = b.clone();
    let at = g.len() - 6;
    g[at] = 0x80;
    let mut facts = Vec::new();
    identity(Direction::Orig, &Message::parse(&g).unwrap(), &mut facts);
    assert!(facts.is_empty());
}

#[test]
fn queries_say_nothing_and_positive_responses_do() {
    let mut q = registration()[..50].to_vec();
    q[2..4].copy_from_slice(&[0x01, 0x10]); // query, RD, broadcast
    q[11] = 0; // no additional
    let m = Message::parse(&q).unwrap();
    let mut facts = Vec::new();
    identity(Direction::Orig, &m, &mut facts);
    assert!(facts.is_empty());
    // The positive response: the question's name as an answer record.
    let mut r = vec![0x12, 0x34, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x20];
    r.extend_from_slice(PLC_HMI01_00);
    r.extend_from_slice(&[0, 0, 0x20, 0, 1, 0, 4, 0x93, 0xe0, 0, 6, 0, 0, 10, 0, 0, 9]);
    let m = Message::parse(&r).unwrap();
    assert_eq!(m.flags, Flags::default());
    identity(Direction::Resp, &m, &mut facts);
    assert_eq!(facts.len(), 1);
    assert_eq!(
        (facts[0].about, facts[0].value.as_str()),
        (Subject::Side(Direction::Resp), "PLC-HMI01")
    );
    // A negative response (rcode 3) says nothing.
    r[3] = 0x03;
    facts.clear();
    identity(Direction::Resp, &Message::parse(&r).unwrap(), &mut facts);
    assert!(facts.is_empty());
}

#[test]
fn node_status_table_and_mac() {
    let b = node_status();
    let m = Message::parse(&b).unwrap();
    assert_eq!(m.flags, Flags::default());
    let r = m.resources().next().unwrap();
    assert_eq!(r.name.unwrap().to_string(), "*<00>");
    let names: Vec<String> = r.status_names().map(|(n, _)| n.to_string()).collect();
    assert_eq!(names, ["PLC-HMI01<00>", "WORKGROUP<00>", "PLC-HMI01<20>"]);
    assert_eq!(r.status_mac(), Some([0x00, 0x0e, 0x8c, 0x01, 0x02, 0x03]));
    let row = record(Direction::Resp, 9, &m);
    assert_eq!(
        (row.protocol, row.query, row.qtype_name),
        ("nbns", None, None)
    );
    assert_eq!(
        row.answers,
        [
            "PLC-HMI01<00>",
            "WORKGROUP<00>",
            "PLC-HMI01<20>",
            "mac 00:0e:8c:01:02:03"
        ]
    );
    let mut facts = Vec::new();
    identity(Direction::Resp, &m, &mut facts);
    let values: Vec<_> = facts.iter().map(|f| f.value.as_str()).collect();
    assert_eq!(
        values,
        ["PLC-HMI01"],
        "the group is not a host name; one fact per name"
    );
}

#[test]
fn not_nbns_and_truncated() {
    // A DNS query (name "plc1.plant") is not NBNS.
    let dns = [
        0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, b'p', b'l', b'c', b'1', 5, b'p', b'l',
        b'a', b'n', b't', 0, 0, 1, 0, 1,
    ];
    assert!(Message::parse(&dns).is_none());
    assert_eq!(Parser.parse(Direction::Orig, &dns), Parsed::NotThisProtocol);
    assert!(Message::parse(&[0; 11]).is_none());
    // Opcode 3 is not NBNS.
    let mut b = registration();
    b[2] = 0x19;
    assert!(Message::parse(&b).is_none());
    // Truncated in the additional record: the question stays, BAD_LENGTH.
    let b = registration();
    for cut in 50..b.len() {
        let m = Message::parse(&b[..cut]).unwrap();
        assert_eq!(m.records, 0, "cut {cut}");
        assert!(m.flags.has(Flags::BAD_LENGTH));
    }
    // NBSTAT with a count larger than its data: BAD_LENGTH, names stop where the
    // data does (the statistics read as two more), no MAC.
    let mut s = node_status();
    s[12 + 34 + 10] = 200;
    let m = Message::parse(&s).unwrap();
    assert!(m.flags.has(Flags::BAD_LENGTH));
    let r = m.resources().next().unwrap();
    assert_eq!(r.status_names().count(), 5);
    assert_eq!(r.status_mac(), None);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_messages_never_panic(
        which in 0usize..2,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let mut b = if which == 0 { registration() } else { node_status() };
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        b.truncate(cut % (b.len() + 1));
        exercise(&b);
    }
}

fn exercise(bytes: &[u8]) {
    match Parser.parse(Direction::Orig, bytes) {
        Parsed::Pdu { pdu, consumed } => {
            assert_eq!(consumed, bytes.len());
            assert_eq!(pdu.resources().count(), pdu.records);
            for r in pdu.resources() {
                let _ = (
                    r.addresses().count(),
                    r.status_names().count(),
                    r.status_mac(),
                );
                let _ = r.name.map(|n| n.to_string());
            }
            let row = record(Direction::Resp, 0, &pdu);
            assert!(row.answers.len() <= dns::MAX_ANSWERS && row.answers.len() == row.ttls.len());
            let mut facts = Vec::new();
            identity(Direction::Resp, &pdu, &mut facts);
            assert!(facts.iter().all(|f| !f.value.is_empty()));
        }
        Parsed::Incomplete { .. } => panic!("a datagram is never incomplete"),
        Parsed::NotThisProtocol => {}
    }
}
