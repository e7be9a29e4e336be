//! CC-Link IE Field Basic and CC-Link IE Field/Control on NTT Com's public captures
//! (tshark 4.0 dissects neither; the field-by-field checks are the byte-array tests in
//! the modules). Here every frame of each capture goes through the dissector, and
//! what it counts is compared with what tshark's framing sees: per frame type (the
//! first payload byte of each EtherType 0x890F frame) and per CCIEFB direction (the
//! SLMP subheader 0x50 request or 0xD0 response of each UDP 61450 datagram).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use mamori_dissect::ot::{cclink_ie, cclink_iefb};
use mamori_flow::Direction;
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, Network};

/// First payload byte per frame, as tshark reads the capture.
fn tshark_first_bytes(path: &Path, filter: &str, field: &str) -> BTreeMap<u8, u64> {
    let mut counts = BTreeMap::new();
    for row in common::tshark_fields(path, filter, &[field]) {
        if let Some(b) = row[0]
            .first()
            .and_then(|h| u8::from_str_radix(h.get(..2)?, 16).ok())
        {
            *counts.entry(b).or_insert(0) += 1;
        }
    }
    counts
}

#[test]
fn cclink_ie_frame_types_equal_tsharks_framing() {
    let Some(dir) = common::shared_pcaps("cclink_ie_frame_types_equal_tsharks_framing") else {
        return;
    };
    let path = dir.join("nttcom-cclinkief_cc_link_ief.pcap");
    let mut session = cclink_ie::Session::default();
    let (mut ops, mut counts) = (Vec::new(), Vec::new());
    let mut file = CaptureFile::open(&path).expect("capture opens");
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::EtherType { ethertype, payload } = frame.network
            && ethertype == cclink_ie::ETHERTYPE
        {
            session.on_frame(
                frame.l2.src.unwrap_or_default(),
                frame.l2.dst.unwrap_or_default(),
                pkt.ts.0,
                payload,
                &mut ops,
                &mut counts,
            );
        }
        if file.advance().is_err() {
            break;
        }
    }
    session.finish(&mut ops, &mut counts);
    let ours: BTreeMap<u8, u64> = (0..=255u8)
        .filter(|&t| session.frame_types[usize::from(t)] > 0)
        .map(|t| (t, session.frame_types[usize::from(t)]))
        .collect();
    // The capture's transients carry no command: nothing is an operation, all 500
    // frames are counted, in one minute, each of the 22 frame types once per node.
    assert!(ops.is_empty());
    assert_eq!(counts.iter().map(|a| a.count).sum::<u64>(), 500);
    assert_eq!(counts.len(), 22);
    assert!(
        counts
            .iter()
            .all(|a| a.op.pdu == Some("field") && a.op.flags.0 == 0)
    );
    assert!(
        counts
            .iter()
            .all(|a| !a.op.function.name.starts_with("unknown")
                || matches!(a.key.frame_type, 0x22 | 0x25))
    );
    let cyclic: u64 = counts
        .iter()
        .filter(|a| a.op.function.category.as_str() == "cyclic")
        .map(|a| a.count)
        .sum();
    eprintln!("cc_link_ief: per frame type {ours:?}; cyclic frames {cyclic}");
    if !common::have_tshark("cclink_ie_frame_types_equal_tsharks_framing") {
        return;
    }
    let theirs = tshark_first_bytes(&path, "eth.type == 0x890f", "data.data");
    assert_eq!(ours, theirs);
}

#[test]
fn cclink_iefb_requests_and_responses_equal_tsharks_framing() {
    let Some(dir) = common::shared_pcaps("cclink_iefb_requests_and_responses") else {
        return;
    };
    let path = dir.join("nttcom-cclinkiefb_cclink_ief_basic_only.pcap");
    type Endpoint = (std::net::IpAddr, u16);
    let mut sessions: HashMap<(Endpoint, Endpoint), cclink_iefb::Session> = HashMap::new();
    let (mut ops, mut cyclic, mut facts) = (Vec::new(), Vec::new(), Vec::new());
    let mut minutes = BTreeMap::new();
    common::replay_udp(&path, |src, dst, ts, payload| {
        let taken = sessions.entry((src, dst)).or_default().on_datagram(
            Direction::Orig,
            ts,
            payload,
            &mut ops,
            &mut cyclic,
            &mut facts,
        );
        if taken {
            minutes.insert((src, ts.div_euclid(60_000_000_000)), ());
        }
    });
    for s in sessions.values_mut() {
        s.finish(&mut ops, &mut cyclic);
    }
    let mut ours = BTreeMap::new();
    for a in &cyclic {
        let first = if a.op.pdu == Some("request") {
            0x50
        } else {
            0xd0
        };
        *ours.entry(first).or_insert(0u64) += a.count;
    }
    assert!(ops.is_empty() && facts.is_empty());
    // One record per flow and minute: nothing in these link scans changes.
    assert_eq!(cyclic.len(), minutes.len());
    assert!(
        cyclic
            .iter()
            .all(|a| a.op.status.to_string() == "ok" && a.op.flags.0 == 0)
    );
    assert!(cyclic.iter().any(|a| a.op.target
        == "group 1 stations 1 master 172.16.134.128 running parameter 11"));
    assert!(
        cyclic
            .iter()
            .any(|a| a.op.target == "group 1 slave 172.16.134.129 running")
    );
    eprintln!(
        "cclink_ief_basic: {ours:?} (0x50 requests, 0xd0 responses) in {} records",
        cyclic.len()
    );
    if !common::have_tshark("cclink_iefb_requests_and_responses") {
        return;
    }
    let theirs = tshark_first_bytes(&path, "udp.port == 61450", "udp.payload");
    assert_eq!(ours, theirs);
}
