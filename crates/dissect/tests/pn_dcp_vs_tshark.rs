//! Acceptance: on the shared captures that carry PROFINET DCP, frames per service id
//! and type, requests per service id, and the names of station and IP addresses equal
//! tshark's.
//!
//! Rule: tshark 4.0's `pn_dcp` frames, counted by (`pn_dcp.service_id`,
//! `pn_dcp.service_type`); requests are those of type 0. mamori: every Ethernet frame
//! of EtherType 0x8892 whose payload [`pn_dcp::parse_frame`] takes, counted the same
//! way; requests are the operations of one [`pn_dcp::Session`] fed every such frame,
//! by `function` (the service id). Names and IPs: per frame, the first
//! `pn_dcp.suboption_device_nameofstation` and `pn_dcp.suboption_ip_ip` against
//! [`pn_dcp::Frame::name_of_station`] and [`pn_dcp::Frame::ip_parameter`].

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use mamori_dissect::ot::l2::L2Operation;
use mamori_dissect::ot::pn_dcp;
use mamori_dissect::record::IdentityFact;
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, MacAddr, Network};

/// Every EtherType 0x8892 frame of `path`: (source, destination, ts, payload).
fn profinet_frames(path: &Path, mut each: impl FnMut(MacAddr, MacAddr, i64, &[u8])) {
    let mut file = CaptureFile::open(path).expect("capture opens");
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::EtherType { ethertype, payload } = frame.network
            && ethertype == pn_dcp::ETHERTYPE
        {
            each(
                frame.l2.src.unwrap_or_default(),
                frame.l2.dst.unwrap_or_default(),
                pkt.ts.0,
                payload,
            );
        }
        if file.advance().is_err() {
            break;
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    frames: BTreeMap<(u8, u8), u64>,
    requests: BTreeMap<u32, u64>,
    names: Vec<Option<String>>,
    ips: Vec<Option<String>>,
}

fn ours(path: &Path) -> (Summary, Vec<L2Operation>, Vec<IdentityFact>) {
    let mut s = Summary::default();
    let mut session = pn_dcp::Session::default();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    profinet_frames(path, |src, dst, ts, payload| {
        if let Some(f) = pn_dcp::parse_frame(payload) {
            *s.frames.entry((f.service_id, f.service_type)).or_insert(0) += 1;
            s.names.push(f.name_of_station());
            s.ips
                .push(f.ip_parameter().map(|[ip, _, _]| ip.to_string()));
        }
        session.on_frame(src, dst, ts, payload, &mut ops, &mut facts);
    });
    session.finish(&mut ops);
    for op in &ops {
        *s.requests.entry(op.op.function.code).or_insert(0) += 1;
    }
    (s, ops, facts)
}

fn theirs(path: &Path) -> Summary {
    let mut s = Summary::default();
    let rows = common::tshark_fields(
        path,
        "pn_dcp",
        &[
            "pn_dcp.service_id",
            "pn_dcp.service_type",
            "pn_dcp.suboption_device_nameofstation",
            "pn_dcp.suboption_ip_ip",
        ],
    );
    for r in rows {
        let num = |i: usize| {
            r[i].first()
                .and_then(|v| v.parse::<u8>().ok())
                .unwrap_or(255)
        };
        let (id, ty) = (num(0), num(1));
        *s.frames.entry((id, ty)).or_insert(0) += 1;
        if ty == 0 {
            *s.requests.entry(u32::from(id)).or_insert(0) += 1;
        }
        s.names.push(r[2].first().cloned());
        s.ips.push(r[3].first().cloned());
    }
    s
}

/// The shared captures with PROFINET traffic (the icsnpp ones carry PROFINET IO CM
/// over UDP and no DCP: both sides must count nothing).
const CAPTURES: [&str; 5] = [
    "iti_ChangeIPUsingDCP.pcap",
    "iti_PROFINET-RT.pcap",
    "iti_mb2.pcap",
    "icsnpp-profinet-io-cm_profinet_io_cm_read.pcapng",
    "icsnpp-profinet-io-cm_profinet_io_cm_release.pcapng",
];

#[test]
fn dcp_services_names_and_ips_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("pn_dcp_vs_tshark") else {
        return;
    };
    if !common::have_tshark("pn_dcp_vs_tshark") {
        return;
    }
    let mut failures = Vec::new();
    for name in CAPTURES {
        let path = dir.join(name);
        let (o, ops, facts) = ours(&path);
        let t = theirs(&path);
        let mut statuses = BTreeMap::new();
        for op in &ops {
            *statuses
                .entry(format!("{} {}", op.op.function.name, op.op.status))
                .or_insert(0) += 1;
        }
        eprintln!(
            "{name}: frames mamori {:?} tshark {:?}; requests mamori {:?} tshark {:?}; \
             {statuses:?}; {} identity facts",
            o.frames,
            t.frames,
            o.requests,
            t.requests,
            facts.len()
        );
        if o != t {
            failures.push(format!("{name}: mamori {o:?} != tshark {t:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The IP change capture, end to end: the set names the new address and succeeds,
/// and the identify response tells who the device is.
#[test]
fn change_ip_capture_is_a_successful_set_ip() {
    let Some(dir) = common::shared_pcaps("change_ip_capture_is_a_successful_set_ip") else {
        return;
    };
    let (_, ops, facts) = ours(&dir.join("iti_ChangeIPUsingDCP.pcap"));
    let set: Vec<_> = ops
        .iter()
        .filter(|o| o.op.function.name == "set_ip")
        .collect();
    assert_eq!(set.len(), 1);
    assert_eq!(
        set[0].op.target,
        "ip 192.168.0.10/255.255.255.0 gw 192.168.0.1 permanent"
    );
    assert_eq!(set[0].op.status.to_string(), "ok");
    assert_eq!(set[0].resp.to_string(), "08:00:06:93:cf:32");
    assert!(facts.iter().any(|f| f.value == "X208-BORD"));
}
