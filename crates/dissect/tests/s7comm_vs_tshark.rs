//! Acceptance: on the shared captures, S7comm requests per function code equal tshark's.
//!
//! Rule: a request is what the PDU says, in either direction (during a download the
//! PLC sends *download block* jobs to the programming device):
//! - a job, tshark 4.0 `s7comm.header.rosctr == 1`, counted by `s7comm.param.func`
//!   (`pdu` = `job`);
//! - a userdata request, `s7comm.header.rosctr == 7` with
//!   `s7comm.param.userdata.type == 4`, counted by `s7comm.param.userdata.funcgroup`
//!   × 256 + `s7comm.param.userdata.subfunc` (`pdu` = `userdata`).
//!
//! Userdata pushes (type 0) and responses (type 8) are not requests. tshark runs with
//! `tcp.analyze_sequence_numbers:FALSE` (with the analysis on it skips frames it marks
//! as retransmissions, even ones that carry new bytes); copies of one PDU are counted
//! once by (TCP stream, `tcp.seq_raw`, position among the frame's S7comm PDUs).
//! mamori: every S7comm operation (one per request, answered or not) by (`pdu`,
//! `function`). S7comm-plus, which tshark 4.0 does not dissect, is reported beside the
//! counts and tested with annotated bytes in the unit tests.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use mamori_dissect::ot::s7comm::{PORT, PROTOCOL, PROTOCOL_PLUS, Parser, Session};
use mamori_dissect::record::{IdentityFact, OtOperation};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::Chunk;

/// Requests per (`pdu` class, function code).
type Counts = BTreeMap<(&'static str, u32), u64>;

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
    facts: Vec<IdentityFact>,
}

/// mamori's S7comm counts, S7comm-plus counts, and identity facts (kind: value).
fn ours(path: &std::path::Path) -> (Counts, Counts, BTreeSet<String>) {
    let (mut counts, mut plus, mut facts) = (Counts::new(), Counts::new(), BTreeSet::new());
    common::replay_tcp::<Flow>(
        path,
        |flow, ports, dir, ts, chunk| {
            let Some(dir) = common::towards_server(PORT, ports, dir) else {
                return;
            };
            let Flow {
                bufs,
                session,
                ops,
                facts,
            } = flow;
            match chunk {
                Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |tpdu| {
                    session.on_tpdu(dir, ts, &tpdu, ops, facts)
                }),
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |ports, mut flow| {
            flow.session.finish(&mut flow.ops);
            let unanswered = flow
                .ops
                .iter()
                .filter(|o| o.status == mamori_dissect::record::Status::NoResponse)
                .count();
            if unanswered > 0 || flow.session.unsolicited > 0 {
                facts.insert(format!(
                    "(flow {:?}: {unanswered} unanswered, {} unsolicited)",
                    ports, flow.session.unsolicited
                ));
            }
            for op in flow.ops {
                let into = match op.protocol {
                    PROTOCOL => &mut counts,
                    PROTOCOL_PLUS => &mut plus,
                    other => panic!("unexpected protocol {other}"),
                };
                *into
                    .entry((op.pdu.unwrap_or("-"), op.function.code))
                    .or_insert(0) += 1;
            }
            for f in flow.facts {
                facts.insert(format!("{:?}: {}", f.kind, f.value));
            }
        },
    );
    (counts, plus, facts)
}

fn theirs(path: &std::path::Path) -> Counts {
    let fields = [
        "tcp.stream",
        "tcp.seq_raw",
        "s7comm.header.rosctr",
        "s7comm.param.func",
        "s7comm.param.userdata.type",
        "s7comm.param.userdata.funcgroup",
        "s7comm.param.userdata.subfunc",
    ];
    let frames = common::tshark_fields_with(
        path,
        &["-o", "tcp.analyze_sequence_numbers:FALSE"],
        "s7comm",
        &fields,
    );
    // tshark prints the function in hex (`0x04`), group and subfunction in decimal.
    let num = |v: &str| v.parse::<u32>().expect("decimal field");
    let mut seen = BTreeSet::new();
    let mut counts = Counts::new();
    for frame in frames {
        let (stream, seq) = (&frame[0][0], &frame[1][0]);
        // Jobs and ack-data carry a function; userdata carries type, group, subfunction.
        let (mut func, mut user) = (frame[3].iter(), 0..);
        for (i, rosctr) in frame[2].iter().enumerate() {
            let first = seen.insert((stream.clone(), seq.clone(), i));
            match rosctr.as_str() {
                "1" | "3" => {
                    let code = func.next().expect("a job has a function");
                    if rosctr == "1" && first {
                        let code = u32::from_str_radix(code.trim_start_matches("0x"), 16)
                            .expect("hex function");
                        *counts.entry(("job", code)).or_insert(0) += 1;
                    }
                }
                "7" => {
                    let u = user.next().unwrap_or(0);
                    let (Some(kind), Some(group), Some(sub)) =
                        (frame[4].get(u), frame[5].get(u), frame[6].get(u))
                    else {
                        continue;
                    };
                    if kind == "4" && first {
                        *counts
                            .entry(("userdata", num(group) * 256 + num(sub)))
                            .or_insert(0) += 1;
                    }
                }
                _ => {}
            }
        }
    }
    counts
}

#[test]
fn s7comm_requests_per_function_code_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("s7comm_vs_tshark") else {
        return;
    };
    if !common::have_tshark("s7comm_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in [
        "iti_step7_s300_stop.pcapng",
        "iti_step7_s300_AuthPassword.pcapng",
        "iti_tia_s300_downloadOb1.pcapng",
        "iti_s7comm_reading_plc_status.pcap",
        "iti_s7comm_varservice_libnodavedemo.pcap",
        "iti_wincc_s400_production.pcapng",
        "iti_mb2.pcap",
        "iti_S7-1511_db3_var1_HMI.pcap",
    ] {
        let path = dir.join(name);
        let ((o, plus, facts), t) = (ours(&path), theirs(&path));
        report.push(format!(
            "{name}: mamori {o:?} tshark {t:?}; s7comm-plus {plus:?}; facts {facts:?}"
        ));
        if o != t {
            failures.push(format!("{name}: mamori {o:?} != tshark {t:?}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// MMS (ISO on port 102 as well) yields no S7 operation.
#[test]
fn mms_on_port_102_is_not_s7() {
    let Some(dir) = common::shared_pcaps("mms_on_port_102_is_not_s7") else {
        return;
    };
    for name in [
        "iti_mms-stopRequest.pcap",
        "iti_8d7c7db0-9804-012b-b2a6-0016cb8cea27.pcap",
    ] {
        let (o, plus, _) = ours(&dir.join(name));
        assert!(o.is_empty() && plus.is_empty(), "{name}: {o:?} {plus:?}");
    }
}

/// S7comm-plus, which tshark 4.0 does not dissect: the requests of
/// `iti_S7-1511_db3_var1_HMI.pcap`, read off its bytes (opcode 0x31 at the fifth byte
/// after the COTP header, function after two reserved bytes): frames 12, 23, 34
/// CreateObject; 3, 5 DeleteObject; 15, 26, 39 SetMultiVariables; 1, 45
/// GetMultiVariables; 42 GetVarSubStreamed.
#[test]
fn s7comm_plus_requests_of_the_s7_1511_capture() {
    let Some(dir) = common::shared_pcaps("s7comm_plus_requests_of_the_s7_1511_capture") else {
        return;
    };
    let (s7, plus, _) = ours(&dir.join("iti_S7-1511_db3_var1_HMI.pcap"));
    assert!(s7.is_empty());
    let expected: Counts = [
        (0x04ca, 3),
        (0x04d4, 2),
        (0x0542, 3),
        (0x054c, 2),
        (0x0586, 1),
    ]
    .into_iter()
    .map(|(code, n)| (("-", code), n))
    .collect();
    assert_eq!(plus, expected);
}

/// The ET 200S CPU of `iti_s7comm_reading_plc_status.pcap` tells its order number,
/// firmware, names and serial through SZL 0x0011 and 0x001C.
#[test]
fn szl_reads_identify_the_et200s_cpu() {
    let Some(dir) = common::shared_pcaps("szl_reads_identify_the_et200s_cpu") else {
        return;
    };
    let (_, _, facts) = ours(&dir.join("iti_s7comm_reading_plc_status.pcap"));
    for fact in [
        "Model: 6ES7 151-8AB01-0AB0",
        "Firmware: V3.2.6",
        "Hostname: IM151-8-CPU",
        "Serial: S C-C6TW74882012",
    ] {
        assert!(facts.contains(fact), "{fact} not in {facts:?}");
    }
}

/// Content decides: on every shared capture, TCP flows that do not use port 102
/// (Modbus, EtherNet/IP, DNP3, HTTP, ...) yield no S7 operation.
#[test]
fn no_s7_off_port_102() {
    let Some(dir) = common::shared_pcaps("no_s7_off_port_102") else {
        return;
    };
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("pcaps directory reads")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap")
        })
        .collect();
    entries.sort();
    for path in entries {
        // Link types the reader does not decode (MS/TP, ...) carry no TCP.
        if mamori_wire::capture::file::CaptureFile::open(&path).is_err() {
            continue;
        }
        let mut found = 0usize;
        common::replay_tcp::<Flow>(
            &path,
            |flow, ports, dir, ts, chunk| {
                if ports.0 == PORT || ports.1 == PORT {
                    return;
                }
                let Flow {
                    bufs,
                    session,
                    ops,
                    facts,
                } = flow;
                match chunk {
                    Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |tpdu| {
                        session.on_tpdu(dir, ts, &tpdu, ops, facts)
                    }),
                    Chunk::Gap(n) => bufs[dir.index()].gap(n),
                }
            },
            |_, mut flow| {
                flow.session.finish(&mut flow.ops);
                found += flow.ops.len();
            },
        );
        assert_eq!(found, 0, "{}", path.display());
    }
}
