use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// Hello (icsnpp open62541 minimal capture, frame 25).
const HELLO_CHUNK: [u8; 56] = [
    b'H', b'E', b'L', b'F', // message type HEL, chunk type F
    0x38, 0x00, 0x00, 0x00, // message size 56
    0x00, 0x00, 0x00, 0x00, // protocol version 0
    0x00, 0x00, 0xff, 0xff, // receive buffer size 0xffff0000
    0x00, 0x00, 0xff, 0xff, // send buffer size
    0x00, 0x00, 0x00, 0x00, // max message size: no limit
    0x00, 0x00, 0x00, 0x00, // max chunk count: no limit
    0x18, 0x00, 0x00, 0x00, // endpoint URL, 24 bytes:
    b'o', b'p', b'c', b'.', b't', b'c', b'p', b':', b'/', b'/', b'l', b'o', //
    b'c', b'a', b'l', b'h', b'o', b's', b't', b':', b'4', b'8', b'4', b'0', //
];

/// Acknowledge.
const ACK_CHUNK: [u8; 28] = [
    b'A', b'C', b'K', b'F', // ACK, final
    0x1c, 0x00, 0x00, 0x00, // size 28
    0x00, 0x00, 0x00, 0x00, // protocol version
    0x00, 0x00, 0x01, 0x00, // receive buffer size 65536
    0x00, 0x00, 0x01, 0x00, // send buffer size
    0x00, 0x00, 0x00, 0x00, // max message size
    0x00, 0x00, 0x00, 0x00, // max chunk count
];

/// The start of an OpenSecureChannel request, policy None (frame 31), up to the
/// security mode.
fn open_request() -> Vec<u8> {
    let mut b = b"OPNF\0\0\0\0".to_vec(); // OPN, final; size filled in below
    b.extend_from_slice(&[0, 0, 0, 0]); // secure channel id 0 (not assigned yet)
    let policy = b"http://opcfoundation.org/UA/SecurityPolicy#None";
    b.extend_from_slice(&(policy.len() as u32).to_le_bytes()); // policy URI length 47
    b.extend_from_slice(policy);
    b.extend_from_slice(&[0xff; 4]); // sender certificate: null
    b.extend_from_slice(&[0xff; 4]); // receiver thumbprint: null
    b.extend_from_slice(&[1, 0, 0, 0]); // sequence number 1
    b.extend_from_slice(&[1, 0, 0, 0]); // request id 1
    b.extend_from_slice(&[0x01, 0x00, 0xbe, 0x01]); // type id: four-byte, ns 0, 446
    b.extend_from_slice(&[0x00, 0x00]); // request header: authentication token i=0
    b.extend_from_slice(&[0x8a, 0xde, 0xb4, 0xf2, 0x75, 0xca, 0xd5, 0x01]); // timestamp
    b.extend_from_slice(&[0, 0, 0, 0]); // request handle 0
    b.extend_from_slice(&[0, 0, 0, 0]); // return diagnostics
    b.extend_from_slice(&[0xff; 4]); // audit entry id: null
    b.extend_from_slice(&[0, 0, 0, 0]); // timeout hint
    b.extend_from_slice(&[0x00, 0x00, 0x00]); // additional header: i=0, no body
    b.extend_from_slice(&[0, 0, 0, 0]); // client protocol version
    b.extend_from_slice(&[0, 0, 0, 0]); // request type 0: issue
    b.extend_from_slice(&[1, 0, 0, 0]); // security mode 1: None
    b.extend_from_slice(&[0xff; 4]); // client nonce: null
    b.extend_from_slice(&[0xc0, 0x27, 0x09, 0x00]); // requested lifetime 600000 ms
    sized(b)
}

/// The OpenSecureChannel response: channel 6, request id 1, ServiceResult Good.
fn open_response() -> Vec<u8> {
    let mut b = b"OPNF\0\0\0\0".to_vec();
    b.extend_from_slice(&[6, 0, 0, 0]); // secure channel id 6
    let policy = b"http://opcfoundation.org/UA/SecurityPolicy#None";
    b.extend_from_slice(&(policy.len() as u32).to_le_bytes());
    b.extend_from_slice(policy);
    b.extend_from_slice(&[0xff; 8]); // certificate, thumbprint: null
    b.extend_from_slice(&[1, 0, 0, 0]); // sequence number
    b.extend_from_slice(&[1, 0, 0, 0]); // request id 1 (echoed)
    b.extend_from_slice(&[0x01, 0x00, 0xc1, 0x01]); // type id 449
    b.extend_from_slice(&[0; 8]); // response header: timestamp
    b.extend_from_slice(&[0, 0, 0, 0]); // request handle
    b.extend_from_slice(&[0, 0, 0, 0]); // ServiceResult Good
    b.extend_from_slice(&[0x00]); // diagnostics: none
    b.extend_from_slice(&[0xff; 4]); // string table: null
    b.extend_from_slice(&[0x00, 0x00, 0x00]); // additional header
    sized(b)
}

/// Write request (frame 89): one value to ns=1;s=the.answer.
const WRITE_REQUEST: [u8; 109] = [
    b'M', b'S', b'G', b'F', // MSG, final
    0x6d, 0x00, 0x00, 0x00, // size 109
    0x06, 0x00, 0x00, 0x00, // secure channel 6
    0x06, 0x00, 0x00, 0x00, // token 6
    0x15, 0x00, 0x00, 0x00, // sequence number 21
    0x15, 0x00, 0x00, 0x00, // request id 21
    0x01, 0x00, 0xa1, 0x02, // type id: four-byte, ns 0, 673 (WriteRequest)
    0x04, 0x01, 0x00, // authentication token: GUID node id, ns 1
    0x02, 0x49, 0x89, 0xf8, 0x84, 0x6a, 0x01, 0x2a, // the GUID
    0x40, 0x54, 0x35, 0x33, 0xb2, 0x5b, 0x45, 0x24, //
    0x98, 0x8c, 0x3e, 0xf3, 0x75, 0xca, 0xd5, 0x01, // timestamp
    0x16, 0x00, 0x00, 0x00, // request handle 22
    0x00, 0x00, 0x00, 0x00, // return diagnostics
    0xff, 0xff, 0xff, 0xff, // audit entry id: null
    0x00, 0x00, 0x00, 0x00, // timeout hint
    0x00, 0x00, 0x00, // additional header: i=0, no body
    0x01, 0x00, 0x00, 0x00, // nodes to write: 1
    0x03, 0x01, 0x00, // node id: string, ns 1
    0x0a, 0x00, 0x00, 0x00, // 10 bytes:
    b't', b'h', b'e', b'.', b'a', b'n', b's', b'w', b'e', b'r', //
    0x0d, 0x00, 0x00, 0x00, // attribute 13: Value
    0xff, 0xff, 0xff, 0xff, // index range: null
    0x01, 0x06, 0x01, 0x00, 0x00, 0x00, // data value: has value, Int32 1
];

/// Its response (frame 91): ServiceResult Good, one result BadNodeIdUnknown.
const WRITE_RESPONSE: [u8; 64] = [
    b'M', b'S', b'G', b'F', // MSG, final
    0x40, 0x00, 0x00, 0x00, // size 64
    0x06, 0x00, 0x00, 0x00, // secure channel 6
    0x06, 0x00, 0x00, 0x00, // token 6
    0x0b, 0x00, 0x00, 0x00, // sequence number 11
    0x15, 0x00, 0x00, 0x00, // request id 21 (echoed)
    0x01, 0x00, 0xa4, 0x02, // type id 676 (WriteResponse)
    0xae, 0x28, 0x46, 0xf3, 0x75, 0xca, 0xd5, 0x01, // timestamp
    0x16, 0x00, 0x00, 0x00, // request handle 22
    0x00, 0x00, 0x00, 0x00, // ServiceResult Good
    0x00, // diagnostics: none
    0xff, 0xff, 0xff, 0xff, // string table: null
    0x00, 0x00, 0x00, // additional header
    0x01, 0x00, 0x00, 0x00, // results: 1
    0x00, 0x00, 0x34, 0x80, // BadNodeIdUnknown (per operation, not read)
    0xff, 0xff, 0xff, 0xff, // diagnostic infos: null
];

/// A ServiceFault answering request id 21: BadServiceUnsupported.
fn service_fault() -> Vec<u8> {
    let mut b = WRITE_RESPONSE[..52].to_vec();
    b[24..28].copy_from_slice(&[0x01, 0x00, 0x8d, 0x01]); // type id 397 (ServiceFault)
    b[40..44].copy_from_slice(&0x800b_0000u32.to_le_bytes()); // ServiceResult
    sized(b)
}

/// Writes the chunk's size into bytes 4..8.
fn sized(mut b: Vec<u8>) -> Vec<u8> {
    let n = b.len() as u32;
    b[4..8].copy_from_slice(&n.to_le_bytes());
    b
}

fn run(segments: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Vec<IdentityFact>, Session) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&Parser, dir, bytes, |c| {
            session.on_chunk(dir, i as i64, &c, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    (ops, facts, session)
}

#[test]
fn hello_and_open_are_logged_with_url_policy_and_mode() {
    let (req, resp) = (open_request(), open_response());
    let (ops, _, s) = run(&[
        (Direction::Orig, &HELLO_CHUNK),
        (Direction::Resp, &ACK_CHUNK),
        (Direction::Orig, &req),
        (Direction::Resp, &resp),
    ]);
    assert_eq!(s.unsolicited, 0);
    let got: Vec<_> = ops
        .iter()
        .map(|o| {
            (
                o.function.code,
                o.function.name,
                o.target.as_str(),
                o.status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (HELLO, "hello", "opc.tcp://localhost:4840", Status::Ok),
            (
                446,
                "open_secure_channel",
                "channel 0 policy None issue mode none",
                Status::Ok
            ),
        ]
    );
}

#[test]
fn a_write_names_its_node_and_pairs_by_request_id() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &open_request()),
        (Direction::Resp, &open_response()),
        (Direction::Orig, &WRITE_REQUEST),
        (Direction::Resp, &WRITE_RESPONSE),
    ]);
    let write = &ops[1];
    assert_eq!((write.function.code, write.function.name), (673, "write"));
    assert_eq!(write.function.category, Category::Write);
    assert_eq!(write.target, "channel 6 ns=1;s=the.answer");
    assert_eq!(
        write.status,
        Status::Ok,
        "per-operation results are not the status"
    );
    assert_eq!(write.ts, 2);
}

#[test]
fn a_service_fault_is_an_exception() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &WRITE_REQUEST),
        (Direction::Resp, &service_fault()),
    ]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0].status, Status::Exception(0x800b_0000));
}

#[test]
fn a_response_pairs_by_handle_when_the_request_id_differs() {
    let mut resp = WRITE_RESPONSE;
    resp[20] = 0x77; // another request id; the handle (22) still matches
    let (ops, _, s) = run(&[(Direction::Orig, &WRITE_REQUEST), (Direction::Resp, &resp)]);
    assert_eq!((ops[0].status, s.unsolicited), (Status::Ok, 0));
}

#[test]
fn an_error_fails_whatever_is_outstanding() {
    let mut err = b"ERRF\x10\0\0\0".to_vec(); // ERR, final, size 16
    err.extend_from_slice(&0x8007_0000u32.to_le_bytes()); // BadEncodingLimitsExceeded
    err.extend_from_slice(&[0xff; 4]); // reason: null
    let (ops, _, _) = run(&[(Direction::Orig, &HELLO_CHUNK), (Direction::Resp, &err)]);
    assert_eq!(ops[0].status, Status::Exception(0x8007_0000));
}

#[test]
fn encrypted_messages_are_counted_not_logged() {
    let mut req = open_request();
    // Same length policy name, another policy: the rest is taken as ciphertext.
    let at = 16 + 47 - 4;
    req[at..at + 4].copy_from_slice(b"Abcd");
    let mut msg = WRITE_REQUEST;
    msg[24..28].copy_from_slice(&[0x9a, 0x3f, 0x11, 0xe0]); // ciphertext where the type id was
    let (ops, _, s) = run(&[(Direction::Orig, &req), (Direction::Orig, &msg)]);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0].target, "channel 0 policy Abcd");
    assert_eq!(s.encrypted_chunks, 1);
    // A sign-only channel: the type id is readable, so the message is logged.
    let (ops, _, _) = run(&[(Direction::Orig, &req), (Direction::Orig, &WRITE_REQUEST)]);
    assert_eq!(ops.len(), 2);
}

#[test]
fn a_message_in_two_chunks_is_one_operation() {
    let mut first = WRITE_REQUEST[..80].to_vec();
    first[3] = b'C'; // intermediate chunk
    let first = sized(first);
    let mut second = WRITE_REQUEST[..24].to_vec(); // same headers, request id 21
    second.extend_from_slice(&WRITE_REQUEST[80..]);
    let second = sized(second);
    let (ops, _, s) = run(&[
        (Direction::Orig, &open_request()),
        (Direction::Resp, &open_response()),
        (Direction::Orig, &first),
        (Direction::Orig, &second),
        (Direction::Resp, &WRITE_RESPONSE),
    ]);
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1].function.name, "write");
    assert_eq!(s.continuation_chunks, 1);
}

#[test]
fn several_chunks_in_one_segment_and_one_across_segments() {
    let mut seg = HELLO_CHUNK.to_vec();
    seg.extend_from_slice(&WRITE_REQUEST);
    seg.extend_from_slice(&WRITE_REQUEST[..10]);
    let (ops, _, _) = run(&[
        (Direction::Orig, &seg),
        (Direction::Orig, &WRITE_REQUEST[10..50]),
        (Direction::Orig, &WRITE_REQUEST[50..]),
    ]);
    let names: Vec<_> = ops.iter().map(|o| o.function.name).collect();
    assert_eq!(names, ["hello", "write", "write"]);
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_chunk() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    buf.feed(&Parser, Direction::Orig, &WRITE_REQUEST, |c| {
        seen.push(c.kind)
    });
    buf.feed(&Parser, Direction::Orig, &WRITE_REQUEST[..30], |c| {
        seen.push(c.kind)
    });
    buf.gap(500);
    assert_eq!(buf.state(), StreamState::Resyncing);
    let mut next = WRITE_REQUEST[60..].to_vec(); // the tail of a lost chunk
    next.extend_from_slice(&HELLO_CHUNK);
    buf.feed(&Parser, Direction::Orig, &next, |c| seen.push(c.kind));
    assert_eq!(seen, [MessageType::Message, MessageType::Hello]);
    assert_eq!(buf.state(), StreamState::Recognised);
}

#[test]
fn other_protocols_are_refused() {
    for bytes in [
        &b"GET / HTTP/1.1\r\n"[..],
        b"MSGX\x10\0\0\0",
        b"HELF\x04\0\0\0",
    ] {
        assert_eq!(
            Parser.parse(Direction::Orig, bytes),
            Parsed::NotThisProtocol
        );
    }
    assert_eq!(
        Parser.parse(Direction::Orig, b"MS"),
        Parsed::Incomplete { needed: 8 }
    );
}

#[test]
fn node_ids_in_every_encoding() {
    let cases: [(&[u8], &str); 5] = [
        (&[0x00, 0x55], "i=85"),                                 // two-byte
        (&[0x01, 0x02, 0xd5, 0x08], "ns=2;i=2261"),              // four-byte
        (&[0x02, 0x00, 0x00, 0x28, 0x23, 0x00, 0x00], "i=9000"), // numeric
        (
            &[0x03, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, b'x'],
            "ns=1;s=x",
        ), // string
        (
            &[0x05, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0xab, 0xcd],
            "b=abcd",
        ), // opaque
    ];
    for (bytes, want) in cases {
        let node = Cursor(bytes).node_id().expect("node id");
        let mut s = String::new();
        node.write_to(&mut s);
        assert_eq!(s, want);
    }
    assert!(
        Cursor(&[0x03, 0x00, 0x00, 0x10, 0x00]).node_id().is_none(),
        "truncated"
    );
}

#[test]
fn service_ids_pair_requests_and_responses() {
    for (req, name, cat) in [
        (461, "create_session", Category::Other),
        (631, "read", Category::Read),
        (712, "call", Category::Control),
        (826, "publish", Category::Cyclic),
        (428, "get_endpoints", Category::Identify),
    ] {
        let f = describe(req);
        assert_eq!((f.name, f.category), (name, cat));
        assert!(is_request(req) && is_response(req + 3) && !is_response(req));
    }
    assert!(is_response(SERVICE_FAULT) && is_response(12209) && !is_response(12211));
}

proptest! {
    /// The parser keeps the contract on any bytes, with or without a valid header.
    #[test]
    fn parser_keeps_the_contract(head in 0usize..8, size in 0u32..200, bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut input = match head {
            0 => b"MSGF".to_vec(),
            1 => b"OPNF".to_vec(),
            2 => b"HELF".to_vec(),
            3 => b"ERRA".to_vec(),
            _ => Vec::new(),
        };
        if !input.is_empty() {
            input.extend_from_slice(&size.to_le_bytes());
        }
        input.extend_from_slice(&bytes);
        match Parser.parse(Direction::Orig, &input) {
            Parsed::Pdu { consumed, .. } => prop_assert!(consumed >= 8 && consumed <= input.len()),
            Parsed::Incomplete { needed } => prop_assert!(needed > input.len() && needed <= MAX_CHUNK),
            Parsed::NotThisProtocol => {}
        }
    }

    /// Any chunk bodies through a session: no panic, outstanding requests bounded.
    #[test]
    fn sessions_never_panic(chunks in proptest::collection::vec((0usize..7, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..120)), 0..30)) {
        let kinds = [MessageType::Hello, MessageType::Acknowledge, MessageType::Error, MessageType::ReverseHello, MessageType::Open, MessageType::Close, MessageType::Message];
        let mut s = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        for (i, (k, orig, body)) in chunks.iter().enumerate() {
            let dir = if *orig { Direction::Orig } else { Direction::Resp };
            let chunk = Chunk { kind: kinds[*k], chunk_type: b"FCA"[i % 3], body, flags: Flags::default() };
            s.on_chunk(dir, i as i64, &chunk, &mut ops, &mut facts);
            prop_assert!(s.outstanding.len() <= MAX_OUTSTANDING);
        }
        s.finish(&mut ops);
        prop_assert!(ops.len() <= chunks.len());
    }
}
