//! Acceptance: on the shared captures, Modbus requests per function code equal tshark's.
//!
//! Rule: tshark 4.0's `modbus.func_code` on frames whose TCP destination port is 502
//! (client to server: requests), each ADU counted once per position in its TCP stream.
//! tshark runs with `tcp.analyze_sequence_numbers:FALSE`, because with the analysis on
//! it skips every frame it marks as a retransmission, even one that also carries new
//! bytes (`iti_mb2.pcap` has four such requests); with it off, it dissects every copy,
//! so copies are counted once by their stream offset (`tcp.seq_raw` plus the lengths
//! of the ADUs before them in the frame). mamori: every `ot` operation of the Modbus
//! dissector (one per request, answered or not), by `function`. Exception bits are not
//! part of a request's code.

mod common;

use std::collections::BTreeMap;

use mamori_dissect::ot::modbus::{PORT, Parser, Session};
use mamori_dissect::record::OtOperation;
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::Chunk;

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
}

fn ours(path: &std::path::Path) -> BTreeMap<u32, u64> {
    let mut counts = BTreeMap::new();
    common::replay_tcp::<Flow>(
        path,
        |flow, ports, dir, ts, chunk| {
            let Some(dir) = common::towards_server(PORT, ports, dir) else {
                return;
            };
            let Flow { bufs, session, ops } = flow;
            let mut facts = Vec::new();
            match chunk {
                Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |adu| {
                    session.on_adu(dir, ts, &adu, ops, &mut facts)
                }),
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |_, mut flow| {
            flow.session.finish(&mut flow.ops);
            for op in flow.ops {
                *counts.entry(op.function.code).or_insert(0) += 1;
            }
        },
    );
    counts
}

fn theirs(path: &std::path::Path) -> BTreeMap<u32, u64> {
    let fields = ["tcp.stream", "tcp.seq_raw", "mbtcp.len", "modbus.func_code"];
    let frames = common::tshark_fields_with(
        path,
        &["-o", "tcp.analyze_sequence_numbers:FALSE"],
        "mbtcp && tcp.dstport == 502",
        &fields,
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut counts = BTreeMap::new();
    for frame in frames {
        let num = |v: &String| v.parse::<u64>().expect("numeric field");
        let (stream, seq) = (num(&frame[0][0]), num(&frame[1][0]));
        let mut offset = seq;
        for (len, code) in frame[2].iter().zip(&frame[3]) {
            if seen.insert((stream, offset)) {
                *counts
                    .entry(code.parse::<u32>().expect("numeric code") & 0x7f)
                    .or_insert(0) += 1;
            }
            offset += 6 + num(len);
        }
    }
    counts
}

#[test]
fn modbus_requests_per_function_code_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("modbus_vs_tshark") else {
        return;
    };
    if !common::have_tshark("modbus_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in [
        "icsnpp-modbus_modbus_example.pcap",
        "emreekin_modbus-mask-write-register.pcap",
        "emreekin_modbus-read-write-multiple-registers.pcap",
        "emreekin_modbusAnalog.pcap",
        "emreekin_IllegalFunction.pcap",
        "zeek_modbusSmall.pcap",
        "zeek_modbus-eit.pcap",
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

/// `zeek_fuzz-72.pcap` is fuzzed Modbus: sequence numbers jump, lengths lie. There is
/// no right count to agree on (tshark and mamori resynchronise differently), so it is
/// a robustness check: no panic, and the undefined function codes are still seen.
#[test]
fn fuzzed_modbus_is_survived() {
    let Some(dir) = common::shared_pcaps("fuzzed_modbus_is_survived") else {
        return;
    };
    let counts = ours(&dir.join("zeek_fuzz-72.pcap"));
    assert!(counts.len() >= 10, "{counts:?}");
    assert!(counts.keys().all(|&c| c < 128));
}
