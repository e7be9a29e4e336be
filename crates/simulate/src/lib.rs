//! A deterministic generator of realistic factory network traffic.
//!
//! [`simulate`] writes a pcap or pcapng file of a simulated plant ([`Plant`]) and a
//! ground-truth file beside it (`<out>.truth.json`, see [`truth::GroundTruth`]).
//! HMIs and a SCADA server poll PLCs of five vendors over Modbus/TCP, S7comm,
//! EtherNet/IP + CIP, FINS, SLMP, BACnet/IP, CC-Link IE Field Basic, OPC UA, DNP3
//! and IEC 60870-5-104, with real TCP handshakes and sequence numbers; an
//! engineering workstation connects three times a day; ARP, DHCP, DNS, NetBIOS,
//! LLDP and PROFINET DCP run in the background; office PCs reach the internet
//! through the core switch. Operator and office activity follow shifts and breaks
//! (Japan Standard Time).
//!
//! Two scenarios: [`Scenario::Normal`] is one ordinary day; [`Scenario::Incident`]
//! is the next day with the attacks of [`Attack`] added, each at a scheduled time
//! and each listed in the ground truth with the alerts it should raise.
//!
//! The same [`SimConfig`] always gives byte-identical files. The seed changes
//! timing jitter and values, never which devices talk to which with which
//! function categories, so a baseline learned from one normal day fits another.
//!
//! Generation streams: device processes sit in a priority queue and frames leave
//! through a small reorder heap into a buffered writer, so memory stays flat
//! however long the run (see [`SimConfig::benchmark`] for large captures).
//!
//! Volume: one production line (scale 1) gives about 44 packets/s, 3.8 million
//! packets and 540 MB per day; volume grows linearly with the scale. A release
//! build writes about 300 MB/s on one core (1 GB in about 3.5 s).

mod clock;
mod net;
pub mod plant;
mod procs;
mod proto;
mod rng;
mod scenario;
pub mod truth;

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use mamori_wire::Timestamp;
use mamori_wire::capture::writer::WriteFormat;
use serde::Serialize;

pub use clock::{DEFAULT_START_SECS, UTC_OFFSET_SECS};
pub use plant::{Device, Plant, Protocol, Role, Zone};
pub use truth::{ExpectedAlert, GroundTruth};

/// Which day to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// A day of normal operation.
    Normal,
    /// The next day: normal operation plus the attacks of [`Attack`].
    Incident,
}

impl Scenario {
    /// The scenario's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Normal => "normal",
            Scenario::Incident => "incident",
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scenario {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, SimError> {
        match s {
            "normal" => Ok(Scenario::Normal),
            "incident" => Ok(Scenario::Incident),
            _ => Err(SimError::Config(format!(
                "unknown scenario `{s}` (expected `normal` or `incident`)"
            ))),
        }
    }
}

/// Capture file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CaptureFormat {
    /// Legacy pcap with microsecond timestamps.
    Pcap,
    /// pcapng with nanosecond timestamps.
    #[default]
    PcapNg,
}

impl FromStr for CaptureFormat {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, SimError> {
        match s {
            "pcap" => Ok(CaptureFormat::Pcap),
            "pcapng" => Ok(CaptureFormat::PcapNg),
            _ => Err(SimError::Config(format!(
                "unknown format `{s}` (expected `pcap` or `pcapng`)"
            ))),
        }
    }
}

/// The attacks of the incident scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attack {
    /// An unknown laptop joins line 1 (gratuitous ARP, NetBIOS registration).
    NewLaptop,
    /// The laptop sweeps line 1 with ARP and SYN-scans the hosts it found.
    Reconnaissance,
    /// The laptop writes Modbus registers of line 1's M340.
    RogueWrites,
    /// The laptop stops line 1's S7 CPU.
    PlcStop,
    /// The engineering workstation downloads blocks to line 1's S7 CPU.
    ProgramDownload,
    /// The laptop claims line 1's gateway address in ARP replies.
    ArpSpoof,
    /// The SCADA server polls line 1's M340 fifty times faster for ten minutes.
    VolumeSpike,
    /// An office PC looks up random-looking domains.
    DgaDns,
    /// An HMI on line 1 talks to the internet.
    InternetFromHmi,
    /// An office PC reads a line 1 PLC directly.
    ZoneViolation,
}

impl Attack {
    /// All attacks, in the order [`AttackTiming::Packed`] schedules them.
    pub const ALL: [Attack; 10] = [
        Attack::NewLaptop,
        Attack::Reconnaissance,
        Attack::RogueWrites,
        Attack::PlcStop,
        Attack::ProgramDownload,
        Attack::ArpSpoof,
        Attack::VolumeSpike,
        Attack::DgaDns,
        Attack::InternetFromHmi,
        Attack::ZoneViolation,
    ];

    /// The attack's name in the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            Attack::NewLaptop => "new_laptop",
            Attack::Reconnaissance => "reconnaissance",
            Attack::RogueWrites => "rogue_writes",
            Attack::PlcStop => "plc_stop",
            Attack::ProgramDownload => "program_download",
            Attack::ArpSpoof => "arp_spoof",
            Attack::VolumeSpike => "volume_spike",
            Attack::DgaDns => "dga_dns",
            Attack::InternetFromHmi => "internet_from_hmi",
            Attack::ZoneViolation => "zone_violation",
        }
    }

    /// Local time (hour, minute) the attack starts at with [`AttackTiming::Daytime`].
    pub fn default_time(self) -> (i64, i64) {
        match self {
            Attack::NewLaptop => (9, 12),
            Attack::Reconnaissance => (9, 20),
            Attack::RogueWrites => (9, 41),
            Attack::PlcStop => (9, 47),
            Attack::ZoneViolation => (10, 40),
            Attack::ArpSpoof => (11, 5),
            Attack::ProgramDownload => (13, 10),
            Attack::VolumeSpike => (14, 30),
            Attack::DgaDns => (16, 20),
            Attack::InternetFromHmi => (19, 5),
        }
    }
}

/// When the incident scenario's attacks happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AttackTiming {
    /// At their [`Attack::default_time`] (± two minutes of seeded jitter).
    #[default]
    Daytime,
    /// One after another from `offset_secs` after the start, `spacing_secs` apart
    /// (for short test captures that still contain every attack).
    Packed {
        /// Seconds from the start to the first attack.
        offset_secs: u32,
        /// Seconds between attacks.
        spacing_secs: u32,
    },
}

/// What to simulate.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Normal day or incident day.
    pub scenario: Scenario,
    /// Seed of all randomness.
    pub seed: u64,
    /// Length of the simulated window in hours (default 24).
    pub hours: f64,
    /// Device-count multiplier: the number of production lines (default 1, max
    /// [`plant::MAX_LINES`]).
    pub scale: u32,
    /// Start of the window; `None` means local midnight of Monday 2026-04-06 (JST)
    /// for `normal` and of the next day for `incident`.
    pub start: Option<Timestamp>,
    /// File format.
    pub format: CaptureFormat,
    /// When the attacks happen (incident only).
    pub attack_timing: AttackTiming,
    /// Stop once the file reaches this many bytes (benchmark captures).
    pub max_bytes: Option<u64>,
}

impl SimConfig {
    /// Defaults for a scenario: seed 1, 24 hours, scale 1, default start, pcapng.
    pub fn new(scenario: Scenario) -> Self {
        SimConfig {
            scenario,
            seed: 1,
            hours: 24.0,
            scale: 1,
            start: None,
            format: CaptureFormat::PcapNg,
            attack_timing: AttackTiming::Daytime,
            max_bytes: None,
        }
    }

    /// A configuration for throughput benchmarks: a normal day of a ten-line plant,
    /// cut off once the file holds `bytes` bytes.
    pub fn benchmark(bytes: u64) -> Self {
        SimConfig {
            scale: 10,
            hours: 24.0 * 7.0,
            max_bytes: Some(bytes),
            format: CaptureFormat::Pcap,
            ..SimConfig::new(Scenario::Normal)
        }
    }

    /// The first simulated instant.
    pub fn start_time(&self) -> Timestamp {
        self.start.unwrap_or_else(|| {
            let day = match self.scenario {
                Scenario::Normal => 0,
                Scenario::Incident => clock::DAY,
            };
            Timestamp::from_secs(DEFAULT_START_SECS + day)
        })
    }

    /// The end of the simulated window (exclusive).
    pub fn end_time(&self) -> Timestamp {
        let nanos = (self.hours * 3600.0 * 1e9) as i64;
        self.start_time().plus_nanos(nanos)
    }

    fn validate(&self) -> Result<(), SimError> {
        if !(self.hours > 0.0 && self.hours <= 24.0 * 366.0) {
            return Err(SimError::Config(format!(
                "hours must be in (0, 8784], got {}",
                self.hours
            )));
        }
        if self.scale == 0 || self.scale > plant::MAX_LINES {
            return Err(SimError::Config(format!(
                "scale must be in 1..={}, got {}",
                plant::MAX_LINES,
                self.scale
            )));
        }
        Ok(())
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct SimSummary {
    /// Frames written.
    pub packets: u64,
    /// Bytes of the capture file.
    pub bytes: u64,
    /// First simulated instant.
    pub start: Timestamp,
    /// End of the simulated window.
    pub end: Timestamp,
    /// Number of expected alerts in the ground truth.
    pub expected_alerts: usize,
    /// Where the ground truth was written (`None` for [`simulate_to`]).
    pub truth_path: Option<PathBuf>,
}

/// Why a simulation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The configuration is invalid.
    #[error("invalid simulation config: {0}")]
    Config(String),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Writing to the caller's writer failed.
    #[error("cannot write capture: {0}")]
    Write(#[from] io::Error),
    /// The ground truth could not be serialised.
    #[error("cannot encode ground truth: {0}")]
    Json(#[from] serde_json::Error),
}

/// The ground-truth path for a capture path: `<out>.truth.json`.
pub fn truth_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".truth.json");
    PathBuf::from(s)
}

/// The ground truth of a configuration (what [`simulate`] writes beside the capture).
pub fn ground_truth(config: &SimConfig) -> GroundTruth {
    let plant = Plant::new(config.scale);
    let (start, end) = (config.start_time(), config.end_time());
    GroundTruth {
        scenario: config.scenario.as_str(),
        seed: config.seed,
        scale: plant.lines,
        start: start.as_secs_f64(),
        end: end.as_secs_f64(),
        expected_alerts: scenario::expected_alerts(config, &plant, start, end),
    }
}

/// Simulates into any writer; returns the summary and the ground truth.
pub fn simulate_to<W: Write>(
    config: &SimConfig,
    out: W,
) -> Result<(SimSummary, GroundTruth), SimError> {
    config.validate()?;
    let plant = Plant::new(config.scale);
    let (start, end) = (config.start_time(), config.end_time());
    let format = match config.format {
        CaptureFormat::Pcap => WriteFormat::Pcap,
        CaptureFormat::PcapNg => WriteFormat::PcapNg,
    };
    let emitter = net::Emitter::new(Box::new(out), format, start, end, config.max_bytes)?;
    let mut cx = net::Ctx::new(&plant, emitter, config.seed);
    let procs = scenario::build(config, &plant, start, end);
    procs::run(procs, &mut cx, end)?;
    let (packets, bytes) = cx.out.finish()?;
    let truth = ground_truth(config);
    let summary = SimSummary {
        packets,
        bytes,
        start,
        end,
        expected_alerts: truth.expected_alerts.len(),
        truth_path: None,
    };
    Ok((summary, truth))
}

/// Simulates into the file `out` and writes the ground truth to `<out>.truth.json`.
pub fn simulate(config: &SimConfig, out: &Path) -> Result<SimSummary, SimError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SimError::Io { path, source }
    };
    let file = File::create(out).map_err(io_err(out))?;
    let (mut summary, truth) = match simulate_to(config, file) {
        Err(SimError::Write(e)) => return Err(io_err(out)(e)),
        other => other?,
    };
    let tp = truth_path(out);
    let mut json = serde_json::to_vec_pretty(&truth)?;
    json.push(b'\n');
    std::fs::write(&tp, json).map_err(io_err(&tp))?;
    summary.truth_path = Some(tp);
    Ok(summary)
}
