use proptest::prelude::*;

use super::*;
use crate::record::Category;
use crate::stream::{StreamBuffer, StreamState};

/// `iti_cold_restart_and_response.pcap` frame 4: the master asks outstation 10 to
/// restart cold.
const COLD_RESTART: [u8; 15] = [
    0x05, 0x64, // start
    0x08, // length: control, addresses and 3 bytes of user data
    0xc4, // control: DIR (master), PRM, function 4 (unconfirmed user data)
    0x0a, 0x00, // destination 10
    0x01, 0x00, // source 1
    0xfc, 0x42, // header CRC
    0xc0, // transport: FIN, FIR, sequence 0
    0xc0, // application control: FIR, FIN, sequence 0
    0x0d, // function 13: cold restart
    0x9c, 0x86, // block CRC
];

/// Frame 6: outstation 10 answers, IIN2 bit 0 set (function code not supported).
const COLD_RESTART_RESPONSE: [u8; 17] = [
    0x05, 0x64, // start
    0x0a, // length
    0x44, // control: outstation (DIR clear), PRM, unconfirmed user data
    0x01, 0x00, // destination 1
    0x0a, 0x00, // source 10
    0x6e, 0x25, // header CRC
    0xc0, // transport: FIN, FIR, sequence 0
    0xc0, // application: FIR, FIN, sequence 0
    0x81, // function 129: response
    0x00, 0x01, // IIN1 0, IIN2 0x01: no function code support
    0xc2, 0xde, // block CRC
];

/// `iti_direct_operate_crob_malform_but_good_crc.pcap` frame 1: a direct operate
/// that claims two CROBs and carries one (tshark: malformed); the CRCs are right.
const CROB_MALFORMED: [u8; 35] = [
    0x05, 0x64, 0x1a, // start, length 26 (21 bytes of user data)
    0xc4, // master, PRM, unconfirmed user data
    0x04, 0x00, // destination 4
    0x03, 0x00, // source 3
    0xc2, 0xe6, // header CRC
    0xe2, // transport: FIN, FIR, sequence 34
    0xca, // application: FIR, FIN, sequence 10
    0x05, // function 5: direct operate
    0x0c, 0x01, 0x28, // g12v1 (CROB), qualifier 0x28: 2-byte index prefix, 2-byte count
    0x02, 0x00, // count 2
    0x01, 0x00, // index 1
    0x02, 0x01, 0x64, 0x00, 0x00, 0x00, // CROB: code, count, on time 100 ..
    0x57, 0xab, // block CRC
    0x64, 0x00, 0x00, 0x00, 0x00, // .. off time 100, status 0 (second CROB missing)
    0x00, 0x5b, // block CRC
];

/// `zeek_dnp3_udp_select_operate.pcap` frame 1 (a UDP payload): select CROB index 1
/// on outstation 100.
const UDP_SELECT: [u8; 35] = [
    0x05, 0x64, 0x1a, 0xc4, // start, length 26, master PRM unconfirmed user data
    0x01, 0x00, 0x64, 0x00, // destination 1, source 100
    0x62, 0x27, // header CRC
    0xc7, // transport: FIN, FIR, sequence 7
    0xc9, 0x03, // application: FIR FIN seq 9; function 3 select
    0x0c, 0x01, 0x28, 0x01, 0x00, 0x01, 0x00, // g12v1, qualifier 0x28, count 1, index 1
    0x03, 0x01, 0x64, 0x00, 0x00, 0x00, // CROB: latch on, count 1, on time 100 ..
    0x61, 0x19, // block CRC
    0x64, 0x00, 0x00, 0x00, 0x00, // .. off time 100, status 0
    0x00, 0x5b, // block CRC
];

/// Frame 2: the outstation's answer, sequence 9, IIN 0x90 0x00.
const UDP_SELECT_RESPONSE: [u8; 37] = [
    0x05, 0x64, 0x1c, 0x44, // start, length 28, outstation PRM unconfirmed user data
    0x64, 0x00, 0x01, 0x00, // destination 100, source 1
    0xd3, 0xf2, // header CRC
    0xf0, // transport: FIN, FIR, sequence 48
    0xc9, 0x81, 0x90, 0x00, // application: FIR FIN seq 9; response; IIN1 0x90, IIN2 0
    0x0c, 0x01, 0x28, 0x01, 0x00, 0x01, 0x00, 0x03, 0x01, 0x64, 0x00, // echoed CROB ..
    0x23, 0xb1, // block CRC
    0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, // .. rest of it
    0x5b, // trailing byte the capture carries after the frame
];

/// Frame 3: operate, sequence 10 (the same CROB).
const UDP_OPERATE: [u8; 35] = [
    0x05, 0x64, 0x1a, 0xc4, 0x01, 0x00, 0x64, 0x00, 0x62, 0x27, // header
    0xc8, // transport: FIN, FIR, sequence 8
    0xca, 0x04, // application: FIR FIN seq 10; function 4 operate
    0x0c, 0x01, 0x28, 0x01, 0x00, 0x01, 0x00, 0x03, 0x01, 0x64, 0x00, 0x00, 0x00, // CROB
    0xd6, 0x48, // block CRC
    0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5b, // rest, block CRC
];

/// `iti-opendnp3-8.2.4.2_dump.pcap` (BSD loopback) frame 22: a response with IIN2
/// bit 2 (parameter error), sequence 4.
const OPENDNP3_PARAMETER_ERROR: [u8; 57] = [
    0x05, 0x64, 0x2e, 0x44, // start, length 46, outstation PRM unconfirmed user data
    0x01, 0x00, 0x00, 0x04, // destination 1, source 1024
    0x8b, 0x34, // header CRC
    0xc4, // transport: FIN, FIR, sequence 4
    0xc4, 0x81, 0x90, 0x04, // application: FIR FIN seq 4; response; IIN1 0x90, IIN2 0x04
    0x0c, 0x01, 0x28, 0x01, 0x00, 0x00, 0x00, 0x03, 0x01, 0x64, 0x00, // CROB echo
    0x4e, 0x8a, // block CRC
    0x00, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x28, 0x01, 0x00, 0xff, 0xff, 0x03,
    0x01, // ..
    0x45, 0xfb, // block CRC
    0x64, 0x00, 0x00, 0x00, 0xc8, 0x00, 0x00, 0x00, 0x04, // ..
    0x2b, 0x7c, // block CRC
];

/// `zeek_dnp3_file_write.pcap` frame 16: close file (function 26), one g70v4 object.
const CLOSE_FILE: [u8; 36] = [
    0x05, 0x64, 0x1b, 0xc4, 0x04, 0x00, 0x03, 0x00, // start, length 27, master, dst 4, src 3
    0x25, 0x53, // header CRC
    0xc6, // transport: FIN, FIR, sequence 6
    0xc8, 0x1a, // application: FIR FIN seq 8; function 26 close file
    0x46, 0x04,
    0x5b, // g70v4 (file command status), qualifier 0x5b: size prefix, 1-byte count
    0x01, // count 1
    0x0d, 0x00, // object size 13
    0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00, // handle 0x12345678, file size ..
    0x32, 0x9b, // block CRC
    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, // .. max block size, request id, status
    0xd7, 0xb3, // block CRC
];

/// A link frame with the given control, addresses and user data, CRCs computed.
fn build(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
    assert!(user.len() <= link::MAX_USER_DATA);
    let mut out = vec![0x05, 0x64, (user.len() + 5) as u8, control];
    out.extend_from_slice(&dst.to_le_bytes());
    out.extend_from_slice(&src.to_le_bytes());
    out.extend_from_slice(&link::crc(&out).to_le_bytes());
    for block in user.chunks(16) {
        out.extend_from_slice(block);
        out.extend_from_slice(&link::crc(block).to_le_bytes());
    }
    out
}

/// Link frames from the master to outstation 10 carrying `fragment` in segments of
/// at most `per` bytes of application data.
fn master_frames(fragment: &[u8], per: usize, first_seq: u8) -> Vec<Vec<u8>> {
    let chunks: Vec<&[u8]> = fragment.chunks(per).collect();
    let n = chunks.len();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut th = (first_seq + i as u8) & 0x3f;
            if i == 0 {
                th |= 0x40;
            }
            if i + 1 == n {
                th |= 0x80;
            }
            let mut user = vec![th];
            user.extend_from_slice(c);
            build(0xc4, 10, 1, &user)
        })
        .collect()
}

fn parse(bytes: &[u8]) -> Parsed<Frame> {
    Parser.parse(Direction::Orig, bytes)
}

/// Feeds TCP segments through stream buffers and a session (a `None` is a gap of
/// 100 bytes in the master's direction).
fn run(segments: &[(Direction, Option<&[u8]>)]) -> (Vec<OtOperation>, Session, [StreamState; 2]) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        match bytes {
            Some(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |frame| {
                session.on_frame(dir, i as i64, &frame, &mut ops, &mut facts)
            }),
            None => {
                bufs[dir.index()].gap(100);
                session.gap(dir);
            }
        }
    }
    session.finish(&mut ops);
    (ops, session, [bufs[0].state(), bufs[1].state()])
}

#[test]
fn crc_known_answers() {
    // The CRC-16/DNP check value.
    assert_eq!(link::crc(b"123456789"), 0xea82);
    assert_eq!(link::crc(&[]), 0xffff);
    // Header and data CRCs of the captured cold restart.
    assert_eq!(link::crc(&COLD_RESTART[..8]).to_le_bytes(), [0xfc, 0x42]);
    assert_eq!(link::crc(&COLD_RESTART[10..13]).to_le_bytes(), [0x9c, 0x86]);
    // The builder reproduces captured frames byte for byte.
    assert_eq!(build(0xc4, 10, 1, &COLD_RESTART[10..13]), COLD_RESTART);
    let crob_user: Vec<u8> = [&CROB_MALFORMED[10..26], &CROB_MALFORMED[28..33]].concat();
    assert_eq!(build(0xc4, 4, 3, &crob_user), CROB_MALFORMED);
}

#[test]
fn link_header_fields_are_read() {
    let Parsed::Pdu { pdu, consumed } = parse(&COLD_RESTART) else {
        panic!()
    };
    assert_eq!(consumed, 15);
    assert!(pdu.from_master() && pdu.primary());
    assert_eq!((pdu.function(), pdu.destination, pdu.source), (4, 10, 1));
    assert_eq!(pdu.user_data(), &[0xc0, 0xc0, 0x0d]);
    assert_eq!(pdu.flags, Flags::default());
    let Parsed::Pdu { pdu, consumed } = parse(&CROB_MALFORMED) else {
        panic!()
    };
    assert_eq!((consumed, pdu.user_data().len()), (35, 21));
    assert_eq!(link::frame_len(0x1a), 35);
    assert_eq!(link::MAX_FRAME, 292);
}

#[test]
fn a_cold_restart_refused_by_iin2() {
    let (ops, session, _) = run(&[
        (Direction::Orig, Some(&COLD_RESTART)),
        (Direction::Resp, Some(&COLD_RESTART_RESPONSE)),
    ]);
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!(op.protocol, "dnp3");
    assert_eq!(
        (op.function.code, op.function.name, op.function.category),
        (13, "cold_restart", Category::Control)
    );
    assert_eq!(op.target, "dst 10");
    assert_eq!(op.status, Status::Exception(1));
    assert_eq!(op.status.to_string(), "exception:1");
    assert_eq!(op.ts, 0);
    assert_eq!(session.counters.fragments, 2);
}

#[test]
fn a_malformed_crob_with_good_crcs_is_still_a_request() {
    let (ops, _, _) = run(&[(Direction::Orig, Some(&CROB_MALFORMED))]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].function.name, "direct_operate");
    assert_eq!(ops[0].target, "dst 4 g12v1 index 1 count 2");
    assert_eq!(ops[0].status, Status::NoResponse);
    assert!(ops[0].flags.has(Flags::NO_RESPONSE));
    // Two CROBs announced, one present.
    assert!(ops[0].flags.has(Flags::BAD_LENGTH));
    let Parsed::Pdu { pdu, .. } = parse(&UDP_SELECT) else {
        panic!()
    };
    let whole = app::parse(&pdu.user_data()[1..]).unwrap();
    assert!(!whole.flags.has(Flags::BAD_LENGTH));
}

#[test]
fn select_and_operate_over_udp() {
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (dir, payload) in [
        (Direction::Orig, &UDP_SELECT[..]),
        (Direction::Resp, &UDP_SELECT_RESPONSE[..]),
        (Direction::Orig, &UDP_OPERATE[..]),
    ] {
        assert!(session.on_datagram(dir, 0, payload, &mut ops, &mut facts));
    }
    assert!(!session.on_datagram(
        Direction::Orig,
        0,
        b"GET / HTTP/1.1\r\n",
        &mut ops,
        &mut facts
    ));
    session.finish(&mut ops);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.function.name, o.target.as_str(), o.status))
        .collect();
    assert_eq!(
        got,
        [
            ("select", "dst 1 g12v1 index 1", Status::Ok),
            ("operate", "dst 1 g12v1 index 1", Status::NoResponse),
        ]
    );
}

#[test]
fn iin2_parameter_error_is_exception_4() {
    // opendnp3's select of four CROBs (indexes 10..13) on outstation 1024, sequence 4.
    let select = [
        0xc0, 0xc4, 0x03, 0x0c, 0x01, 0x28, 0x04, 0x00, 0x0a, 0x00, 0x03, 0x01, 0x64, 0x00, 0x00,
        0x00, 0xc8, 0x00, 0x00, 0x00, 0x00,
    ];
    let request = build(0xc4, 1024, 1, &select);
    let (ops, _, _) = run(&[
        (Direction::Orig, Some(&request)),
        (Direction::Resp, Some(&OPENDNP3_PARAMETER_ERROR)),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].target, "dst 1024 g12v1 index 10 count 4");
    assert_eq!(ops[0].status, Status::Exception(4));
}

#[test]
fn close_file_is_program() {
    let (ops, _, _) = run(&[(Direction::Orig, Some(&CLOSE_FILE))]);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].function.code, ops[0].function.category),
        (26, Category::Program)
    );
    assert_eq!(ops[0].target, "dst 4 g70v4 count 1");
}

#[test]
fn unsolicited_responses_and_confirms() {
    // iti_full_exchange.pcap: an unsolicited response (130, seq 0), then the master's
    // disable unsolicited (21, seq 0: g60v2..4 all), its response, and a confirm.
    let unsolicited = build(0x44, 1, 10, &[0xc0, 0xf0, 0x82, 0x80, 0x00]);
    let disable = build(
        0xc4,
        10,
        1,
        &[
            0xc0, 0xc0, 0x15, 0x3c, 0x02, 0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06,
        ],
    );
    let response = build(0x44, 1, 10, &[0xc1, 0xc0, 0x81, 0x80, 0x00]);
    let confirm = build(0xc4, 10, 1, &[0xc1, 0xc0, 0x00]);
    let (ops, session, _) = run(&[
        (Direction::Resp, Some(&unsolicited)),
        (Direction::Orig, Some(&disable)),
        (Direction::Resp, Some(&response)),
        (Direction::Orig, Some(&confirm)),
    ]);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.function.code, o.target.as_str(), o.status))
        .collect();
    assert_eq!(
        got,
        [
            (21, "dst 10 g60v2 all", Status::Ok),
            (0, "dst 10", Status::Ok)
        ]
    );
    assert_eq!(session.unsolicited, 0);
    assert_eq!(app::describe(21).category, Category::Other);
}

#[test]
fn device_attributes_name_the_outstation() {
    // A response to a read of g0v254: manufacturer (g0v252), product (g0v250),
    // a non-string attribute (g0v239, UINT), software version (g0v242).
    let mut user = vec![0xc0, 0xc3, 0x81, 0x00, 0x00];
    for (variation, kind, value) in [
        (252u8, 1u8, &b"Acme Grid"[..]),
        (250, 1, b"RTU-9 "),
        (239, 2, &[4, 0][..]),
        (242, 1, b"2.1.7"),
    ] {
        user.extend([0x00, variation, 0x00, 0x00, 0x00, kind, value.len() as u8]);
        user.extend_from_slice(value);
    }
    let request = build(0xc4, 10, 1, &[0xc0, 0xc3, 0x01, 0x00, 0xfe, 0x06]);
    let response = build(0x44, 1, 10, &user);
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (dir, bytes) in [(Direction::Orig, &request), (Direction::Resp, &response)] {
        let Parsed::Pdu { pdu, .. } = parse(bytes) else {
            panic!()
        };
        session.on_frame(dir, 0, &pdu, &mut ops, &mut facts);
    }
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].target, "dst 10 g0v254 all");
    let got: Vec<_> = facts
        .iter()
        .map(|f| {
            (
                f.about.side().unwrap(),
                f.kind,
                f.value.as_str(),
                f.protocol,
            )
        })
        .collect();
    use crate::record::IdentityKind::*;
    assert_eq!(
        got,
        [
            (Direction::Resp, Vendor, "Acme Grid", "dnp3"),
            (Direction::Resp, Product, "RTU-9", "dnp3"),
            (Direction::Resp, Firmware, "2.1.7", "dnp3"),
        ]
    );
}

#[test]
fn a_gateway_with_two_outstations() {
    // Reads with the same sequence to outstations 10 and 11; 11 answers first. Their
    // multi-frame responses interleave on the connection.
    let read = |dst| build(0xc4, dst, 1, &[0xc0, 0xc5, 0x01, 0x3c, 0x01, 0x06]);
    let (read10, read11) = (read(10), read(11));
    let mut objects = vec![0x01, 0x02, 0x00, 0x00, 0x1f];
    objects.extend([0x01; 32]);
    let answer = |src: u16, iin2: u8| -> Vec<Vec<u8>> {
        let mut fragment = vec![0xc5, 0x81, 0x00, iin2];
        fragment.extend(&objects);
        fragment
            .chunks(20)
            .enumerate()
            .map(|(i, c)| {
                let th = (i as u8) | if i == 0 { 0x40 } else { 0 } | if i == 1 { 0x80 } else { 0 };
                build(0x44, 1, src, &[&[th][..], c].concat())
            })
            .collect()
    };
    let (a10, a11) = (answer(10, 0x00), answer(11, 0x02));
    let (ops, session, _) = run(&[
        (Direction::Orig, Some(&read10)),
        (Direction::Orig, Some(&read11)),
        (Direction::Resp, Some(&a11[0])),
        (Direction::Resp, Some(&a10[0])),
        (Direction::Resp, Some(&a11[1])),
        (Direction::Resp, Some(&a10[1])),
    ]);
    let got: Vec<_> = ops.iter().map(|o| (o.target.as_str(), o.status)).collect();
    assert_eq!(
        got,
        [
            ("dst 11 g60v1 all", Status::Exception(2)),
            ("dst 10 g60v1 all", Status::Ok),
        ]
    );
    assert_eq!(session.transport_drops(), 0);
}

#[test]
fn broadcasts_expect_no_response() {
    let write = build(
        0xc4,
        0xffff,
        1,
        &[0xc0, 0xc2, 0x02, 0x50, 0x01, 0x00, 0x07, 0x07, 0x00],
    );
    let (ops, _, _) = run(&[(Direction::Orig, Some(&write))]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].target, "dst 65535 g80v1 index 7");
    assert_eq!(ops[0].status, Status::Ok);
}

#[test]
fn several_frames_in_one_segment() {
    let both = [&COLD_RESTART[..], &CLOSE_FILE[..]].concat();
    let (ops, _, states) = run(&[(Direction::Orig, Some(&both))]);
    let codes: Vec<_> = ops.iter().map(|o| o.function.code).collect();
    assert_eq!(codes, [13, 26]);
    assert_eq!(states[0], StreamState::Recognised);
}

#[test]
fn one_frame_across_segments() {
    let (a, b) = CROB_MALFORMED.split_at(7);
    let (b, c) = b.split_at(15);
    let (ops, _, _) = run(&[
        (Direction::Orig, Some(a)),
        (Direction::Orig, Some(b)),
        (Direction::Orig, Some(c)),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].function.code, 5);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_frame() {
    // Half a frame, the gap, the tail of another frame, then a whole one.
    let (ops, _, states) = run(&[
        (Direction::Orig, Some(&COLD_RESTART)),
        (Direction::Orig, Some(&CROB_MALFORMED[..20])),
        (Direction::Orig, None),
        (Direction::Orig, Some(&CROB_MALFORMED[25..])),
        (Direction::Orig, Some(&CLOSE_FILE)),
    ]);
    let codes: Vec<_> = ops.iter().map(|o| o.function.code).collect();
    assert_eq!(codes, [13, 26]);
    assert_eq!(states[0], StreamState::Recognised);
}

#[test]
fn a_gap_drops_an_unfinished_fragment() {
    let fragment: Vec<u8> = [0xc3, 0x02, 0x46, 0x05, 0x5b, 0x01]
        .into_iter()
        .chain((0..400).map(|i| i as u8))
        .collect();
    let frames = master_frames(&fragment, 249, 5);
    assert_eq!(frames.len(), 2);
    let (ops, session, _) = run(&[
        (Direction::Orig, Some(&frames[0])),
        (Direction::Orig, None),
        (Direction::Orig, Some(&frames[1])),
    ]);
    assert!(ops.is_empty());
    assert_eq!(session.transport_drops(), 1);
}

#[test]
fn http_on_port_20000_is_not_dnp3() {
    let (ops, _, states) = run(&[(
        Direction::Orig,
        Some(b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n".as_slice()),
    )]);
    assert!(ops.is_empty());
    assert_eq!(states[0], StreamState::NotThisProtocol);
    // Start octets with a wrong header CRC are not DNP3 either.
    let mut bad = COLD_RESTART;
    bad[8] ^= 1;
    assert_eq!(parse(&bad), Parsed::NotThisProtocol);
}

#[test]
fn a_bad_data_crc_is_flagged_and_not_trusted() {
    let mut bad = COLD_RESTART;
    bad[12] = 0x0e; // warm restart, but the block CRC still says cold
    let Parsed::Pdu { pdu, .. } = parse(&bad) else {
        panic!()
    };
    assert!(pdu.flags.has(link::BAD_CRC));
    assert_eq!(link::BAD_CRC, Flags::BAD_CHECKSUM);
    assert_eq!(pdu.flags.names().collect::<Vec<_>>(), ["bad_checksum"]);
    let (ops, session, _) = run(&[(Direction::Orig, Some(&bad))]);
    assert!(ops.is_empty());
    assert_eq!(session.counters.bad_crc, 1);
}

#[test]
fn a_fragment_over_several_frames_is_one_request() {
    // A file write (g70v5) of 800 bytes split over four frames, as in
    // zeek_dnp3_file_write.pcap.
    let mut fragment = vec![0xc7, 0x02, 0x46, 0x05, 0x5b, 0x01, 0x1e, 0x03];
    fragment.extend((0..800).map(|i| (i * 7) as u8));
    let frames = master_frames(&fragment, 249, 60);
    assert_eq!(frames.len(), 4);
    let mut segments: Vec<(Direction, Option<&[u8]>)> = frames
        .iter()
        .map(|f| (Direction::Orig, Some(f.as_slice())))
        .collect();
    let response = build(0x44, 1, 10, &[0xc0, 0xc7, 0x81, 0x00, 0x00]);
    segments.push((Direction::Resp, Some(&response)));
    let (ops, session, _) = run(&segments);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].function.code, ops[0].target.as_str(), ops[0].status),
        (2, "dst 10 g70v5 count 1", Status::Ok)
    );
    assert_eq!(session.counters.fragments, 2);
    // Out of order: the second segment is missing; the rest are dropped.
    let (ops, session, _) = run(&[
        (Direction::Orig, Some(&frames[0])),
        (Direction::Orig, Some(&frames[2])),
        (Direction::Orig, Some(&frames[3])),
    ]);
    assert!(ops.is_empty());
    assert_eq!(session.transport_drops(), 2);
}

#[test]
fn fragments_beyond_the_bound_are_dropped() {
    let mut fragment = vec![0xc1, 0x02, 0x46, 0x05, 0x5b, 0x01];
    fragment.resize(transport::MAX_FRAGMENT + 1, 0xaa);
    let frames = master_frames(&fragment, 249, 0);
    let segments: Vec<(Direction, Option<&[u8]>)> = frames
        .iter()
        .map(|f| (Direction::Orig, Some(f.as_slice())))
        .collect();
    let (ops, session, _) = run(&segments);
    assert!(ops.is_empty());
    assert!(session.transport_drops() >= 1);
}

#[test]
fn outstanding_requests_are_bounded() {
    let mut segments = Vec::new();
    let frames: Vec<Vec<u8>> = (0..40u8)
        .map(|i| build(0xc4, 10, 1, &[0xc0 | (i & 0x3f), 0xc0 | (i & 0x0f), 0x01]))
        .collect();
    for f in &frames {
        segments.push((Direction::Orig, Some(f.as_slice())));
    }
    let (ops, _, _) = run(&segments);
    assert_eq!(ops.len(), 40);
    assert_eq!(
        ops.iter()
            .filter(|o| o.flags.has(Flags::TOO_MANY_OUTSTANDING))
            .count(),
        40 - MAX_OUTSTANDING
    );
}

#[test]
fn object_headers_in_words() {
    assert_eq!(app::first_object(&[]), None);
    assert_eq!(
        app::first_object(&[0x3c, 0x01, 0x06]).as_deref(),
        Some("g60v1 all")
    );
    assert_eq!(
        app::first_object(&[0x01, 0x02, 0x00, 0x00, 0x07]).as_deref(),
        Some("g1v2 index 0-7")
    );
    assert_eq!(
        app::first_object(&[0x0c, 0x01, 0x17, 0x01, 0x03]).as_deref(),
        Some("g12v1 index 3")
    );
    assert_eq!(
        app::first_object(&[0x32, 0x01, 0x07, 0x01]).as_deref(),
        Some("g50v1 count 1")
    );
    // A header cut short still names what it could.
    assert_eq!(app::first_object(&[0x0c, 0x01]).as_deref(), Some("g12v1"));
    assert!(app::first_object_cut_short(&[0x0c, 0x01]));
    assert!(!app::first_object_cut_short(&[]));
    // Start-stop 0-1 of g41v2 (3 bytes each) needs 6 bytes of objects.
    assert!(app::first_object_cut_short(&[
        0x29, 0x02, 0x00, 0x00, 0x01, 1, 0, 0
    ]));
    assert!(!app::first_object_cut_short(&[
        0x29, 0x02, 0x00, 0x00, 0x01, 1, 0, 0, 2, 0, 0
    ]));
    // A stop before the start is wrong for known objects.
    assert!(app::first_object_cut_short(&[0x29, 0x02, 0x00, 0x05, 0x01]));
    assert_eq!(
        app::first_object(&[0x0c, 0x01, 0x28]).as_deref(),
        Some("g12v1")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_keeps_the_contract(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        match parse(&bytes) {
            Parsed::Pdu { consumed, .. } => prop_assert!((1..=bytes.len()).contains(&consumed)),
            Parsed::Incomplete { needed } => {
                prop_assert!(needed > bytes.len());
                prop_assert!(needed <= link::MAX_FRAME);
            }
            Parsed::NotThisProtocol => {}
        }
        // The application readers take any fragment without panicking.
        if let Some(fragment) = app::parse(&bytes) {
            let _ = app::first_object(fragment.objects);
            let _ = app::device_attributes(fragment.objects);
        }
        // The session takes whatever the datagram entry finds, without panicking.
        let mut session = Session::default();
        session.on_datagram(Direction::Orig, 0, &bytes, &mut Vec::new(), &mut Vec::new());
    }

    #[test]
    fn valid_frames_with_any_user_data_parse_whole(
        user in proptest::collection::vec(any::<u8>(), 0..=250),
        control in any::<u8>(),
    ) {
        let frame = build(control, 7, 9, &user);
        let Parsed::Pdu { pdu, consumed } = parse(&frame) else {
            return Err(TestCaseError::fail("not parsed"));
        };
        prop_assert_eq!(consumed, frame.len());
        prop_assert_eq!(pdu.user_data(), &user[..]);
        prop_assert!(!pdu.flags.has(link::BAD_CRC));
        for cut in 0..frame.len() {
            let short = parse(&frame[..cut]);
            let ok = matches!(short, Parsed::Incomplete { needed } if needed > cut);
            prop_assert!(ok);
        }
    }

    #[test]
    fn the_session_stays_bounded(
        frames in proptest::collection::vec(
            (any::<bool>(), 0u16..40, proptest::collection::vec(any::<u8>(), 1..60)),
            0..120,
        ),
    ) {
        let mut session = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        for (from_master, station, user) in frames {
            let (control, dst, src, dir) = if from_master {
                (0xc4, station, 1, Direction::Orig)
            } else {
                (0x44, 1, station, Direction::Resp)
            };
            let bytes = build(control, dst, src, &user);
            let Parsed::Pdu { pdu, .. } = parse(&bytes) else {
                return Err(TestCaseError::fail("not parsed"));
            };
            session.on_frame(dir, 0, &pdu, &mut ops, &mut facts);
            prop_assert!(session.stations.len() <= MAX_STATIONS);
            prop_assert!(session.outstanding.len() <= MAX_OUTSTANDING);
        }
        prop_assert!(ops.iter().all(|o| o.function.code < 128));
    }

    #[test]
    fn any_segmentation_gives_the_same_operations(cuts in proptest::collection::vec(1usize..60, 1..12)) {
        let mut fragment = vec![0xc2, 0x02, 0x46, 0x05, 0x5b, 0x01];
        fragment.extend(0..200u8);
        let stream: Vec<u8> = [COLD_RESTART.to_vec(), CROB_MALFORMED.to_vec()]
            .into_iter()
            .chain(master_frames(&fragment, 70, 3))
            .chain([CLOSE_FILE.to_vec()])
            .flatten()
            .collect();
        let mut pieces = Vec::new();
        let mut rest = &stream[..];
        for cut in cuts.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (a, b) = rest.split_at((*cut).min(rest.len()));
            pieces.push((Direction::Orig, Some(a)));
            rest = b;
        }
        let (ops, _, _) = run(&pieces);
        let codes: Vec<_> = ops.iter().map(|o| o.function.code).collect();
        prop_assert_eq!(codes, vec![13, 5, 2, 26]);
    }
}
