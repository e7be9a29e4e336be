//! Headers from `nttcom-cclinkief_cc_link_ief.pcap` (500 frames from
//! 00:11:11:11:11:11 to 00:00:00:00:00:01, 22 frame types, each payload its 14-byte
//! header and 48 zero bytes) and transient commands built on its transient headers.

use proptest::prelude::*;

use super::*;

const A: MacAddr = MacAddr([0x00, 0x11, 0x11, 0x11, 0x11, 0x11]);
const B: MacAddr = MacAddr([0x00, 0x00, 0x00, 0x00, 0x00, 0x01]);

/// The capture's frames: header, then zeros to 62 bytes.
fn frame(header: [u8; 14]) -> Vec<u8> {
    let mut f = header.to_vec();
    f.resize(62, 0);
    f
}

/// Persuasion (frame 0x10) from the master node.
const PERSUASION: [u8; 14] = [
    0x10, // frame type: persuasion
    0x01, // data type
    0x00, 0x00, 0x00, // persuasion priority
    0x30, // node type '0': master node
    0x00, 0x01, // source node number 1
    0x01, // protocol version type: Field
    0x00, // reserved
    0x00, 0x00, 0x00, 0x00, // HEC
];

/// Transient 1 (frame 0x22), data type 5 (common).
const TRANSIENT1_HDR: [u8; 14] = [
    0x22, // frame type: transient 1
    0x05, // data type: common
    0x00, 0x00, // node id 0
    0x13, // connection info
    0x01, // reserved
    0x00, 0x00, // source node number 0
    0x01, // Field
    0x00, // reserved
    0x00, 0x00, 0x00, 0x00, // HEC
];

/// Transient 2 (frame 0x25), data type 4.
const TRANSIENT2_HDR: [u8; 14] = [
    0x25, 0x04, // transient 2, data type 4
    0x00, 0x00, 0x13, 0x01, // node id 0, connection info 0x13, reserved
    0x00, 0x00, 0x01, 0x00, // source node 0, Field, reserved
    0x00, 0x00, 0x00, 0x00, // HEC
];

/// Cyclic data RY (frame 0x83).
const CYCLIC_RY: [u8; 14] = [
    0x83, 0x00, // cyclic RY, data type 0
    0x00, 0x00, 0x00, 0x00, // node id 0, reserved
    0x00, 0x00, // source node 0
    0x01,
    0x01, // Field, reserved (1 in every synchronisation and cyclic frame of the capture)
    0x00, 0x00, 0x00, 0x00, // HEC
];

/// Transient 2 with CT `ct` at byte 14 + 22.
fn transient2(ct: u8) -> Vec<u8> {
    let mut f = frame(TRANSIENT2_HDR);
    f[HEADER + 22] = ct;
    f
}

#[test]
fn the_capture_headers_parse() {
    let persuasion = frame(PERSUASION);
    let p = parse_frame(&persuasion).unwrap();
    assert_eq!(
        (
            p.frame_type,
            p.family,
            p.data_type,
            p.node_id,
            p.node_type,
            p.src_node
        ),
        (0x10, Family::Field, Some(1), None, Some(0x30), 1)
    );
    assert_eq!(p.flags, Flags::default());
    let transient = frame(TRANSIENT1_HDR);
    let t = parse_frame(&transient).unwrap();
    assert_eq!(
        (t.connection, t.node_id, t.command),
        (
            Some(0x13),
            Some(0),
            Some(Command {
                code: 0,
                response: false
            })
        )
    );
    let cyclic = frame(CYCLIC_RY);
    let c = parse_frame(&cyclic).unwrap();
    assert_eq!((c.node_id, c.connection), (Some(0), None));
    assert_eq!(describe_frame_type(c.frame_type).category, Category::Cyclic);
    // A Control-layout frame: connect (0x00).
    let connect = parse_frame(&[0x00, 0x02, 0, 0, 7, 0, 0x00, 0x05, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(
        (connect.family, connect.src_node, connect.data_type),
        (Family::Control, 5, None)
    );
    // The Field layout with protocol version type 0 is CC-Link IE Control.
    let mut control_token = frame(PERSUASION);
    control_token[8] = 0;
    assert_eq!(parse_frame(&control_token).unwrap().family, Family::Control);
}

#[test]
fn management_and_cyclic_frames_are_counted_per_minute() {
    let mut s = Session::default();
    let (mut ops, mut counts) = (Vec::new(), Vec::new());
    for i in 0..30 {
        s.on_frame(A, B, i, &frame(CYCLIC_RY), &mut ops, &mut counts);
        s.on_frame(A, B, i, &frame(PERSUASION), &mut ops, &mut counts);
    }
    s.on_frame(B, A, 40, &frame(CYCLIC_RY), &mut ops, &mut counts);
    s.finish(&mut ops, &mut counts);
    assert!(ops.is_empty());
    let got: Vec<_> = counts
        .iter()
        .map(|a| (a.key.orig, a.op.function.name, a.op.pdu, a.count))
        .collect();
    assert_eq!(
        got,
        [
            (A, "cyclic_ry", Some("field"), 30),
            (A, "persuasion", Some("field"), 30),
            (B, "cyclic_ry", Some("field"), 1),
        ]
    );
    assert_eq!(counts[1].op.target, "src_node 1 node_type 0x30");
    assert_eq!(s.frame_types[0x83], 31);
}

#[test]
fn a_transient_stop_is_a_control_operation_answered() {
    let mut s = Session::default();
    let (mut ops, mut counts) = (Vec::new(), Vec::new());
    s.on_frame(A, B, 0, &transient2(0x09), &mut ops, &mut counts); // stop
    s.on_frame(B, A, 1, &transient2(0x89), &mut ops, &mut counts); // its response
    s.on_frame(A, B, 2, &transient2(0x12), &mut ops, &mut counts); // write memory
    s.on_frame(B, A, 3, &transient2(0x90), &mut ops, &mut counts); // answers nothing
    s.finish(&mut ops, &mut counts);
    assert!(counts.is_empty());
    let got: Vec<_> = ops
        .iter()
        .map(|o| {
            (
                o.orig,
                o.op.function.code,
                o.op.function.name,
                o.op.function.category,
                o.op.status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (A, 0x25_04_09, "stop", Category::Control, Status::Ok),
            (
                A,
                0x25_04_12,
                "write_memory",
                Category::Write,
                Status::NoResponse
            ),
        ]
    );
    assert_eq!(ops[0].op.target, "src_node 0 node_id 0 connection 0x13");
    assert_eq!(s.unsolicited, 1);
}

#[test]
fn ie_field_transient_commands() {
    // Transient 1, data type 7 (IE Field): command 0x04 get detailed node information.
    let mut req = frame(TRANSIENT1_HDR);
    req[1] = 0x07;
    req[HEADER + 16] = 0x04; // command
    req[HEADER + 17] = 0x00; // subcommand: request
    let mut rsp = req.clone();
    rsp[HEADER + 17] = 0x80; // subcommand: response
    // Data type 8 (motion): object write.
    let mut write = req.clone();
    write[1] = 0x08;
    write[HEADER + 16] = 0x03;
    let mut s = Session::default();
    let (mut ops, mut counts) = (Vec::new(), Vec::new());
    s.on_frame(A, B, 0, &req, &mut ops, &mut counts);
    s.on_frame(B, A, 1, &rsp, &mut ops, &mut counts);
    s.on_frame(A, B, 2, &write, &mut ops, &mut counts);
    s.finish(&mut ops, &mut counts);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.op.function.name, o.op.function.category, o.op.status))
        .collect();
    assert_eq!(
        got,
        [
            (
                "get_detailed_node_information",
                Category::Identify,
                Status::Ok
            ),
            ("object_write", Category::Write, Status::NoResponse),
        ]
    );
}

#[test]
fn commandless_transients_are_counted_not_logged() {
    // The capture's transients carry CT 0, which names no command.
    let mut s = Session::default();
    let (mut ops, mut counts) = (Vec::new(), Vec::new());
    s.on_frame(A, B, 0, &frame(TRANSIENT1_HDR), &mut ops, &mut counts);
    s.on_frame(A, B, 0, &frame(TRANSIENT2_HDR), &mut ops, &mut counts);
    s.finish(&mut ops, &mut counts);
    assert!(ops.is_empty());
    assert_eq!(counts.len(), 2);
    assert!(
        counts
            .iter()
            .all(|a| a.op.function.name == "unknown_command")
    );
}

#[test]
fn short_and_unknown_frames_are_flagged() {
    let short = parse_frame(&[0x83, 0x00, 0x00]).unwrap();
    assert!(short.flags.has(Flags::BAD_LENGTH));
    let bytes = frame([0x7f; 14]);
    let unknown = parse_frame(&bytes).unwrap();
    assert!(unknown.flags.has(Flags::UNKNOWN_FUNCTION));
    assert!(parse_frame(&[]).is_none());
    let mut short_transient = frame(TRANSIENT2_HDR);
    short_transient.truncate(20);
    let f = parse_frame(&short_transient).unwrap();
    assert!(f.command.is_none() && f.flags.has(Flags::BAD_LENGTH));
}

proptest! {
    #[test]
    fn never_panics_and_keeps_bounds(
        frames in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..80)),
            0..200,
        ),
    ) {
        let mut s = Session::default();
        let (mut ops, mut counts) = (Vec::new(), Vec::new());
        for (i, (dir, bytes)) in frames.into_iter().enumerate() {
            let (src, dst) = if dir { (A, B) } else { (B, A) };
            s.on_frame(src, dst, i as i64, &bytes, &mut ops, &mut counts);
            prop_assert!(s.pending.len() <= MAX_OUTSTANDING);
            prop_assert!(s.counts.open() <= MAX_OPEN_RECORDS);
        }
        s.finish(&mut ops, &mut counts);
        prop_assert!(s.pending.is_empty());
    }
}
