use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// STARTDT act (iti_TestDissectIec104.pcap).
const STARTDT_ACT: [u8; 6] = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00];

/// C_SC_NA_1 single command, activation (iti_TestDissectIec104.pcap frame 124).
const SINGLE_COMMAND: [u8; 16] = [
    0x68, 0x0e, // start, length 14
    0x04, 0x00, 0x0e, 0x00, // I-format: send 2, receive 7
    0x2d, // type 45: C_SC_NA_1
    0x01, // SQ 0, one object
    0x06, 0x01, // cause 6 (activation), originator 1
    0x0d, 0x91, // common address 37133
    0x1a, 0x27, 0x00, // IOA 10010
    0x81, // SCO: select, on
];

/// S-frame then the activation confirmation (frame 125).
const ACK_AND_CONFIRMATION: [u8; 22] = [
    0x68, 0x04, 0x01, 0x00, 0x06, 0x00, // S-format, receive 3
    0x68, 0x0e, 0x0e, 0x00, 0x06, 0x00, // I-format
    0x2d, 0x01, 0x07, 0x01, 0x0d, 0x91, 0x1a, 0x27, 0x00, 0x81, // cause 7 activation con
];

/// A negative activation confirmation (test bit set too), as in frame 134.
const NEGATIVE_CONFIRMATION: [u8; 16] = [
    0x68, 0x0e, 0x14, 0x00, 0x0a, 0x00, // I-format
    0x2d, 0x01, 0xc7, 0x02, 0x0d, 0x91, 0x1a, 0x27, 0x00, 0x81, // T, P/N, cause 7
];

/// M_SP_NA_1 with SQ: four single points from IOA 1000, interrogated (cause 20).
const REPORT: [u8; 19] = [
    0x68, 0x11, 0x00, 0x00, 0x00, 0x00, // I-format
    0x01, 0x84, 0x14, 0x00, 0x01, 0x00, // type 1, SQ 4 objects, cause 20, ca 1
    0xe8, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, // IOA 1000, four SIQ
];

fn parse(bytes: &[u8]) -> Parsed<Apdu<'_>> {
    Parser.parse(Direction::Orig, bytes)
}

fn run(segments: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Session, [StreamState; 2]) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&Parser, dir, bytes, |apdu| {
            session.on_apdu(dir, i as i64, &apdu, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    assert!(facts.is_empty());
    (ops, session, [bufs[0].state(), bufs[1].state()])
}

#[test]
fn i_frame_and_asdu_fields_are_read() {
    let Parsed::Pdu { pdu, consumed } = parse(&SINGLE_COMMAND) else {
        panic!()
    };
    assert_eq!(consumed, 16);
    assert_eq!(pdu.control, Control::I { send: 2, recv: 7 });
    let asdu = pdu.asdu.unwrap();
    assert_eq!(
        (asdu.type_id, asdu.sequence, asdu.count, asdu.cause),
        (45, false, 1, 6)
    );
    assert_eq!(
        (asdu.negative, asdu.test, asdu.originator),
        (false, false, 1)
    );
    assert_eq!((asdu.common_address, asdu.ioa), (37133, Some(10010)));
    assert_eq!(pdu.flags, Flags::default());
    assert_eq!(target(&asdu), "ca 37133 ioa 10010");
}

#[test]
fn u_and_s_frames_are_read() {
    let Parsed::Pdu { pdu, .. } = parse(&STARTDT_ACT) else {
        panic!()
    };
    assert_eq!(pdu.control, Control::U(UFunction::StartDtAct));
    let Parsed::Pdu { pdu, consumed } = parse(&ACK_AND_CONFIRMATION) else {
        panic!()
    };
    assert_eq!((pdu.control, consumed), (Control::S { recv: 3 }, 6));
    for (octet, f) in [
        (0x0b, UFunction::StartDtCon),
        (0x13, UFunction::StopDtAct),
        (0x23, UFunction::StopDtCon),
        (0x43, UFunction::TestFrAct),
        (0x83, UFunction::TestFrCon),
    ] {
        let frame = [0x68, 4, octet, 0, 0, 0];
        let Parsed::Pdu { pdu, .. } = parse(&frame) else {
            panic!()
        };
        assert_eq!(pdu.control, Control::U(f));
    }
    let odd = [0x68, 4, 0x0f, 0, 0, 0];
    let Parsed::Pdu { pdu, .. } = parse(&odd) else {
        panic!()
    };
    assert!(pdu.flags.has(Flags::UNKNOWN_FUNCTION));
}

#[test]
fn a_confirmation_completes_the_command() {
    let (ops, session, states) = run(&[
        (Direction::Orig, &STARTDT_ACT),
        (Direction::Orig, &SINGLE_COMMAND),
        (Direction::Resp, &ACK_AND_CONFIRMATION),
    ]);
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!(op.status, Status::Ok);
    assert_eq!(
        (op.function.code, op.function.name, op.function.category),
        (45, "single_command", Category::Control)
    );
    assert_eq!(op.target, "ca 37133 ioa 10010");
    assert_eq!((op.ts, op.pdu, op.protocol), (1, None, "iec104"));
    assert_eq!((session.u_frames[0], session.s_frames), (1, 1));
    assert_eq!(states, [StreamState::Recognised; 2]);
}

#[test]
fn a_negative_confirmation_is_an_exception() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &SINGLE_COMMAND),
        (Direction::Resp, &NEGATIVE_CONFIRMATION),
    ]);
    assert_eq!(ops[0].status, Status::Exception(7));
    assert_eq!(ops[0].status.to_string(), "exception:7");
}

#[test]
fn unknown_address_is_an_exception_and_termination_is_not_unsolicited() {
    let mut unknown_ioa = NEGATIVE_CONFIRMATION;
    unknown_ioa[8] = 47; // cause 47: unknown information object address, P/N clear
    let mut termination = ACK_AND_CONFIRMATION;
    termination[14] = 10;
    let (ops, session, _) = run(&[
        (Direction::Orig, &SINGLE_COMMAND),
        (Direction::Resp, &unknown_ioa),
        (Direction::Resp, &termination[6..]),
    ]);
    assert_eq!(ops[0].status, Status::Exception(47));
    assert_eq!((session.terminations, session.unsolicited), (1, 0));
}

#[test]
fn reports_are_counted_not_logged() {
    let Parsed::Pdu { pdu, .. } = parse(&REPORT) else {
        panic!()
    };
    assert_eq!(pdu.flags, Flags::default(), "SQ length is 3 + 4 × 1");
    let (ops, session, _) = run(&[(Direction::Resp, &REPORT), (Direction::Orig, &REPORT)]);
    assert!(ops.is_empty());
    assert_eq!(session.reports.get(&1), Some(&1));
    assert_eq!(session.misdirected, 1);
    assert_eq!(describe(1).category, Category::Cyclic);
}

#[test]
fn categories_follow_the_documented_rule() {
    for (t, c) in [
        (45, Category::Control),
        (47, Category::Control),
        (60, Category::Control),
        (48, Category::Write),
        (63, Category::Write),
        (51, Category::Write),
        (64, Category::Write),
        (100, Category::Read),
        (101, Category::Read),
        (102, Category::Read),
        (103, Category::Other),
        (104, Category::Diagnostic),
        (107, Category::Diagnostic),
        (105, Category::Control),
    ] {
        assert_eq!(describe(t).category, c, "type {t}");
    }
    assert_eq!(describe(99).name, "unknown");
}

#[test]
fn a_short_element_is_flagged() {
    let mut short = SINGLE_COMMAND.to_vec();
    short.push(0);
    short[1] += 1;
    let Parsed::Pdu { pdu, .. } = parse(&short) else {
        panic!()
    };
    assert!(pdu.flags.has(Flags::BAD_LENGTH));
    let truncated = [0x68, 6, 0, 0, 0, 0, 24, 1];
    let Parsed::Pdu { pdu, .. } = parse(&truncated) else {
        panic!()
    };
    assert!(pdu.asdu.is_none() && pdu.flags.has(Flags::BAD_LENGTH));
}

#[test]
fn several_apdus_in_one_segment() {
    let mut seg = STARTDT_ACT.to_vec();
    seg.extend_from_slice(&SINGLE_COMMAND);
    let mut second = SINGLE_COMMAND;
    second[12] = 0x1b; // IOA 10011
    seg.extend_from_slice(&second);
    let (ops, _, _) = run(&[(Direction::Orig, &seg)]);
    assert_eq!(ops.len(), 2);
    assert!(
        ops.iter()
            .all(|o| o.status == Status::NoResponse && o.flags.has(Flags::NO_RESPONSE))
    );
    assert_eq!(ops[1].target, "ca 37133 ioa 10011");
}

#[test]
fn one_apdu_across_segments() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &SINGLE_COMMAND[..1]),
        (Direction::Orig, &SINGLE_COMMAND[1..9]),
        (Direction::Orig, &SINGLE_COMMAND[9..]),
        (Direction::Resp, &ACK_AND_CONFIRMATION[..10]),
        (Direction::Resp, &ACK_AND_CONFIRMATION[10..]),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Ok);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_apdu() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    let mut push = |a: Apdu<'_>| seen.push(a.control);
    buf.feed(&Parser, Direction::Orig, &STARTDT_ACT, &mut push);
    buf.feed(&Parser, Direction::Orig, &SINGLE_COMMAND[..7], &mut push);
    buf.gap(30);
    assert_eq!(buf.state(), StreamState::Resyncing);
    // The tail of a lost APDU (no 0x68 in it), then a whole one.
    let mut next = vec![0x01, 0x0d, 0x91, 0x1a];
    next.extend_from_slice(&SINGLE_COMMAND);
    buf.feed(&Parser, Direction::Orig, &next, &mut push);
    assert_eq!(
        seen,
        [
            Control::U(UFunction::StartDtAct),
            Control::I { send: 2, recv: 7 }
        ]
    );
    assert_eq!(buf.state(), StreamState::Recognised);
    assert_eq!(buf.stats().skipped, 4);
}

#[test]
fn http_on_port_2404_is_not_iec104() {
    let (ops, _, states) = run(&[(Direction::Orig, b"GET / HTTP/1.1\r\n\r\n")]);
    assert!(ops.is_empty());
    assert_eq!(states[0], StreamState::NotThisProtocol);
    assert_eq!(parse(&[0x68, 3, 0, 0]), Parsed::NotThisProtocol);
    assert_eq!(parse(&[0x68, 254]), Parsed::NotThisProtocol);
    assert_eq!(parse(&[0x68]), Parsed::Incomplete { needed: 6 });
}

#[test]
fn outstanding_operations_are_bounded() {
    let segs: Vec<(Direction, &[u8])> = (0..MAX_OUTSTANDING + 3)
        .map(|_| (Direction::Orig, &SINGLE_COMMAND[..]))
        .collect();
    let (ops, _, _) = run(&segs);
    assert_eq!(ops.len(), MAX_OUTSTANDING + 3);
    assert_eq!(
        ops.iter()
            .filter(|o| o.flags.has(Flags::TOO_MANY_OUTSTANDING))
            .count(),
        3
    );
}

proptest! {
    /// The parser keeps the contract on any bytes.
    #[test]
    fn parser_keeps_the_contract(mut bytes in proptest::collection::vec(any::<u8>(), 0..300), start in any::<bool>()) {
        if start && !bytes.is_empty() {
            bytes[0] = START;
        }
        match parse(&bytes) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= bytes.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > bytes.len() && needed <= MAX_APDU),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any bytes through a stream buffer and a session, both ways: no panic, bounded state.
    #[test]
    fn sessions_survive_any_bytes(chunks in proptest::collection::vec(
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..80)), 0..20)) {
        let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
        let mut session = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        for (orig, mut bytes) in chunks {
            let dir = if orig { Direction::Orig } else { Direction::Resp };
            if let Some(b) = bytes.first_mut() { *b = START; }
            bufs[dir.index()].feed(&Parser, dir, &bytes, |a| {
                session.on_apdu(dir, 0, &a, &mut ops, &mut facts)
            });
            prop_assert!(session.outstanding.len() <= MAX_OUTSTANDING);
        }
        session.finish(&mut ops);
    }

    /// Any split of a valid stream into segments gives the same APDUs.
    #[test]
    fn any_segmentation_gives_the_same_apdus(cuts in proptest::collection::vec(1usize..40, 1..10)) {
        let mut stream = STARTDT_ACT.to_vec();
        for _ in 0..4 {
            stream.extend_from_slice(&SINGLE_COMMAND);
            stream.extend_from_slice(&ACK_AND_CONFIRMATION[..6]);
        }
        let mut buf = StreamBuffer::new();
        let mut seen = 0;
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + c).min(stream.len());
            buf.feed(&Parser, Direction::Orig, &stream[at..end], |_| seen += 1);
            at = end;
        }
        prop_assert_eq!(seen, 9);
    }
}
