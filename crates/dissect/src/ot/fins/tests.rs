use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// FINS/TCP RUN command (icsnpp-omron-fins capture, frame 4).
const RUN_TCP: [u8; 31] = [
    b'F', b'I', b'N', b'S', // magic
    0x00, 0x00, 0x00, 0x17, // length 23: command, error code, 15-byte frame
    0x00, 0x00, 0x00, 0x02, // FINS/TCP command 2: FINS frame send
    0x00, 0x00, 0x00, 0x00, // error code 0
    0x80, // ICF: gateway bit, command, response required
    0x00, // RSV
    0x02, // GCT 2
    0x00, 0x00, 0x00, // DNA DA1 DA2: network 0 node 0 unit 0
    0x00, 0x00, 0x00, // SNA SA1 SA2
    0x7a, // SID
    0x04, 0x01, // MRC SRC: run
    0x00, 0x00, // program number 0
    0x01, // mode: not 2 (monitor) or 4 (run)
];

/// Its response (frame 5).
const RUN_TCP_RESPONSE: [u8; 30] = [
    b'F', b'I', b'N', b'S', // magic
    0x00, 0x00, 0x00, 0x16, // length 22
    0x00, 0x00, 0x00, 0x02, // frame send
    0x00, 0x00, 0x00, 0x00, // error code
    0xc1, // ICF: gateway, response, response not required
    0x00, 0x02, // RSV, GCT
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // destination and source
    0x7a, // SID echoed
    0x04, 0x01, // run
    0x00, 0x00, // end code 0: normal completion
];

/// UDP multiple memory area read (nttcom capture, frame 1, first two items).
const MULTI_READ: [u8; 20] = [
    0x80, 0x00, 0x02, // ICF command, RSV, GCT 2
    0x00, 0x64, 0x00, // destination network 0 node 100 unit 0
    0x00, 0x01, 0x00, // source network 0 node 1 unit 0
    0x54, // SID
    0x01, 0x04, // multiple memory area read
    0xb1, 0x00, 0x00, 0x00, // WR word 0
    0x82, 0x27, 0x11, 0x00, // DM word 10001
];

/// Its response with an end code of 0x0401 (undefined command) and the
/// PLC's non-fatal error bit (SRES bit 6) set.
const MULTI_READ_ERROR: [u8; 14] = [
    0xc0, 0x00, 0x02, // ICF response, RSV, GCT
    0x00, 0x01, 0x00, // destination: the requester
    0x00, 0x64, 0x00, // source: the PLC
    0x54, // SID
    0x01, 0x04, // command echoed
    0x04, 0x41, // MRES 04 SRES 01 with bit 6 (non-fatal CPU error) set
];

fn run_tcp(segments: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Vec<IdentityFact>, Session) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&TcpParser, dir, bytes, |m| {
            session.on_tcp(dir, i as i64, &m, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    (ops, facts, session)
}

#[test]
fn a_tcp_run_command_is_control_and_answered() {
    let (ops, _, _) = run_tcp(&[
        (Direction::Orig, &RUN_TCP),
        (Direction::Resp, &RUN_TCP_RESPONSE),
    ]);
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!((op.function.code, op.function.name), (0x0401, "run"));
    assert_eq!(op.function.category, Category::Control);
    assert_eq!(op.target, "node 0.0.0 program 0 mode ?");
    assert_eq!(op.status, Status::Ok);
}

#[test]
fn a_udp_multiple_read_names_its_areas_and_masks_plc_error_bits() {
    let mut s = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    assert!(s.on_datagram(Direction::Orig, 1, &MULTI_READ, &mut ops, &mut facts));
    assert!(s.on_datagram(Direction::Resp, 2, &MULTI_READ_ERROR, &mut ops, &mut facts));
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].function.name, "multiple_memory_area_read");
    assert_eq!(ops[0].target, "node 0.100.0 WR 0 DM 10001");
    assert_eq!(ops[0].status, Status::Exception(0x0401));
    assert_eq!(ops[0].ts, 1);
}

#[test]
fn a_memory_write_names_area_address_and_count() {
    let write = [
        0x80, 0x00, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00, // header to SA2
        0x07, // SID
        0x01, 0x02, // memory area write
        0x30, // CIO bit area
        0x00, 0x0a, 0x03, // word 10 bit 3
        0x00, 0x01, // one item
        0x01, // value
    ];
    let f = parse_frame(&write).expect("FINS");
    assert_eq!(target(&f), "node 0.10.0 CIO 10.03+1");
    assert_eq!(describe(f.command).category, Category::Write);
}

#[test]
fn a_response_with_another_sid_pairs_by_command() {
    // icsnpp frames 8 and 9: the request's SID is 0x05, the response's 0x7a.
    let mut request = RUN_TCP;
    request[25] = 0x05;
    request[26..28].copy_from_slice(&[0x05, 0x01]); // controller data read
    let mut request = request[..29].to_vec(); // one parameter byte (0: model and version)
    request[28] = 0x00;
    request[7] = 0x15; // length 21
    let mut response = RUN_TCP_RESPONSE.to_vec();
    response[26..28].copy_from_slice(&[0x05, 0x01]);
    response.extend_from_slice(b"CJ2M-CPU31\0\0\0\0\0\0\0\0\0\0"); // model, 20 bytes
    response.extend_from_slice(b"02.01               "); // version, 20 bytes
    let len = (response.len() - 8) as u32;
    response[4..8].copy_from_slice(&len.to_be_bytes());
    let (ops, facts, s) = run_tcp(&[(Direction::Orig, &request), (Direction::Resp, &response)]);
    assert_eq!(s.unsolicited, 0);
    assert_eq!(ops[0].status, Status::Ok);
    assert_eq!(ops[0].function.category, Category::Identify);
    let found: Vec<_> = facts
        .iter()
        .map(|f| (f.kind, f.value.as_str(), f.about))
        .collect();
    assert_eq!(
        found,
        [
            (
                IdentityKind::Model,
                "CJ2M-CPU31",
                Subject::Side(Direction::Resp)
            ),
            (
                IdentityKind::Firmware,
                "02.01",
                Subject::Side(Direction::Resp)
            ),
        ]
    );
}

/// Fuzzing found a model of one space before NUL padding giving an empty fact.
#[test]
fn blank_controller_data_gives_no_fact() {
    let mut facts = Vec::new();
    let mut data = vec![b' '];
    data.resize(20, 0); // model: a space, then NULs
    data.extend_from_slice(b"V1.0                "); // version
    controller_data(Direction::Resp, &data, &mut facts);
    assert!(facts.is_empty(), "{facts:?}");
}

#[test]
fn node_address_handshake_is_counted_not_logged() {
    let hello = [
        b'F', b'I', b'N', b'S', 0, 0, 0, 12, // length 12
        0, 0, 0, 0, // command 0: client node address data send
        0, 0, 0, 0, // error code
        0, 0, 0, 0, // client node 0: ask the server to assign one
    ];
    let (ops, _, s) = run_tcp(&[(Direction::Orig, &hello)]);
    assert!(ops.is_empty());
    assert_eq!(s.node_address, 1);
}

#[test]
fn several_messages_in_one_segment() {
    let mut seg = RUN_TCP.to_vec();
    seg.extend_from_slice(&RUN_TCP);
    let (ops, _, _) = run_tcp(&[(Direction::Orig, &seg)]);
    assert_eq!(ops.len(), 2);
    assert!(ops.iter().all(|o| o.flags.has(Flags::NO_RESPONSE)));
}

#[test]
fn one_message_across_segments() {
    let (ops, _, _) = run_tcp(&[
        (Direction::Orig, &RUN_TCP[..2]),
        (Direction::Orig, &RUN_TCP[2..20]),
        (Direction::Orig, &RUN_TCP[20..]),
        (Direction::Resp, &RUN_TCP_RESPONSE[..10]),
        (Direction::Resp, &RUN_TCP_RESPONSE[10..]),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Ok);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_message() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    buf.feed(&TcpParser, Direction::Orig, &RUN_TCP, |m| {
        seen.push(m.frame.map(|f| f.sid))
    });
    buf.feed(&TcpParser, Direction::Orig, &RUN_TCP[..12], |m| {
        seen.push(m.frame.map(|f| f.sid))
    });
    buf.gap(100);
    assert_eq!(buf.state(), StreamState::Resyncing);
    let mut next = RUN_TCP[20..].to_vec(); // the tail of a lost message
    let mut again = RUN_TCP;
    again[25] = 0x7b;
    next.extend_from_slice(&again);
    buf.feed(&TcpParser, Direction::Orig, &next, |m| {
        seen.push(m.frame.map(|f| f.sid))
    });
    assert_eq!(seen, [Some(0x7a), Some(0x7b)]);
    assert_eq!(buf.state(), StreamState::Recognised);
}

#[test]
fn other_protocols_are_refused() {
    assert_eq!(
        TcpParser.parse(Direction::Orig, b"GET / HTTP/1.1\r\n"),
        Parsed::NotThisProtocol
    );
    // An ICF with reserved bits set, and an undefined main request code.
    let mut bad = MULTI_READ;
    bad[0] = 0x82;
    assert!(parse_frame(&bad).is_none());
    let mut bad = MULTI_READ;
    bad[10] = 0x40;
    assert!(parse_frame(&bad).is_none());
}

proptest! {
    /// The TCP parser keeps the contract on any bytes, with or without the magic.
    #[test]
    fn tcp_parser_keeps_the_contract(magic in any::<bool>(), bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut input = if magic { b"FINS".to_vec() } else { Vec::new() };
        input.extend_from_slice(&bytes);
        match TcpParser.parse(Direction::Orig, &input) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= input.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > input.len() && needed <= MAX_TCP),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any datagram through a session: no panic, and at most one operation per command.
    #[test]
    fn datagrams_never_panic(datagrams in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..60), 0..20)) {
        let mut s = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        let mut commands = 0;
        for (i, d) in datagrams.iter().enumerate() {
            let dir = if i % 2 == 0 { Direction::Orig } else { Direction::Resp };
            if parse_frame(d).is_some_and(|f| !f.is_response()) {
                commands += 1;
            }
            s.on_datagram(dir, i as i64, d, &mut ops, &mut facts);
        }
        s.finish(&mut ops);
        prop_assert_eq!(ops.len(), commands);
    }
}
