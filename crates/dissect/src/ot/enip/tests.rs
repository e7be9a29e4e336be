use proptest::prelude::*;

use super::*;
use crate::stream::{StreamBuffer, StreamState};

/// CIP Stop to the Logix controller object over a connection
/// (`iti_cip_stop_plc.pcap` frame 1, the key alert case).
const STOP_REQUEST: [u8; 52] = [
    0x70, 0x00, // command 0x0070 SendUnitData
    0x1c, 0x00, // length 28
    0x01, 0x00, 0x2a, 0x00, // session handle 0x002a0001
    0x00, 0x00, 0x00, 0x00, // status 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
    0x00, 0x00, 0x00, 0x00, // options 0
    0x00, 0x00, 0x00, 0x00, // interface handle 0 (CIP)
    0x01, 0x00, // timeout 1
    0x02, 0x00, // item count 2
    0xa1, 0x00, 0x04, 0x00, // connected address item, length 4
    0x22, 0x40, 0x95, 0xff, // connection id 0xff954022
    0xb1, 0x00, 0x08, 0x00, // connected data item, length 8
    0x06, 0x01, // CIP sequence count 262
    0x07, // service 0x07 Stop (request)
    0x02, // path size 2 words
    0x20, 0x8e, // 8-bit class segment: class 0x8e
    0x24, 0x01, // 8-bit instance segment: instance 1
];

/// A reply to it (the capture has none; built from the specification): the same
/// sequence count, service 0x87, general status 0x10 (device state conflict).
const STOP_REPLY_CONFLICT: [u8; 50] = [
    0x70, 0x00, // SendUnitData
    0x1a, 0x00, // length 26
    0x01, 0x00, 0x2a, 0x00, // session handle
    0x00, 0x00, 0x00, 0x00, // status 0
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
    0x00, 0x00, 0x00, 0x00, // options
    0x00, 0x00, 0x00, 0x00, // interface handle
    0x00, 0x00, // timeout
    0x02, 0x00, // item count 2
    0xa1, 0x00, 0x04, 0x00, // connected address item
    0x01, 0x00, 0x00, 0x80, // connection id (T->O, not the request's)
    0xb1, 0x00, 0x06, 0x00, // connected data item, length 6
    0x06, 0x01, // sequence count 262 (echoed)
    0x87, // service 0x07 | response bit
    0x00, // reserved
    0x10, // general status 0x10
    0x00, // additional status size 0
];

/// ListIdentity request over UDP (`iti_enip_test.pcap` frame 6).
const LIST_IDENTITY_REQUEST: [u8; 24] = [
    0x63, 0x00, // command 0x0063 ListIdentity
    0x00, 0x00, // length 0
    0x00, 0x00, 0x00, 0x00, // session handle
    0x00, 0x00, 0x00, 0x00, // status
    0xc1, 0xde, 0xbe, 0xd1, 0x00, 0x00, 0x00, 0x00, // sender context
    0x00, 0x00, 0x00, 0x00, // options
];

/// Its reply from a 1756-ENBT/A (`iti_enip_test.pcap` frame 7).
const LIST_IDENTITY_REPLY: [u8; 75] = [
    0x63, 0x00, // ListIdentity
    0x33, 0x00, // length 51
    0x00, 0x00, 0x00, 0x00, // session
    0x00, 0x00, 0x00, 0x00, // status 0
    0xc1, 0xde, 0xbe, 0xd1, 0x00, 0x00, 0x00, 0x00, // sender context (echoed)
    0x00, 0x00, 0x00, 0x00, // options
    0x01, 0x00, // item count 1
    0x0c, 0x00, 0x2d, 0x00, // ListIdentity item, length 45
    0x01, 0x00, // encapsulation protocol version 1
    0x00, 0x02, 0xaf, 0x12, // sockaddr: family 2, port 44818 (big-endian)
    0x0a, 0x01, 0x01, 0xa4, // address 10.1.1.164
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sin_zero
    0x01, 0x00, // vendor 1 (Rockwell Automation/Allen-Bradley)
    0x0c, 0x00, // device type 12 (communications adapter)
    0x3a, 0x00, // product code 58
    0x04, 0x03, // revision 4.03
    0x30, 0x00, // status 0x0030
    0x8e, 0x4d, 0x52, 0x00, // serial 0x00524d8e
    0x0b, // product name length 11
    b'1', b'7', b'5', b'6', b'-', b'E', b'N', b'B', b'T', b'/', b'A', // product name
    0x03, // state 3
];

/// Unconnected_Send wrapping Get_Attributes_All of the Identity object
/// (`emreekin_ControlLogix_Logix5000_download_upload_run.pcap` frame 221).
const UNCONNECTED_SEND: [u8; 60] = [
    0x6f, 0x00, // command 0x006F SendRRData
    0x24, 0x00, // length 36
    0x00, 0x02, 0x02, 0x13, // session handle
    0x00, 0x00, 0x00, 0x00, // status
    0x0b, 0x00, 0x00, 0x00, 0x40, 0x51, 0xd2, 0x00, // sender context
    0x00, 0x00, 0x00, 0x00, // options
    0x00, 0x00, 0x00, 0x00, // interface handle
    0x20, 0x00, // timeout 32
    0x02, 0x00, // item count 2
    0x00, 0x00, 0x00, 0x00, // null address item
    0xb2, 0x00, 0x14, 0x00, // unconnected data item, length 20
    0x52, // service 0x52 (Unconnected_Send on class 6)
    0x02, // path 2 words
    0x20, 0x06, 0x24, 0x01, // class 6 (Connection Manager) instance 1
    0x07, 0xf9, // priority/tick, timeout ticks
    0x06, 0x00, // embedded message size 6
    0x01, 0x02, 0x20, 0x01, 0x24, 0x01, // Get_Attributes_All class 1 instance 1
    0x01, 0x00, // route path size 1 word, reserved
    0x01, 0x00, // port 1, link address 0 (backplane slot 0)
];

/// The target's reply: the embedded service's own reply, 0x81 (frame 222).
const UNCONNECTED_SEND_REPLY: [u8; 79] = [
    0x6f, 0x00, // SendRRData
    0x37, 0x00, // length 55
    0x00, 0x02, 0x02, 0x13, // session handle
    0x00, 0x00, 0x00, 0x00, // status 0
    0x0b, 0x00, 0x00, 0x00, 0x40, 0x51, 0xd2, 0x00, // sender context (echoed)
    0x00, 0x00, 0x00, 0x00, // options
    0x00, 0x00, 0x00, 0x00, // interface handle
    0x20, 0x00, // timeout
    0x02, 0x00, // item count 2
    0x00, 0x00, 0x00, 0x00, // null address item
    0xb2, 0x00, 0x27, 0x00, // unconnected data item, length 39
    0x81, 0x00, 0x00, 0x00, // Get_Attributes_All reply, general status 0, no additional
    0x01, 0x00, 0x0e, 0x00, 0x38, 0x00, // vendor 1, device type 14, product code 56
    0x0f, 0x04, // revision 15.04
    0x60, 0x31, // status
    0x8a, 0xcd, 0x14, 0x00, // serial 0x0014cd8a
    0x14, // name length 20
    b'1', b'7', b'5', b'6', b'-', b'L', b'6', b'3', b'/', b'A', b' ', b'L', b'6', b'x', b'_', b'1',
    b'5', b'_', b'3', b'1', // "1756-L63/A L6x_15_31"
];

/// Forward_Close (service 0x4E on class 6: not Read-Modify-Write)
/// (`emreekin_ControlLogix_Logix5000_download_upload_run.pcap` frame 140).
const FORWARD_CLOSE: [u8; 64] = [
    0x6f, 0x00, 0x28, 0x00, // SendRRData, length 40
    0x00, 0x01, 0x02, 0x12, // session handle
    0x00, 0x00, 0x00, 0x00, // status
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
    0x00, 0x00, 0x00, 0x00, // options
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // interface handle, timeout
    0x02, 0x00, // item count 2
    0x00, 0x00, 0x00, 0x00, // null address item
    0xb2, 0x00, 0x18, 0x00, // unconnected data item, length 24
    0x4e, 0x02, 0x20, 0x06, 0x24, 0x01, // Forward_Close, class 6 instance 1
    0x06, 0x9b, // priority/tick, timeout ticks
    0x4a, 0x05, // connection serial
    0x4d, 0x00, 0x45, 0x61, 0xfa, 0x11, // originator vendor id, serial
    0x03, 0x00, // connection path size 3 words, reserved
    0x01, 0x00, 0x20, 0x02, 0x24, 0x01, // port 1 slot 0, class 2 instance 1
];

/// Multiple_Service_Packet with eleven Get_Attribute_List requests
/// (`iti_cip-multiple-1.pcap` frame 1), shown by its parts.
fn multiple_service_packet() -> Vec<u8> {
    let mut b = vec![
        0x70, 0x00, 0xba, 0x00, // SendUnitData, length 186
        0x00, 0x01, 0x02, 0x11, // session handle
        0x00, 0x00, 0x00, 0x00, // status
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // sender context
        0x00, 0x00, 0x00, 0x00, // options
        0x00, 0x00, 0x00, 0x00, 0x01, 0x00, // interface handle, timeout 1
        0x02, 0x00, // item count 2
        0xa1, 0x00, 0x04, 0x00, 0x01, 0x0b, 0x7c, 0x00, // connected address
        0xb1, 0x00, 0xa6, 0x00, // connected data item, length 166
        0x89, 0x07, // sequence count 1929
        0x0a, 0x02, 0x20, 0x02, 0x24, 0x01, // Multiple_Service_Packet, class 2 instance 1
        0x0b, 0x00, // 11 services
    ];
    // Offsets of the services from the count, then the services.
    b.extend_from_slice(&hex(
        "18 00 22 00 2c 00 36 00 4c 00 58 00 64 00 72 00 7c 00 8a 00 94 00 \
         03 02 20 01 24 01 01 00 05 00 \
         03 02 20 69 24 00 01 00 0b 00 \
         03 02 20 73 24 01 01 00 02 00 \
         03 02 20 ac 24 01 07 00 01 00 02 00 03 00 05 00 07 00 09 00 0a 00 \
         03 03 20 68 25 00 20 24 01 00 13 00 \
         03 02 20 70 24 01 02 00 12 00 13 00 \
         03 02 20 8e 24 01 03 00 03 00 08 00 10 00 \
         03 02 20 69 24 00 01 00 09 00 \
         03 02 20 68 24 00 03 00 0f 00 18 00 19 00 \
         03 02 20 77 24 01 01 00 02 00 \
         03 02 20 8b 24 01 01 00 06 00",
    ));
    b
}

fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).expect("hex byte"))
        .collect()
}

fn parse(bytes: &[u8]) -> Parsed<Encap<'_>> {
    Parser.parse(Direction::Orig, bytes)
}

/// Feeds segments through a stream buffer and a session; returns operations and facts.
fn run(segments: &[(Direction, &[u8])]) -> (Vec<OtOperation>, Vec<IdentityFact>, [StreamState; 2]) {
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(dir, bytes)) in segments.iter().enumerate() {
        bufs[dir.index()].feed(&Parser, dir, bytes, |e| {
            session.on_encap(dir, i as i64, &e, &mut ops, &mut facts)
        });
    }
    session.finish(&mut ops);
    (ops, facts, [bufs[0].state(), bufs[1].state()])
}

fn summary(ops: &[OtOperation]) -> Vec<(&'static str, u32, &'static str, Status)> {
    ops.iter()
        .map(|o| (o.protocol, o.function.code, o.function.name, o.status))
        .collect()
}

#[test]
fn header_fields_are_read() {
    let Parsed::Pdu { pdu, consumed } = parse(&STOP_REQUEST) else {
        panic!()
    };
    assert_eq!(consumed, 52);
    assert_eq!(
        (pdu.command, pdu.session, pdu.status, pdu.data.len()),
        (0x70, 0x002a_0001, 0, 28)
    );
    assert_eq!(pdu.flags, Flags::default());
}

#[test]
fn cip_stop_is_a_control_operation() {
    let (ops, _, states) = run(&[(Direction::Orig, &STOP_REQUEST)]);
    assert_eq!(ops.len(), 2);
    assert_eq!((ops[0].protocol, ops[0].pdu), ("enip", Some("enip")));
    assert_eq!(ops[0].function.code, 0x70);
    assert_eq!(ops[1].protocol, "cip");
    assert_eq!(ops[1].pdu, Some("cip"));
    assert_eq!(ops[1].function.code, 7);
    assert_eq!(ops[1].function.name, "stop");
    assert_eq!(ops[1].function.category, Category::Control);
    assert_eq!(ops[1].target, "class 0x8e instance 1");
    assert_eq!(ops[1].status, Status::NoResponse);
    assert!(ops[1].flags.has(Flags::NO_RESPONSE));
    assert_eq!(states[0], StreamState::Recognised);
}

#[test]
fn a_connected_reply_is_matched_by_sequence_count() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &STOP_REQUEST),
        (Direction::Resp, &STOP_REPLY_CONFLICT),
    ]);
    assert_eq!(
        summary(&ops),
        [
            ("enip", 0x70, "send_unit_data", Status::Ok),
            ("cip", 7, "stop", Status::Exception(0x10)),
        ]
    );
    assert_eq!(ops[1].status.to_string(), "exception:16");
}

#[test]
fn connected_replies_out_of_order_find_their_requests() {
    let mut second = STOP_REQUEST;
    second[44] = 0x07; // sequence count 263
    let mut reply2 = STOP_REPLY_CONFLICT;
    reply2[44] = 0x07;
    reply2[48] = 0x00; // general status 0
    let (ops, _, _) = run(&[
        (Direction::Orig, &STOP_REQUEST),
        (Direction::Orig, &second),
        (Direction::Resp, &reply2),
        (Direction::Resp, &STOP_REPLY_CONFLICT),
    ]);
    let cip: Vec<_> = ops.iter().filter(|o| o.protocol == "cip").collect();
    assert_eq!(cip.len(), 2);
    // The second request (ts 1) succeeded, the first (ts 0) was refused.
    assert_eq!((cip[0].ts, cip[0].status), (1, Status::Ok));
    assert_eq!((cip[1].ts, cip[1].status), (0, Status::Exception(0x10)));
}

#[test]
fn list_identity_reply_tells_who_the_device_is() {
    let (ops, facts, _) = run(&[
        (Direction::Orig, &LIST_IDENTITY_REQUEST),
        (Direction::Resp, &LIST_IDENTITY_REPLY),
    ]);
    assert_eq!(summary(&ops), [("enip", 0x63, "list_identity", Status::Ok)]);
    assert_eq!(ops[0].function.category, Category::Identify);
    let got: Vec<_> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Vendor, "Rockwell Automation/Allen-Bradley"),
            (
                IdentityKind::Model,
                "device type 12 (communications adapter) product code 58"
            ),
            (IdentityKind::Firmware, "4.03"),
            (IdentityKind::Serial, "0x00524d8e"),
            (IdentityKind::Product, "1756-ENBT/A"),
        ]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Side(Direction::Resp) && f.protocol == "enip")
    );
}

#[test]
fn an_unknown_vendor_keeps_its_number() {
    let mut reply = LIST_IDENTITY_REPLY;
    reply[48] = 0x39; // vendor 0x3039 = 12345
    reply[49] = 0x30;
    let mut facts = Vec::new();
    list_identity(&reply[24..], Direction::Resp, &mut facts);
    assert_eq!(facts[0].value, "vendor 12345");
}

#[test]
fn unconnected_send_is_opened() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &UNCONNECTED_SEND),
        (Direction::Resp, &UNCONNECTED_SEND_REPLY),
    ]);
    assert_eq!(
        summary(&ops),
        [
            ("enip", 0x6f, "send_rr_data", Status::Ok),
            ("cip", 0x52, "unconnected_send", Status::Ok),
            ("cip", 0x01, "get_attributes_all", Status::Ok),
        ]
    );
    assert_eq!(ops[1].target, "class 0x06 instance 1");
    assert_eq!(ops[2].target, "class 0x01 instance 1");
    assert_eq!(ops[2].function.category, Category::Identify);
}

#[test]
fn a_router_error_answers_the_embedded_request_too() {
    let mut reply = UNCONNECTED_SEND_REPLY[..44].to_vec();
    reply[2] = 20; // length 20
    reply[38] = 4; // item length 4
    reply[40] = 0xd2; // Unconnected_Send reply
    reply[42] = 0x01; // general status 1: connection failure
    let (ops, _, _) = run(&[
        (Direction::Orig, &UNCONNECTED_SEND),
        (Direction::Resp, &reply),
    ]);
    assert_eq!(ops[1].status, Status::Exception(1));
    assert_eq!(ops[2].status, Status::Exception(1));
}

#[test]
fn forward_close_on_the_connection_manager() {
    let (ops, _, _) = run(&[(Direction::Orig, &FORWARD_CLOSE)]);
    assert_eq!(ops[1].function.code, 0x4e);
    assert_eq!(ops[1].function.name, "forward_close");
    assert_eq!(ops[1].function.category, Category::Other);
    assert!(!ops[1].flags.has(Flags::UNKNOWN_FUNCTION));
}

#[test]
fn multiple_service_packet_is_opened() {
    let msp = multiple_service_packet();
    assert_eq!(msp.len(), 24 + 0xba);
    let (ops, _, _) = run(&[(Direction::Orig, &msp)]);
    assert_eq!(ops.len(), 13);
    assert_eq!(ops[1].function.name, "multiple_service_packet");
    assert_eq!(ops[1].target, "class 0x02 instance 1");
    assert!(ops[2..].iter().all(|o| o.function.code == 3));
    assert_eq!(ops[2].target, "class 0x01 instance 1");
    assert_eq!(ops[6].target, "class 0x68 instance 9248");
    assert!(ops.iter().all(|o| !o.flags.has(Flags::BAD_LENGTH)));
}

#[test]
fn multiple_service_replies_answer_each_request() {
    // Two Read Tag requests (symbolic paths) in one packet, built from the spec.
    let data = hex("0a 02 20 02 24 01 \
         02 00 06 00 12 00 \
         4c 04 91 05 53 70 65 65 64 00 01 00 \
         4c 03 91 03 52 75 6e 00 01 00");
    let reply = hex("8a 00 00 00 \
         02 00 06 00 0e 00 \
         cc 00 00 00 c3 00 2a 00 \
         cc 00 04 01 05 00");
    let (ops, _, _) = run(&[
        (Direction::Orig, &unconnected(&data, [1; 8])),
        (Direction::Resp, &unconnected(&reply, [1; 8])),
    ]);
    assert_eq!(
        summary(&ops)[1..],
        [
            ("cip", 0x0a, "multiple_service_packet", Status::Ok),
            ("cip", 0x4c, "read_tag", Status::Ok),
            ("cip", 0x4c, "read_tag", Status::Exception(4)),
        ]
    );
    assert_eq!(ops[2].target, "Speed");
    assert_eq!(ops[3].target, "Run");
}

/// A SendRRData with `cip` in an unconnected data item.
fn unconnected(cip: &[u8], context: [u8; 8]) -> Vec<u8> {
    let len = 16 + cip.len() as u16;
    let mut b = vec![0x6f, 0x00];
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]); // session, status
    b.extend_from_slice(&context);
    b.extend_from_slice(&[0; 4]); // options
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0x00]);
    b.extend_from_slice(&(cip.len() as u16).to_le_bytes());
    b.extend_from_slice(cip);
    b
}

#[test]
fn symbolic_paths_name_the_tag() {
    // "Program:Main" . "Tag" [3]: ANSI extended symbol segments (0x91, length, name,
    // pad to even) and an 8-bit member (element) segment.
    let mut path = vec![0x91, 12];
    path.extend_from_slice(b"Program:Main");
    path.extend_from_slice(&[0x91, 3]);
    path.extend_from_slice(b"Tag\0");
    path.extend_from_slice(&[0x28, 3]);
    let p = CipPath::parse(&path);
    assert!(!p.unparsed);
    assert_eq!(p.target(), "Program:Main.Tag[3]");
    // 16-bit class and instance, 8-bit attribute.
    let p = CipPath::parse(&[0x21, 0x00, 0x34, 0x03, 0x25, 0x00, 0x01, 0x01, 0x30, 0x07]);
    assert_eq!(p.target(), "class 0x334 instance 257 attribute 7");
    // A segment cut short.
    assert!(CipPath::parse(&[0x21, 0x00, 0x34]).unparsed);
}

#[test]
fn logix_services_depend_on_the_class() {
    let read = describe_service(0x52, Some(0x6b)).0;
    assert_eq!(
        (read.name, read.category),
        ("read_tag_fragmented", Category::Read)
    );
    // 0x4E on a tag is Read-Modify-Write; on class 0xB2 (what FactoryTalk sends in
    // emreekin_ControlLogix_FactoryTalk_HMI.pcap) it is not public, so not a write.
    let b2 = describe_service(0x4e, Some(0xb2));
    assert_eq!(
        (b2.0.name, b2.0.category, b2.1),
        ("class_specific", Category::Other, true)
    );
    let rmw = describe_service(0x4e, None).0;
    assert_eq!(rmw.category, Category::Write);
    assert_eq!(
        describe_service(0x05, Some(1)).0.category,
        Category::Control
    );
    assert!(
        !describe_service(0x30, None).1,
        "0x30 is not a defined service"
    );
}

#[test]
fn several_packets_in_one_segment() {
    let mut seg = STOP_REQUEST.to_vec();
    seg.extend_from_slice(&FORWARD_CLOSE);
    seg.extend_from_slice(&LIST_IDENTITY_REQUEST);
    let (ops, _, _) = run(&[(Direction::Orig, &seg)]);
    let codes: Vec<_> = ops.iter().map(|o| (o.protocol, o.function.code)).collect();
    // Unanswered: the flow's end reports them in the order they were sent.
    assert_eq!(
        codes,
        [
            ("enip", 0x70),
            ("cip", 7),
            ("enip", 0x6f),
            ("cip", 0x4e),
            ("enip", 0x63)
        ]
    );
}

#[test]
fn one_packet_across_segments() {
    let (ops, _, _) = run(&[
        (Direction::Orig, &STOP_REQUEST[..3]),
        (Direction::Orig, &STOP_REQUEST[3..30]),
        (Direction::Orig, &STOP_REQUEST[30..]),
        (Direction::Resp, &STOP_REPLY_CONFLICT[..20]),
        (Direction::Resp, &STOP_REPLY_CONFLICT[20..]),
    ]);
    assert_eq!(ops.len(), 2);
    assert_eq!(ops[1].status, Status::Exception(0x10));
}

#[test]
fn a_gap_mid_stream_resynchronises_on_the_next_packet() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    buf.feed(&Parser, Direction::Orig, &STOP_REQUEST, |e| {
        seen.push(e.command)
    });
    // Half a packet, then the capture lost bytes.
    buf.feed(&Parser, Direction::Orig, &UNCONNECTED_SEND[..30], |e| {
        seen.push(e.command)
    });
    buf.gap(100);
    assert_eq!(buf.state(), StreamState::Resyncing);
    // The tail of a lost packet, then a whole one.
    let mut next = FORWARD_CLOSE[40..].to_vec();
    next.extend_from_slice(&LIST_IDENTITY_REQUEST);
    buf.feed(&Parser, Direction::Orig, &next, |e| seen.push(e.command));
    assert_eq!(seen, [0x70, 0x63]);
    assert_eq!(buf.state(), StreamState::Recognised);
    assert!(buf.stats().skipped >= 24);
}

#[test]
fn http_on_port_44818_is_not_enip() {
    let (ops, _, states) = run(&[(Direction::Orig, b"GET / HTTP/1.1\r\nHost: plc\r\n\r\n")]);
    assert!(ops.is_empty());
    assert_eq!(states[0], StreamState::NotThisProtocol);
}

#[test]
fn nonzero_options_or_unknown_commands_are_not_enip() {
    let mut bad = LIST_IDENTITY_REQUEST;
    bad[20] = 1; // options
    assert_eq!(parse(&bad), Parsed::NotThisProtocol);
    let mut bad = LIST_IDENTITY_REQUEST;
    bad[0] = 0x62; // no command 0x0062
    assert_eq!(parse(&bad), Parsed::NotThisProtocol);
    assert_eq!(
        parse(&STOP_REQUEST[..10]),
        Parsed::Incomplete { needed: 24 }
    );
    assert_eq!(
        parse(&STOP_REQUEST[..30]),
        Parsed::Incomplete { needed: 52 }
    );
}

#[test]
fn datagrams_are_classified() {
    match parse_datagram(&LIST_IDENTITY_REPLY) {
        Datagram::Encapsulation(e) => assert_eq!(e.command, 0x63),
        other => panic!("{other:?}"),
    }
    // Class 1 implicit I/O on 2222/UDP, built from the spec: sequenced address item
    // (connection id, encapsulation sequence number) and connected data.
    let io = hex("02 00 \
         02 80 08 00 22 40 95 ff 2a 00 00 00 \
         b1 00 06 00 2a 00 01 00 00 00");
    assert_eq!(
        parse_datagram(&io),
        Datagram::ImplicitIo {
            connection: 0xff95_4022,
            sequence: 42,
            data: &[0x2a, 0x00, 0x01, 0x00, 0x00, 0x00],
        }
    );
    // One byte short: the items no longer fill the datagram.
    assert_eq!(
        parse_datagram(&io[..io.len() - 1]),
        Datagram::NotThisProtocol
    );
    assert_eq!(
        parse_datagram(b"M-SEARCH * HTTP/1.1\r\n"),
        Datagram::NotThisProtocol
    );
    // An encapsulation packet with trailing bytes is not one datagram's worth.
    let mut long = LIST_IDENTITY_REQUEST.to_vec();
    long.push(0);
    assert_eq!(parse_datagram(&long), Datagram::NotThisProtocol);
}

fn check_contract(input: &[u8]) {
    for dir in [Direction::Orig, Direction::Resp] {
        match Parser.parse(dir, input) {
            Parsed::Pdu { consumed, .. } => assert!((1..=input.len()).contains(&consumed)),
            Parsed::Incomplete { needed } => assert!(needed > input.len()),
            Parsed::NotThisProtocol => {}
        }
    }
}

proptest! {
    #[test]
    fn the_parser_keeps_the_contract(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_contract(&input);
        let _ = parse_datagram(&input);
    }

    #[test]
    fn any_body_after_a_valid_header_is_survived(
        command in prop::sample::select(vec![0x0063u16, 0x006f, 0x0070, 0x0004]),
        body in proptest::collection::vec(any::<u8>(), 0..300),
        cut in 0usize..400,
    ) {
        let mut pdu = Vec::new();
        pdu.extend_from_slice(&command.to_le_bytes());
        pdu.extend_from_slice(&(body.len() as u16).to_le_bytes());
        pdu.extend_from_slice(&[0; 20]);
        pdu.extend_from_slice(&body);
        check_contract(&pdu);
        check_contract(&pdu[..cut.min(pdu.len())]);
        // Both directions through the session, then whatever it took cut anywhere.
        let (ops, _, _) = run(&[(Direction::Orig, &pdu), (Direction::Resp, &pdu)]);
        prop_assert!(!ops.is_empty());
        let split = cut.min(pdu.len());
        let _ = run(&[(Direction::Orig, &pdu[..split]), (Direction::Orig, &pdu[split..])]);
    }

    #[test]
    fn real_packets_cut_anywhere_keep_the_contract(cut in 0usize..80) {
        for p in [&STOP_REQUEST[..], &LIST_IDENTITY_REPLY, &UNCONNECTED_SEND_REPLY, &FORWARD_CLOSE] {
            check_contract(&p[..cut.min(p.len())]);
        }
    }
}

#[test]
fn identity_get_attributes_all_describes_the_replier_unless_routed() {
    // Routed through Unconnected_Send to slot 0: the reply is about the module there,
    // not the device at the address, so no facts.
    let (_, facts, _) = run(&[
        (Direction::Orig, &UNCONNECTED_SEND),
        (Direction::Resp, &UNCONNECTED_SEND_REPLY),
    ]);
    assert!(facts.is_empty());
    // The same request sent to the device itself, and the same reply.
    let request = hex("01 02 20 01 24 01"); // Get_Attributes_All, class 1 instance 1
    let (ops, facts, _) = run(&[
        (Direction::Orig, &unconnected(&request, [2; 8])),
        (
            Direction::Resp,
            &unconnected(&UNCONNECTED_SEND_REPLY[40..], [2; 8]),
        ),
    ]);
    assert_eq!(ops[1].status, Status::Ok);
    let got: Vec<_> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Vendor, "Rockwell Automation/Allen-Bradley"),
            (
                IdentityKind::Model,
                "device type 14 (programmable logic controller) product code 56"
            ),
            (IdentityKind::Firmware, "15.04"),
            (IdentityKind::Serial, "0x0014cd8a"),
            (IdentityKind::Product, "1756-L63/A L6x_15_31"),
        ]
    );
}

#[test]
fn unregister_session_has_no_reply_and_a_stray_reply_is_counted() {
    let mut unregister = LIST_IDENTITY_REQUEST;
    unregister[0] = 0x66; // UnRegisterSession: no reply defined
    let mut bufs = [StreamBuffer::new(), StreamBuffer::new()];
    let mut session = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (dir, bytes) in [
        (Direction::Orig, &unregister[..]),
        (Direction::Resp, &STOP_REPLY_CONFLICT[..]),
    ] {
        bufs[dir.index()].feed(&Parser, dir, bytes, |e| {
            session.on_encap(dir, 0, &e, &mut ops, &mut facts)
        });
    }
    assert_eq!(
        summary(&ops),
        [("enip", 0x66, "unregister_session", Status::Ok)]
    );
    assert_eq!(session.unsolicited, 1);
}

#[test]
fn zeros_after_a_gap_are_not_packets() {
    let mut buf = StreamBuffer::new();
    let mut seen = Vec::new();
    buf.feed(&Parser, Direction::Orig, &STOP_REQUEST, |e| {
        seen.push(e.command)
    });
    buf.gap(10);
    let mut next = vec![0; 100];
    next.extend_from_slice(&FORWARD_CLOSE);
    buf.feed(&Parser, Direction::Orig, &next, |e| seen.push(e.command));
    assert_eq!(seen, [0x70, 0x6f]);
}

#[test]
fn a_short_send_rr_data_is_flagged() {
    let Parsed::Pdu { pdu, .. } = parse(&[
        0x6f, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]) else {
        panic!()
    };
    assert!(pdu.flags.has(Flags::BAD_LENGTH));
    let (ops, _, _) = run(&[(
        Direction::Orig,
        &[
            0x6f, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ],
    )]);
    assert_eq!(ops.len(), 1, "no CIP request in it");
    assert!(ops[0].flags.has(Flags::BAD_LENGTH));
}

/// Forward_Open (`emreekin_ControlLogix_Logix5000_download_upload_run.pcap` frame 142).
fn forward_open() -> Vec<u8> {
    hex(
        "6f 00 40 00 00 01 02 12 00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00 \
         00 00 00 00 00 00 02 00 00 00 00 00 b2 00 30 00 \
         54 02 20 06 24 01 06 9b \
         00 00 00 00 49 05 00 80 49 05 4d 00 45 61 fa 11 \
         02 00 00 00 80 84 1e 00 f8 43 80 84 1e 00 f8 43 a3 03 01 00 20 02 24 01",
    )
}

/// Its reply (frame 149): O->T id 0x01510904, T->O id 0x80000549.
fn forward_open_reply() -> Vec<u8> {
    hex(
        "6f 00 2e 00 00 01 02 12 00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00 \
         00 00 00 00 00 00 02 00 00 00 00 00 b2 00 1e 00 \
         d4 00 00 00 \
         04 09 51 01 49 05 00 80 49 05 4d 00 45 61 fa 11 80 84 1e 00 80 84 1e 00 00 00",
    )
}

#[test]
fn forward_open_pairs_the_connection_ids_for_matching() {
    let with = |conn: [u8; 4], seq: u8, mut pdu: Vec<u8>| {
        pdu[36..40].copy_from_slice(&conn);
        pdu[44] = seq;
        pdu
    };
    let (fo, fo_reply) = (forward_open(), forward_open_reply());
    // Another connection (unknown ids) and the opened one, both at sequence count 5.
    let other = with([9, 9, 9, 9], 5, STOP_REQUEST.to_vec());
    let opened = with([0x04, 0x09, 0x51, 0x01], 5, STOP_REQUEST.to_vec());
    let reply = with([0x49, 0x05, 0x00, 0x80], 5, STOP_REPLY_CONFLICT.to_vec());
    let (ops, _, _) = run(&[
        (Direction::Orig, &fo),
        (Direction::Resp, &fo_reply),
        (Direction::Orig, &other),
        (Direction::Orig, &opened),
        (Direction::Resp, &reply),
    ]);
    assert_eq!(
        summary(&ops[..2]),
        [
            ("enip", 0x6f, "send_rr_data", Status::Ok),
            ("cip", 0x54, "forward_open", Status::Ok),
        ]
    );
    // The reply answers the opened connection's request (ts 3), not the older one.
    let stops: Vec<_> = ops.iter().filter(|o| o.function.code == 7).collect();
    assert_eq!((stops[0].ts, stops[0].status), (3, Status::Exception(0x10)));
    assert_eq!((stops[1].ts, stops[1].status), (2, Status::NoResponse));
}
