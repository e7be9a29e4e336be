//! Acceptance: LLDP frames built here (MAC, locally assigned, network address and
//! interface name ids; IPv4 and IPv6 management addresses; IEEE 802.1/802.3 TLVs;
//! PROFINET TLVs; VLAN-tagged; a description with commas) and the LLDP frames of
//! `../shared/pcaps` decode to the same fields as tshark's.
//!
//! Rule: tshark 4.0, display filter `lldp`, per frame: `lldp.tlv.system.name`,
//! `lldp.tlv.system.desc`, `lldp.port.desc`, `lldp.time_to_live`,
//! `lldp.tlv.system_cap` and `lldp.tlv.enable_system_cap` (hex), `lldp.mgn.addr.ip4`
//! and `lldp.mgn.addr.ip6` (all occurrences), `lldp.chassis.id.mac`,
//! `lldp.ieee.802_1.port_vlan.id`, `lldp.ieee.802_3.pmd_mau_type` (hex). mamori: every
//! frame `mamori_wire::decode` says is EtherType 0x88CC, through [`Lldpdu::parse`];
//! text compared after trimming trailing blanks (as [`LldpRecord`] does).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

mod common;

use mamori_dissect::it::lldp::{LldpRecord, Lldpdu, identity};
use mamori_wire::build::{EthernetSpec, ethernet_frame};
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::{self, MacAddr, Network};
use mamori_wire::{LinkType, Timestamp};

fn tlv(b: &mut Vec<u8>, t: u8, v: &[u8]) {
    let len = v.len().min(511) as u16;
    b.extend_from_slice(&((u16::from(t) << 9) | len).to_be_bytes());
    b.extend_from_slice(&v[..usize::from(len)]);
}

fn mgmt(b: &mut Vec<u8>, family: u8, addr: &[u8], ifnum: u32) {
    let mut v = vec![addr.len() as u8 + 1, family];
    v.extend_from_slice(addr);
    v.push(2); // ifIndex
    v.extend_from_slice(&ifnum.to_be_bytes());
    v.push(0); // no OID
    tlv(b, 8, &v);
}

/// LLDPDUs of several kinds of device.
fn pdus() -> Vec<(MacAddr, Option<u16>, Vec<u8>)> {
    let mut out = Vec::new();
    // A Cisco switch: MAC chassis id, interface name port, everything.
    let mac = MacAddr([0x00, 0x1b, 0x1b, 0x02, 0xe6, 0x1f]);
    let mut b = Vec::new();
    let mut chassis = vec![4];
    chassis.extend_from_slice(&mac.0);
    tlv(&mut b, 1, &chassis);
    tlv(&mut b, 2, b"\x05Gi1/0/1");
    tlv(&mut b, 3, &120u16.to_be_bytes());
    tlv(&mut b, 4, b"GigabitEthernet1/0/1");
    tlv(&mut b, 5, b"core-sw1.plant.local");
    tlv(
        &mut b,
        6,
        b"Cisco IOS Software, C3750E Software (C3750E-UNIVERSALK9-M), Version 15.2(4)E10, RELEASE SOFTWARE (fc2)",
    );
    tlv(&mut b, 7, &[0x00, 0x14, 0x00, 0x14]);
    mgmt(&mut b, 1, &[10, 0, 0, 2], 1);
    mgmt(
        &mut b,
        2,
        &"fd00::2".parse::<Ipv6Addr>().unwrap().octets(),
        1,
    );
    tlv(&mut b, 127, &[0x00, 0x80, 0xc2, 0x01, 0x00, 0x64]);
    tlv(
        &mut b,
        127,
        &[0x00, 0x12, 0x0f, 0x01, 0x03, 0x6c, 0x00, 0x00, 0x1e],
    );
    tlv(&mut b, 0, &[]);
    out.push((mac, None, b));
    // A SCALANCE switch: locally assigned ids, PROFINET TLVs, tagged.
    let mac = MacAddr([0x00, 0x0e, 0x8c, 0x11, 0x22, 0x33]);
    let mut b = Vec::new();
    tlv(&mut b, 1, b"\x07switch1");
    tlv(&mut b, 2, b"\x07port-001.switch1");
    tlv(&mut b, 3, &20u16.to_be_bytes());
    tlv(&mut b, 5, b"Switch1");
    tlv(
        &mut b,
        6,
        b"Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3, HW: 7, FW: V4.02",
    );
    tlv(&mut b, 7, &[0x00, 0x04, 0x00, 0x04]);
    mgmt(&mut b, 1, &[192, 168, 0, 1], 0);
    tlv(&mut b, 127, &[0x00, 0x0e, 0xcf, 0x02, 0, 0, 0, 0]);
    tlv(
        &mut b,
        127,
        &[0x00, 0x0e, 0xcf, 0x01, 0, 0, 0, 0x10, 0, 0, 0, 0x20],
    );
    tlv(&mut b, 0, &[]);
    out.push((mac, Some(100), b));
    // A Linux host running lldpd: network address chassis id, MAC port id.
    let mac = MacAddr([0x52, 0x54, 0x00, 0xab, 0xcd, 0xef]);
    let mut b = Vec::new();
    tlv(&mut b, 1, &[5, 1, 10, 20, 30, 40]);
    let mut port = vec![3];
    port.extend_from_slice(&mac.0);
    tlv(&mut b, 2, &port);
    tlv(&mut b, 3, &120u16.to_be_bytes());
    tlv(&mut b, 4, b"eth0");
    tlv(&mut b, 5, b"historian");
    tlv(
        &mut b,
        6,
        b"Debian GNU/Linux 12 (bookworm) Linux 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 (2023-09-29) x86_64",
    );
    tlv(&mut b, 7, &[0x00, 0x9c, 0x00, 0x80]);
    mgmt(&mut b, 1, &[10, 20, 30, 40], 2);
    tlv(&mut b, 0, &[]);
    out.push((mac, None, b));
    // A shutdown frame: TTL 0, mandatory TLVs only.
    let mut b = Vec::new();
    tlv(&mut b, 1, b"\x07plc-7");
    tlv(&mut b, 2, b"\x07X1 P1");
    tlv(&mut b, 3, &[0, 0]);
    tlv(&mut b, 0, &[]);
    out.push((MacAddr([0x00, 0x1b, 0x1b, 0x99, 0x88, 0x77]), None, b));
    out
}

fn write_capture() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lldp_vs_tshark.pcap");
    let file = std::fs::File::create(&path).expect("create capture");
    let mut w = CaptureWriter::new(file, WriteFormat::Pcap, LinkType::ETHERNET).unwrap();
    for (i, (src, vlan, pdu)) in pdus().into_iter().enumerate() {
        let mut frame = Vec::new();
        let eth = EthernetSpec {
            src,
            dst: MacAddr([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]),
            vlan,
        };
        ethernet_frame(&mut frame, &eth, 0x88cc, &pdu);
        w.write_packet(Timestamp::from_secs(1_700_000_000 + i as i64), &frame)
            .unwrap();
    }
    w.finish().unwrap();
    path
}

/// Fields compared, per frame.
type Row = Vec<Vec<String>>;

const FIELDS: [&str; 11] = [
    "lldp.tlv.system.name",
    "lldp.tlv.system.desc",
    "lldp.port.desc",
    "lldp.time_to_live",
    "lldp.tlv.system_cap",
    "lldp.tlv.enable_system_cap",
    "lldp.mgn.addr.ip4",
    "lldp.mgn.addr.ip6",
    "lldp.chassis.id.mac",
    "lldp.ieee.802_1.port_vlan.id",
    "lldp.ieee.802_3.pmd_mau_type",
];

/// tshark's fields, one row per frame; several occurrences joined by U+001F so
/// that commas in descriptions survive.
fn theirs(path: &Path) -> Vec<Row> {
    common::tshark_fields_with(path, &[], "lldp", &FIELDS)
}

/// Our rows, and how many frames carried violation flags.
fn ours(path: &Path) -> (Vec<Row>, usize) {
    let mut file = CaptureFile::open(path).expect("capture opens");
    let mut rows = Vec::new();
    let mut flagged = 0;
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::EtherType {
                ethertype: 0x88cc,
                payload,
            } = frame.network
            && let Some(d) = Lldpdu::parse(payload)
        {
            let r = LldpRecord::new(pkt.ts.0, frame.l2.src.unwrap_or(MacAddr([0; 6])), &d);
            flagged += usize::from(r.flags.0 != 0);
            let one = |s: Option<String>| s.into_iter().collect::<Vec<_>>();
            let hex = |v: Option<u16>| one(v.map(|c| format!("0x{c:04x}")));
            let mgmt = |v4: bool| {
                d.management_addresses()
                    .filter_map(|m| m.ip())
                    .filter(|ip| ip.is_ipv4() == v4)
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
            };
            let chassis_mac = d.chassis_id.filter(|c| c.subtype == 4).map(|c| c.to_text());
            rows.push(vec![
                one(r.system_name),
                one(r.system_description),
                one(r.port_description),
                one(r.ttl.map(|t| t.to_string())),
                hex(r.capabilities),
                hex(r.enabled_capabilities),
                mgmt(true),
                mgmt(false),
                one(chassis_mac),
                one(r.port_vlan.map(|v| v.to_string())),
                hex(r.mau_type),
            ]);
        }
        if file.advance().is_err() {
            break;
        }
    }
    (rows, flagged)
}

#[test]
fn built_lldp_frames_equal_tsharks() {
    if !common::have_tshark("lldp_vs_tshark") {
        return;
    }
    let path = write_capture();
    let ((o, flagged), t) = (ours(&path), theirs(&path));
    assert_eq!(o.len(), pdus().len());
    assert_eq!(flagged, 0);
    assert_eq!(o, t);
    // The fields tshark has no column for, checked by hand.
    let d = pdus();
    let sw = Lldpdu::parse(&d[1].2).unwrap();
    assert_eq!(sw.profinet_tlvs, 2);
    let host = Lldpdu::parse(&d[2].2).unwrap();
    assert_eq!(
        host.chassis_id.unwrap().to_text(),
        Ipv4Addr::new(10, 20, 30, 40).to_string()
    );
}

/// LLDP in the shared captures: a Netgear switch and a CalDigit dock in a BSAP
/// capture, a SCALANCE switch in a Modbus one.
#[test]
fn shared_lldp_frames_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("lldp_vs_tshark") else {
        return;
    };
    if !common::have_tshark("lldp_vs_tshark") {
        return;
    }
    let mut frames = 0;
    for name in ["icsnpp-bsap_bsap-ip_example.pcap", "iti_mb2.pcap"] {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("skipped {name}: not in ../shared/pcaps");
            continue;
        }
        let ((o, flagged), t) = (ours(&path), theirs(&path));
        assert!(!t.is_empty(), "{name} has LLDP");
        assert_eq!(flagged, 0, "{name}: well-formed frames");
        assert_eq!(o, t, "{name}");
        frames += o.len();
    }
    eprintln!("lldp_vs_tshark: {frames} shared frames equal");
    // The SCALANCE switch of iti_mb2.pcap describes itself in the PROFINET layout.
    let path = dir.join("iti_mb2.pcap");
    if path.exists() {
        let mut facts = Vec::new();
        let mut file = CaptureFile::open(&path).expect("capture opens");
        while let Some(pkt) = file.current() {
            if let Ok(frame) = decode::decode(pkt.link, pkt.data)
                && let Network::EtherType {
                    ethertype: 0x88cc,
                    payload,
                } = frame.network
                && let (Some(src), Some(d)) = (frame.l2.src, Lldpdu::parse(payload))
            {
                identity(src, &d, &mut facts);
            }
            if file.advance().is_err() {
                break;
            }
        }
        let mut kinds: Vec<(&str, &str)> = facts
            .iter()
            .map(|f| (f.kind.as_str(), f.value.as_str()))
            .collect();
        kinds.sort();
        kinds.dedup();
        eprintln!("iti_mb2.pcap LLDP facts: {kinds:?}");
        assert!(kinds.contains(&("model", "6GK5 212-2BB00-2AA3")));
        assert!(kinds.contains(&("firmware", "V4.02")));
        assert!(kinds.contains(&("hostname", "Switch1")));
    }
}
