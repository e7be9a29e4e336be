//! Acceptance: on the shared captures with EtherNet/IP on TCP, requests per
//! encapsulation command and per CIP service equal tshark's.
//!
//! Rule: tshark 4.0's `enip.command` and `cip.service` on frames whose TCP destination
//! port is 44818 (client to server: requests). `cip.service` values with the response
//! bit (0x80) set are skipped; tshark lists the services embedded in
//! Multiple_Service_Packet and Unconnected_Send as further `cip.service` values, as
//! mamori emits further operations for them. tshark runs with
//! `tcp.analyze_sequence_numbers:FALSE` (with the analysis on it skips frames it marks
//! as retransmissions), so copies of a segment are counted once, by their position
//! in the TCP stream (`tcp.stream`, `tcp.seq_raw`). mamori: every `enip` and `cip`
//! operation of the EtherNet/IP dissector (one per request, answered or not), by
//! `function`.
//!
//! Responses are checked too: every reply from port 44818 answers a request
//! (`unsolicited` is 0), and the non-zero statuses mamori merged into its records
//! (`exception:<code>`) are, code by code, the non-zero `enip.status` and
//! `cip.genstat` values tshark shows in those replies (embedded replies included).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use mamori_dissect::ot::enip::{PORT, Parser, Session};
use mamori_dissect::record::{OtOperation, Status};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::Chunk;

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
}

/// Counts per (protocol, code); also per non-zero status (`STATUS`) and the responses
/// that matched no request (`unsolicited`, 0 when all matched).
type Counts = BTreeMap<(&'static str, u32), u64>;

/// The key of non-zero statuses in [`Counts`].
const STATUS: &str = "status";

fn ours(path: &std::path::Path) -> Counts {
    let mut counts = Counts::new();
    common::replay_tcp::<Flow>(
        path,
        |flow, ports, dir, ts, chunk| {
            let Some(dir) = common::towards_server(PORT, ports, dir) else {
                return;
            };
            let Flow { bufs, session, ops } = flow;
            let mut facts = Vec::new();
            match chunk {
                Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |e| {
                    session.on_encap(dir, ts, &e, ops, &mut facts)
                }),
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |_, mut flow| {
            flow.session.finish(&mut flow.ops);
            *counts.entry(("unsolicited", 0)).or_insert(0) += flow.session.unsolicited;
            for op in flow.ops {
                *counts.entry((op.protocol, op.function.code)).or_insert(0) += 1;
                if let Status::Exception(code) = op.status {
                    *counts.entry((STATUS, code)).or_insert(0) += 1;
                }
            }
        },
    );
    counts
}

fn theirs(path: &std::path::Path) -> Counts {
    let fields = ["tcp.stream", "tcp.seq_raw", "enip.command", "cip.service"];
    let frames = common::tshark_fields_with(
        path,
        &["-o", "tcp.analyze_sequence_numbers:FALSE"],
        "enip && tcp.dstport == 44818",
        &fields,
    );
    let mut seen = BTreeSet::new();
    let mut counts = Counts::new();
    let hex = |v: &String| u32::from_str_radix(v.trim_start_matches("0x"), 16).expect("hex code");
    for frame in frames {
        if !seen.insert((frame[0].clone(), frame[1].clone())) {
            continue;
        }
        for c in &frame[2] {
            *counts.entry(("enip", hex(c))).or_insert(0) += 1;
        }
        for s in &frame[3] {
            let s = hex(s);
            if s & 0x80 == 0 {
                *counts.entry(("cip", s)).or_insert(0) += 1;
            }
        }
    }
    // Replies: non-zero encapsulation and CIP general statuses, which mamori merges
    // into the requests' records (checks that every reply found its request).
    let replies = common::tshark_fields_with(
        path,
        &["-o", "tcp.analyze_sequence_numbers:FALSE"],
        "enip && tcp.srcport == 44818",
        &["tcp.stream", "tcp.seq_raw", "enip.status", "cip.genstat"],
    );
    counts.insert(("unsolicited", 0), 0);
    let mut seen = BTreeSet::new();
    for frame in replies {
        if !seen.insert((frame[0].clone(), frame[1].clone())) {
            continue;
        }
        for s in frame[2].iter().chain(&frame[3]) {
            let s = hex(s);
            if s != 0 {
                *counts.entry((STATUS, s)).or_insert(0) += 1;
            }
        }
    }
    counts
}

#[test]
fn enip_and_cip_requests_per_code_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("enip_vs_tshark") else {
        return;
    };
    if !common::have_tshark("enip_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in [
        "iti_enip_test.pcap",
        "iti_cip_stop_plc.pcap",
        "icsnpp-enip_set_attribute_single_service_cip.pcapng",
        "iti_cip-multiple-1.pcap",
        "emreekin_ControlLogix_FactoryTalk_HMI.pcap",
        "emreekin_ControlLogix_Logix5000_download_upload_run.pcap",
        "iti_mb2.pcap",
    ] {
        let path = dir.join(name);
        let (o, t) = (ours(&path), theirs(&path));
        report.push(format!("{name}: mamori {o:?} tshark {t:?}"));
        if o != t {
            failures.push(format!("{name}: mamori {o:?} != tshark {t:?}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
