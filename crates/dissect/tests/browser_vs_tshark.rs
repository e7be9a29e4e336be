//! Acceptance: CIFS browser datagrams built here (host, local master and domain
//! announcements, a LANMAN announcement, election, announcement request, become
//! backup, master announcement, backup list response) and those of `../shared/pcaps`
//! decode to the same fields as tshark's.
//!
//! Rule: tshark 4.0, display filter `browser`, per frame: `nbdgm.src.ip`,
//! `nbdgm.source_name`, `nbdgm.destination_name`, `browser.command` (hex),
//! `browser.server`, `browser.os_major`, `browser.os_minor`, `browser.server_type`
//! (hex), `browser.period`, `browser.comment`, `browser.mb_server`,
//! `browser.response_computer_name`, `browser.browser_to_promote`,
//! `browser.backup.server`. tshark puts the name of an announcement or election in
//! `browser.server`, a domain announcement's comment and a master announcement's
//! name in `browser.mb_server`; it writes non-printable name bytes as `<xx>` and
//! omits empty comments. mamori: every UDP datagram to port 138 through
//! [`Datagram::parse`].

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

mod common;

use mamori_dissect::it::browser::{BrowserRecord, Datagram, opcode};
use mamori_dissect::it::nbns::NbName;
use mamori_flow::Direction;
use mamori_wire::build::{EthernetSpec, L4, ip_frame};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::MacAddr;
use mamori_wire::{LinkType, Timestamp};

/// RFC 1002 encoding of a NetBIOS name.
fn encoded(name: &[u8], suffix: u8) -> Vec<u8> {
    let mut raw = [b' '; 16];
    raw[..name.len()].copy_from_slice(name);
    raw[15] = suffix;
    let mut out = vec![0x20];
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
    out
}

/// A NetBIOS datagram from `src` carrying an SMB mailslot write of `data`.
fn datagram(src: (&[u8], Ipv4Addr), dest: (&[u8], u8), slot: &str, data: &[u8]) -> Vec<u8> {
    let mut smb = vec![0xff, b'S', b'M', b'B', 0x25];
    smb.extend_from_slice(&[0; 27]); // status .. MID
    smb.push(17); // word count
    let off = (32 + 1 + 34 + 2 + slot.len() + 1) as u16;
    let n = data.len() as u16;
    for w in [0, n, 0, 0, 0, 0, 0, 0, 0, 0, off, n, off, 3, 1, 1, 2] {
        smb.extend_from_slice(&w.to_le_bytes());
    }
    smb.extend_from_slice(&((slot.len() + 1 + data.len()) as u16).to_le_bytes());
    smb.extend_from_slice(slot.as_bytes());
    smb.push(0);
    smb.extend_from_slice(data);
    let mut names = encoded(src.0, 0x00);
    names.extend(encoded(dest.0, dest.1));
    let mut b = vec![0x11, 0x02, 0x12, 0x34];
    b.extend_from_slice(&src.1.octets());
    b.extend_from_slice(&138u16.to_be_bytes());
    b.extend_from_slice(&((names.len() + smb.len()) as u16).to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend(names);
    b.extend(smb);
    b
}

fn announcement(op: u8, name: &[u8], os: (u8, u8), server_type: u32, comment: &[u8]) -> Vec<u8> {
    let mut d = vec![op, 1];
    d.extend_from_slice(&720_000u32.to_le_bytes());
    let mut n = [0u8; 16];
    n[..name.len()].copy_from_slice(name);
    d.extend_from_slice(&n);
    d.extend_from_slice(&[os.0, os.1]);
    d.extend_from_slice(&server_type.to_le_bytes());
    d.extend_from_slice(&[15, 1, 0x55, 0xaa]);
    d.extend_from_slice(comment);
    d.push(0);
    d
}

const BROWSE: &str = "\\MAILSLOT\\BROWSE";

/// (source IP, UDP payload).
fn datagrams() -> Vec<(Ipv4Addr, Vec<u8>)> {
    let hmi = Ipv4Addr::new(192, 168, 10, 5);
    let eng = Ipv4Addr::new(192, 168, 10, 9);
    let nas = Ipv4Addr::new(192, 168, 10, 20);
    let wg = (&b"WORKGROUP"[..], 0x1d);
    let mut lanman = vec![0x01, 0x01];
    lanman.extend_from_slice(&0x0000_0b03u32.to_le_bytes());
    lanman.extend_from_slice(&[4, 9, 0xb4, 0x00]);
    lanman.extend_from_slice(b"FILESRV\0Samba 4.17\0");
    let mut election = vec![0x08, 0x01, 0x0f, 0x01, 0x14, 0x20];
    election.extend_from_slice(&3_600_000u32.to_le_bytes());
    election.extend_from_slice(&[0, 0, 0, 0]);
    election.extend_from_slice(b"ENG-WS2\0");
    let mut domain = announcement(12, b"PLANTNET", (3, 10), 0x8000_1000, b"PLC-HMI01");
    // A domain announcement has no signature: an undocumented value instead.
    let sig = domain.len() - 10 - 4;
    domain[sig..sig + 4].copy_from_slice(&[0xfc, 0xf9, 0x6b, 0x02]);
    vec![
        (
            hmi,
            datagram(
                (b"PLC-HMI01", hmi),
                wg,
                BROWSE,
                &announcement(1, b"PLC-HMI01", (6, 1), 0x0001_1003, b"Line 3 HMI"),
            ),
        ),
        (
            eng,
            datagram(
                (b"ENG-WS2", eng),
                (b"WORKGROUP", 0x1e),
                BROWSE,
                &announcement(15, b"ENG-WS2", (10, 0), 0x0005_1003, b""),
            ),
        ),
        (
            hmi,
            datagram(
                (b"PLC-HMI01", hmi),
                (b"\x01\x02__MSBROWSE__\x02", 0x01),
                BROWSE,
                &domain,
            ),
        ),
        (
            nas,
            datagram(
                (b"FILESRV", nas),
                (b"WORKGROUP", 0x00),
                "\\MAILSLOT\\LANMAN",
                &lanman,
            ),
        ),
        (
            eng,
            datagram((b"ENG-WS2", eng), (b"WORKGROUP", 0x1e), BROWSE, &election),
        ),
        (
            eng,
            datagram((b"ENG-WS2", eng), wg, BROWSE, b"\x02\x00ENG-WS2\0"),
        ),
        (
            eng,
            datagram(
                (b"ENG-WS2", eng),
                (b"XP-OLD", 0x1d),
                BROWSE,
                b"\x0bXP-OLD\0",
            ),
        ),
        (
            eng,
            datagram(
                (b"ENG-WS2", eng),
                (b"WORKGROUP", 0x1d),
                BROWSE,
                b"\x0dENG-WS2\0",
            ),
        ),
        (
            eng,
            datagram(
                (b"ENG-WS2", eng),
                (b"PLC-HMI01", 0x00),
                BROWSE,
                b"\x0a\x02\x01\x00\x00\x00ENG-WS2\0PLC-HMI01\0",
            ),
        ),
    ]
}

fn write_capture() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser_vs_tshark.pcap");
    let file = std::fs::File::create(&path).expect("create capture");
    let mut w = CaptureWriter::new(file, WriteFormat::Pcap, LinkType::ETHERNET).unwrap();
    for (i, (src, payload)) in datagrams().into_iter().enumerate() {
        let eth = EthernetSpec {
            src: MacAddr([0x00, 0x0c, 0x29, 0, 0, i as u8]),
            dst: MacAddr::BROADCAST,
            vlan: None,
        };
        let mut frame = Vec::new();
        let udp = L4::Udp {
            src_port: 138,
            dst_port: 138,
            payload: &payload,
        };
        let bcast = IpAddr::V4(Ipv4Addr::new(192, 168, 10, 255));
        ip_frame(
            &mut frame,
            &eth,
            IpAddr::V4(src),
            bcast,
            128,
            i as u16,
            &udp,
        );
        w.write_packet(Timestamp::from_secs(1_700_000_000 + i as i64), &frame)
            .unwrap();
    }
    w.finish().unwrap();
    path
}

type Row = Vec<Vec<String>>;

const FIELDS: [&str; 14] = [
    "nbdgm.src.ip",
    "nbdgm.source_name",
    "nbdgm.destination_name",
    "browser.command",
    "browser.server",
    "browser.os_major",
    "browser.os_minor",
    "browser.server_type",
    "browser.period",
    "browser.comment",
    "browser.mb_server",
    "browser.response_computer_name",
    "browser.browser_to_promote",
    "browser.backup.server",
];

fn theirs(path: &Path) -> Vec<Row> {
    common::tshark_fields_with(path, &[], "browser", &FIELDS)
}

/// A NetBIOS name as tshark writes it: non-printable bytes as `<xx>`.
fn tshark_name(n: &NbName) -> String {
    let mut s = String::new();
    for &b in n.name() {
        if b.is_ascii_graphic() || b == b' ' {
            s.push(b as char);
        } else {
            s.push_str(&format!("<{b:02x}>"));
        }
    }
    format!("{s}<{:02x}>", n.suffix())
}

fn ours(path: &Path) -> (Vec<Row>, Vec<BrowserRecord>, usize) {
    let (mut rows, mut records, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    common::replay_udp(path, |_, (_, dst_port), ts, payload| {
        let Some(d) = (dst_port == 138)
            .then(|| Datagram::parse(payload))
            .flatten()
        else {
            return;
        };
        let r = BrowserRecord::new(ts, Direction::Orig, &d);
        mamori_dissect::it::browser::identity(Direction::Orig, &d, &mut facts);
        let m = &d.browse;
        let one = |s: Option<String>| s.into_iter().collect::<Vec<_>>();
        let is = |ops: &[u8]| ops.contains(&m.opcode);
        let name = r.name.clone();
        let announce = [opcode::HOST_ANNOUNCEMENT, opcode::DOMAIN_ANNOUNCEMENT];
        let announce = [&announce[..], &[opcode::LOCAL_MASTER_ANNOUNCEMENT]].concat();
        rows.push(vec![
            one(Some(d.src_ip.to_string())),
            one(Some(d.source_name.to_string())),
            one(Some(tshark_name(&d.dest_name))),
            one(Some(format!("0x{:02x}", m.opcode))),
            one(name
                .clone()
                .filter(|_| is(&announce) || is(&[opcode::ELECTION]))),
            one(m.os_version.map(|v| v.0.to_string())),
            one(m.os_version.map(|v| v.1.to_string())),
            one(m.server_type.map(|t| format!("0x{t:08x}"))),
            one(m.periodicity_ms.map(|p| p.to_string())),
            one(r
                .comment
                .clone()
                .filter(|c| !c.is_empty() && m.opcode != opcode::DOMAIN_ANNOUNCEMENT)),
            one(if m.opcode == opcode::DOMAIN_ANNOUNCEMENT {
                r.comment.clone()
            } else {
                name.clone().filter(|_| is(&[opcode::MASTER_ANNOUNCEMENT]))
            }),
            one(name.clone().filter(|_| is(&[opcode::ANNOUNCEMENT_REQUEST]))),
            one(name.filter(|_| is(&[opcode::BECOME_BACKUP]))),
            m.backup_servers()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect(),
        ]);
        records.push(r);
    });
    let n = facts.len();
    assert!(facts.iter().all(|f| f.protocol == "browser"));
    (rows, records, n)
}

#[test]
fn built_browser_datagrams_equal_tsharks() {
    if !common::have_tshark("browser_vs_tshark") {
        return;
    }
    let path = write_capture();
    let ((o, records, _), t) = (ours(&path), theirs(&path));
    assert_eq!(o.len(), datagrams().len());
    assert_eq!(o, t);
    assert!(records.iter().all(|r| r.flags.0 == 0), "{records:#?}");
    let os: Vec<Option<&str>> = records.iter().map(|r| r.os.as_deref()).collect();
    assert_eq!(
        &os[..4],
        [
            Some("Windows 6.1"),
            Some("Windows 10.0"),
            None,
            Some("Samba (announces 4.9)")
        ]
    );
}

/// Browser datagrams in the shared captures: a Windows Server 2003 R2 and a Vista host
/// in ControlLogix captures.
#[test]
fn shared_browser_datagrams_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("browser_vs_tshark") else {
        return;
    };
    if !common::have_tshark("browser_vs_tshark") {
        return;
    }
    let mut frames = 0;
    for name in [
        "emreekin_ControlLogix_FactoryTalk_HMI.pcap",
        "emreekin_ControlLogix_Logix5000_download_upload_run.pcap",
    ] {
        let path = dir.join(name);
        if !path.exists() {
            eprintln!("skipped {name}: not in ../shared/pcaps");
            continue;
        }
        let ((o, records, facts), t) = (ours(&path), theirs(&path));
        assert!(!t.is_empty(), "{name} has browser datagrams");
        assert_eq!(o, t, "{name}");
        assert!(
            records.iter().all(|r| r.flags.0 == 0),
            "{name}: {records:#?}"
        );
        assert!(facts > 0);
        frames += o.len();
        for r in records.iter().filter(|r| r.os.is_some()) {
            eprintln!(
                "{name}: {} {} ({:?}) {}",
                r.name.as_deref().unwrap_or(""),
                r.os.as_deref().unwrap_or(""),
                r.os_family,
                r.server_type_names.join(",")
            );
        }
    }
    eprintln!("browser_vs_tshark: {frames} shared datagrams equal");
}
