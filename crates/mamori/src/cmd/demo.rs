//! `mamori demo`: a living plant out of the box.
//!
//! Simulates two days of a small plant (a normal day, then a day with attacks),
//! learns the plant's normal from the first day, analyses the second into a fresh
//! store, and reports the asset ledger, the alerts raised and how they compare with
//! the simulator's ground truth.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mamori_simulate::{AttackTiming, Scenario, SimConfig, simulate};
use mamori_store::{AlertQuery, AlertRow, AssetQuery, AssetSort, LedgerStore, SqliteStore};

use super::analyze::analyze_files;
use crate::analysis::Learning;
use crate::cli::{DemoArgs, PathOptions};
use crate::report;

/// The demo portal's login (a throwaway store on loopback).
const DEMO_USER: &str = "admin";
/// The demo portal's password.
const DEMO_PASSWORD: &str = "mamori-demo";

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
    // Without a configuration of their own, the demo's detectors know the simulated
    // plant's zones and conduits (written beside the captures, to read and reuse).
    let config_path = match &args.config {
        Some(path) => path.clone(),
        None => {
            let path = args.dir.join("mamori-demo.toml");
            std::fs::write(&path, demo_config(1)?)
                .with_context(|| format!("writing {}", path.display()))?;
            path
        }
    };
    let mut days = Vec::new();
    for (scenario, name, learning) in [
        (Scenario::Normal, "day1-normal", Learning::Learn),
        (Scenario::Incident, "day2-incident", Learning::Auto),
    ] {
        let capture = args.dir.join(format!("{name}.pcapng"));
        let config = SimConfig {
            seed: args.seed,
            hours: args.hours,
            // A day shorter than the working day would miss the attacks.
            attack_timing: if args.hours < 24.0 {
                AttackTiming::Packed {
                    offset_secs: 300,
                    spacing_secs: 60,
                }
            } else {
                AttackTiming::Daytime
            },
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
            db: Some(args.db.clone()),
            config: Some(config_path.clone()),
            no_db: false,
            no_dissect: false,
            no_analysis: false,
        };
        let (outcome, findings) =
            analyze_files(std::slice::from_ref(&capture), &options, "demo", learning)?;
        println!(
            "analysed  {}: {}",
            capture.display(),
            report::summary_line(&outcome, findings.as_ref())
        );
        days.push((sim, capture));
    }

    let store = SqliteStore::open(&args.db)?;
    print_assets(&store)?;
    let alerts = store.alerts(&AlertQuery::default())?;
    print_alerts(&alerts);
    compare_with_truth(&mamori_simulate::truth_path(&days[1].1), &alerts)?;
    println!(
        "\nStore: {}; logs and captures in {}/. Analysis done in {:.1}s.",
        args.db.display(),
        args.dir.display(),
        started.elapsed().as_secs_f64()
    );
    if !args.no_serve {
        let config = crate::config::load(Some(&config_path))?;
        super::serve::serve(
            &args.db,
            &config,
            Some(&args.bind),
            Some((DEMO_USER, DEMO_PASSWORD)),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// A configuration for the simulated plant of `scale` lines: its zones and conduits,
/// and Japan's time of day for the volume baseline.
fn demo_config(scale: u32) -> anyhow::Result<String> {
    let plant = mamori_simulate::Plant::new(scale);
    let mut detect = mamori_detect::DetectConfig {
        utc_offset_minutes: 540,
        ..mamori_detect::DetectConfig::default()
    };
    for z in &plant.zones {
        detect.zones.push(mamori_detect::config::ZoneConfig {
            name: z.name.clone(),
            subnets: vec![z.cidr().parse().map_err(|e| anyhow::anyhow!("{e:?}"))?],
            vlans: vec![z.vlan],
            assets: vec![],
        });
    }
    for (from, to) in &plant.conduits {
        detect.conduits.push(mamori_detect::config::ConduitConfig {
            from: from.clone(),
            to: to.clone(),
            ports: vec![],
            protocols: vec![],
        });
    }
    let file = mamori_detect::ConfigFile { detect };
    let text = toml::to_string(&file).context("writing the demo configuration")?;
    Ok(format!(
        "# The demo plant's zones and conduits, written by `mamori demo`.\n{text}"
    ))
}

/// The asset ledger, busiest first.
fn print_assets(store: &SqliteStore) -> anyhow::Result<()> {
    let query = AssetQuery {
        sort: AssetSort::Bytes,
        descending: true,
        ..AssetQuery::default()
    };
    let assets = store.assets(&query)?;
    println!("\nAssets: {}", assets.len());
    println!(
        "  {:<17} {:<15} {:<13} {:<18} {:<22} {:<24}",
        "mac", "ip", "role", "vendor", "hostname / model", "os"
    );
    for a in assets.iter().take(30) {
        let name = a.hostname.as_deref().or(a.model.as_deref()).unwrap_or("-");
        let os = match (&a.os, &a.os_eol) {
            (Some(os), Some(eol)) => format!("{os} (EOL {eol})"),
            (Some(os), None) => os.clone(),
            _ => "-".into(),
        };
        println!(
            "  {:<17} {:<15} {:<13} {:<18} {:<22} {:<24}",
            a.mac.as_deref().unwrap_or("-"),
            a.ips.first().map_or("-", String::as_str),
            a.role,
            clip(a.vendor.as_deref().unwrap_or("-"), 18),
            clip(name, 22),
            clip(&os, 24)
        );
    }
    if assets.len() > 30 {
        println!(
            "  ... and {} more (mamori assets export)",
            assets.len() - 30
        );
    }
    Ok(())
}

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let cut: String = s.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// The alerts, most severe first.
fn print_alerts(alerts: &[AlertRow]) {
    let rank = |s: &str| match s {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        _ => 3,
    };
    let mut sorted: Vec<&AlertRow> = alerts.iter().collect();
    sorted.sort_by_key(|a| (rank(&a.severity), a.ts));
    println!("\nAlerts: {}", alerts.len());
    for a in sorted.iter().take(40) {
        println!(
            "  {:<8} {:<16} {:<15} -> {:<15} x{:<4} {}",
            a.severity,
            a.kind,
            a.src_ip.as_deref().or(a.src_mac.as_deref()).unwrap_or("-"),
            a.dst_ip.as_deref().or(a.dst_mac.as_deref()).unwrap_or("-"),
            a.count,
            clip(&a.summary, 70)
        );
    }
    if sorted.len() > 40 {
        println!("  ... and {} more", sorted.len() - 40);
    }
}

/// Which of the ground truth's expected alerts were raised (same kind and hosts).
fn compare_with_truth(truth_path: &std::path::Path, alerts: &[AlertRow]) -> anyhow::Result<()> {
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(truth_path)?)?;
    let expected = truth["expected_alerts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut found = 0;
    println!(
        "\nAttacks simulated on day 2 ({} alerts expected, from {}):",
        expected.len(),
        truth_path.display()
    );
    for e in &expected {
        let kind = e["kind"].as_str().unwrap_or("");
        let src = e["src_ip"].as_str();
        let dst = e["dst_ip"].as_str();
        let hit = alerts.iter().any(|a| {
            a.kind == kind
                && (src.is_none() || a.src_ip.as_deref() == src || a.dst_ip.as_deref() == src)
                && (dst.is_none() || a.dst_ip.as_deref() == dst || a.src_ip.as_deref() == dst)
        });
        found += usize::from(hit);
        println!(
            "  {} {:<16} {:<15} -> {:<15} {}",
            if hit { "found " } else { "MISSED" },
            kind,
            src.unwrap_or("-"),
            dst.unwrap_or("-"),
            e["description"].as_str().unwrap_or("")
        );
    }
    println!("  {found} of {} expected alerts raised", expected.len());
    Ok(())
}
