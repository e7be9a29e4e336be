//! `mamori demo`: a living plant out of the box.
//!
//! Simulates two days of a small plant (a normal day, then a day with attacks),
//! analyses both into a fresh store, and reports what the packet path saw: the
//! runs, the conversations of the second day that the first day never had, and the
//! alerts the simulator's ground truth expects. Detection, the asset ledger and the
//! portal will take over these reports as they land.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mamori_simulate::{Scenario, SimConfig, simulate};
use mamori_store::{FlowFilter, SqliteStore, Store};

use super::analyze::analyze_files;
use crate::cli::{DemoArgs, PathOptions};
use crate::report;

/// A conversation as the demo compares them: originator, responder, protocol, port.
type Conversation = (IpAddr, IpAddr, u8, u16);

pub(crate) fn run(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let p = format!("{}{suffix}", args.db.display());
        if std::path::Path::new(&p).exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing the old demo store {p}"))?;
        }
    }
    let mut days = Vec::new();
    for (scenario, name) in [
        (Scenario::Normal, "day1-normal"),
        (Scenario::Incident, "day2-incident"),
    ] {
        let capture = args.dir.join(format!("{name}.pcapng"));
        let config = SimConfig {
            seed: args.seed,
            hours: args.hours,
            ..SimConfig::new(scenario)
        };
        let sim = simulate(&config, &capture)
            .with_context(|| format!("simulating {}", capture.display()))?;
        println!(
            "simulated {}: {} packets, {:.0} MB",
            capture.display(),
            sim.packets,
            sim.bytes as f64 / 1e6
        );
        let options = PathOptions {
            threads: args.threads,
            logs: Some(args.dir.join(format!("logs-{name}"))),
            memory_cap: 512 << 20,
            duplicate_window_ms: 3.0,
            quiet: args.quiet,
            db: args.db.clone(),
            no_db: false,
            no_dissect: false,
        };
        let outcome = analyze_files(std::slice::from_ref(&capture), &options, "demo")?;
        println!(
            "analysed  {}: {}",
            capture.display(),
            report::summary_line(&outcome)
        );
        days.push((sim, capture));
    }

    let store = SqliteStore::open(&args.db)?;
    let day = |i: usize| FlowFilter {
        from: Some(days[i].0.start.0),
        to: Some(days[i].0.end.0),
        ..FlowFilter::default()
    };
    let mut first: BTreeSet<Conversation> = BTreeSet::new();
    for row in store.flow_hourly(&day(0))? {
        first.insert((
            row.key.orig_h,
            row.key.resp_h,
            row.key.proto,
            row.key.resp_p,
        ));
    }
    let mut new_on_day_two: BTreeMap<Conversation, (u64, u64)> = BTreeMap::new();
    for row in store.flow_hourly(&day(1))? {
        let key = (
            row.key.orig_h,
            row.key.resp_h,
            row.key.proto,
            row.key.resp_p,
        );
        if !first.contains(&key) {
            let e = new_on_day_two.entry(key).or_default();
            e.0 += row.sums.conns;
            e.1 += row.sums.orig_ip_bytes + row.sums.resp_ip_bytes;
        }
    }
    println!(
        "\nConversations on day 2 that day 1 never had: {}",
        new_on_day_two.len()
    );
    let mut ranked: Vec<_> = new_on_day_two.into_iter().collect();
    ranked.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
    println!(
        "  {:<16} {:<16} {:>5} {:>6} {:>7} {:>12}",
        "originator", "responder", "proto", "port", "conns", "IP bytes"
    );
    for ((o, r, proto, port), (conns, bytes)) in ranked.iter().take(15) {
        println!(
            "  {:<16} {:<16} {:>5} {:>6} {:>7} {:>12}",
            o.to_string(),
            r.to_string(),
            proto,
            port,
            conns,
            bytes
        );
    }
    if ranked.len() > 15 {
        println!("  ... and {} more", ranked.len() - 15);
    }

    let truth_path = mamori_simulate::truth_path(&days[1].1);
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(&truth_path)?)?;
    let alerts = truth["expected_alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    println!(
        "\nAttacks simulated on day 2 ({} alerts expected, from {}):",
        alerts.len(),
        truth_path.display()
    );
    for a in &alerts {
        println!(
            "  {:<8} {:<16} {:<15} -> {:<15} {}",
            a["severity"].as_str().unwrap_or(""),
            a["kind"].as_str().unwrap_or(""),
            a["src_ip"].as_str().unwrap_or("-"),
            a["dst_ip"].as_str().unwrap_or("-"),
            a["description"].as_str().unwrap_or("")
        );
    }
    println!(
        "\nStore: {} (runs and hourly flow aggregates); logs and captures in {}/. Done in {:.1}s.",
        args.db.display(),
        args.dir.display(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "Detection, the asset ledger and the portal are the next stages; this demo grows with them."
    );
    Ok(ExitCode::SUCCESS)
}
