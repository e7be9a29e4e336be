//! Frames 1 and 2 of `nttcom-cclinkiefb_cclink_ief_basic_only.pcap`: master
//! 172.16.134.128 broadcasts a cyclic request to group 1 (one station,
//! 172.16.134.129), which answers.

use proptest::prelude::*;

use super::*;

/// Frame 1 (UDP 61450 → 172.16.134.255:61450), 143 bytes.
fn request() -> Vec<u8> {
    [
        &[0x50, 0x00][..],                                 // subheader: request
        &[0x00, 0xff],                                     // network 0, station 0xFF
        &[0xff, 0x03],                                     // I/O number 0x03FF
        &[0x00],                                           // multidrop 0
        &[0x86, 0x00],                                     // data length 134 (143 - 9)
        &[0x00, 0x00],                                     // reserved (monitoring timer)
        &[0x70, 0x0e],                                     // command 0x0E70: cyclic data
        &[0x00, 0x00],                                     // subcommand 0
        &[0x01, 0x00],                                     // protocol version 1
        &[0x00, 0x00],                                     // reserved
        &[0x24, 0x00], // cyclic info offset 36 (from byte 11 to byte 47)
        &[0; 14],      // reserved
        &[0x01, 0x00], // master unit info: running
        &[0x00, 0x00], // reserved
        &[0x2b, 0xaf, 0x8d, 0x68, 0x81, 0x01, 0x00, 0x00], // clock 1655316524843 ms: the capture time + 9 h (local time, JST)
        &[0x80, 0x86, 0x10, 0xac],                         // master id 172.16.134.128
        &[0x01, 0x00],                                     // group 1, reserved
        &[0xd8, 0x06],                                     // frame sequence 1752
        &[0xf4, 0x01],                                     // timeout 500 ms
        &[0x03, 0x00],                                     // parallel-off timeout count 3
        &[0x0b, 0x00],                                     // parameter no 11
        &[0x01, 0x00],                                     // occupied stations 1
        &[0x00, 0x00],                                     // cyclic transmission state
        &[0x00, 0x00],                                     // reserved
        &[0x81, 0x86, 0x10, 0xac],                         // slave id 172.16.134.129
        &[0; 64],                                          // RWw of station 1
        &[0; 8],                                           // RY of station 1
    ]
    .concat()
}

/// Frame 2 (172.16.134.129:61450 → 172.16.134.128:61450), 131 bytes.
fn response() -> Vec<u8> {
    [
        &[0xd0, 0x00][..],               // subheader: response
        &[0x00, 0xff, 0xff, 0x03, 0x00], // network, station, I/O, multidrop
        &[0x7a, 0x00],                   // data length 122
        &[0x00, 0x00],                   // end code 0
        &[0x01, 0x00],                   // protocol version 1
        &[0x00, 0x00],                   // end code 0
        &[0x28, 0x00],                   // cyclic info offset 40
        &[0; 14],                        // reserved
        &[0x00, 0x00, 0x00, 0x00],       // vendor code 0, reserved
        &[0x00, 0x00, 0x00, 0x00],       // model code 0
        &[0x00, 0x00, 0x00, 0x00],       // equipment version 0, reserved
        &[0x01, 0x00],                   // slave unit info: running
        &[0x00, 0x00],                   // slave error code 0
        &[0x00, 0x00, 0x00, 0x00],       // local management info
        &[0x81, 0x86, 0x10, 0xac],       // slave id 172.16.134.129
        &[0x01, 0x00],                   // group 1, reserved
        &[0xd8, 0x06],                   // frame sequence 1752 (the request's)
        &[0; 64],                        // RWr
        &[0; 8],                         // RX
    ]
    .concat()
}

const S: i64 = 1_000_000_000;

#[test]
fn the_capture_frames_parse_field_by_field() {
    let req = request();
    assert_eq!(req.len(), 143);
    let Some(Message::CyclicRequest(r)) = parse(&req) else {
        panic!("not a cyclic request");
    };
    assert_eq!(
        r,
        CyclicRequest {
            version: 1,
            master_state: 1,
            clock_ms: 1_655_316_524_843,
            master: Ipv4Addr::new(172, 16, 134, 128),
            group: 1,
            sequence: 1752,
            timeout_ms: 500,
            parameter_no: 11,
            stations: 1,
            transmission_state: 0,
            rww_bytes: 64,
            ry_bytes: 8,
            flags: Flags::default(),
        }
    );
    let rsp = response();
    assert_eq!(rsp.len(), 131);
    let Some(Message::CyclicResponse(r)) = parse(&rsp) else {
        panic!("not a cyclic response");
    };
    assert_eq!(
        (
            r.version,
            r.end_code,
            r.slave_state,
            r.slave,
            r.group,
            r.sequence,
            r.stations
        ),
        (1, 0, 1, Ipv4Addr::new(172, 16, 134, 129), 1, 1752, 1)
    );
    assert_eq!(r.flags, Flags::default());
}

#[test]
fn cyclic_frames_are_counted_per_minute() {
    let (req, rsp) = (request(), response());
    let mut master = Session::default();
    let mut slave = Session::default();
    let (mut ops, mut cyc, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..100 {
        let ts = 60 * S + i * S / 2; // 50 s of link scans every 500 ms
        master.on_datagram(Direction::Orig, ts, &req, &mut ops, &mut cyc, &mut facts);
        slave.on_datagram(
            Direction::Orig,
            ts + 1,
            &rsp,
            &mut ops,
            &mut cyc,
            &mut facts,
        );
    }
    assert!(cyc.is_empty());
    // The next minute closes the records.
    master.on_datagram(
        Direction::Orig,
        120 * S,
        &req,
        &mut ops,
        &mut cyc,
        &mut facts,
    );
    master.finish(&mut ops, &mut cyc);
    slave.finish(&mut ops, &mut cyc);
    assert!(ops.is_empty() && facts.is_empty());
    let got: Vec<_> = cyc
        .iter()
        .map(|a| (a.op.pdu, a.op.target.as_str(), a.count, a.op.status))
        .collect();
    assert_eq!(
        got,
        [
            (
                Some("request"),
                "group 1 stations 1 master 172.16.134.128 running parameter 11",
                100,
                Status::Ok
            ),
            (
                Some("request"),
                "group 1 stations 1 master 172.16.134.128 running parameter 11",
                1,
                Status::Ok
            ),
            (
                Some("response"),
                "group 1 slave 172.16.134.129 running",
                100,
                Status::Ok
            ),
        ]
    );
    assert_eq!(cyc[0].op.function.code, 0x0e70);
    assert_eq!(cyc[0].op.function.category, Category::Cyclic);
    assert_eq!((cyc[0].op.ts, cyc[0].ts_end), (60 * S, 60 * S + 99 * S / 2));
}

#[test]
fn a_stopping_master_and_an_end_code_open_new_records() {
    let mut stopped = request();
    stopped[35] = 0; // master unit info: stopped
    let mut duplicated = response();
    duplicated[13..15].copy_from_slice(&0xcfe0u16.to_le_bytes()); // master duplication
    let mut s = Session::default();
    let (mut ops, mut cyc, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    for bytes in [request(), stopped, response(), duplicated] {
        assert!(s.on_datagram(Direction::Orig, 0, &bytes, &mut ops, &mut cyc, &mut facts));
    }
    s.finish(&mut ops, &mut cyc);
    assert_eq!(cyc.len(), 4);
    assert!(cyc[1].op.target.contains("master 172.16.134.128 stopped"));
    assert_eq!(cyc[3].op.status, Status::Exception(0xcfe0));
}

#[test]
fn a_slave_tells_its_vendor_and_model_once() {
    let mut rsp = response();
    rsp[31..33].copy_from_slice(&0x0123u16.to_le_bytes()); // vendor code
    rsp[35..39].copy_from_slice(&0x0000_4567u32.to_le_bytes()); // model code
    rsp[39..41].copy_from_slice(&0x0002u16.to_le_bytes()); // equipment version
    let mut s = Session::default();
    let (mut ops, mut cyc, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        s.on_datagram(Direction::Resp, 0, &rsp, &mut ops, &mut cyc, &mut facts);
    }
    let got: Vec<_> = facts.iter().map(|f| (f.kind, f.value.as_str())).collect();
    assert_eq!(
        got,
        [
            (IdentityKind::Vendor, "vendor code 0x0123"),
            (IdentityKind::Model, "model code 0x00004567"),
            (IdentityKind::Firmware, "equipment version 0x0002"),
        ]
    );
    assert!(
        facts
            .iter()
            .all(|f| f.about == Subject::Side(Direction::Resp))
    );
}

#[test]
fn node_search_and_ip_set_are_operations() {
    // Node search request: header, command 0x0E30, subcommand 0 (no data).
    let search = [
        0x50, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, // subheader, routing
        0x06, 0x00, // data length 6
        0x00, 0x00, // reserved
        0x30, 0x0e, 0x00, 0x00, // command 0x0E30, subcommand 0
    ];
    let mut ip_set = search;
    ip_set[11] = 0x31; // command 0x0E31
    // A response with end code 0xC059 (command error) and no data.
    let refused = [
        0xd0, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00, 0x02, 0x00, 0x59, 0xc0,
    ];
    let mut s = Session::default();
    let (mut ops, mut cyc, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    s.on_datagram(Direction::Orig, 0, &search, &mut ops, &mut cyc, &mut facts);
    s.on_datagram(Direction::Orig, 1, &ip_set, &mut ops, &mut cyc, &mut facts);
    s.on_datagram(Direction::Resp, 2, &refused, &mut ops, &mut cyc, &mut facts);
    s.on_datagram(Direction::Resp, 3, &refused, &mut ops, &mut cyc, &mut facts);
    s.on_datagram(Direction::Resp, 4, &refused, &mut ops, &mut cyc, &mut facts);
    s.finish(&mut ops, &mut cyc);
    let got: Vec<_> = ops
        .iter()
        .map(|o| (o.function.name, o.function.category, o.status))
        .collect();
    assert_eq!(
        got,
        [
            ("node_search", Category::Identify, Status::Exception(0xc059)),
            ("ip_address_set", Category::Write, Status::Exception(0xc059)),
        ]
    );
    assert_eq!(s.unsolicited, 1);
}

#[test]
fn other_traffic_is_not_cciefb() {
    let mut s = Session::default();
    let (mut ops, mut cyc, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    // An SLMP batch read (0x0401) is SLMP's, not this module's.
    let mut read = request();
    read[11..13].copy_from_slice(&0x0401u16.to_le_bytes());
    for bytes in [&read[..], b"GET / HTTP/1.1\r\n", &[], &request()[..8]] {
        assert!(!s.on_datagram(Direction::Orig, 0, bytes, &mut ops, &mut cyc, &mut facts));
    }
    // A wrong data length is flagged.
    let mut long = request();
    long.push(0);
    let Some(Message::CyclicRequest(r)) = parse(&long) else {
        panic!()
    };
    assert!(r.flags.has(Flags::BAD_LENGTH));
}

proptest! {
    #[test]
    fn never_panics_and_keeps_bounds(
        datagrams in proptest::collection::vec(
            (any::<bool>(), any::<u8>(), proptest::collection::vec(any::<u8>(), 0..200)),
            0..100,
        ),
    ) {
        let mut s = Session::default();
        let (mut ops, mut cyc, mut facts) = (Vec::new(), Vec::new(), Vec::new());
        let templates = [request(), response()];
        for (i, (dir, kind, mut bytes)) in datagrams.into_iter().enumerate() {
            // Half the inputs start from a real frame with bytes overwritten.
            if kind & 1 == 1 {
                let mut t = templates[usize::from(kind >> 7)].clone();
                for (j, b) in bytes.iter().enumerate() {
                    let at = (j * 7 + usize::from(kind)) % t.len();
                    t[at] = *b;
                }
                t.truncate(usize::from(kind).max(9).min(t.len()));
                bytes = t;
            }
            let dir = if dir { Direction::Orig } else { Direction::Resp };
            s.on_datagram(dir, i as i64, &bytes, &mut ops, &mut cyc, &mut facts);
            prop_assert!(s.outstanding.len() <= MAX_OUTSTANDING);
            prop_assert!(s.cyclic.open() <= crate::ot::cyclic::MAX_OPEN);
        }
        s.finish(&mut ops, &mut cyc);
    }
}
