use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// Read Holding Registers request: unit 1, registers 0..10.
const READ_REQUEST: [u8; 12] = [
    0x00, 0x07, // transaction id 7
    0x00, 0x00, // protocol id 0 (Modbus)
    0x00, 0x06, // length: unit id + 5 bytes of PDU
    0x01, // unit id 1
    0x03, // function 3: read holding registers
    0x00, 0x00, // starting address 0
    0x00, 0x0a, // quantity 10
];

/// Its response with two of the ten registers shown (length says 7).
const READ_RESPONSE: [u8; 13] = [
    0x00, 0x07, // transaction id 7 (echoed)
    0x00, 0x00, // protocol id
    0x00, 0x07, // length 7
    0x01, // unit id
    0x03, // function 3
    0x04, // byte count 4
    0x00, 0x2a, 0x01, 0x00, // register values
];

/// Exception response to the same transaction: illegal data address (2).
const EXCEPTION_RESPONSE: [u8; 9] = [
    0x00, 0x07, // transaction id 7
    0x00, 0x00, // protocol id
    0x00, 0x03, // length 3
    0x01, // unit id
    0x83, // function 3 with the exception bit
    0x02, // exception code 2
];

fn parse(bytes: &[u8]) -> Parsed<Adu<'_>> {
    Parser.parse(Direction::Orig, bytes)
}

/// Feeds segments through a stream buffer and a session; returns operations and facts.
fn run(segments: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Vec<IdentityFact>, [StreamState; 2]) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&Parser, dir, bytes, |adu| {
            session.on_adu(dir, i as i64, &adu, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    (ops, facts, [bufs[0].state(), bufs[1].state()])
}

#[test]
fn request_fields_are_read() {
    let Parsed::Pdu { pdu, consumed } = parse(&READ_REQUEST) else {
        panic!()
    };
    assert_eq!(consumed, 12);
    assert_eq!(
        (pdu.transaction, pdu.unit, pdu.function, pdu.exception),
        (7, 1, 3, None)
    );
    assert_eq!(pdu.data, &[0, 0, 0, 10]);
    assert_eq!(target(&pdu), "unit 1 holding_registers 0+10");
    assert_eq!(classify(&pdu).category, Category::Read);
}

#[test]
fn a_response_completes_its_request() {
    let (ops, _, states) = run(&[
        (Direction::Orig, &READ_REQUEST),
        (Direction::Resp, &READ_RESPONSE),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Ok);
    assert_eq!(ops[0].function.name, "read_holding_registers");
    assert_eq!(ops[0].ts, 0, "the record carries the request's time");
    assert_eq!(states, [StreamState::Recognised; 2]);
}

#[test]
fn an_exception_is_the_status() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_REQUEST),
        (Direction::Resp, &EXCEPTION_RESPONSE),
    ]);
    assert_eq!(ops[0].status, Status::Exception(2));
    assert_eq!(ops[0].status.to_string(), "exception:2");
}

#[test]
fn several_adus_in_one_segment() {
    let mut seg = READ_REQUEST.to_vec();
    let mut second = READ_REQUEST;
    second[1] = 8; // transaction 8
    seg.extend_from_slice(&second);
    let (ops, _, _) = run(&[(Direction::Orig, &seg)]);
    assert_eq!(ops.len(), 2);
    assert!(
        ops.iter()
            .all(|o| o.status == Status::NoResponse && o.flags.has(Flags::NO_RESPONSE))
    );
}

#[test]
fn one_adu_across_segments() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_REQUEST[..3]),
        (Direction::Orig, &READ_REQUEST[3..9]),
        (Direction::Orig, &READ_REQUEST[9..]),
        (Direction::Resp, &READ_RESPONSE),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Ok);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_adu() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    buf.feed(&Parser, Direction::Orig, &READ_REQUEST, |a| {
        seen.push(a.transaction)
    });
    // Half an ADU, then the capture lost bytes.
    buf.feed(&Parser, Direction::Orig, &READ_REQUEST[..5], |a| {
        seen.push(a.transaction)
    });
    buf.gap(40);
    assert_eq!(buf.state(), StreamState::Resyncing);
    // The tail of a lost ADU, then a whole one.
    let mut next = vec![0x05, 0x00, 0x0a];
    let mut again = READ_REQUEST;
    again[1] = 9;
    next.extend_from_slice(&again);
    buf.feed(&Parser, Direction::Orig, &next, |a| {
        seen.push(a.transaction)
    });
    assert_eq!(seen, [7, 9]);
    assert_eq!(buf.state(), StreamState::Recognised);
    assert!(buf.stats().skipped >= 3);
}

#[test]
fn http_on_port_502_is_not_modbus() {
    let (ops, _, states) = run(&[(Direction::Orig, b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n")]);
    assert!(ops.is_empty());
    assert_eq!(states[0], StreamState::NotThisProtocol);
}

#[test]
fn device_identification_names_the_device() {
    let request = [
        0x00, 0x01, 0x00, 0x00, 0x00, 0x05, // MBAP: transaction 1, length 5
        0xff, // unit 255
        0x2b, 0x0e, 0x01, 0x00, // function 43, MEI 14, read code 1 (basic), object 0
    ];
    let mut response = vec![
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, // MBAP (length patched below)
        0xff, // unit 255
        0x2b, 0x0e, 0x01, // function 43, MEI 14, read code 1
        0x01, // conformity level
        0x00, 0x00, // more follows: no; next object 0
        0x03, // three objects
    ];
    for (id, value) in [
        (0u8, &b"Schneider Electric"[..]),
        (1, b"BMX P34 2020"),
        (2, b"v3.20"),
    ] {
        response.push(id);
        response.push(value.len() as u8);
        response.extend_from_slice(value);
    }
    let len = (response.len() - 6) as u16;
    response[4..6].copy_from_slice(&len.to_be_bytes());
    let (ops, facts, _) = run(&[(Direction::Orig, &request), (Direction::Resp, &response)]);
    assert_eq!(ops[0].function.name, "read_device_identification");
    assert_eq!(ops[0].function.category, Category::Identify);
    let found: Vec<(IdentityKind, &str)> =
        facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        found,
        [
            (IdentityKind::Vendor, "Schneider Electric"),
            (IdentityKind::Product, "BMX P34 2020"),
            (IdentityKind::Firmware, "v3.20")
        ]
    );
}

#[test]
fn writes_and_restarts_are_categorised() {
    let write = [0, 1, 0, 0, 0, 6, 1, 0x06, 0x00, 0x10, 0x12, 0x34]; // write single register 16 = 0x1234
    let Parsed::Pdu { pdu, .. } = parse(&write) else {
        panic!()
    };
    assert_eq!(
        (classify(&pdu).category, target(&pdu).as_str()),
        (Category::Write, "unit 1 holding_registers 16")
    );
    let restart = [0, 2, 0, 0, 0, 6, 1, 0x08, 0x00, 0x01, 0x00, 0x00]; // diagnostics 1: restart communications
    let Parsed::Pdu { pdu, .. } = parse(&restart) else {
        panic!()
    };
    assert_eq!(classify(&pdu).category, Category::Control);
}

#[test]
fn a_response_without_request_is_counted() {
    let mut session = Session::default();
    let Parsed::Pdu { pdu, .. } = parse(&READ_RESPONSE) else {
        panic!()
    };
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    session.on_adu(Direction::Resp, 0, &pdu, &mut ops, &mut facts);
    assert!(ops.is_empty());
    assert_eq!(session.unsolicited, 1);
}

proptest! {
    /// The parser keeps the contract on any bytes.
    #[test]
    fn parser_keeps_the_contract(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        match parse(&bytes) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= bytes.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > bytes.len() && needed <= MAX_ADU),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any split of a valid stream into segments gives the same ADUs.
    #[test]
    fn any_segmentation_gives_the_same_adus(cuts in proptest::collection::vec(1usize..40, 1..10)) {
        let mut stream = Vec::new();
        for t in 0..5u8 {
            let mut r = READ_REQUEST;
            r[1] = t;
            stream.extend_from_slice(&r);
        }
        let mut buf = StreamBuffer::new();
        let mut seen = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() { break; }
            let end = (at + c).min(stream.len());
            buf.feed(&Parser, Direction::Orig, &stream[at..end], |a| seen.push(a.transaction));
            at = end;
        }
        prop_assert_eq!(seen, vec![0, 1, 2, 3, 4]);
    }
}
