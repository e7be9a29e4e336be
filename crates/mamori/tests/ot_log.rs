//! `ot.jsonl` end to end: the dissectors driven by the pipeline give the same requests
//! as the dissector tests (which check them against tshark), identically for any
//! thread count, and name the flows' `service` in `conn.jsonl`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

fn analyze(input: &Path, threads: &str, logs: &Path) -> (Vec<u8>, Vec<u8>) {
    let out = common::run_mamori(&[
        "analyze",
        input.to_str().unwrap(),
        "--threads",
        threads,
        "-q",
        "--logs",
        logs.to_str().unwrap(),
    ]);
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        std::fs::read(logs.join("ot.jsonl")).unwrap(),
        std::fs::read(logs.join("conn.jsonl")).unwrap(),
    )
}

#[test]
fn mixed_plant_capture_gives_its_ot_requests_for_any_thread_count() {
    let Some(shared) = common::shared_pcaps("ot_log") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let input = shared.join("iti_mb2.pcap");
    let (ot1, conn1) = analyze(&input, "1", &dir.path().join("t1"));
    let (ot2, conn2) = analyze(&input, "2", &dir.path().join("t2"));
    assert!(ot1 == ot2, "ot.jsonl differs between 1 and 2 threads");
    assert!(conn1 == conn2, "conn.jsonl differs between 1 and 2 threads");
    let mut counts: BTreeMap<(String, u64), u64> = BTreeMap::new();
    for r in common::read_jsonl(&dir.path().join("t1/ot.jsonl")) {
        *counts
            .entry((
                r["protocol"].as_str().unwrap().to_string(),
                r["function"].as_u64().unwrap(),
            ))
            .or_default() += 1;
    }
    let expected: BTreeMap<(String, u64), u64> = [
        (("cip", 0x01), 57),
        (("cip", 0x0a), 1051),
        (("cip", 0x4c), 7773),
        (("cip", 0x4e), 367),
        (("cip", 0x52), 57),
        (("enip", 0x6f), 57),
        (("enip", 0x70), 1051),
        (("modbus", 1), 345),
        (("modbus", 2), 362),
        (("modbus", 4), 588),
        (("modbus", 15), 498),
        (("s7comm", 4), 1163),
        (("s7comm", 5), 142),
        // The SCALANCE switch's PROFINET DCP identify requests (tshark: 4 in iti_mb2).
        (("profinet-dcp", 5), 4),
    ]
    .into_iter()
    .map(|((p, f), n)| ((p.to_string(), f), n))
    .collect();
    assert_eq!(
        counts, expected,
        "the same counts the dissector tests check against tshark"
    );
    let conns = String::from_utf8_lossy(&conn1);
    for service in ["modbus", "s7comm", "enip"] {
        assert!(
            conns.contains(&format!("\"service\":\"{service}\"")),
            "no flow names {service}"
        );
    }
}

#[test]
fn simulated_attacks_give_control_and_program_operations_identically_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("incident.pcap");
    let out = common::run_mamori(&[
        "simulate",
        "--scenario",
        "incident",
        "--out",
        capture.to_str().unwrap(),
        "--hours",
        "0.3",
        "--format",
        "pcap",
        "--packed-attacks",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ot1, _) = analyze(&capture, "1", &dir.path().join("t1"));
    let (ot2, _) = analyze(&capture, "2", &dir.path().join("t2"));
    assert!(ot1 == ot2, "ot.jsonl differs between 1 and 2 threads");
    let ops = common::read_jsonl(&dir.path().join("t1/ot.jsonl"));
    let stop = ops
        .iter()
        .any(|r| r["protocol"] == "s7comm" && r["function"] == 0x29 && r["category"] == "control");
    assert!(
        stop,
        "the simulated PLC stop is logged as a control operation"
    );
    assert!(
        ops.iter().any(|r| r["category"] == "program"),
        "the simulated program download is logged"
    );
}
