//! Acceptance: on the shared captures, IEC 104 commands per type id equal tshark's.
//!
//! Rule: tshark 4.0's `iec60870_asdu.typeid` on frames whose TCP destination port is
//! 2404 (controlling station to controlled station: the command direction) whose
//! `iec60870_asdu.causetx` is activation (6), one per ASDU (type ids and causes paired
//! by occurrence; a truncated ASDU without a cause, as in `iti_TestDissectIec104.pcap`'s
//! garbage frames, is not an activation), each counted once per (stream, `tcp.seq_raw`,
//! position in the frame). tshark runs with `tcp.analyze_sequence_numbers:FALSE` as in
//! the Modbus test (these captures have no retransmissions). mamori: every `ot`
//! operation of the IEC 104 dissector, by `function` (the type id). mamori logs every
//! control-direction ASDU in the command direction whatever its cause (deactivation,
//! request); in these captures each of them is an activation, so the counts must match.
//!
//! Reports (monitor types 1..=44 and 70, sent from port 2404) are not operations; the
//! session counts them per type id, and those counts are compared with tshark's
//! `iec60870_asdu.typeid` of monitor types on frames from port 2404 too.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use mamori_dissect::ot::iec104::{PORT, Parser, Session, is_monitor_type};
use mamori_dissect::record::{OtOperation, Status};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::Chunk;

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
}

#[derive(Default)]
struct Ours {
    ops: Vec<OtOperation>,
    reports: BTreeMap<u32, u64>,
}

fn ours(path: &Path) -> Ours {
    let mut out = Ours::default();
    common::replay_tcp::<Flow>(
        path,
        |flow, ports, dir, ts, chunk| {
            let Some(dir) = common::towards_server(PORT, ports, dir) else {
                return;
            };
            let Flow { bufs, session, ops } = flow;
            let mut facts = Vec::new();
            match chunk {
                Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |apdu| {
                    session.on_apdu(dir, ts, &apdu, ops, &mut facts)
                }),
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |_, mut flow| {
            flow.session.finish(&mut flow.ops);
            out.ops.append(&mut flow.ops);
            for (t, n) in &flow.session.reports {
                *out.reports.entry(u32::from(*t)).or_insert(0) += n;
            }
        },
    );
    out.ops.sort_by_key(|o| o.ts);
    out
}

/// tshark's ASDUs (type id, cause) per frame matching `filter`, each once per stream position.
fn theirs(path: &Path, filter: &str) -> Vec<(u32, Option<u32>)> {
    let frames = common::tshark_fields_with(
        path,
        &["-o", "tcp.analyze_sequence_numbers:FALSE"],
        filter,
        &[
            "tcp.stream",
            "tcp.seq_raw",
            "iec60870_asdu.typeid",
            "iec60870_asdu.causetx",
        ],
    );
    let mut seen = BTreeSet::new();
    let mut asdus = Vec::new();
    for frame in frames {
        let num = |v: &String| v.parse::<u32>().expect("numeric field");
        let key = (num(&frame[0][0]), num(&frame[1][0]));
        let (types, causes) = (&frame[2], &frame[3]);
        for (i, t) in types.iter().enumerate() {
            if seen.insert((key, i)) {
                asdus.push((num(t), causes.get(i).map(num)));
            }
        }
        // Pairing by occurrence is only sound when every ASDU has its cause, or none.
        assert!(
            causes.is_empty() || causes.len() == types.len(),
            "{key:?}: {types:?} {causes:?}"
        );
    }
    asdus
}

const CAPTURES: [&str; 3] = [
    "iti_TestDissectIec104.pcap",
    "emreekin_Logfile_IEC104.pcap",
    "automayt_IEC104_SQ.pcapng",
];

#[test]
fn iec104_commands_per_type_id_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("iec104_vs_tshark") else {
        return;
    };
    if !common::have_tshark("iec104_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in CAPTURES {
        let path = dir.join(name);
        let o = ours(&path);
        let mut mine = BTreeMap::new();
        for op in &o.ops {
            *mine.entry(op.function.code).or_insert(0u64) += 1;
        }
        let mut commands = BTreeMap::new();
        for (t, cause) in theirs(&path, "iec60870_asdu && tcp.dstport == 2404") {
            if cause == Some(6) {
                *commands.entry(t).or_insert(0u64) += 1;
            }
        }
        let mut reports = BTreeMap::new();
        for (t, _) in theirs(&path, "iec60870_asdu && tcp.srcport == 2404") {
            if u8::try_from(t).is_ok_and(is_monitor_type) {
                *reports.entry(t).or_insert(0u64) += 1;
            }
        }
        report.push(format!(
            "{name}: commands mamori {mine:?} tshark {commands:?}; reports mamori {:?} tshark {reports:?}",
            o.reports
        ));
        if mine != commands {
            failures.push(format!(
                "{name}: commands mamori {mine:?} != tshark {commands:?}"
            ));
        }
        if o.reports != reports {
            failures.push(format!(
                "{name}: reports mamori {:?} != tshark {reports:?}",
                o.reports
            ));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The commands of `iti_TestDissectIec104.pcap`, end to end: names, targets, statuses
/// (frame 134 is a negative activation confirmation; frame 136's command is never
/// confirmed before the connection closes).
#[test]
fn iec104_operations_on_the_iti_capture() {
    let Some(dir) = common::shared_pcaps("iec104_operations_on_the_iti_capture") else {
        return;
    };
    let o = ours(&dir.join("iti_TestDissectIec104.pcap"));
    let got: Vec<String> = o
        .ops
        .iter()
        .map(|op| {
            format!(
                "{} {} {} {}",
                op.function.name, op.function.category, op.target, op.status
            )
        })
        .collect();
    eprintln!("{got:#?}");
    assert_eq!(
        got,
        [
            "interrogation read ca 37133 ioa 0 ok",
            "double_command control ca 37133 ioa 15000 exception:7",
            "single_command control ca 37133 ioa 10010 ok",
            "single_command control ca 37133 ioa 10010 ok",
            "single_command control ca 37133 ioa 22222 exception:7",
            "single_command control ca 37133 ioa 33333 no_response",
            "clock_synchronization other ca 37133 ioa 0 ok",
        ]
    );
    assert!(
        o.ops
            .iter()
            .all(|op| op.status != Status::NoResponse || op.target.ends_with("33333"))
    );
}
