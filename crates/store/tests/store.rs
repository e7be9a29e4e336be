//! End-to-end tests of the SQLite store and the writer thread.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use mamori_store::{
    ConnSummary, FlowFilter, FlowHourly, FlowKey, FlowSums, FlowTotals, HOUR_NANOS, NewRun,
    RunFinish, RunId, RunInput, RunRecord, RunStatus, SCHEMA_VERSION, SqliteStore, Store,
    StoreError, StoreWriter, WriterConfig,
};
use proptest::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 2026-05-01T00:00:00Z in nanoseconds: an hour boundary.
const T0: i64 = 1_777_593_600 * 1_000_000_000;

fn temp_db() -> Result<(tempfile::TempDir, PathBuf), std::io::Error> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("mamori.db");
    Ok((dir, path))
}

fn new_run(command: &str, inputs: &[&str]) -> NewRun {
    NewRun {
        command: command.into(),
        started_at: 1_000,
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        threads: 2,
        version: "0.1.0".into(),
    }
}

fn ip4(d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 168, 0, d))
}

fn conn(ts: i64, orig: u8, resp: u8, resp_p: u16, run: RunId) -> ConnSummary {
    ConnSummary {
        ts,
        orig_h: ip4(orig),
        resp_h: ip4(resp),
        proto: 6,
        resp_p,
        service: Some("modbus".into()),
        vlan: Some(10),
        orig_pkts: 4,
        resp_pkts: 3,
        orig_bytes: 24,
        resp_bytes: 19,
        orig_ip_bytes: 232,
        resp_ip_bytes: 175,
        duration_nanos: 2_000_000,
        run_id: run,
    }
}

fn all() -> FlowFilter {
    FlowFilter::default()
}

// ---------------------------------------------------------------------------
// Schema and migrations

#[test]
fn migrations_apply_on_a_fresh_db_and_reopen_is_idempotent() -> TestResult {
    let (_dir, path) = temp_db()?;
    {
        let store = SqliteStore::open(&path)?;
        assert_eq!(store.schema_version()?, SCHEMA_VERSION);
        store.start_run(&new_run("analyze", &["a.pcap"]))?;
    }
    for _ in 0..2 {
        let store = SqliteStore::open(&path)?;
        assert_eq!(store.schema_version()?, SCHEMA_VERSION);
        assert_eq!(store.runs()?.len(), 1, "reopening keeps the data");
    }
    // Each migration is recorded exactly once, and the file is in WAL mode.
    let raw = rusqlite::Connection::open(&path)?;
    let recorded: i64 = raw.query_row("SELECT count(*) FROM schema_version", [], |r| r.get(0))?;
    assert_eq!(recorded, i64::from(SCHEMA_VERSION));
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    assert_eq!(mode, "wal");
    Ok(())
}

#[test]
fn a_store_from_a_newer_mamori_is_refused() -> TestResult {
    let (_dir, path) = temp_db()?;
    drop(SqliteStore::open(&path)?);
    let raw = rusqlite::Connection::open(&path)?;
    raw.execute(
        "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, 'future', 0)",
        [SCHEMA_VERSION + 1],
    )?;
    drop(raw);

    let refused = |r: Result<SqliteStore, StoreError>| match r {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (SCHEMA_VERSION + 1, SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    };
    refused(SqliteStore::open(&path));
    refused(SqliteStore::open_read_only(&path));

    // The refusal changed nothing.
    let raw = rusqlite::Connection::open(&path)?;
    let max: i64 = raw.query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))?;
    assert_eq!(max, i64::from(SCHEMA_VERSION + 1));
    Ok(())
}

#[test]
fn read_only_open_of_an_unmigrated_file_asks_for_an_upgrade() -> TestResult {
    let (_dir, path) = temp_db()?;
    rusqlite::Connection::open(&path)?.execute_batch("CREATE TABLE unrelated (x)")?;
    match SqliteStore::open_read_only(&path) {
        Err(StoreError::OutdatedSchema { found, required }) => {
            assert_eq!((found, required), (0, SCHEMA_VERSION));
        }
        other => panic!("expected OutdatedSchema, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_an_open_error() -> TestResult {
    let (_dir, path) = temp_db()?;
    std::fs::write(
        &path,
        b"this is a pcap, not a database, and it is long enough.....",
    )?;
    let err = SqliteStore::open(&path).err();
    assert!(
        matches!(
            err,
            Some(StoreError::Open { .. } | StoreError::Sqlite { .. })
        ),
        "{err:?}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Runs

#[test]
fn a_run_is_recorded_at_start_and_completed_at_finish() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = SqliteStore::open(&path)?;
    let id = store.start_run(&new_run("analyze", &["day1.pcapng", "day2.pcap"]))?;

    let started = store.run(id)?.ok_or("run missing")?;
    assert_eq!(started.status, RunStatus::Running);
    assert_eq!(started.finished_at, None);
    assert_eq!(
        started.inputs,
        vec![
            RunInput::unread("day1.pcapng"),
            RunInput::unread("day2.pcap")
        ]
    );

    let finish = RunFinish {
        finished_at: 2_000,
        inputs: vec![
            RunInput {
                path: "day1.pcapng".into(),
                packets: 10,
                bytes: 1_000,
                error: None,
            },
            RunInput {
                path: "day2.pcap".into(),
                packets: 5,
                bytes: 400,
                error: Some("truncated record at offset 424".into()),
            },
        ],
        packets: 15,
        bytes: 1_400,
        flows: 3,
        duplicates: 1,
        decode_errors: 2,
        evictions: 0,
        elapsed_secs: 0.25,
        status: RunStatus::DamagedInput,
    };
    store.finish_run(id, &finish)?;
    let second = store.start_run(&new_run("analyze", &[]))?;

    let runs = store.runs()?;
    assert_eq!(runs.len(), 2);
    let expected = RunRecord {
        id,
        command: "analyze".into(),
        started_at: 1_000,
        finished_at: Some(2_000),
        inputs: finish.inputs.clone(),
        packets: 15,
        bytes: 1_400,
        flows: 3,
        duplicates: 1,
        decode_errors: 2,
        evictions: 0,
        elapsed_secs: 0.25,
        threads: 2,
        status: RunStatus::DamagedInput,
        version: "0.1.0".into(),
    };
    assert_eq!(runs[0], expected);
    assert_eq!(runs[1].id, second);
    assert!(runs[1].inputs.is_empty());
    assert_eq!(store.run(RunId(9_999))?, None);
    Ok(())
}

#[test]
fn finishing_a_missing_run_or_as_running_is_refused() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = SqliteStore::open(&path)?;
    let mut finish = RunFinish {
        finished_at: 1,
        inputs: vec![],
        packets: 0,
        bytes: 0,
        flows: 0,
        duplicates: 0,
        decode_errors: 0,
        evictions: 0,
        elapsed_secs: 0.0,
        status: RunStatus::Ok,
    };
    assert!(matches!(
        store.finish_run(RunId(42), &finish),
        Err(StoreError::UnknownRun(RunId(42)))
    ));
    let id = store.start_run(&new_run("analyze", &["x.pcap"]))?;
    finish.status = RunStatus::Running;
    assert!(matches!(
        store.finish_run(id, &finish),
        Err(StoreError::FinishedAsRunning)
    ));
    finish.status = RunStatus::Ok;
    finish.packets = u64::MAX;
    assert!(matches!(
        store.finish_run(id, &finish),
        Err(StoreError::OutOfRange {
            field: "packets",
            ..
        })
    ));
    // None of the refusals touched the run.
    let run = store.run(id)?.ok_or("run missing")?;
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.inputs, vec![RunInput::unread("x.pcap")]);
    Ok(())
}

// ---------------------------------------------------------------------------
// Writer and flow aggregates

#[test]
fn the_writer_aggregates_across_batches() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);
    let run = store.start_run(&new_run("analyze", &[]))?;
    let config = WriterConfig {
        queue: 8,
        max_keys: 1_000,
        max_messages: 3,
    };
    let writer = StoreWriter::spawn(store.clone(), config)?;
    // 10 connections to one key in hour 0, 2 to another key, 1 in hour 1.
    for i in 0..10 {
        writer.send(conn(T0 + i * 1_000_000_000, 1, 2, 502, run))?;
    }
    writer.send(conn(T0 + 5, 3, 2, 502, run))?;
    writer.send(conn(T0 + 7, 3, 2, 502, run))?;
    writer.send(conn(T0 + HOUR_NANOS + 1, 1, 2, 502, run))?;
    let stats = writer.finish()?;
    assert_eq!(stats.conns, 13);
    assert_eq!(stats.transactions, 5, "13 connections at 3 per write");
    assert!(stats.rows >= 3);

    let rows = store.flow_hourly(&all())?;
    assert_eq!(rows.len(), 3);
    let first = &rows[0];
    assert_eq!(
        first.key,
        FlowKey {
            hour: T0,
            orig_h: ip4(1),
            resp_h: ip4(2),
            proto: 6,
            resp_p: 502,
            service: Some("modbus".into()),
            vlan: Some(10),
        }
    );
    assert_eq!(
        first.sums,
        FlowSums {
            conns: 10,
            orig_pkts: 40,
            resp_pkts: 30,
            orig_bytes: 240,
            resp_bytes: 190,
            orig_ip_bytes: 2_320,
            resp_ip_bytes: 1_750,
            duration_nanos: 20_000_000,
            first_seen: T0,
            last_seen: T0 + 9_000_000_000 + 2_000_000,
        }
    );
    assert_eq!(first.last_run, Some(run));
    assert_eq!(rows[1].key.orig_h, ip4(3));
    assert_eq!(rows[1].sums.conns, 2);
    assert_eq!(rows[2].key.hour, T0 + HOUR_NANOS);

    let totals = store.flow_totals(&all())?;
    assert_eq!(totals.rows, 3);
    assert_eq!(totals.conns, 13);
    assert_eq!(totals.orig_pkts, 52);
    assert_eq!(totals.first_seen, Some(T0));
    assert_eq!(totals.last_seen, Some(T0 + HOUR_NANOS + 1 + 2_000_000));
    Ok(())
}

#[test]
fn a_second_run_over_the_same_hour_adds_to_the_row() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);

    let run1 = store.start_run(&new_run("analyze", &["monday.pcap"]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    writer.send(conn(T0 + 100, 1, 2, 502, run1))?;
    writer.send(conn(T0 + 200, 1, 2, 502, run1))?;
    writer.finish()?;

    let run2 = store.start_run(&new_run("analyze", &["monday-again.pcap"]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    let mut later = conn(T0 + 50, 1, 2, 502, run2);
    later.duration_nanos = HOUR_NANOS; // ends after everything else
    writer.send(later)?;
    writer.finish()?;

    let rows = store.flow_hourly(&all())?;
    assert_eq!(rows.len(), 1, "same key, same hour: one row");
    let s = rows[0].sums;
    assert_eq!(s.conns, 3);
    assert_eq!(s.orig_pkts, 12);
    assert_eq!(s.resp_ip_bytes, 525);
    assert_eq!(s.duration_nanos, 4_000_000 + HOUR_NANOS as u64);
    assert_eq!(s.first_seen, T0 + 50);
    assert_eq!(s.last_seen, T0 + 50 + HOUR_NANOS);
    assert_eq!(rows[0].last_run, Some(run2));
    Ok(())
}

#[test]
fn keys_round_trip_with_ipv6_no_service_and_no_vlan() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);
    let run = store.start_run(&new_run("analyze", &[]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    let mut c = conn(T0 - 1, 1, 2, 0, run); // the hour before T0
    c.orig_h = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1));
    c.resp_h = IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1));
    c.proto = 58;
    c.service = None;
    c.vlan = None;
    writer.send(c.clone())?;
    // The empty service string is the same key as none.
    c.service = Some(String::new());
    writer.send(c.clone())?;
    c.vlan = Some(0); // priority-tagged is a different key from untagged
    writer.send(c.clone())?;
    writer.finish()?;

    let rows = store.flow_hourly(&all())?;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].key.hour, T0 - HOUR_NANOS);
    assert_eq!(rows[0].key.orig_h, c.orig_h);
    assert_eq!(rows[0].key.resp_h, c.resp_h);
    assert_eq!(rows[0].key.proto, 58);
    assert_eq!(rows[0].key.service, None);
    let by_vlan: BTreeMap<Option<u16>, u64> =
        rows.iter().map(|r| (r.key.vlan, r.sums.conns)).collect();
    assert_eq!(by_vlan, BTreeMap::from([(None, 2), (Some(0), 1)]));
    Ok(())
}

#[test]
fn filters_select_by_time_host_and_limit() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);
    let run = store.start_run(&new_run("analyze", &[]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    for hour in 0..4 {
        writer.send(conn(T0 + hour * HOUR_NANOS, 1, 2, 502, run))?;
        writer.send(conn(T0 + hour * HOUR_NANOS, 3, 4, 102, run))?;
    }
    writer.finish()?;

    let window = FlowFilter {
        from: Some(T0 + HOUR_NANOS),
        to: Some(T0 + 3 * HOUR_NANOS),
        ..all()
    };
    let rows = store.flow_hourly(&window)?;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.key.hour >= T0 + HOUR_NANOS));
    assert!(rows.iter().all(|r| r.key.hour < T0 + 3 * HOUR_NANOS));

    let host = FlowFilter {
        host: Some(ip4(4)),
        ..all()
    };
    let rows = store.flow_hourly(&host)?;
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.key.resp_h == ip4(4)));
    let host = FlowFilter {
        host: Some(ip4(3)),
        ..window
    };
    assert_eq!(store.flow_totals(&host)?.conns, 2);

    let limited = FlowFilter {
        limit: Some(3),
        ..all()
    };
    let rows = store.flow_hourly(&limited)?;
    assert_eq!(rows.len(), 3);
    assert_eq!(store.flow_totals(&limited)?.rows, 8, "totals ignore limit");

    let none = FlowFilter {
        from: Some(T0 + 10 * HOUR_NANOS),
        ..all()
    };
    assert!(store.flow_hourly(&none)?.is_empty());
    assert_eq!(store.flow_totals(&none)?, FlowTotals::default());
    Ok(())
}

#[test]
fn dropping_the_writer_still_writes_what_is_pending() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);
    let run = store.start_run(&new_run("analyze", &[]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    writer.send(conn(T0, 1, 2, 502, run))?;
    writer.flush()?;
    writer.send(conn(T0, 1, 2, 502, run))?;
    drop(writer);
    assert_eq!(store.flow_totals(&all())?.conns, 2);
    Ok(())
}

// ---------------------------------------------------------------------------
// Errors

/// Waits until `send` fails because the thread stopped.
fn wait_until_stopped(writer: &StoreWriter, probe: &ConnSummary) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match writer.send(probe.clone()) {
            Err(StoreError::WriterStopped) => return Ok(()),
            Err(e) => return Err(e.into()),
            Ok(()) if Instant::now() > deadline => return Err("writer did not stop".into()),
            Ok(()) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

#[test]
fn a_write_to_a_read_only_store_surfaces_on_finish() -> TestResult {
    let (_dir, path) = temp_db()?;
    let run = SqliteStore::open(&path)?.start_run(&new_run("analyze", &[]))?;

    let store = Arc::new(SqliteStore::open_read_only(&path)?);
    assert_eq!(store.runs()?.len(), 1, "reading works");
    assert!(store.start_run(&new_run("analyze", &[])).is_err());

    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    let c = conn(T0, 1, 2, 502, run);
    writer.send(c.clone())?;
    writer.flush()?;
    wait_until_stopped(&writer, &c)?;
    match writer.finish() {
        Err(StoreError::Sqlite { context, source }) => {
            assert_eq!(context, "writing flow aggregates");
            assert_eq!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::ReadOnly),
                "{source}"
            );
        }
        other => panic!("expected a SQLite read-only error, got {other:?}"),
    }
    Ok(())
}

#[test]
fn a_failed_batch_keeps_what_was_committed_before_it() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);
    let run = store.start_run(&new_run("analyze", &[]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    writer.send(conn(T0, 1, 2, 502, run))?;
    writer.send(conn(T0, 1, 3, 502, run))?;
    writer.flush()?;
    // A batch with one good row and one whose run does not exist: the
    // foreign key fails the whole batch, the earlier one stays.
    writer.send(conn(T0, 1, 2, 502, run))?;
    writer.send(conn(T0, 9, 9, 502, RunId(777)))?;
    let err = writer.finish().err();
    assert!(
        matches!(err, Some(StoreError::Sqlite { ref source, .. })
            if source.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation)),
        "{err:?}"
    );
    let totals = store.flow_totals(&all())?;
    assert_eq!((totals.rows, totals.conns), (2, 2));
    Ok(())
}

#[test]
fn a_counter_too_large_for_sql_is_refused_not_wrapped() -> TestResult {
    let (_dir, path) = temp_db()?;
    let store = Arc::new(SqliteStore::open(&path)?);
    let run = store.start_run(&new_run("analyze", &[]))?;
    let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
    let mut c = conn(T0, 1, 2, 502, run);
    c.orig_bytes = u64::MAX;
    writer.send(c)?;
    assert!(matches!(
        writer.finish(),
        Err(StoreError::OutOfRange {
            field: "orig_bytes",
            value: u64::MAX
        })
    ));
    assert_eq!(store.flow_totals(&all())?.rows, 0);
    Ok(())
}

// ---------------------------------------------------------------------------
// Backpressure

/// A store whose writes wait for a gate, counting the rows it receives.
struct GatedStore {
    open: Mutex<bool>,
    opened: Condvar,
    rows: AtomicUsize,
}

impl GatedStore {
    fn release(&self) {
        if let Ok(mut open) = self.open.lock() {
            *open = true;
            self.opened.notify_all();
        }
    }
}

/// Opens the gate when dropped, so a failing assertion cannot leave the
/// writer thread (and the test) blocked forever.
struct ReleaseOnDrop<'a>(&'a GatedStore);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

impl Store for GatedStore {
    fn start_run(&self, _: &NewRun) -> Result<RunId, StoreError> {
        Ok(RunId(1))
    }
    fn finish_run(&self, _: RunId, _: &RunFinish) -> Result<(), StoreError> {
        Ok(())
    }
    fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        Ok(vec![])
    }
    fn run(&self, _: RunId) -> Result<Option<RunRecord>, StoreError> {
        Ok(None)
    }
    fn add_flow_hourly(&self, rows: &[FlowHourly]) -> Result<u64, StoreError> {
        let mut open = self.open.lock().map_err(|_| StoreError::WriterPanicked)?;
        while !*open {
            open = self
                .opened
                .wait(open)
                .map_err(|_| StoreError::WriterPanicked)?;
        }
        self.rows.fetch_add(rows.len(), Ordering::SeqCst);
        Ok(rows.len() as u64)
    }
    fn flow_hourly(&self, _: &FlowFilter) -> Result<Vec<FlowHourly>, StoreError> {
        Ok(vec![])
    }
    fn flow_totals(&self, _: &FlowFilter) -> Result<FlowTotals, StoreError> {
        Ok(FlowTotals::default())
    }
}

#[test]
fn a_full_queue_blocks_the_producer() -> TestResult {
    const QUEUE: usize = 4;
    let store = Arc::new(GatedStore {
        open: Mutex::new(false),
        opened: Condvar::new(),
        rows: AtomicUsize::new(0),
    });
    // Every connection triggers a write, and the first write blocks.
    let config = WriterConfig {
        queue: QUEUE,
        max_keys: 1,
        max_messages: 1,
    };
    let writer = StoreWriter::spawn(store.clone(), config)?;
    let sent = AtomicUsize::new(0);
    let total = 50;
    std::thread::scope(|s| -> TestResult {
        let release = ReleaseOnDrop(&store);
        let producer = s.spawn(|| -> Result<(), StoreError> {
            for i in 0..total {
                writer.send(conn(T0, 1, 2, i, RunId(1)))?;
                sent.fetch_add(1, Ordering::SeqCst);
            }
            Ok(())
        });
        // The thread holds one connection in the blocked write; the queue
        // holds QUEUE more; the producer must stop there.
        let deadline = Instant::now() + Duration::from_secs(10);
        while sent.load(Ordering::SeqCst) < QUEUE + 1 {
            if Instant::now() > deadline {
                return Err("producer never filled the queue".into());
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(sent.load(Ordering::SeqCst), QUEUE + 1, "send did not block");
        assert_eq!(store.rows.load(Ordering::SeqCst), 0);
        drop(release);
        producer.join().map_err(|_| "producer panicked")??;
        Ok(())
    })?;
    let stats = writer.finish()?;
    assert_eq!(stats.conns, total as u64);
    assert_eq!(stats.peak_keys, 1, "max_keys bounds the map");
    assert_eq!(store.rows.load(Ordering::SeqCst), total as usize);
    Ok(())
}

// ---------------------------------------------------------------------------
// Property: the store's rows equal a naive sum

fn arb_conn() -> impl Strategy<Value = ConnSummary> {
    // Small domains so that keys collide within and across hours.
    (
        (
            0i64..3 * HOUR_NANOS,
            0u8..3,
            0u8..3,
            prop::sample::select(vec![6u8, 17]),
        ),
        (
            prop::sample::select(vec![502u16, 44818, 0]),
            prop::option::of(prop::sample::select(vec!["modbus", "enip"])),
            prop::option::of(0u16..2),
        ),
        (0u64..1_000, 0u64..1_000, 0u64..100_000, 0u64..100_000),
        (0i64..10_000_000_000, 1i64..=2),
    )
        .prop_map(
            |((ts, o, r, proto), (resp_p, service, vlan), (op, rp, ob, rb), (dur, run))| {
                ConnSummary {
                    ts: T0 - HOUR_NANOS + ts,
                    orig_h: ip4(o),
                    resp_h: ip4(r),
                    proto,
                    resp_p,
                    service: service.map(str::to_owned),
                    vlan,
                    orig_pkts: op,
                    resp_pkts: rp,
                    orig_bytes: ob,
                    resp_bytes: rb,
                    orig_ip_bytes: ob + 40 * op,
                    resp_ip_bytes: rb + 40 * rp,
                    duration_nanos: dur,
                    run_id: RunId(run),
                }
            },
        )
}

/// The obvious definition: one pass, one map, no batching.
fn naive(conns: &[ConnSummary]) -> BTreeMap<FlowKey, FlowSums> {
    let mut map: BTreeMap<FlowKey, FlowSums> = BTreeMap::new();
    for c in conns {
        let key = FlowKey {
            hour: (c.ts / HOUR_NANOS) * HOUR_NANOS, // ts is positive here
            orig_h: c.orig_h,
            resp_h: c.resp_h,
            proto: c.proto,
            resp_p: c.resp_p,
            service: c.service.clone(),
            vlan: c.vlan,
        };
        let e = map.entry(key).or_insert(FlowSums {
            conns: 0,
            orig_pkts: 0,
            resp_pkts: 0,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_ip_bytes: 0,
            resp_ip_bytes: 0,
            duration_nanos: 0,
            first_seen: i64::MAX,
            last_seen: i64::MIN,
        });
        e.conns += 1;
        e.orig_pkts += c.orig_pkts;
        e.resp_pkts += c.resp_pkts;
        e.orig_bytes += c.orig_bytes;
        e.resp_bytes += c.resp_bytes;
        e.orig_ip_bytes += c.orig_ip_bytes;
        e.resp_ip_bytes += c.resp_ip_bytes;
        e.duration_nanos += c.duration_nanos as u64;
        e.first_seen = e.first_seen.min(c.ts);
        e.last_seen = e.last_seen.max(c.ts + c.duration_nanos);
    }
    map
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn stored_aggregates_equal_a_naive_sum(
        conns in prop::collection::vec(arb_conn(), 0..200),
        max_keys in 1usize..20,
        max_messages in 1usize..50,
        split in 0usize..200,
    ) {
        let (_dir, path) = temp_db().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let store = Arc::new(
            SqliteStore::open(&path).map_err(|e| TestCaseError::fail(e.to_string()))?,
        );
        let run = |store: &Arc<SqliteStore>, conns: &[ConnSummary]| -> Result<(), StoreError> {
            let writer = StoreWriter::spawn(
                store.clone(),
                WriterConfig { queue: 16, max_keys, max_messages },
            )?;
            for c in conns {
                writer.send(c.clone())?;
            }
            writer.finish().map(|_| ())
        };
        // Runs 1 and 2 exist for the foreign key.
        for _ in 0..2 {
            store.start_run(&new_run("analyze", &[])).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
        // Two writers, one after the other, over the same data: the second
        // adds to the rows of the first.
        let split = split.min(conns.len());
        run(&store, &conns[..split]).map_err(|e| TestCaseError::fail(e.to_string()))?;
        run(&store, &conns[split..]).map_err(|e| TestCaseError::fail(e.to_string()))?;

        let stored: BTreeMap<FlowKey, FlowSums> = store
            .flow_hourly(&all())
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .into_iter()
            .map(|r| (r.key, r.sums))
            .collect();
        let expected = naive(&conns);
        prop_assert_eq!(&stored, &expected);

        let totals = store.flow_totals(&all()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(totals.rows, expected.len() as u64);
        prop_assert_eq!(totals.conns, conns.len() as u64);
        prop_assert_eq!(totals.orig_bytes, conns.iter().map(|c| c.orig_bytes).sum::<u64>());
    }
}
