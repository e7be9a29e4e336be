//! Frames modelled on the SLMP Reference Manual's examples: a batch read of three
//! data registers from D100 in binary, the same kind of read of eight internal relays
//! from M100 in ASCII, a remote stop in a 4E frame, Read Type Name, an error response
//! carrying the failed request's header.

use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// Binary 3E batch read, word units: D100, 3 points.
const READ_D100: [u8; 21] = [
    0x50, 0x00, // subheader: 3E request
    0x00, // network number 0 (own network)
    0xff, // station number 0xFF (the connected station)
    0xff, 0x03, // module I/O 0x03FF (own CPU)
    0x00, // multidrop station 0
    0x0c, 0x00, // request data length 12
    0x10, 0x00, // monitoring timer 16 × 250 ms
    0x01, 0x04, // command 0x0401: device read (batch)
    0x00, 0x00, // subcommand 0x0000: word units, Q/L device format
    0x64, 0x00, 0x00, // head device number 100
    0xa8, // device code D
    0x03, 0x00, // 3 points
];

/// Its response: three registers.
const READ_D100_RESPONSE: [u8; 17] = [
    0xd0, 0x00, // subheader: 3E response
    0x00, 0xff, 0xff, 0x03, 0x00, // network, station, module I/O, multidrop (echoed)
    0x08, 0x00, // response data length 8
    0x00, 0x00, // end code 0: normal completion
    0x34, 0x12, 0x02, 0x00, 0x1d, 0x00, // D100 = 0x1234, D101 = 2, D102 = 29
];

/// ASCII 3E batch read, bit units: M100, 8 points.
const READ_M100_ASCII: &[u8] = b"5000\
00\
FF\
03FF\
00\
0018\
0010\
0401\
0001\
M*\
000100\
0008";

/// Its response: eight bits, one character each.
const READ_M100_ASCII_RESPONSE: &[u8] = b"D000\
00FF03FF00\
000C\
0000\
10100011";

/// Binary 4E remote stop, serial 0x1234.
const STOP_4E: [u8; 21] = [
    0x54, 0x00, // subheader: 4E request
    0x34, 0x12, // serial number 0x1234
    0x00, 0x00, // fixed 0
    0x00, 0xff, 0xff, 0x03, 0x00, // network, station, module I/O, multidrop
    0x08, 0x00, // request data length 8
    0x10, 0x00, // monitoring timer
    0x02, 0x10, // command 0x1002: remote stop
    0x00, 0x00, // subcommand
    0x01, 0x00, // fixed 0x0001
];

/// Its response.
const STOP_4E_RESPONSE: [u8; 15] = [
    0xd4, 0x00, // subheader: 4E response
    0x34, 0x12, // serial echoed
    0x00, 0x00, // fixed
    0x00, 0xff, 0xff, 0x03, 0x00, // destination echoed
    0x02, 0x00, // response data length 2
    0x00, 0x00, // end code 0
];

/// An error response: end code 0xC059 (command or subcommand wrong), followed by
/// the failing request's network, station, module I/O, multidrop, command and
/// subcommand.
const ERROR_RESPONSE: [u8; 20] = [
    0xd0, 0x00, // 3E response
    0x00, 0xff, 0xff, 0x03, 0x00, // destination echoed
    0x0b, 0x00, // response data length 11
    0x59, 0xc0, // end code 0xC059
    0x00, 0xff, 0xff, 0x03, 0x00, // the request's destination
    0x01, 0x04, // its command
    0x00, 0x00, // its subcommand
];

fn parse(bytes: &[u8]) -> Frame<'_> {
    match Parser.parse(Direction::Orig, bytes) {
        Parsed::Pdu { pdu, consumed } => {
            assert_eq!(consumed, bytes.len());
            pdu
        }
        other => panic!("{other:?}"),
    }
}

fn run(segments: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Vec<IdentityFact>, Session) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&Parser, dir, bytes, |f| {
            session.on_frame(dir, i as i64, &f, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    (ops, facts, session)
}

#[test]
fn binary_batch_read_fields() {
    let f = parse(&READ_D100);
    assert_eq!(
        (f.encoding, f.serial, f.response, f.command, f.subcommand),
        (Encoding::Binary, None, false, 0x0401, 0)
    );
    assert_eq!(
        (f.network, f.station, f.module_io, f.module_station),
        (0, 0xff, 0x03ff, 0)
    );
    assert_eq!(target(&f), "net 0 st 255 io 03FF D100+3");
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_D100),
        (Direction::Resp, &READ_D100_RESPONSE),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(
        (ops[0].function.name, ops[0].status),
        ("device_read", Status::Ok)
    );
    assert_eq!(ops[0].function.category, Category::Read);
}

#[test]
fn ascii_batch_read_fields() {
    let f = parse(READ_M100_ASCII);
    assert_eq!(
        (f.encoding, f.command, f.subcommand),
        (Encoding::Ascii, 0x0401, 1)
    );
    assert_eq!(target(&f), "net 0 st 255 io 03FF M100+8 bits");
    let r = parse(READ_M100_ASCII_RESPONSE);
    assert!(r.response);
    assert_eq!((r.end_code, r.data), (0, &b"10100011"[..]));
}

#[test]
fn a_4e_remote_stop_pairs_by_serial_and_is_control() {
    let mut other = STOP_4E;
    other[2] = 0x35; // serial 0x1235, never answered
    let (ops, _, s) = run(&[
        (Direction::Orig, &other),
        (Direction::Orig, &STOP_4E),
        (Direction::Resp, &STOP_4E_RESPONSE),
    ]);
    assert_eq!(s.unsolicited, 0);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.function.name, o.status, o.ts))
        .collect();
    assert_eq!(
        got,
        [
            ("remote_stop", Status::Ok, 1),
            ("remote_stop", Status::NoResponse, 0)
        ]
    );
    assert_eq!(ops[0].function.category, Category::Control);
}

#[test]
fn an_error_end_code_is_the_status() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_D100),
        (Direction::Resp, &ERROR_RESPONSE),
    ]);
    assert_eq!(ops[0].status, Status::Exception(0xc059));
}

#[test]
fn read_type_name_gives_the_model() {
    let request = [
        0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, // 3E request to the own CPU
        0x06, 0x00, // length 6
        0x10, 0x00, // timer
        0x01, 0x01, // command 0x0101: read type name
        0x00, 0x00, // subcommand
    ];
    let mut response = vec![
        0xd0, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, // 3E response
        0x14, 0x00, // length 20
        0x00, 0x00, // end code 0
    ];
    response.extend_from_slice(b"Q03UDECPU       "); // model name, 16 characters
    response.extend_from_slice(&[0x68, 0x02]); // model code 0x0268
    let (ops, facts, _) = run(&[(Direction::Orig, &request), (Direction::Resp, &response)]);
    assert_eq!(ops[0].function.category, Category::Identify);
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[0].kind, IdentityKind::Model);
    assert_eq!(facts[0].value, "Q03UDECPU (model code 0x0268)");
    assert_eq!(facts[0].about, Subject::Side(Direction::Resp));
}

#[test]
fn remote_run_and_iqr_batch_write_targets() {
    let run_request = [
        0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, // 3E request
        0x0a, 0x00, // length 10
        0x10, 0x00, // timer
        0x01, 0x10, // command 0x1001: remote run
        0x00, 0x00, // subcommand
        0x03, 0x00, // mode 3: forced
        0x02, // clear mode 2: clear all devices
        0x00, // fixed
    ];
    assert_eq!(
        target(&parse(&run_request)),
        "net 0 st 255 io 03FF force clear_all"
    );
    let write_iqr = [
        0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, // 3E request
        0x12, 0x00, // length 18
        0x10, 0x00, // timer
        0x01, 0x14, // command 0x1401: device write (batch)
        0x02, 0x00, // subcommand 0x0002: word units, iQ-R device format
        0xa0, 0x01, 0x00, 0x00, // head device number 0x1A0
        0xb4, 0x00, // device code W (2 bytes)
        0x02, 0x00, // 2 points
        0x01, 0x00, 0x02, 0x00, // the values
    ];
    let f = parse(&write_iqr);
    assert_eq!(target(&f), "net 0 st 255 io 03FF W1A0+2");
    assert_eq!(describe(f.command).category, Category::Write);
}

/// CC-Link IE Field Basic cyclic request (nttcom-cclinkiefb capture, first frame):
/// the SLMP header, then the cyclic data, all zero past the bytes shown.
fn cclink_cyclic_request() -> Vec<u8> {
    let mut b = vec![
        0x50, 0x00, // 3E request
        0x00, 0xff, 0xff, 0x03,
        0x00, // network 0, station 0xFF, module I/O 0x03FF, multidrop 0
        0x86, 0x00, // request data length 134
        0x00, 0x00, // monitoring timer 0
        0x70, 0x0e, // command 0x0E70: CC-Link IE Field Basic cyclic data
        0x00, 0x00, // subcommand
        0x01, 0x00, 0x00, 0x00, 0x24,
        0x00, // cyclic header: protocol version 1, data offset 36
    ];
    b.resize(9 + 134, 0);
    b
}

#[test]
fn a_cclink_ief_basic_cyclic_frame_is_slmp_and_cyclic() {
    let request = cclink_cyclic_request();
    let mut response = vec![
        0xd0, 0x00, // 3E response
        0x00, 0xff, 0xff, 0x03, 0x00, // destination echoed
        0x7a, 0x00, // response data length 122
        0x00, 0x00, // end code 0
    ];
    response.resize(9 + 122, 0);
    let (ops, _, _) = run(&[(Direction::Orig, &request), (Direction::Resp, &response)]);
    assert_eq!(ops.len(), 1);
    let f = ops[0].function;
    assert_eq!(
        (f.code, f.name, f.category),
        (0x0e70, "cclink_ief_basic_cyclic", Category::Cyclic)
    );
    assert_eq!(ops[0].status, Status::Ok);
}

#[test]
fn udp_datagrams_are_whole_frames() {
    let mut s = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    assert!(s.on_datagram(Direction::Orig, 5, READ_M100_ASCII, &mut ops, &mut facts));
    assert!(s.on_datagram(
        Direction::Resp,
        6,
        READ_M100_ASCII_RESPONSE,
        &mut ops,
        &mut facts
    ));
    assert!(!s.on_datagram(Direction::Orig, 7, &READ_D100[..10], &mut ops, &mut facts));
    assert!(!s.on_datagram(
        Direction::Orig,
        7,
        &[0x5a, 0x00, 0x00, 0x01],
        &mut ops,
        &mut facts
    ));
    assert_eq!((ops.len(), ops[0].status, s.not_slmp), (1, Status::Ok, 2));
}

#[test]
fn several_frames_in_one_segment() {
    let mut seg = READ_D100.to_vec();
    seg.extend_from_slice(&STOP_4E);
    seg.extend_from_slice(&READ_D100);
    let (ops, _, _) = run(&[(Direction::Orig, &seg)]);
    let names: Vec<_> = ops.iter().map(|o| o.function.name).collect();
    assert_eq!(names, ["device_read", "remote_stop", "device_read"]);
}

#[test]
fn one_frame_across_segments() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &READ_M100_ASCII[..3]),
        (Direction::Orig, &READ_M100_ASCII[3..20]),
        (Direction::Orig, &READ_M100_ASCII[20..]),
        (Direction::Resp, &READ_M100_ASCII_RESPONSE[..1]),
        (Direction::Resp, &READ_M100_ASCII_RESPONSE[1..]),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Ok);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_frame() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    buf.feed(&Parser, Direction::Orig, &STOP_4E, |f| seen.push(f.serial));
    buf.feed(&Parser, Direction::Orig, &STOP_4E[..9], |f| {
        seen.push(f.serial)
    });
    buf.gap(64);
    assert_eq!(buf.state(), StreamState::Resyncing);
    let mut next = STOP_4E[15..].to_vec(); // the tail of a lost frame
    let mut again = STOP_4E;
    again[2] = 0x99;
    next.extend_from_slice(&again);
    buf.feed(&Parser, Direction::Orig, &next, |f| seen.push(f.serial));
    assert_eq!(seen, [Some(0x1234), Some(0x1299)]);
    assert_eq!(buf.state(), StreamState::Recognised);
}

#[test]
fn other_protocols_are_refused() {
    for bytes in [
        &b"GET / HTTP/1.1\r\n"[..],
        &[0x5a, 0x00, 0x00, 0x01], // MELSOFT (iti_melsoft_UDP_clean_2.pcap)
        &[0x57, 0x01, 0x00, 0x00],
        b"5000ZZFF03FF000018", // not hexadecimal
        &[
            0x54, 0x00, 0x34, 0x12, 0x01, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, 0x02, 0x00,
        ], // 4E fixed field not 0
        &[0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, 0x02, 0x00], // a request too short for a command
    ] {
        assert_eq!(
            Parser.parse(Direction::Orig, bytes),
            Parsed::NotThisProtocol,
            "{bytes:02x?}"
        );
    }
}

proptest! {
    /// The parser keeps the contract on any bytes after any subheader.
    #[test]
    fn parser_keeps_the_contract(head in 0usize..10, bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let heads: [&[u8]; 9] = [&[0x50, 0], &[0xd0, 0], &[0x54, 0], &[0xd4, 0], b"5000", b"D000", b"5400", b"D400", b"50000"];
        let mut input = heads.get(head).map(|h| h.to_vec()).unwrap_or_default();
        input.extend_from_slice(&bytes);
        match Parser.parse(Direction::Orig, &input) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 1 && consumed <= input.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > input.len() && needed <= MAX_FRAME),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Valid ASCII headers with any fields parse, and the data length is honoured.
    #[test]
    fn ascii_frames_of_any_fields_parse(net in any::<u8>(), st in any::<u8>(), io in any::<u16>(), cmd in any::<u16>(), data in proptest::collection::vec(0u8..16, 0..40)) {
        let body: String = data.iter().map(|d| char::from_digit(u32::from(*d), 16).unwrap_or('0').to_ascii_uppercase()).collect();
        let frame = format!("5000{net:02X}{st:02X}{io:04X}00{:04X}0010{cmd:04X}0000{body}", 12 + body.len());
        let f = parse(frame.as_bytes());
        prop_assert_eq!((f.network, f.station, f.module_io, f.command), (net, st, io, cmd));
        prop_assert_eq!(f.data, body.as_bytes());
    }

    /// Any datagrams through a session: no panic, one operation per request.
    #[test]
    fn datagrams_never_panic(datagrams in proptest::collection::vec((any::<bool>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..20)) {
        let mut s = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        let mut requests = 0;
        for (i, (resp, tail)) in datagrams.iter().enumerate() {
            let mut d = if *resp { READ_D100_RESPONSE[..9].to_vec() } else { READ_D100[..9].to_vec() };
            d.extend_from_slice(tail);
            let dir = if i % 2 == 0 { Direction::Orig } else { Direction::Resp };
            if let Parsed::Pdu { pdu, .. } = Parser.parse(dir, &d) && !pdu.response {
                requests += 1;
            }
            s.on_datagram(dir, i as i64, &d, &mut ops, &mut facts);
        }
        s.finish(&mut ops);
        prop_assert_eq!(ops.len(), requests);
    }
}
