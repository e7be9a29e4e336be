use proptest::prelude::*;

use super::*;

/// ReadProperty analog-value 3 present-value, invoke id 1.
const READ_PROPERTY: [u8; 17] = [
    0x81, 0x0a, 0x00, 0x11, // BVLC original-unicast, length 17
    0x01, 0x04, // NPDU version 1, expecting reply
    0x00, 0x05, 0x01, 0x0c, // confirmed request, max APDU, invoke 1, service 12
    0x0c, 0x00, 0x80, 0x00, 0x03, // [0] object id: analog-value 3
    0x19, 0x55, // [1] property 85: present-value
];

/// Its complex ACK (value 48.5 as a REAL).
const COMPLEX_ACK: [u8; 23] = [
    0x81, 0x0a, 0x00, 0x17, 0x01, 0x00, // BVLC, NPDU
    0x30, 0x01, 0x0c, // complex ACK, invoke 1, service 12
    0x0c, 0x00, 0x80, 0x00, 0x03, 0x19, 0x55, // object, property
    0x3e, 0x44, 0x42, 0x42, 0x00, 0x00, 0x3f, // [3] { REAL }
];

/// An Error reply: class property (2), code unknown-property (32).
const ERROR: [u8; 13] = [
    0x81, 0x0a, 0x00, 0x0d, 0x01, 0x00, // BVLC, NPDU
    0x50, 0x01, 0x0c, // error, invoke 1, service 12
    0x91, 0x02, 0x91, 0x20, // enumerated 2, enumerated 32
];

/// I-Am: device 123, max APDU 1476, segmentation both, vendor 260, broadcast.
const I_AM: [u8; 21] = [
    0x81, 0x0b, 0x00, 0x15, 0x01, 0x00, // BVLC original-broadcast, NPDU
    0x10, 0x00, // unconfirmed request, service 0
    0xc4, 0x02, 0x00, 0x00, 0x7b, // object id: device 123
    0x22, 0x05, 0xc4, // unsigned 1476
    0x91, 0x00, // enumerated 0: segmented both
    0x22, 0x01, 0x04, // unsigned 260
];

fn run(datagrams: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Vec<IdentityFact>, Session) {
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in datagrams.iter().enumerate() {
        session.on_datagram(dir, i as i64, bytes, &mut ops, &mut facts);
    }
    session.finish(&mut ops);
    (ops, facts, session)
}

#[test]
fn read_property_is_matched_to_its_ack() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_PROPERTY),
        (Direction::Resp, &COMPLEX_ACK),
    ]);
    assert_eq!(ops.len(), 1);
    let op = &ops[0];
    assert_eq!(
        (op.pdu, op.function.code, op.function.name),
        (Some("confirmed"), 12, "read_property")
    );
    assert_eq!(op.function.category, Category::Read);
    assert_eq!(op.target, "analog-value 3 present-value");
    assert_eq!(op.status, Status::Ok);
}

#[test]
fn error_reject_and_abort_are_exceptions() {
    let (ops, _, _) = run(&[(Direction::Orig, &READ_PROPERTY), (Direction::Resp, &ERROR)]);
    assert_eq!(ops[0].status, Status::Exception(2 * 256 + 32));
    let reject = [0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x60, 0x01, 0x09];
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_PROPERTY),
        (Direction::Resp, &reject),
    ]);
    assert_eq!(ops[0].status, Status::Exception(REJECT_BASE + 9));
    let abort = [0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x71, 0x01, 0x04];
    let (ops, _, _) = run(&[(Direction::Orig, &READ_PROPERTY), (Direction::Resp, &abort)]);
    assert_eq!(ops[0].status, Status::Exception(ABORT_BASE + 4));
    // A client's abort travels in the request's direction.
    let client_abort = [0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x70, 0x01, 0x00];
    let (ops, _, s) = run(&[
        (Direction::Orig, &READ_PROPERTY),
        (Direction::Orig, &client_abort),
    ]);
    assert_eq!(
        (ops[0].status, s.unsolicited),
        (Status::Exception(ABORT_BASE), 0)
    );
}

#[test]
fn a_reply_the_wrong_way_or_invoke_id_is_unsolicited() {
    let mut other = COMPLEX_ACK;
    other[7] = 2;
    let (ops, _, s) = run(&[
        (Direction::Orig, &READ_PROPERTY),
        (Direction::Orig, &COMPLEX_ACK),
        (Direction::Resp, &other),
    ]);
    assert_eq!(s.unsolicited, 2);
    assert_eq!(ops[0].status, Status::NoResponse);
    assert!(ops[0].flags.has(Flags::NO_RESPONSE));
}

#[test]
fn i_am_names_its_sender() {
    let (ops, facts, _) = run(&[(Direction::Resp, &I_AM)]);
    assert_eq!(ops[0].pdu, Some("unconfirmed"));
    assert_eq!(ops[0].function.category, Category::Identify);
    assert_eq!(ops[0].status, Status::Ok);
    assert_eq!(
        ops[0].target,
        "device 123 max_apdu 1476 segmentation 0 vendor 260"
    );
    assert_eq!(facts.len(), 2);
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Side(Direction::Resp))
    );
    assert_eq!(facts[0].value, "BACnet Stack at SourceForge (260)");
    assert_eq!(facts[1].value, "device 123");
}

#[test]
fn forwarded_npdu_and_routed_addresses_are_read() {
    let mut fwd = vec![0x81, 0x04, 0x00, 0x1b, 0xc0, 0xa8, 0x01, 0x02, 0xba, 0xc0];
    fwd.extend_from_slice(&I_AM[4..]);
    let (ops, facts, _) = run(&[(Direction::Orig, &fwd)]);
    assert_eq!((ops.len(), facts.len()), (1, 2));
    // Routed: DNET 5 DADR 1 byte, SNET 7 SADR 2 bytes, hop count 255.
    let routed = [
        0x81, 0x0a, 0x00, 0x14, 0x01, 0x28, 0x00, 0x05, 0x01, 0x09, 0x00, 0x07, 0x02, 0x01, 0x02,
        0xff, 0x10, 0x08, 0x09, 0x00,
    ];
    let Parsed::Pdu { pdu, .. } = Parser.parse(Direction::Orig, &routed) else {
        panic!()
    };
    let npdu = pdu.npdu.unwrap();
    assert_eq!(
        (npdu.dnet, npdu.snet, npdu.hop_count),
        (Some(5), Some(7), Some(255))
    );
    let (ops, _, _) = run(&[(Direction::Orig, &routed)]);
    assert_eq!(ops[0].function.name, "who_is");
}

#[test]
fn control_and_write_services_have_targets() {
    // ReinitializeDevice warmstart, invoke 3.
    let reinit = [
        0x81, 0x0a, 0x00, 0x0c, 0x01, 0x04, 0x00, 0x05, 0x03, 0x14, 0x09, 0x01,
    ];
    // DeviceCommunicationControl disable.
    let dcc = [
        0x81, 0x0a, 0x00, 0x0c, 0x01, 0x04, 0x00, 0x05, 0x04, 0x11, 0x19, 0x01,
    ];
    // WriteProperty binary-output 7 present-value [2] ... value
    let wp = [
        0x81, 0x0a, 0x00, 0x15, 0x01, 0x04, 0x00, 0x05, 0x05, 0x0f, 0x0c, 0x01, 0x00, 0x00, 0x07,
        0x19, 0x55, 0x3e, 0x91, 0x01, 0x3f,
    ];
    let (ops, _, _) = run(&[
        (Direction::Orig, &reinit),
        (Direction::Orig, &dcc),
        (Direction::Orig, &wp),
    ]);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.function.name, o.function.category, o.target.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("reinitialize_device", Category::Control, "warmstart"),
            ("device_communication_control", Category::Control, "disable"),
            (
                "write_property",
                Category::Write,
                "binary-output 7 present-value"
            ),
        ]
    );
}

#[test]
fn network_messages_and_bvlc_only_are_counted() {
    let network = [0x81, 0x0b, 0x00, 0x07, 0x01, 0x80, 0x00];
    let result = [0x81, 0x00, 0x00, 0x06, 0x00, 0x00];
    let (ops, _, s) = run(&[(Direction::Orig, &network), (Direction::Resp, &result)]);
    assert!(ops.is_empty());
    assert_eq!((s.network_messages, s.bvlc_only), (1, 1));
}

#[test]
fn other_bytes_are_not_bacnet() {
    let (ops, _, s) = run(&[(Direction::Orig, b"GET / HTTP/1.1\r\n\r\n")]);
    assert!(ops.is_empty());
    assert_eq!(s.not_bacnet, 1);
    assert_eq!(
        Parser.parse(Direction::Orig, &[0x81, 0x0a, 0x00, 0x03]),
        Parsed::NotThisProtocol
    );
    assert_eq!(
        Parser.parse(Direction::Orig, &READ_PROPERTY[..10]),
        Parsed::Incomplete { needed: 17 }
    );
}

#[test]
fn outstanding_requests_are_bounded() {
    let reqs: Vec<(Direction, &[u8])> = (0..MAX_OUTSTANDING + 2)
        .map(|_| (Direction::Orig, &READ_PROPERTY[..]))
        .collect();
    let (ops, _, _) = run(&reqs);
    assert_eq!(ops.len(), MAX_OUTSTANDING + 2);
    assert_eq!(
        ops.iter()
            .filter(|o| o.flags.has(Flags::TOO_MANY_OUTSTANDING))
            .count(),
        2
    );
}

proptest! {
    /// The parser keeps the contract on any bytes.
    #[test]
    fn parser_keeps_the_contract(mut bytes in proptest::collection::vec(any::<u8>(), 0..200), bvlc in any::<bool>()) {
        if bvlc && !bytes.is_empty() {
            bytes[0] = 0x81;
        }
        match Parser.parse(Direction::Orig, &bytes) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= bytes.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > bytes.len() && needed <= Parser::MAX_PDU),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any datagrams (with a plausible BVLC header) through a session: no panic, bounded.
    #[test]
    fn sessions_survive_any_datagrams(datagrams in proptest::collection::vec(
        (any::<bool>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..60)), 0..20)) {
        let mut session = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        for (orig, function, body) in datagrams {
            let dir = if orig { Direction::Orig } else { Direction::Resp };
            let len = u16::try_from(body.len() + 6).unwrap_or(0).to_be_bytes();
            let mut d = vec![0x81, function % 13, len[0], len[1], 0x01, body.first().copied().unwrap_or(0) & 0xa8];
            d.extend_from_slice(&body);
            session.on_datagram(dir, 0, &d, &mut ops, &mut facts);
            prop_assert!(session.outstanding.len() <= MAX_OUTSTANDING);
        }
        session.finish(&mut ops);
    }

    /// Tag and I-Am readers never panic.
    #[test]
    fn tag_readers_survive_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let _ = top_values(&bytes, 8);
        let _ = i_am(&bytes);
        let _ = error_code(&bytes);
        let _ = target(true, 12, &bytes);
        let _ = target(false, 8, &bytes);
    }
}

#[test]
fn the_datagram_length_wins_over_a_wrong_bvlc_length() {
    // icsnpp-bacnet_bacnet_example.pcap frame 573: the Error claims 17 bytes, holds 13.
    let mut wrong = ERROR;
    wrong[3] = 0x11;
    let (ops, _, _) = run(&[(Direction::Orig, &READ_PROPERTY), (Direction::Resp, &wrong)]);
    assert_eq!(ops[0].status, Status::Exception(2 * 256 + 32));
    assert!(ops[0].flags.has(Flags::BAD_LENGTH));
}

#[test]
fn a_segmented_request_is_one_operation() {
    // WriteProperty in two segments (SEG, MOR, SA), invoke 9, sequence 0 then 1.
    let first = [
        0x81, 0x0a, 0x00, 0x13, 0x01, 0x04, 0x0e, 0x05, 0x09, 0x00, 0x04, 0x0f, 0x0c, 0x00, 0x80,
        0x00, 0x03, 0x19, 0x55,
    ];
    let second = [
        0x81, 0x0a, 0x00, 0x0f, 0x01, 0x04, 0x0a, 0x05, 0x09, 0x01, 0x04, 0x0f, 0x3e, 0x91, 0x01,
    ];
    let ack = [0x81, 0x0a, 0x00, 0x09, 0x01, 0x00, 0x20, 0x09, 0x0f];
    let (ops, _, s) = run(&[
        (Direction::Orig, &first),
        (Direction::Orig, &second),
        (Direction::Resp, &ack),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].target, "analog-value 3 present-value");
    assert_eq!((ops[0].status, s.later_segments), (Status::Ok, 1));
}
