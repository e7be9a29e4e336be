//! Acceptance 2: real attack captures from `../shared/pcaps` raise the matching
//! alerts. Each capture is analysed on its own against an empty baseline (so every
//! write is a write never seen before), through the real pipeline.
//!
//! Skips with a message when `/work/shared/pcaps` (or `MAMORI_PCAPS`) is absent.

mod common;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use common::show;
use mamori_detect::{Alert, Baseline, DetectConfig, Kind, Mode, NoAssets};

fn pcaps() -> Option<PathBuf> {
    let dir = std::env::var_os("MAMORI_PCAPS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/pcaps"));
    dir.is_dir().then_some(dir)
}

fn alerts_of(file: &str) -> Option<Vec<Alert>> {
    let Some(dir) = pcaps() else {
        eprintln!("skipping: no capture folder (set MAMORI_PCAPS or provide /work/shared/pcaps)");
        return None;
    };
    let path = dir.join(file);
    if !path.is_file() {
        eprintln!("skipping {file}: not in {}", dir.display());
        return None;
    }
    let (alerts, _) = common::analyze(
        vec![path],
        DetectConfig::default(),
        Some(Baseline::default()),
        Mode::Detect,
        Arc::new(NoAssets),
        1,
    );
    let mut kinds: Vec<(Kind, u64)> = Vec::new();
    for a in &alerts {
        match kinds.iter_mut().find(|k| k.0 == a.kind) {
            Some(k) => k.1 += a.count,
            None => kinds.push((a.kind, a.count)),
        }
    }
    eprintln!("{file}: {} distinct alerts {kinds:?}", alerts.len());
    Some(alerts)
}

/// The ot_command alerts of `file` in `category`.
fn ot_commands(alerts: &[Alert], category: &str) -> Vec<Alert> {
    alerts
        .iter()
        .filter(|a| a.kind == Kind::OtCommand && a.evidence["seen"]["category"] == category)
        .cloned()
        .collect()
}

/// Checks that `file` raises an `ot_command` alert in `category` with technique
/// `mitre` from host `src` to host `dst`.
fn check(file: &str, category: &str, mitre: &str, src: &str, dst: &str) {
    let Some(alerts) = alerts_of(file) else {
        return;
    };
    let hits = ot_commands(&alerts, category);
    assert!(
        !hits.is_empty(),
        "{file}: no {category} ot_command alert:\n{}",
        show(&alerts)
    );
    for a in &hits {
        eprintln!(
            "  {} {} {} x{} {}",
            a.kind,
            a.severity,
            a.mitre_ics.unwrap_or("-"),
            a.count,
            a.summary
        );
    }
    let (src, dst): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
    assert!(
        hits.iter()
            .any(|a| a.mitre_ics == Some(mitre) && a.src_ip == Some(src) && a.dst_ip == Some(dst)),
        "{file}: expected {mitre} from {src} to {dst}:\n{}",
        show(&hits)
    );
}

#[test]
fn s7_stop() {
    check(
        "iti_step7_s300_stop.pcapng",
        "control",
        "T0858",
        "134.249.62.199",
        "134.249.61.163",
    );
}

#[test]
fn s7_program_download() {
    check(
        "iti_tia_s300_downloadOb1.pcapng",
        "program",
        "T0843",
        "134.217.61.131",
        "134.217.61.211",
    );
}

#[test]
fn cip_stop() {
    check(
        "iti_cip_stop_plc.pcap",
        "control",
        "T0858",
        "192.168.1.69",
        "192.168.1.30",
    );
}

#[test]
fn dnp3_cold_restart() {
    check(
        "iti_cold_restart_and_response.pcap",
        "control",
        "T0816",
        "192.168.60.1",
        "192.168.60.130",
    );
}

#[test]
fn dnp3_file_write() {
    check(
        "zeek_dnp3_file_write.pcap",
        "program",
        "T0843",
        "130.126.142.250",
        "130.126.140.229",
    );
}

#[test]
fn modbus_writes() {
    for file in [
        "emreekin_modbus-read-write-multiple-registers.pcap",
        "icsnpp-modbus_modbus_example.pcap",
    ] {
        // Both captures run client and server on the loopback address.
        check(file, "write", "T0836", "127.0.0.1", "127.0.0.1");
    }
}

#[test]
fn port_scan() {
    let Some(alerts) = alerts_of("malcolm-bro-simple-scan_port_scan.pcap") else {
        return;
    };
    let scans: Vec<_> = alerts.iter().filter(|a| a.kind == Kind::Scan).collect();
    for a in &scans {
        eprintln!("  {} x{} {}", a.kind, a.count, a.summary);
    }
    let (scanner, target): (IpAddr, IpAddr) = (
        "192.168.2.154".parse().unwrap(),
        "192.168.2.22".parse().unwrap(),
    );
    assert!(
        scans
            .iter()
            .any(|a| a.src_ip == Some(scanner) && a.dst_ip == Some(target)),
        "{}",
        show(&alerts)
    );
    assert!(scans.iter().all(|a| a.mitre_ics == Some("T0846")));
}

#[test]
fn profinet_dcp_set_ip() {
    let Some(alerts) = alerts_of("iti_ChangeIPUsingDCP.pcap") else {
        return;
    };
    let hits: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == Kind::OtCommand)
        .collect();
    for a in &hits {
        eprintln!(
            "  {} {} {:?} {:?}>{:?} {} {}",
            a.kind, a.severity, a.mitre_ics, a.src_mac, a.dst_mac, a.summary, a.evidence["seen"]
        );
    }
    // The engineering tool (VMware MAC) sets the Siemens device's address.
    assert!(
        hits.iter().any(|a| {
            a.evidence["seen"]["protocol"] == "profinet-dcp"
                && a.evidence["seen"]["function_name"] == "set_ip"
                && a.src_mac.map(|m| m.to_string()).as_deref() == Some("00:0c:29:ba:09:ea")
                && a.dst_mac.map(|m| m.to_string()).as_deref() == Some("08:00:06:93:cf:32")
        }),
        "{}",
        show(&alerts)
    );
}
