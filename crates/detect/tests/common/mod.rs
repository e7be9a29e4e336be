//! Shared by the detection tests: a plant-backed asset lookup, the plant's zones as
//! configuration, and running the real pipeline over capture files into a detector.

#![allow(dead_code, unreachable_pub)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mamori_detect::config::{ConduitConfig, DetectConfig, ZoneConfig};
use mamori_detect::{Alert, AssetInfo, AssetLookup, Baseline, DetectConsumer, Detector, Mode};
use mamori_pipeline::worker::WorkerConfig;
use mamori_pipeline::{Progress, RunConfig, run_files};
use mamori_simulate::{Plant, Role};
use mamori_wire::decode::MacAddr;

/// Asset lookup from the simulator's plant definition (which knows every role).
pub struct PlantAssets {
    pub plant: Plant,
    /// Mark OSes containing one of these strings as end-of-life.
    pub eol: Vec<&'static str>,
}

impl PlantAssets {
    pub fn new(scale: u32) -> Self {
        PlantAssets {
            plant: Plant::new(scale),
            eol: Vec::new(),
        }
    }

    fn info(&self, d: &mamori_simulate::Device) -> AssetInfo {
        AssetInfo {
            key: format!("mac:{}", d.mac),
            role: d.role.as_str().to_string(),
            vendor: Some(d.vendor.to_string()),
            os: Some(d.os.to_string()),
            os_eol: self.eol.iter().any(|e| d.os.contains(e)),
            is_ot: matches!(
                d.role,
                Role::Plc
                    | Role::Hmi
                    | Role::Ews
                    | Role::ScadaServer
                    | Role::Historian
                    | Role::RemoteIo
            ),
            first_seen: 0,
        }
    }
}

impl AssetLookup for PlantAssets {
    fn by_ip(&self, ip: IpAddr) -> Option<AssetInfo> {
        let IpAddr::V4(v4) = ip else { return None };
        self.plant.by_ip(v4).map(|d| self.info(d))
    }
    fn by_mac(&self, mac: MacAddr) -> Option<AssetInfo> {
        self.plant
            .devices
            .iter()
            .find(|d| d.mac == mac)
            .map(|d| self.info(d))
    }
}

/// The detect configuration of the simulated plant: its zones and conduits, JST.
pub fn plant_config(plant: &Plant) -> DetectConfig {
    DetectConfig {
        utc_offset_minutes: 540,
        zones: plant
            .zones
            .iter()
            .map(|z| ZoneConfig {
                name: z.name.clone(),
                subnets: vec![z.cidr().parse().unwrap()],
                vlans: vec![z.vlan],
                assets: vec![],
            })
            .collect(),
        conduits: plant
            .conduits
            .iter()
            .map(|(from, to)| ConduitConfig {
                from: from.clone(),
                to: to.clone(),
                ports: vec![],
                protocols: vec![],
            })
            .collect(),
        ..DetectConfig::default()
    }
}

/// Runs the pipeline over `inputs` into a detector; returns the alerts and the baseline.
pub fn analyze(
    inputs: Vec<PathBuf>,
    cfg: DetectConfig,
    baseline: Option<Baseline>,
    mode: Mode,
    assets: Arc<dyn AssetLookup + Send + Sync>,
    threads: usize,
) -> (Vec<Alert>, Baseline) {
    let (alerts, baseline, _) = analyze_stats(inputs, cfg, baseline, mode, assets, threads);
    (alerts, baseline)
}

/// [`analyze`], also returning the detector's counters.
pub fn analyze_stats(
    inputs: Vec<PathBuf>,
    cfg: DetectConfig,
    baseline: Option<Baseline>,
    mode: Mode,
    assets: Arc<dyn AssetLookup + Send + Sync>,
    threads: usize,
) -> (Vec<Alert>, Baseline, mamori_detect::DetectStats) {
    let detector = Arc::new(Mutex::new(Detector::new(cfg, baseline, mode)));
    let consumer = DetectConsumer::new(Arc::clone(&detector), assets);
    let run = RunConfig {
        inputs,
        threads,
        worker: WorkerConfig::default(),
    };
    run_files(&run, vec![Box::new(consumer)], &Progress::default()).expect("pipeline runs");
    let d = detector.lock().unwrap();
    (d.alerts().to_vec(), d.baseline().clone(), d.stats())
}

/// One line per alert, for failure messages.
pub fn show(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .map(|a| {
            format!(
                "  {} {} src={:?}/{:?} dst={:?} x{} {}",
                a.kind,
                a.severity,
                a.src_mac.map(|m| m.to_string()),
                a.src_ip,
                a.dst_ip,
                a.count,
                a.summary
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
