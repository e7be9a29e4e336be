use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// Query: id 0x1234, RD, one question `plc1.plant` A IN.
const QUERY: [u8; 28] = [
    0x12, 0x34, // id
    0x01, 0x00, // flags: RD
    0x00, 0x01, // qdcount 1
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // an/ns/ar 0
    0x04, b'p', b'l', b'c', b'1', // "plc1"
    0x05, b'p', b'l', b'a', b'n', b't', // "plant"
    0x00, // root
    0x00, 0x01, // qtype A
    0x00, 0x01, // qclass IN
];

/// Its answer: QR RD RA, one A record 10.0.0.5 TTL 3600 named by a pointer to offset 12.
const ANSWER: [u8; 44] = [
    0x12, 0x34, // id
    0x81, 0x80, // flags: QR RD RA, NOERROR
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // qd 1, an 1
    0x04, b'p', b'l', b'c', b'1', 0x05, b'p', b'l', b'a', b'n', b't', 0x00, // question name
    0x00, 0x01, 0x00, 0x01, // A IN
    0xc0, 0x0c, // name: pointer to 12
    0x00, 0x01, 0x00, 0x01, // A IN
    0x00, 0x00, 0x0e, 0x10, // ttl 3600
    0x00, 0x04, // rdlength 4
    10, 0, 0, 5, // 10.0.0.5
];

/// NXDOMAIN for the same query.
const NXDOMAIN: [u8; 28] = [
    0x12, 0x34, 0x81, 0x83, // QR RD RA, rcode 3
    0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    0x04, b'p', b'l', b'c', b'1', 0x05, b'p', b'l', b'a', b'n', b't', 0x00, //
    0x00, 0x01, 0x00, 0x01,
];

/// mDNS announcement: id 0, QR AA, one answer `hmi-7.local` A cache-flush 192.168.1.7,
/// one additional `hmi-7.local` HINFO "x86" "Windows".
const MDNS_ANNOUNCE: [u8; 63] = [
    0x00, 0x00, 0x84, 0x00, // id 0, QR AA
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, // an 1, ar 1
    0x05, b'h', b'm', b'i', b'-', b'7', // "hmi-7"   (offset 12)
    0x05, b'l', b'o', b'c', b'a', b'l', 0x00, // "local"
    0x00, 0x01, 0x80, 0x01, // A, cache-flush | IN
    0x00, 0x00, 0x00, 0x78, // ttl 120
    0x00, 0x04, 192, 168, 1, 7, // 192.168.1.7
    0xc0, 0x0c, // hmi-7.local
    0x00, 0x0d, 0x80, 0x01, // HINFO, cache-flush | IN
    0x00, 0x00, 0x00, 0x78, // ttl 120
    0x00, 0x0c, // rdlength 12
    0x03, b'x', b'8', b'6', // cpu
    0x07, b'W', b'i', b'n', b'd', b'o', b'w', b's', // os
];

/// A name that points to itself.
const SELF_LOOP: [u8; 18] = [
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    0xc0, 0x0c, // pointer to 12: itself
    0x00, 0x01, 0x00, 0x01,
];

fn msg(b: &[u8]) -> Message<'_> {
    Message::parse(b).expect("parses")
}

#[test]
fn query_header_and_question() {
    let m = msg(&QUERY);
    let h = m.header;
    assert_eq!(
        (h.id, h.qr(), h.opcode(), h.rd(), h.ra(), h.rcode()),
        (0x1234, false, 0, true, false, 0)
    );
    let q = m.question().unwrap();
    assert_eq!(
        (q.name.to_string(), q.qtype, q.class()),
        ("plc1.plant".into(), 1, 1)
    );
    assert_eq!(m.flags, Flags::default());
    assert_eq!(m.records().count(), 0);
}

#[test]
fn compressed_answer_decodes() {
    let m = msg(&ANSWER);
    let r: Vec<_> = m.records().collect();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].name.to_string(), "plc1.plant");
    assert_eq!(r[0].rdata, RData::A(Ipv4Addr::new(10, 0, 0, 5)));
    assert_eq!(r[0].ttl, 3600);
    assert_eq!(m.flags, Flags::default());
}

#[test]
fn mdns_bits_and_hinfo() {
    let m = msg(&MDNS_ANNOUNCE);
    let r: Vec<_> = m.records().collect();
    assert_eq!(r.len(), 2);
    assert!(r[0].cache_flush());
    assert_eq!(r[0].class(), 1);
    assert_eq!(r[1].section, Section::Additional);
    assert_eq!(r[1].rdata.to_string(), "HINFO x86 Windows");
    let hints: Vec<_> = host_info(&m)
        .map(|(n, c, o)| (n.to_string(), c, o))
        .collect();
    assert_eq!(
        hints,
        [("hmi-7.local".to_string(), &b"x86"[..], &b"Windows"[..])]
    );
}

#[test]
fn compression_loops_are_rejected() {
    assert_eq!(skip_name(&SELF_LOOP, 12), Err(NameError::Loop));
    assert!(
        Message::parse(&SELF_LOOP).is_none(),
        "a looping question is not DNS"
    );
    // Two pointers pointing at each other: the forward one is refused.
    let mut two = SELF_LOOP.to_vec();
    two[12..14].copy_from_slice(&[0xc0, 0x0e]);
    two.splice(14..14, [0xc0, 0x0c]);
    assert_eq!(skip_name(&two, 12), Err(NameError::Loop));
    assert_eq!(skip_name(&two, 14), Err(NameError::Loop));
    // A loop in an answer's name stops the walk with BAD_LENGTH.
    let mut a = ANSWER.to_vec();
    a[28..30].copy_from_slice(&[0xc0, 0x1c]);
    let m = msg(&a);
    assert_eq!(m.records, 0);
    assert!(m.flags.has(Flags::BAD_LENGTH));
}

#[test]
fn long_pointer_chains_and_names_are_bounded() {
    // 20 pointers each to the previous one, ending at the root label at 12.
    let mut b = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0];
    for i in 0..20u8 {
        let to = if i == 0 { 12 } else { 13 + 2 * (i - 1) };
        b.extend_from_slice(&[0xc0, to]);
    }
    assert_eq!(skip_name(&b, 13 + 2 * 15), Ok(13 + 2 * 15 + 2), "16 hops");
    assert_eq!(skip_name(&b, 13 + 2 * 16), Err(NameError::Loop), "17 hops");
    // 5 labels of 63 bytes: longer than 255.
    let mut long = Vec::new();
    for _ in 0..5 {
        long.push(63);
        long.extend_from_slice(&[b'a'; 63]);
    }
    long.push(0);
    assert_eq!(skip_name(&long, 0), Err(NameError::TooLong));
    assert_eq!(skip_name(&[0x40, 0], 0), Err(NameError::BadLabel));
}

#[test]
fn truncated_records_keep_what_parsed() {
    for cut in 31..ANSWER.len() {
        let m = msg(&ANSWER[..cut]);
        assert_eq!(m.records, 0, "cut at {cut}");
        assert!(m.flags.has(Flags::BAD_LENGTH));
    }
    // Cut inside the question: not DNS.
    assert!(Message::parse(&QUERY[..20]).is_none());
    assert!(Message::parse(&QUERY[..11]).is_none());
    // Trailing bytes.
    let mut t = QUERY.to_vec();
    t.push(0);
    assert!(msg(&t).flags.has(Flags::BAD_LENGTH));
    // A record whose data disagrees with its type (A with 3 bytes) is shown raw.
    let mut bad = ANSWER.to_vec();
    bad[39] = 3;
    bad.pop();
    let m = msg(&bad);
    assert_eq!(m.records().next().unwrap().rdata, RData::Other(&[10, 0, 0]));
    assert!(m.flags.has(Flags::BAD_LENGTH));
}

#[test]
fn rdata_types_decode() {
    // Build answers of each type after the QUERY question.
    fn with(rtype: u16, data: &[u8]) -> Vec<u8> {
        let mut b = ANSWER[..40].to_vec();
        b[40 - 10..40 - 8].copy_from_slice(&rtype.to_be_bytes());
        b[38..40].copy_from_slice(&(data.len() as u16).to_be_bytes());
        b.extend_from_slice(data);
        b
    }
    let show = |b: &[u8]| msg(b).records().next().unwrap().rdata.to_string();
    assert_eq!(
        show(&with(
            28,
            &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
        )),
        "fe80::1"
    );
    assert_eq!(show(&with(12, &[0xc0, 0x0c])), "plc1.plant");
    assert_eq!(show(&with(5, &[1, b'x', 0xc0, 0x11])), "x.plant");
    assert_eq!(show(&with(2, &[2, b'n', b's', 0])), "ns");
    assert_eq!(
        show(&with(16, &[3, b'a', b'=', b'1', 0, 1, 0xff])),
        "TXT a=1  \\xff"
    );
    assert_eq!(
        show(&with(33, &[0, 1, 0, 2, 0x01, 0xf6, 0xc0, 0x0c])),
        "SRV 1 2 502 plc1.plant"
    );
    assert_eq!(show(&with(6, &[1, 2, 3])), "<3 bytes>");
    // A PTR whose name runs past its data is raw and flagged.
    let m = with(12, &[0xc0, 0x0c, 0]);
    assert!(msg(&m).flags.has(Flags::BAD_LENGTH));
    // A TXT string longer than the data.
    assert_eq!(show(&with(16, &[5, b'a'])), "<2 bytes>");
}

#[test]
fn session_matches_responses_by_id() {
    let mut s = Session::new(Variant::Dns);
    let (mut recs, mut facts) = (Vec::new(), Vec::new());
    s.on_message(Direction::Orig, 100, &msg(&QUERY), &mut recs, &mut facts);
    assert!(recs.is_empty());
    s.on_message(Direction::Resp, 150, &msg(&ANSWER), &mut recs, &mut facts);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.query.as_deref(), Some("plc1.plant"));
    assert_eq!(
        (r.qtype_name, r.rcode_name, r.rtt),
        (Some("A"), Some("NOERROR"), Some(50))
    );
    assert_eq!((r.rd, r.ra, r.rejected), (true, true, false));
    assert_eq!(
        (r.answers.clone(), r.ttls.clone()),
        (vec!["10.0.0.5".to_string()], vec![3600])
    );
    assert_eq!(r.flags, Flags::default());
    assert!(
        facts.is_empty(),
        "unicast DNS says nothing about the sender's name"
    );

    // NXDOMAIN; then an unsolicited one; then a query never answered.
    s.on_message(Direction::Orig, 200, &msg(&QUERY), &mut recs, &mut facts);
    s.on_message(Direction::Resp, 210, &msg(&NXDOMAIN), &mut recs, &mut facts);
    s.on_message(Direction::Resp, 220, &msg(&NXDOMAIN), &mut recs, &mut facts);
    s.on_message(Direction::Orig, 230, &msg(&QUERY), &mut recs, &mut facts);
    s.finish(&mut recs);
    assert_eq!(recs.len(), 4);
    assert_eq!((recs[1].rcode, recs[1].rejected), (Some(3), true));
    assert!(recs[2].flags.has(Flags::UNSOLICITED_RESPONSE));
    assert!(recs[3].flags.has(Flags::NO_RESPONSE));
}

#[test]
fn outstanding_queries_are_bounded() {
    let mut s = Session::new(Variant::Dns);
    let mut recs = Vec::new();
    for i in 0..MAX_OUTSTANDING + 3 {
        let mut q = QUERY;
        q[..2].copy_from_slice(&(i as u16).to_be_bytes());
        s.on_message(
            Direction::Orig,
            i as i64,
            &msg(&q),
            &mut recs,
            &mut Vec::new(),
        );
    }
    assert_eq!(recs.len(), 3);
    assert!(
        recs.iter()
            .all(|r| r.flags.has(Flags::TOO_MANY_OUTSTANDING))
    );
    s.finish(&mut recs);
    assert_eq!(recs.len(), MAX_OUTSTANDING + 3);
}

#[test]
fn mdns_announcement_names_its_sender() {
    let mut s = Session::new(Variant::Mdns);
    let (mut recs, mut facts) = (Vec::new(), Vec::new());
    s.on_message(
        Direction::Orig,
        1,
        &msg(&MDNS_ANNOUNCE),
        &mut recs,
        &mut facts,
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].protocol, "mdns");
    assert_eq!(recs[0].answers, vec!["192.168.1.7"]);
    assert!(!recs[0].flags.has(Flags::UNSOLICITED_RESPONSE));
    assert_eq!(
        facts,
        vec![IdentityFact {
            about: Subject::Side(Direction::Orig),
            kind: IdentityKind::Hostname,
            value: "hmi-7.local".into(),
            protocol: "mdns",
        }]
    );
    // The same answer over LLMNR is not a single-label name: no fact.
    let mut f2 = Vec::new();
    identity(
        Variant::Llmnr,
        Direction::Resp,
        &msg(&MDNS_ANNOUNCE),
        &mut f2,
    );
    assert!(f2.is_empty());
    // Over DNS, nothing.
    identity(Variant::Dns, Direction::Resp, &msg(&MDNS_ANNOUNCE), &mut f2);
    assert!(f2.is_empty());
}

#[test]
fn llmnr_response_names_its_sender() {
    // LLMNR response: question and answer for the single label "ews2".
    let b: [u8; 38] = [
        0xab, 0xcd, 0x80, 0x00, // id, QR
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // qd 1, an 1
        0x04, b'e', b'w', b's', b'2', 0x00, // "ews2"
        0x00, 0x01, 0x00, 0x01, // A IN
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, // ews2 A IN
        0x00, 0x00, 0x00, 0x1e, 0x00, 0x04, // ttl 30, 4 bytes
        10, 1, 2, 3,
    ];
    let mut facts = Vec::new();
    identity(Variant::Llmnr, Direction::Resp, &msg(&b), &mut facts);
    assert_eq!(facts.len(), 1);
    assert_eq!(
        (facts[0].about, facts[0].value.as_str()),
        (Subject::Side(Direction::Resp), "ews2")
    );
}

#[test]
fn tcp_framing_through_a_stream_buffer() {
    let mut stream = Vec::new();
    for m in [&QUERY[..], &QUERY[..]] {
        stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
        stream.extend_from_slice(m);
    }
    let mut buf = StreamBuffer::new();
    let mut ids = Vec::new();
    for chunk in stream.chunks(5) {
        buf.feed(&TcpParser, Direction::Orig, chunk, |m| {
            ids.push(m.header.id)
        });
    }
    assert_eq!(ids, vec![0x1234, 0x1234]);
    assert_eq!(buf.held(), 0);
    // HTTP on port 53 is not DNS.
    let mut http = StreamBuffer::new();
    http.feed(
        &TcpParser,
        Direction::Orig,
        b"GET / HTTP/1.1\r\n\r\n",
        |_| panic!(),
    );
    assert_eq!(http.state(), StreamState::NotThisProtocol);
    assert_eq!(
        TcpParser.parse(Direction::Orig, &[0]),
        Parsed::Incomplete { needed: 2 }
    );
    assert_eq!(
        TcpParser.parse(Direction::Orig, &[0, 5, 0]),
        Parsed::NotThisProtocol
    );
}

#[test]
fn reverse_lookups_name_addresses() {
    // Response for 5.0.0.10.in-addr.arpa PTR: plc1.plant.
    let mut b = vec![0x00, 0x09, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    for l in ["5", "0", "0", "10", "in-addr", "arpa"] {
        b.push(l.len() as u8);
        b.extend_from_slice(l.as_bytes());
    }
    b.extend_from_slice(&[0, 0, 12, 0, 1]); // root, PTR IN
    b.extend_from_slice(&[0xc0, 0x0c, 0, 12, 0, 1, 0, 0, 0, 60, 0, 12]);
    b.extend_from_slice(&[
        4, b'p', b'l', b'c', b'1', 5, b'p', b'l', b'a', b'n', b't', 0,
    ]);
    let m = msg(&b);
    assert_eq!(m.flags, Flags::default());
    let got: Vec<_> = reverse_names(&m).map(|(a, n)| (a, n.to_string())).collect();
    assert_eq!(
        got,
        [("10.0.0.5".parse().unwrap(), "plc1.plant".to_string())]
    );

    let mut v6 = Vec::new();
    for c in "1000000000000000000000000000080e".chars() {
        v6.extend_from_slice(&[1, c as u8]);
    }
    v6.extend_from_slice(&[3, b'i', b'p', b'6', 4, b'a', b'r', b'p', b'a', 0]);
    assert_eq!(
        reverse_address(&Name::at(&v6, 0)),
        Some("e080::1".parse().unwrap())
    );
    for bad in [
        &b"\x012\x04arpa\x00"[..],
        &[
            1, b'1', 7, b'i', b'n', b'-', b'a', b'd', b'd', b'r', 4, b'a', b'r', b'p', b'a', 0,
        ],
    ] {
        assert_eq!(reverse_address(&Name::at(bad, 0)), None);
    }
    let mut big = b[12..].to_vec();
    big[0] = 3;
    big.splice(1..2, *b"256");
    assert_eq!(reverse_address(&Name::at(&big, 0)), None);
}

fn check_contract<P: PduParser>(p: &P, bytes: &[u8]) {
    match p.parse(Direction::Orig, bytes) {
        Parsed::Pdu { consumed, .. } => assert!(consumed >= 1 && consumed <= bytes.len()),
        Parsed::Incomplete { needed } => assert!(needed > bytes.len() && needed <= P::MAX_PDU),
        Parsed::NotThisProtocol => {}
    }
}

fn exercise(m: &Message<'_>) {
    for q in m.questions() {
        let _ = q.name.to_string();
    }
    assert!(m.records().count() == m.records);
    for r in m.records() {
        let _ = (
            r.name.to_string(),
            r.rdata.to_string(),
            reverse_address(&r.name),
        );
    }
    let _ = reverse_names(m).count();
    for v in [Variant::Dns, Variant::Mdns, Variant::Llmnr] {
        let mut s = Session::new(v);
        let (mut recs, mut facts) = (Vec::new(), Vec::new());
        s.on_message(Direction::Orig, 0, m, &mut recs, &mut facts);
        s.on_message(Direction::Resp, 1, m, &mut recs, &mut facts);
        s.finish(&mut recs);
        assert!(!recs.is_empty());
    }
}

proptest! {
    /// TCP messages split anywhere come out whole and in order.
    #[test]
    fn tcp_messages_survive_any_segmentation(
        picks in proptest::collection::vec(0usize..4, 1..6),
        cuts in proptest::collection::vec(1usize..40, 1..20),
    ) {
        let bases: [&[u8]; 4] = [&QUERY, &ANSWER, &NXDOMAIN, &MDNS_ANNOUNCE];
        let mut stream = Vec::new();
        for &p in &picks {
            stream.extend_from_slice(&(bases[p].len() as u16).to_be_bytes());
            stream.extend_from_slice(bases[p]);
        }
        let mut buf = StreamBuffer::new();
        let mut got = Vec::new();
        let (mut at, mut i) = (0, 0);
        while at < stream.len() {
            let end = (at + cuts[i % cuts.len()]).min(stream.len());
            buf.feed(&TcpParser, Direction::Orig, &stream[at..end], |m| got.push(m.bytes.to_vec()));
            at = end;
            i += 1;
        }
        let want: Vec<Vec<u8>> = picks.iter().map(|&p| bases[p].to_vec()).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(buf.held(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_contract(&Parser, &bytes);
        check_contract(&TcpParser, &bytes);
        if let Some(m) = Message::parse(&bytes) {
            exercise(&m);
        }
    }

    /// Valid messages with bytes flipped: parsing and every accessor stay total.
    #[test]
    fn mutated_messages_never_panic(
        which in 0usize..4,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let base: &[u8] = [&QUERY[..], &ANSWER[..], &NXDOMAIN[..], &MDNS_ANNOUNCE[..]][which];
        let mut b = base.to_vec();
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        b.truncate(12 + cut % (b.len() - 11));
        check_contract(&Parser, &b);
        let mut framed = (b.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&b);
        check_contract(&TcpParser, &framed);
        if let Some(m) = Message::parse(&b) {
            exercise(&m);
        }
    }
}
