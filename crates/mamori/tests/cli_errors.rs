//! Bad input gives clear errors, never panics, and loses nothing already stored.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use mamori_store::{RunStatus, SqliteStore, Store};
use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::MacAddr;
use mamori_wire::{LinkType, Timestamp};

/// Writes `n` UDP packets between two hosts, one per flow (distinct source ports).
fn write_capture(path: &Path, n: u16) {
    let mut w = CaptureWriter::new(
        BufWriter::new(File::create(path).unwrap()),
        WriteFormat::Pcap,
        LinkType::ETHERNET,
    )
    .unwrap();
    let eth = EthernetSpec {
        src: MacAddr([0, 0x80, 0xf4, 0, 0, 1]),
        dst: MacAddr([0, 0x80, 0xf4, 0, 0, 2]),
        vlan: None,
    };
    let (a, b) = (
        IpAddr::V4(Ipv4Addr::new(10, 1, 1, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 1, 1, 2)),
    );
    for i in 0..n {
        let mut f = Vec::new();
        build::ip_frame(
            &mut f,
            &eth,
            a,
            b,
            64,
            i,
            &L4::Udp {
                src_port: 30_000 + i,
                dst_port: 502,
                payload: b"abcd",
            },
        );
        w.write_packet(Timestamp::from_secs(1_700_000_000 + i64::from(i)), &f)
            .unwrap();
    }
    w.finish().unwrap();
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_missing_file_is_named_and_nothing_runs() {
    let out = common::run_mamori(&["analyze", "/nonexistent/plant.pcap", "--no-db", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/nonexistent/plant.pcap: no such file"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_file_that_is_not_a_capture_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.pcap");
    std::fs::write(&path, b"this is a text file, not a capture").unwrap();
    let out = common::run_mamori(&["analyze", path.to_str().unwrap(), "--no-db", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not a pcap or pcapng file"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn an_empty_glob_and_an_empty_folder_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let glob = format!("{}/*.pcap", dir.path().display());
    let out = common::run_mamori(&["analyze", &glob, "--no-db", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no file matches"), "{}", stderr(&out));
    let out = common::run_mamori(&["analyze", dir.path().to_str().unwrap(), "--no-db", "-q"]);
    assert!(
        stderr(&out).contains("holds no capture files"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_truncated_capture_keeps_what_came_before_and_earlier_runs_stay_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("store.db");
    let good = dir.path().join("good.pcap");
    write_capture(&good, 10);
    let out = common::run_mamori(&[
        "analyze",
        good.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "-q",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));

    // Cut the file in the middle of its last record.
    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 20]).unwrap();
    let logs = dir.path().join("logs");
    let out = common::run_mamori(&[
        "analyze",
        cut.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--logs",
        logs.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "damaged input exits with 2: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(
        err.contains("truncated at byte") && err.contains("kept the 9 packets"),
        "{err}"
    );
    let conns = common::read_jsonl(&logs.join("conn.jsonl"));
    assert_eq!(
        conns.len(),
        9,
        "the nine whole records before the damage are analysed"
    );

    let store = SqliteStore::open(&db).unwrap();
    let runs = store.runs().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].status, RunStatus::Ok);
    assert_eq!(runs[0].packets, 10);
    assert_eq!(runs[1].status, RunStatus::DamagedInput);
    assert_eq!(runs[1].packets, 9);
    assert!(
        runs[1].inputs[0]
            .error
            .as_deref()
            .unwrap_or("")
            .contains("truncated")
    );
    let totals = store.flow_totals(&Default::default()).unwrap();
    assert_eq!(totals.conns, 19, "both runs' flows are kept");
}

#[test]
fn lying_lengths_and_zero_length_records_are_reported_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.pcap");
    write_capture(&good, 3);
    let mut bytes = std::fs::read(&good).unwrap();
    // A zero-length record after the file header, then the three good ones.
    let mut zero = bytes[..24].to_vec();
    zero.extend_from_slice(&[0x00, 0xf1, 0x53, 0x65, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    zero.extend_from_slice(&bytes[24..]);
    let zero_path = dir.path().join("zero.pcap");
    std::fs::write(&zero_path, &zero).unwrap();
    let out = common::run_mamori(&["analyze", zero_path.to_str().unwrap(), "--no-db", "-q"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("4 packets"),
        "the empty record counts as an undecodable packet"
    );

    // The first record claims 4 GiB.
    bytes[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let lying = dir.path().join("lying.pcap");
    std::fs::write(&lying, &bytes).unwrap();
    let out = common::run_mamori(&["analyze", lying.to_str().unwrap(), "--no-db", "-q"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "no packet could be read: {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("exceeds the"), "{}", stderr(&out));
}

#[test]
fn an_unknown_link_type_is_named_and_other_files_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a-good.pcap");
    write_capture(&good, 2);
    let mut odd = std::fs::read(&good).unwrap();
    odd[20..24].copy_from_slice(&147u32.to_le_bytes()); // LINKTYPE_USER0
    std::fs::write(dir.path().join("b-user0.pcap"), &odd).unwrap();
    let out = common::run_mamori(&["analyze", dir.path().to_str().unwrap(), "--no-db", "-q"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unsupported link type 147 (USER)"),
        "{}",
        stderr(&out)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("2 packets"));
}
