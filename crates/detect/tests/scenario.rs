//! Acceptance 1 and 4 with the plant simulator: learn from a normal day, analyse an
//! incident day (every attack packed into its first half hour), and check that each
//! alert of the ground truth appears with the right hosts; then analyse another
//! normal day (other seed) and check that it raises at most one alert.
//!
//! The days are one hour long (a whole day takes minutes in a debug build); the
//! baseline therefore covers the same hour of day that is analysed.
//!
//! `storm`, `signature` and `ip_conflict` (no such incident in the simulator) and
//! `eol_os` (which needs an asset ledger that knows OSes) are tested in `detectors.rs`
//! with constructed events and the plant's hosts.

mod common;

use std::sync::{Arc, OnceLock};

use common::{PlantAssets, analyze, plant_config, show};
use mamori_detect::{Alert, Baseline, Kind, Mode};
use mamori_simulate::{AttackTiming, Scenario, SimConfig, simulate};

const HOURS: f64 = 1.0;
/// Hours of normal traffic learned: rare operator writes (S7, SLMP) need more than
/// one hour to be seen at night.
const LEARN_HOURS: f64 = 3.0;

struct Days {
    _dir: tempfile::TempDir,
    baseline: Baseline,
    incident: Vec<Alert>,
    truth: mamori_simulate::GroundTruth,
    normal2: Vec<Alert>,
}

fn days() -> &'static Days {
    static DAYS: OnceLock<Days> = OnceLock::new();
    DAYS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let assets = Arc::new(PlantAssets::new(1));
        let cfg = plant_config(&assets.plant);
        let sim = |name: &str, scenario, seed, timing, hours| {
            let path = dir.path().join(name);
            let c = SimConfig {
                seed,
                hours,
                attack_timing: timing,
                ..SimConfig::new(scenario)
            };
            simulate(&c, &path).unwrap();
            (path, mamori_simulate::ground_truth(&c))
        };
        let packed = AttackTiming::Packed {
            offset_secs: 300,
            spacing_secs: 150,
        };
        let daytime = AttackTiming::Daytime;
        let (normal, _) = sim("normal.pcapng", Scenario::Normal, 1, daytime, LEARN_HOURS);
        let (incident, truth) = sim("incident.pcapng", Scenario::Incident, 2, packed, HOURS);
        let (normal2, _) = sim("normal2.pcapng", Scenario::Normal, 7, daytime, HOURS);
        let (learned, baseline) = analyze(
            vec![normal],
            cfg.clone(),
            None,
            Mode::Learn,
            assets.clone(),
            1,
        );
        assert!(
            learned.iter().all(|a| a.learning),
            "alerts while learning carry learning=true"
        );
        let (incident, _) = analyze(
            vec![incident],
            cfg.clone(),
            Some(baseline.clone()),
            Mode::Detect,
            assets.clone(),
            2,
        );
        let (normal2, _) = analyze(
            vec![normal2],
            cfg,
            Some(baseline.clone()),
            Mode::Detect,
            assets,
            1,
        );
        eprintln!(
            "incident: {} distinct alerts; second normal hour: {} alerts",
            incident.len(),
            normal2.len()
        );
        Days {
            _dir: dir,
            baseline,
            incident,
            truth,
            normal2,
        }
    })
}

/// Asserts that an expected alert of `kind` from the ground truth was raised with
/// its hosts (src MAC, src IP, dst IP where the truth gives them).
fn expect(kind: &str) {
    let d = days();
    let wanted: Vec<_> = d
        .truth
        .expected_alerts
        .iter()
        .filter(|e| e.kind == kind)
        .collect();
    assert!(!wanted.is_empty(), "the ground truth lists {kind}");
    for e in wanted {
        let found = d.incident.iter().any(|a| {
            a.kind.as_str() == kind
                && e.src_mac
                    .as_ref()
                    .is_none_or(|m| a.src_mac.map(|x| x.to_string()).as_ref() == Some(m))
                && e.src_ip.is_none_or(|ip| a.src_ip == Some(ip.into()))
                && e.dst_ip.is_none_or(|ip| a.dst_ip == Some(ip.into()))
                && !a.learning
        });
        assert!(
            found,
            "expected {kind} ({}) from {:?}/{:?} to {:?}; raised:\n{}",
            e.description,
            e.src_mac,
            e.src_ip,
            e.dst_ip,
            show(&d.incident)
        );
    }
}

#[test]
fn new_device() {
    expect("new_device");
}

#[test]
fn scan() {
    expect("scan");
    // Both the ARP sweep and the SYN scan are seen.
    let d = days();
    let scans: Vec<_> = d.incident.iter().filter(|a| a.kind == Kind::Scan).collect();
    assert!(
        scans.iter().any(|a| a.evidence["scan"] == "arp_sweep"),
        "{}",
        show(&d.incident)
    );
    assert!(
        scans.iter().any(|a| a.evidence["scan"] != "arp_sweep"),
        "{}",
        show(&d.incident)
    );
}

#[test]
fn ot_command() {
    expect("ot_command");
    let d = days();
    let stop = d
        .incident
        .iter()
        .find(|a| a.kind == Kind::OtCommand && a.evidence["seen"]["category"] == "control")
        .expect("a control alert");
    assert_eq!(stop.severity, mamori_detect::Severity::Critical);
    assert_eq!(stop.mitre_ics, Some("T0858"));
    let download = d
        .incident
        .iter()
        .find(|a| a.kind == Kind::OtCommand && a.evidence["seen"]["category"] == "program")
        .expect("a program alert");
    assert_eq!(download.mitre_ics, Some("T0843"));
}

#[test]
fn new_comm() {
    expect("new_comm");
}

#[test]
fn arp_spoof() {
    expect("arp_spoof");
}

#[test]
fn volume_anomaly() {
    expect("volume_anomaly");
    let d = days();
    let v = d
        .incident
        .iter()
        .find(|a| a.kind == Kind::VolumeAnomaly)
        .unwrap();
    let seen = v.evidence["seen"].as_f64().unwrap();
    let threshold = v.evidence["threshold"].as_f64().unwrap();
    assert!(seen > threshold, "{}", v.evidence);
}

#[test]
fn dns_suspicious() {
    expect("dns_suspicious");
    let d = days();
    assert!(
        d.incident
            .iter()
            .any(|a| a.kind == Kind::DnsSuspicious && a.mitre_ics == Some("T0869")),
        "{}",
        show(&d.incident)
    );
}

#[test]
fn internet_from_ot() {
    expect("internet_from_ot");
}

#[test]
fn zone_violation() {
    expect("zone_violation");
}

#[test]
fn baseline_round_trips_through_json() {
    let b = &days().baseline;
    assert!(b.devices.len() >= 20, "{} devices", b.devices.len());
    assert!(!b.comms.is_empty() && !b.categories.is_empty() && !b.volume.is_empty());
    let back = Baseline::from_json(&b.to_json()).unwrap();
    assert_eq!(&back, b);
}

#[test]
fn another_normal_day_raises_at_most_one_alert() {
    let d = days();
    assert!(
        d.normal2.len() <= 1,
        "normal day raised:\n{}",
        show(&d.normal2)
    );
}

#[test]
fn accepting_alerts_silences_them() {
    let d = days();
    let mut b = d.baseline.clone();
    for a in &d.incident {
        b.accept(a.kind.as_str(), &a.fingerprint, &a.evidence);
    }
    assert!(b.comms.len() > d.baseline.comms.len());
    assert!(b.devices.len() > d.baseline.devices.len());
    assert_eq!(b.exemptions.len(), d.incident.len());
}

/// Acceptance 1 and 4 at full length: learn a 24-hour normal day; another normal
/// day (other seed) raises at most one alert, and an incident day with the attacks
/// at their usual times of day raises every expected alert. Minutes in a debug
/// build: run with `--ignored`.
#[test]
#[ignore = "three whole simulated days: minutes"]
fn full_days() {
    let dir = tempfile::tempdir().unwrap();
    let assets = Arc::new(PlantAssets::new(1));
    let cfg = plant_config(&assets.plant);
    let day = |name: &str, scenario, seed| {
        let path = dir.path().join(name);
        let c = SimConfig {
            seed,
            ..SimConfig::new(scenario)
        };
        simulate(&c, &path).unwrap();
        (path, mamori_simulate::ground_truth(&c))
    };
    let (a, _) = day("a.pcapng", Scenario::Normal, 11);
    let started = std::time::Instant::now();
    let (_, baseline) = analyze(vec![a], cfg.clone(), None, Mode::Learn, assets.clone(), 2);
    let learn_secs = started.elapsed().as_secs_f64();
    let (b, _) = day("b.pcapng", Scenario::Normal, 12);
    let (alerts, _) = analyze(
        vec![b],
        cfg.clone(),
        Some(baseline.clone()),
        Mode::Detect,
        assets.clone(),
        2,
    );
    eprintln!(
        "24 h normal day after learning another: {} alerts (learned {} devices, {} comms, {} volume keys in {learn_secs:.1} s)\n{}",
        alerts.len(),
        baseline.devices.len(),
        baseline.comms.len(),
        baseline.volume.len(),
        show(&alerts)
    );
    assert!(alerts.len() <= 1, "{}", show(&alerts));
    let (c, truth) = day("c.pcapng", Scenario::Incident, 13);
    let (incident, _, stats) =
        common::analyze_stats(vec![c], cfg, Some(baseline), Mode::Detect, assets, 2);
    eprintln!(
        "24 h incident day: {} distinct alerts\n{}",
        incident.len(),
        show(&incident)
    );
    let mut missing = Vec::new();
    for e in &truth.expected_alerts {
        if e.kind == "dns_suspicious" && stats.dns == 0 {
            eprintln!(
                "not checked: {} (the pipeline emits no DNS events yet)",
                e.kind
            );
            continue;
        }
        let found = incident.iter().any(|a| {
            a.kind.as_str() == e.kind
                && e.src_mac
                    .as_ref()
                    .is_none_or(|m| a.src_mac.map(|x| x.to_string()).as_ref() == Some(m))
                && e.src_ip.is_none_or(|ip| a.src_ip == Some(ip.into()))
                && e.dst_ip.is_none_or(|ip| a.dst_ip == Some(ip.into()))
        });
        if !found {
            missing.push(format!(
                "{} {:?} {:?}>{:?}: {}",
                e.kind, e.src_mac, e.src_ip, e.dst_ip, e.description
            ));
        }
    }
    eprintln!(
        "expected {}, missing {}",
        truth.expected_alerts.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "missing:\n{}", missing.join("\n"));
}
