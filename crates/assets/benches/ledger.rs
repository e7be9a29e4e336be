//! Ledger costs, measured without a framework (`cargo bench -p mamori-assets`):
//!
//! 1. update cost per event: 400,000 synthetic connection, OT and SYN events over
//!    5,000 devices;
//! 2. building 50,000 assets, turning them into store rows, and exporting those rows
//!    to CSV (target: under 2 s) and JSON;
//! 3. the packet path over the largest shared capture with and without the ledger
//!    as a consumer, and the ledger alone over that capture's events (skipped when
//!    `/work/shared/pcaps` is absent).
//!
//! Times are CPU times of this thread (`/proc/thread-self/schedstat`), since the
//! machines we bench on are shared; the wall time is printed beside where it matters.
//!
//! Each step checks its result, so a broken ledger cannot report a good time.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use mamori_assets::{Knowledge, Lang, Ledger, LedgerConfig, LedgerConsumer, write_csv, write_json};
use mamori_dissect::contract::Flags;
use mamori_dissect::it::dhcp::DhcpRecord;
use mamori_dissect::record::{Category, Function, OtOperation, Status};
use mamori_flow::record::{EndReason, Side};
use mamori_flow::tcp::History;
use mamori_flow::{ConnRecord, ServiceSet, Uid};
use mamori_pipeline::event::{DhcpEvent, Event, FlowEnds, OtEvent, TcpSynEvent};
use mamori_pipeline::worker::WorkerConfig;
use mamori_pipeline::{Progress, RunConfig, run_files};
use mamori_wire::Timestamp;
use mamori_wire::decode::MacAddr;

const T0: i64 = 1_704_067_200;

/// This thread's CPU time in nanoseconds (Linux `schedstat`; 0 elsewhere). The
/// bench machine is shared, so CPU time is the figure to trust, wall time the
/// one a user sees.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn mac(i: u32) -> MacAddr {
    let b = i.to_be_bytes();
    MacAddr([0x00, 0x1b, 0x1b, b[1], b[2], b[3]])
}

fn addr(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (i + 1)))
}

fn side(i: u32, port: u16) -> Side {
    Side {
        addr: Some(addr(i)),
        port,
        pkts: 10,
        ip_bytes: 1000,
        bytes: 600,
        l2: Some(mac(i)),
    }
}

fn conn(n: u64, client: u32, server: u32, port: u16, service: &str) -> Event {
    let mut s = ServiceSet::default();
    s.insert_name(service);
    let ts = Timestamp::from_secs(T0 + (n / 100) as i64);
    Event::Conn(ConnRecord {
        ts,
        last_ts: ts,
        uid: Uid(u128::from(n)),
        proto: 6,
        ipv6: false,
        orig: side(client, 40000 + (n % 20000) as u16),
        resp: side(server, port),
        services: s,
        conn_state: "SF",
        history: History::default(),
        missed_bytes: 0,
        vlan: None,
        inner_vlan: None,
        end_reason: EndReason::Closed,
    })
}

fn ot(n: u64, client: u32, server: u32) -> Event {
    Event::Ot(Box::new(OtEvent {
        uid: Uid(u128::from(n)),
        seq: 0,
        orig: Some((addr(client), 40000)),
        resp: Some((addr(server), 502)),
        orig_l2: Some(mac(client)),
        resp_l2: Some(mac(server)),
        aggregate: None,
        op: OtOperation {
            protocol: "modbus",
            pdu: None,
            function: Function {
                code: 3,
                name: "read_holding_registers",
                category: Category::Read,
            },
            target: "unit 1 holding 0+10".into(),
            status: Status::Ok,
            flags: Flags::default(),
            ts: (T0 + (n / 100) as i64) * 1_000_000_000,
        },
    }))
}

fn syn(n: u64, from: u32) -> Event {
    let mut options = [0u8; 40];
    options[..8].copy_from_slice(&[2, 4, 5, 0xb4, 1, 1, 4, 2]);
    Event::TcpSyn(Box::new(TcpSynEvent {
        ts: (T0 + (n / 100) as i64) * 1_000_000_000,
        uid: Uid(u128::from(n)),
        ip: addr(from),
        mac: Some(mac(from)),
        syn_ack: false,
        ttl: 128,
        df: true,
        ip_id: 7,
        ip_opt_len: 0,
        ecn: 0,
        flow_label: 0,
        window: 64240,
        flags: 2,
        seq: 1,
        ack: 0,
        urgent: 0,
        options,
        options_len: 8,
        payload_len: 0,
    }))
}

fn dhcp(i: u32) -> Event {
    let IpAddr::V4(a) = addr(i) else {
        unreachable!()
    };
    Event::Dhcp(Box::new(DhcpEvent {
        ends: FlowEnds {
            uid: Uid(u128::from(i)),
            orig: (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 68),
            resp: (IpAddr::V4(Ipv4Addr::BROADCAST), 67),
            orig_l2: Some(mac(i)),
            resp_l2: None,
        },
        record: DhcpRecord {
            ts: T0 * 1_000_000_000,
            mac: Some(mac(i)),
            assigned_addr: Some(a),
            host_name: Some(format!("host-{i}")),
            vendor_class: Some("MSFT 5.0".into()),
            param_list: Some("1,3,6,15,31,33,43,44,46,47,119,121,249,252".into()),
            ..DhcpRecord::default()
        },
    }))
}

fn main() {
    // 1. Update cost per event.
    let devices = 5_000u32;
    let mut events = Vec::with_capacity(400_000);
    for n in 0..400_000u64 {
        let c = (n as u32 * 7919) % devices;
        let s = (n as u32 * 104_729 + 13) % 200;
        events.push(match n % 4 {
            0 | 1 => conn(n, c, s, 502, "modbus"),
            2 => ot(n, c, s),
            _ => syn(n, c),
        });
    }
    let mut ledger = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    let (t, c) = (Instant::now(), cpu_ns());
    for e in &events {
        ledger.observe(e);
    }
    ledger.finish();
    let (el, cpu) = (t.elapsed(), cpu_ns() - c);
    assert_eq!(ledger.len(), devices as usize);
    assert_eq!(ledger.stats().routers, 0);
    println!(
        "update: {} events over {} devices: {:.0} ns/event CPU ({:.0} ns wall)",
        events.len(),
        ledger.len(),
        cpu as f64 / events.len() as f64,
        el.as_nanos() as f64 / events.len() as f64,
    );

    // The same by kind of event, each on a fresh ledger.
    for (name, kind) in [("conn", 0u64), ("ot", 2), ("syn", 3)] {
        let picked: Vec<&Event> = events
            .iter()
            .enumerate()
            .filter(|(n, _)| (*n as u64 % 4 == kind) || (kind == 0 && *n as u64 % 4 == 1))
            .map(|(_, e)| e)
            .collect();
        let mut l = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
        let c = cpu_ns();
        for e in &picked {
            l.observe(e);
        }
        let cpu = cpu_ns() - c;
        println!(
            "  {name}: {:.0} ns/event CPU",
            cpu as f64 / picked.len() as f64
        );
    }

    // 2. 50,000 assets: build, rows, CSV, JSON.
    let mut big = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    let t = Instant::now();
    for i in 0..50_000u32 {
        big.observe(&dhcp(i));
        big.observe(&conn(u64::from(i), i, (i + 1) % 50_000, 445, "smb"));
    }
    big.finish();
    let build = t.elapsed();
    assert_eq!(big.len(), 50_000);
    let t = Instant::now();
    let rows = big.to_rows(None);
    let to_rows = t.elapsed();
    let (t, c) = (Instant::now(), cpu_ns());
    let mut csv = Vec::with_capacity(32 << 20);
    let n = write_csv(&mut csv, &rows, Lang::Ja).expect("csv");
    let (csv_time, csv_cpu) = (t.elapsed(), cpu_ns() - c);
    assert_eq!(n, 50_000);
    let t = Instant::now();
    let mut json = Vec::with_capacity(64 << 20);
    write_json(&mut json, &rows).expect("json");
    let json_time = t.elapsed();
    println!(
        "50,000 assets: built in {:.3} s, to store rows in {:.3} s; CSV export {:.3} s wall, {:.3} s CPU ({:.1} MB), JSON export {:.3} s ({:.1} MB)",
        build.as_secs_f64(),
        to_rows.as_secs_f64(),
        csv_time.as_secs_f64(),
        csv_cpu as f64 / 1e9,
        csv.len() as f64 / 1e6,
        json_time.as_secs_f64(),
        json.len() as f64 / 1e6
    );

    // 3. The packet path with and without the ledger.
    let capture = std::path::PathBuf::from("/work/shared/pcaps/iti_mb2.pcap");
    if !capture.exists() {
        println!("skip: {} is absent", capture.display());
        return;
    }
    let config = RunConfig {
        inputs: vec![capture.clone()],
        threads: 1,
        worker: WorkerConfig::default(),
    };
    let run = |with_ledger: bool| {
        let consumers: Vec<Box<dyn mamori_pipeline::collector::EventConsumer + Send>> =
            if with_ledger {
                let l = Arc::new(Mutex::new(Ledger::new(
                    LedgerConfig::default(),
                    Knowledge::builtin(),
                )));
                vec![Box::new(LedgerConsumer::new(l))]
            } else {
                Vec::new()
            };
        let c = cpu_ns();
        let out = run_files(&config, consumers, &Progress::default()).expect("run");
        ((cpu_ns() - c) as f64 / 1e9, out.stats.packets)
    };
    // Alternate the two, so that the shared machine's drift hits both alike.
    // schedstat advances in scheduler ticks: sum many runs rather than take a minimum.
    let (mut without, mut with, mut packets) = (0.0, 0.0, 0);
    const RUNS: u32 = 15;
    for _ in 0..RUNS {
        let (a, p) = run(false);
        let (b, _) = run(true);
        without += a / f64::from(RUNS);
        with += b / f64::from(RUNS);
        packets = p;
    }
    // The ledger's own share, without the noise of two whole runs: collect the
    // capture's events once, then time the ledger over them.
    struct Collect(Arc<Mutex<Vec<Event>>>);
    impl mamori_pipeline::collector::EventConsumer for Collect {
        fn consume(&mut self, e: &Event) -> Result<(), mamori_pipeline::collector::ConsumerError> {
            if let Ok(mut v) = self.0.lock() {
                v.push(e.clone());
            }
            Ok(())
        }
        fn finish(&mut self) -> Result<(), mamori_pipeline::collector::ConsumerError> {
            Ok(())
        }
    }
    let store = Arc::new(Mutex::new(Vec::new()));
    run_files(
        &config,
        vec![Box::new(Collect(Arc::clone(&store)))],
        &Progress::default(),
    )
    .expect("run");
    let captured = std::mem::take(&mut *store.lock().expect("events"));
    const REPLAYS: u32 = 50;
    let c = cpu_ns();
    for _ in 0..REPLAYS {
        let mut l = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
        for e in &captured {
            l.observe(e);
        }
        l.finish();
        assert!(l.len() > 10, "{}", l.len());
    }
    let replay = (cpu_ns() - c) as f64 / 1e9 / f64::from(REPLAYS);
    println!(
        "ledger over the same capture's {} events: {:.2} ms CPU = {:.1}% of the packet path without it ({:.0} ns/event)",
        captured.len(),
        replay * 1e3,
        replay / without * 100.0,
        replay * 1e9 / captured.len() as f64
    );
    println!(
        "packet path over {} ({packets} packets, one thread, mean CPU time of 15 runs each): {:.1} ms without the ledger, {:.1} ms with ({:+.1}%)",
        capture.display(),
        without * 1e3,
        with * 1e3,
        (with / without - 1.0) * 100.0
    );
}
