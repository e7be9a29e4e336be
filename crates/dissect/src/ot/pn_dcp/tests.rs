//! Frames from `iti_ChangeIPUsingDCP.pcap` (an engineering station identifies a
//! Siemens device, then sets its IP address) and `iti_PROFINET-RT.pcap`.

use proptest::prelude::*;

use super::*;

const STATION: MacAddr = MacAddr([0x00, 0x0c, 0x29, 0xba, 0x09, 0xea]);
const DEVICE: MacAddr = MacAddr([0x08, 0x00, 0x06, 0x93, 0xcf, 0x32]);
const MULTICAST: MacAddr = MacAddr([0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00]);

/// Frame 1: identify request, all selector (then Ethernet padding).
const IDENTIFY: [u8; 20] = [
    0xfe, 0xfe, // FrameID: identify request
    0x05, 0x00, // ServiceID identify, ServiceType request
    0x01, 0x00, 0x00, 0x01, // Xid 0x01000001
    0x00, 0x01, // ResponseDelay 1
    0x00, 0x04, // DCPDataLength 4
    0xff, 0xff, 0x00, 0x00, // block: all selector, length 0
    0x00, 0x00, 0x00, 0x00, // padding
];

/// Frame 2: the device's identify response.
const IDENTIFY_RSP: [u8; 106] = [
    0xfe, 0xff, // FrameID: identify response
    0x05, 0x01, // identify, response success
    0x01, 0x00, 0x00, 0x01, // Xid
    0x00, 0x00, // reserved
    0x00, 0x5e, // DCPDataLength 94
    0x02, 0x05, 0x00, 0x1c, // device options, length 28
    0x00, 0x00, // BlockInfo
    0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x02, 0x03, 0x02, 0x04, 0x02, 0x05, 0x03, 0x3d,
    0x05, 0x01, 0x05, 0x02, 0x05, 0x03, 0x05, 0x04, 0xff, 0xff, // 13 options
    0x02, 0x01, 0x00, 0x05, // type of station, length 5
    0x00, 0x00, b'I', b'N', b'C', 0x00, // BlockInfo, "INC", pad
    0x02, 0x02, 0x00, 0x0b, // name of station, length 11
    0x00, 0x00, b'X', b'2', b'0', b'8', b'-', b'B', b'O', b'R', b'D',
    0x00, // "X208-BORD", pad
    0x02, 0x03, 0x00, 0x06, // device id, length 6
    0x00, 0x00, 0x00, 0x2a, 0x0a, 0x01, // BlockInfo, vendor 0x002a, device 0x0a01
    0x02, 0x04, 0x00, 0x04, // device role, length 4
    0x00, 0x00, 0x01, 0x00, // BlockInfo, role io-device, reserved
    0x01, 0x02, 0x00, 0x0e, // IP parameter, length 14
    0x00, 0x01, // BlockInfo: IP set
    0xc0, 0xa8, 0x00, 0x06, // 192.168.0.6
    0xff, 0xff, 0xff, 0x00, // 255.255.255.0
    0xc0, 0xa8, 0x00, 0x01, // gateway 192.168.0.1
];

/// Frame 3: set IP parameter, permanent.
const SET_IP: [u8; 30] = [
    0xfe, 0xfd, // FrameID: get/set
    0x04, 0x00, // set, request
    0x01, 0x00, 0x00, 0x01, // Xid
    0x00, 0x00, // reserved
    0x00, 0x12, // DCPDataLength 18
    0x01, 0x02, 0x00, 0x0e, // IP parameter, length 14
    0x00, 0x01, // BlockQualifier: save permanently
    0xc0, 0xa8, 0x00, 0x0a, // 192.168.0.10
    0xff, 0xff, 0xff, 0x00, // 255.255.255.0
    0xc0, 0xa8, 0x00, 0x01, // 192.168.0.1
];

/// Frame 4: set response, Control/Response block for IP parameter, BlockError 0.
const SET_RSP: [u8; 21] = [
    0xfe, 0xfd, // FrameID: get/set
    0x04, 0x01, // set, response success
    0x01, 0x00, 0x00, 0x01, // Xid
    0x00, 0x00, // reserved
    0x00, 0x08, // DCPDataLength 8
    0x05, 0x04, 0x00, 0x03, // control/response, length 3
    0x01, 0x02, 0x00, // for IP/IP parameter: BlockError ok
    0x00, // pad
    0x00, // Ethernet padding
];

/// `iti_PROFINET-RT.pcap` frame 3: a device looks for its own name before using it.
const IDENTIFY_BY_NAME: [u8; 22] = [
    0xfe, 0xfe, 0x05, 0x00, // identify request
    0x03, 0x00, 0x1c, 0x02, // Xid 0x03001c02
    0x00, 0x01, 0x00, 0x0a, // ResponseDelay 1, DCPDataLength 10
    0x02, 0x02, 0x00, 0x05, // filter: name of station, length 5
    b'p', b'n', b'-', b'i', b'o', 0x00, // "pn-io", pad
];

fn run(frames: &[(MacAddr, MacAddr, &[u8])]) -> (Vec<L2Operation>, Vec<IdentityFact>, Session) {
    let mut s = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    for (i, &(src, dst, bytes)) in frames.iter().enumerate() {
        s.on_frame(src, dst, i as i64 * 1_000_000, bytes, &mut ops, &mut facts);
    }
    s.finish(&mut ops);
    (ops, facts, s)
}

#[test]
fn header_and_blocks_parse() {
    let f = parse_frame(&IDENTIFY_RSP).unwrap();
    assert_eq!(
        (
            f.frame_id,
            f.service_id,
            f.service_type,
            f.xid,
            f.data_length
        ),
        (0xfeff, 5, 1, 0x0100_0001, 94)
    );
    assert_eq!(f.flags, Flags::default());
    let names: Vec<_> = f
        .blocks()
        .map(|b| block_name(b.option, b.suboption))
        .collect();
    assert_eq!(
        names,
        [
            "device_options",
            "type_of_station",
            "name_of_station",
            "device_id",
            "device_role",
            "ip"
        ]
    );
    assert_eq!(f.name_of_station().as_deref(), Some("X208-BORD"));
    assert_eq!(
        f.ip_parameter(),
        Some([
            Ipv4Addr::new(192, 168, 0, 6),
            Ipv4Addr::new(255, 255, 255, 0),
            Ipv4Addr::new(192, 168, 0, 1)
        ])
    );
    // Ethernet padding after DCPDataLength is not a block.
    assert_eq!(parse_frame(&IDENTIFY).unwrap().blocks().count(), 1);
}

#[test]
fn the_change_ip_capture_gives_identify_and_set_ip() {
    let (ops, facts, s) = run(&[
        (STATION, DEVICE, &IDENTIFY),
        (DEVICE, STATION, &IDENTIFY_RSP),
        (STATION, DEVICE, &SET_IP),
        (DEVICE, STATION, &SET_RSP),
    ]);
    assert_eq!((s.responses, s.unsolicited), (2, 0));
    // The set is reported at its response; the identify when the capture ends.
    assert_eq!(ops.len(), 2);
    let set = &ops[0];
    assert_eq!((set.orig, set.resp), (STATION, DEVICE));
    assert_eq!(
        (
            set.op.function.code,
            set.op.function.name,
            set.op.function.category
        ),
        (4, "set_ip", Category::Write)
    );
    assert_eq!(
        set.op.target,
        "ip 192.168.0.10/255.255.255.0 gw 192.168.0.1 permanent"
    );
    assert_eq!(set.op.status, Status::Ok);
    let identify = &ops[1];
    assert_eq!(
        (identify.op.function.name, identify.op.function.category),
        ("identify", Category::Identify)
    );
    assert_eq!(
        (identify.op.target.as_str(), identify.op.status),
        ("all", Status::Ok)
    );
    let got: Vec<_> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Vendor, "INC"),
            (IdentityKind::Hostname, "X208-BORD"),
            (IdentityKind::DeviceId, "vendor 0x002a device 0x0a01"),
            (IdentityKind::DeviceType, "io-device"),
            (IdentityKind::ManagementAddress, "192.168.0.6"),
        ]
    );
    assert!(facts.iter().all(|f| f.about == Subject::Mac(DEVICE)));
}

#[test]
fn a_block_error_is_an_exception() {
    let mut rsp = SET_RSP;
    rsp[18] = 5; // BlockError: set not possible by local reasons
    let (ops, _, _) = run(&[(STATION, DEVICE, &SET_IP), (DEVICE, STATION, &rsp)]);
    assert_eq!(ops[0].op.status, Status::Exception(5));
    let mut unsupported = SET_RSP;
    unsupported[3] = 5; // ServiceType: request not supported
    let (ops, _, _) = run(&[(STATION, DEVICE, &SET_IP), (DEVICE, STATION, &unsupported)]);
    assert_eq!(ops[0].op.status, Status::Exception(NOT_SUPPORTED));
}

#[test]
fn responses_match_client_server_and_xid() {
    let mut other_xid = SET_RSP;
    other_xid[7] = 2;
    let third = MacAddr([2, 0, 0, 0, 0, 3]);
    let (ops, _, s) = run(&[
        (STATION, DEVICE, &SET_IP),
        (DEVICE, STATION, &other_xid),
        (third, STATION, &SET_RSP),
    ]);
    assert_eq!(s.unsolicited, 2);
    assert_eq!(ops[0].op.status, Status::NoResponse);
    assert!(ops[0].op.flags.has(Flags::NO_RESPONSE));
}

#[test]
fn a_multicast_identify_is_answered_by_any_device() {
    let mut req = IDENTIFY;
    req[2..4].copy_from_slice(&[5, 0]);
    let (ops, facts, s) = run(&[(STATION, MULTICAST, &req), (DEVICE, STATION, &IDENTIFY_RSP)]);
    assert_eq!((ops.len(), s.responses), (1, 1));
    assert_eq!((ops[0].resp, ops[0].op.status), (MULTICAST, Status::Ok));
    assert_eq!(facts.len(), 5);
}

#[test]
fn an_identify_by_name_without_answer_is_no_response() {
    let dev = MacAddr([0x00, 0x1b, 0x1b, 0x35, 0x84, 0x10]);
    let (ops, facts, _) = run(&[(dev, MULTICAST, &IDENTIFY_BY_NAME)]);
    assert_eq!(ops[0].op.target, "name_of_station pn-io");
    assert_eq!(ops[0].op.status, Status::NoResponse);
    // A filter names what is looked for, not who asks.
    assert!(facts.is_empty());
}

#[test]
fn requests_expire_after_the_window() {
    let mut s = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    s.on_frame(STATION, DEVICE, 0, &SET_IP, &mut ops, &mut facts);
    s.tick(WINDOW_NS, &mut ops);
    assert!(ops.is_empty());
    s.tick(WINDOW_NS + 1, &mut ops);
    assert_eq!(ops.len(), 1);
    assert!(ops[0].op.flags.has(Flags::NO_RESPONSE));
    // A late response answers nothing.
    s.on_frame(
        DEVICE,
        STATION,
        WINDOW_NS + 2,
        &SET_RSP,
        &mut ops,
        &mut facts,
    );
    assert_eq!(s.unsolicited, 1);
}

#[test]
fn set_requests_are_named_by_what_they_do() {
    // set name of station "plc-2" temporarily, inside a transaction.
    let name = [
        0xfe, 0xfd, 0x04, 0x00, 0, 0, 0, 9, 0, 0, // set request, Xid 9
        0x00, 0x18, // DCPDataLength 24
        0x05, 0x01, 0x00, 0x02, 0x00, 0x00, // start transaction, qualifier
        0x02, 0x02, 0x00, 0x07, 0x00, 0x00, b'p', b'l', b'c', b'-', b'2', 0x00, // name, pad
        0x05, 0x02, 0x00, 0x02, 0x00, 0x00, // end transaction
    ];
    // reset to factory, mode 2 (qualifier 0x0004).
    let reset = [
        0xfe, 0xfd, 0x04, 0x00, 0, 0, 0, 10, 0, 0, 0x00, 0x06, //
        0x05, 0x06, 0x00, 0x02, 0x00, 0x04,
    ];
    // signal: flash once (0x0100).
    let signal = [
        0xfe, 0xfd, 0x04, 0x00, 0, 0, 0, 11, 0, 0, 0x00, 0x08, //
        0x05, 0x03, 0x00, 0x04, 0x00, 0x00, 0x01, 0x00,
    ];
    // get name of station and IP.
    let get = [
        0xfe, 0xfd, 0x03, 0x00, 0, 0, 0, 12, 0, 0, 0x00, 0x04, //
        0x02, 0x02, 0x01, 0x02,
    ];
    let (ops, _, _) = run(&[
        (STATION, DEVICE, &name),
        (STATION, DEVICE, &reset),
        (STATION, DEVICE, &signal),
        (STATION, DEVICE, &get),
    ]);
    let got: Vec<_> = ops
        .iter()
        .map(|o| {
            (
                o.op.function.name,
                o.op.function.category,
                o.op.target.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "set_name_of_station",
                Category::Write,
                "name_of_station plc-2 temporary"
            ),
            (
                "reset_to_factory",
                Category::Control,
                "reset_to_factory mode 2"
            ),
            ("signal", Category::Diagnostic, "signal 0x0100"),
            ("get", Category::Read, "name_of_station, ip"),
        ]
    );
}

#[test]
fn not_dcp_and_broken_lengths() {
    let mut s = Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    // PROFINET cyclic I/O (FrameID 0x8000) is not DCP.
    assert!(!s.on_frame(
        STATION,
        DEVICE,
        0,
        &[0x80, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        &mut ops,
        &mut facts
    ));
    assert_eq!(s.not_dcp, 1);
    // DCPDataLength beyond the frame, and a block overrunning it.
    let mut short = SET_IP;
    short[11] = 0x40;
    assert!(parse_frame(&short).unwrap().flags.has(Flags::BAD_LENGTH));
    let mut overrun = SET_IP;
    overrun[15] = 0x20;
    let f = parse_frame(&overrun).unwrap();
    assert!(f.flags.has(Flags::BAD_LENGTH));
    assert_eq!(f.blocks().count(), 0);
    assert_eq!(
        Parser.parse(Direction::Orig, &SET_IP[..5]),
        Parsed::Incomplete { needed: 12 }
    );
    assert!(matches!(
        Parser.parse(Direction::Orig, &SET_RSP),
        Parsed::Pdu { consumed: 20, .. }
    ));
}

proptest! {
    #[test]
    fn never_panics_and_keeps_bounds(
        frames in proptest::collection::vec(
            (any::<bool>(), proptest::collection::vec(any::<u8>(), 0..80)),
            0..200,
        ),
        prefix in any::<bool>(),
    ) {
        let mut s = Session::default();
        let (mut ops, mut facts) = (Vec::new(), Vec::new());
        for (i, (dir, mut bytes)) in frames.into_iter().enumerate() {
            if prefix && bytes.len() >= 2 {
                bytes[0] = 0xfe;
                bytes[1] |= 0xfc;
            }
            let (src, dst) = if dir { (STATION, DEVICE) } else { (DEVICE, STATION) };
            s.on_frame(src, dst, i as i64, &bytes, &mut ops, &mut facts);
            prop_assert!(s.pending.len() <= MAX_OUTSTANDING);
            if let Parsed::Pdu { consumed, .. } = Parser.parse(Direction::Orig, &bytes) {
                prop_assert!(consumed >= 1 && consumed <= bytes.len());
            }
        }
        s.finish(&mut ops);
        prop_assert!(s.pending.is_empty());
    }
}
