//! Acceptance: CDP frames built here (a switch, an IP phone, a router whose PDU has an
//! odd length ending in a byte >= 0x80, one with a corrupted checksum, a short padded
//! one, VLAN-tagged) decode to the same fields as tshark's, and the checksum verdicts
//! agree.
//!
//! Rule: tshark 4.0, display filter `cdp`, per frame: `cdp.version`, `cdp.ttl`,
//! `cdp.deviceid`, `cdp.portid`, `cdp.platform`, `cdp.software_version`,
//! `cdp.capabilities` (hex), `cdp.native_vlan`, `cdp.duplex`, `cdp.vtp_management_domain`,
//! `cdp.checksum.status` (1 good, 0 bad). mamori: every frame whose LLC/SNAP is CDP's,
//! through [`pdu_from_frame`] and [`Cdp::parse`], text as [`CdpRecord`] keeps it
//! (lossy UTF-8, as tshark shows it); tshark gives the software version one value per
//! line, so ours is split into lines.

use std::path::{Path, PathBuf};

mod common;

use mamori_dissect::contract::Flags;
use mamori_dissect::it::cdp::{Cdp, CdpRecord, checksum, pdu_from_frame, tlv};
use mamori_wire::build::{EthernetSpec, ethernet_frame};
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::{self, MacAddr, Network};
use mamori_wire::{LinkType, Timestamp};

fn put(b: &mut Vec<u8>, t: u16, v: &[u8]) {
    b.extend_from_slice(&t.to_be_bytes());
    b.extend_from_slice(&((v.len() + 4) as u16).to_be_bytes());
    b.extend_from_slice(v);
}

fn ipv4_list(ips: &[[u8; 4]]) -> Vec<u8> {
    let mut v = (ips.len() as u32).to_be_bytes().to_vec();
    for ip in ips {
        v.extend_from_slice(&[0x01, 0x01, 0xcc, 0x00, 0x04]);
        v.extend_from_slice(ip);
    }
    v
}

fn sealed(mut b: Vec<u8>, corrupt: bool) -> Vec<u8> {
    let c = checksum(&b);
    b[2..4].copy_from_slice(&(c ^ u16::from(corrupt)).to_be_bytes());
    b
}

/// (source, VLAN, CDP PDU).
fn pdus() -> Vec<(MacAddr, Option<u16>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut b = vec![0x02, 0xb4, 0, 0];
    put(&mut b, tlv::DEVICE_ID, b"sw-plant-01.example.com");
    put(&mut b, tlv::ADDRESSES, &ipv4_list(&[[10, 1, 2, 3]]));
    put(&mut b, tlv::PORT_ID, b"GigabitEthernet0/1");
    put(&mut b, tlv::CAPABILITIES, &[0, 0, 0, 0x28]);
    put(
        &mut b,
        tlv::SOFTWARE_VERSION,
        b"Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(55)SE5, RELEASE SOFTWARE (fc1)\nTechnical Support: http://www.cisco.com/techsupport\nCopyright (c) 1986-2012 by Cisco Systems, Inc.\nCompiled Sat 07-Jan-12 16:09 by prod_rel_team",
    );
    put(&mut b, tlv::PLATFORM, b"cisco WS-C2960-24TT-L");
    put(&mut b, tlv::VTP_DOMAIN, b"PLANT");
    put(&mut b, tlv::NATIVE_VLAN, &[0, 1]);
    put(&mut b, tlv::DUPLEX, &[1]);
    put(
        &mut b,
        tlv::MANAGEMENT_ADDRESSES,
        &ipv4_list(&[[10, 1, 2, 3]]),
    );
    out.push((
        MacAddr([0x00, 0x1e, 0x13, 0x0a, 0x0b, 0x0c]),
        None,
        sealed(b, false),
    ));
    // An IP phone, tagged.
    let mut b = vec![0x02, 0xb4, 0, 0];
    put(&mut b, tlv::DEVICE_ID, b"SEP001122334455");
    put(&mut b, tlv::ADDRESSES, &ipv4_list(&[[10, 9, 0, 55]]));
    put(&mut b, tlv::PORT_ID, b"Port 1");
    put(&mut b, tlv::CAPABILITIES, &[0, 0, 0x04, 0x90]);
    put(&mut b, tlv::SOFTWARE_VERSION, b"SCCP75.9-4-2SR3-1S");
    put(&mut b, tlv::PLATFORM, b"Cisco IP Phone 7965");
    put(&mut b, tlv::DUPLEX, &[1]);
    out.push((
        MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
        Some(20),
        sealed(b, false),
    ));
    // A router: odd length ending in 0xe9; then the same with a corrupted checksum.
    let mut b = vec![0x01, 0x78, 0, 0];
    put(&mut b, tlv::CAPABILITIES, &[0, 0, 0, 0x01]);
    put(&mut b, tlv::PLATFORM, b"cisco ISR4331/K9");
    put(
        &mut b,
        tlv::SOFTWARE_VERSION,
        b"Cisco IOS XE Software, Version 16.09.05",
    );
    put(&mut b, tlv::DUPLEX, &[0]);
    put(&mut b, tlv::DEVICE_ID, b"edge-r01\xe9");
    assert_eq!(b.len() % 2, 1);
    let router = MacAddr([0x00, 0x5e, 0x11, 0x22, 0x33, 0x01]);
    out.push((router, None, sealed(b.clone(), false)));
    out.push((router, None, sealed(b, true)));
    // A short PDU: the frame is padded to 60 bytes.
    let mut b = vec![0x02, 0x3c, 0, 0];
    put(&mut b, tlv::DEVICE_ID, b"AP1");
    out.push((
        MacAddr([0x00, 0x5e, 0x11, 0x22, 0x33, 0x02]),
        None,
        sealed(b, false),
    ));
    out
}

fn write_capture() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cdp_vs_tshark.pcap");
    let file = std::fs::File::create(&path).expect("create capture");
    let mut w = CaptureWriter::new(file, WriteFormat::Pcap, LinkType::ETHERNET).unwrap();
    for (i, (src, vlan, pdu)) in pdus().into_iter().enumerate() {
        let mut body = vec![0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00];
        body.extend_from_slice(&pdu);
        let eth = EthernetSpec {
            src,
            dst: MacAddr([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]),
            vlan,
        };
        let mut frame = Vec::new();
        ethernet_frame(&mut frame, &eth, body.len() as u16, &body);
        w.write_packet(Timestamp::from_secs(1_700_000_000 + i as i64), &frame)
            .unwrap();
    }
    w.finish().unwrap();
    path
}

type Row = Vec<Vec<String>>;

const FIELDS: [&str; 11] = [
    "cdp.version",
    "cdp.ttl",
    "cdp.deviceid",
    "cdp.portid",
    "cdp.platform",
    "cdp.software_version",
    "cdp.capabilities",
    "cdp.native_vlan",
    "cdp.duplex",
    "cdp.vtp_management_domain",
    "cdp.checksum.status",
];

fn theirs(path: &Path) -> Vec<Row> {
    common::tshark_fields_with(path, &[], "cdp", &FIELDS)
}

fn ours(path: &Path) -> (Vec<Row>, Vec<CdpRecord>) {
    let mut file = CaptureFile::open(path).expect("capture opens");
    let (mut rows, mut records) = (Vec::new(), Vec::new());
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Llc {
                snap: Some((0x00_000c, 0x2000)),
                ..
            } = frame.network
            && let Some(d) = pdu_from_frame(pkt.data).and_then(Cdp::parse)
        {
            let r = CdpRecord::new(pkt.ts.0, frame.l2.src.unwrap_or(MacAddr([0; 6])), &d);
            let one = |s: Option<String>| s.into_iter().collect::<Vec<_>>();
            let lines = r
                .software_version
                .iter()
                .flat_map(|s| s.lines().map(str::to_string))
                .collect();
            rows.push(vec![
                one(Some(d.version.to_string())),
                one(Some(d.ttl.to_string())),
                one(r.device_id.clone()),
                one(r.port_id.clone()),
                one(r.platform.clone()),
                lines,
                one(d.capabilities.map(|c| format!("0x{c:08x}"))),
                one(d.native_vlan.map(|v| v.to_string())),
                one(d.duplex.map(|v| v.to_string())),
                one(r.vtp_domain.clone()),
                one(Some(
                    if d.flags.has(Flags::BAD_CHECKSUM) {
                        "0"
                    } else {
                        "1"
                    }
                    .to_string(),
                )),
            ]);
            records.push(r);
        }
        if file.advance().is_err() {
            break;
        }
    }
    (rows, records)
}

#[test]
fn built_cdp_frames_equal_tsharks() {
    if !common::have_tshark("cdp_vs_tshark") {
        return;
    }
    let path = write_capture();
    let ((o, records), t) = (ours(&path), theirs(&path));
    assert_eq!(o.len(), pdus().len());
    assert_eq!(o, t);
    // Checksum verdicts: only the corrupted router frame is bad.
    let bad: Vec<bool> = records
        .iter()
        .map(|r| r.flags.has(Flags::BAD_CHECKSUM))
        .collect();
    assert_eq!(bad, [false, false, false, true, false]);
    // No other violation anywhere.
    assert!(
        records
            .iter()
            .all(|r| r.flags.0 & !Flags::BAD_CHECKSUM == 0)
    );
    assert_eq!(records[0].os.as_deref(), Some("Cisco IOS 12.2(55)SE5"));
    assert_eq!(records[2].os.as_deref(), Some("Cisco IOS XE 16.09.05"));
}
