//! The `[detect]` section of mamori's TOML configuration, typed.
//!
//! Every table refuses unknown keys and every key has a default, so an empty section
//! (or none) is a working configuration. [`parse`] and [`check_config`] read a whole
//! configuration file; their errors name the offending key by its path
//! (`detect.scan.vertical_ports`) and, for syntax errors, the line. References between
//! keys (a conduit naming a zone, a watch-list entry naming a zone) are checked after
//! parsing, with the same kind of error. `mamori.example.toml` at the repository root
//! shows every key with its default.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::alert::{Kind, Severity};
use crate::net::{Cidr, Selector, ZoneDef, default_external, default_internal};

/// Everything detection can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Hours of capture time a store without a baseline learns before it detects.
    pub learning_hours: f64,
    /// Offset of local time from UTC in minutes, for hour-of-day buckets (540 for
    /// Japan). Learning and detection must use the same value.
    pub utc_offset_minutes: i32,
    /// Networks inside the site.
    pub internal_ranges: Vec<Cidr>,
    /// Networks that count as external even when an internal range covers them.
    pub external_ranges: Vec<Cidr>,
    /// At most this many flow uids in an alert's evidence.
    pub max_evidence_uids: usize,
    /// At most this many distinct alerts kept per run (repeats are aggregated; the
    /// rest are counted as dropped).
    pub max_alerts: usize,
    /// Volume anomaly thresholds.
    pub volume: VolumeConfig,
    /// Zones by subnet, VLAN or asset list.
    pub zones: Vec<ZoneConfig>,
    /// Allowed conduits between zones (`internet` names every external address).
    pub conduits: Vec<ConduitConfig>,
    /// The OT command watch list.
    pub ot_command: OtCommandConfig,
    /// DNS checks.
    pub dns: DnsConfig,
    /// Scan thresholds.
    pub scan: ScanConfig,
    /// Broadcast/multicast storm and loop thresholds.
    pub storm: StormConfig,
    /// ARP spoofing and IP conflicts.
    pub arp: ArpConfig,
    /// Per-detector switches and severity overrides.
    pub detectors: DetectorSwitches,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            learning_hours: 24.0,
            utc_offset_minutes: 0,
            internal_ranges: default_internal(),
            external_ranges: default_external(),
            max_evidence_uids: 10,
            max_alerts: 100_000,
            volume: VolumeConfig::default(),
            zones: Vec::new(),
            conduits: Vec::new(),
            ot_command: OtCommandConfig::default(),
            dns: DnsConfig::default(),
            scan: ScanConfig::default(),
            storm: StormConfig::default(),
            arp: ArpConfig::default(),
            detectors: DetectorSwitches::default(),
        }
    }
}

/// Volume per device pair and hour of day: per-minute counts, threshold
/// `max(median + k·MAD, median·min_ratio, floor)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VolumeConfig {
    /// How many MADs above the median a minute may go.
    pub k: f64,
    /// The threshold is at least the median times this.
    pub min_ratio: f64,
    /// Floor for OT requests per minute.
    pub floor_ops: u64,
    /// Floor for IP bytes per minute (flows shorter than two minutes).
    pub floor_bytes: u64,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        VolumeConfig {
            k: 6.0,
            min_ratio: 2.0,
            floor_ops: 60,
            floor_bytes: 1 << 20,
        }
    }
}

/// One zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneConfig {
    /// Name (`internet` is reserved for external addresses).
    pub name: String,
    /// Subnets.
    #[serde(default)]
    pub subnets: Vec<Cidr>,
    /// VLAN ids.
    #[serde(default)]
    pub vlans: Vec<u16>,
    /// Explicit members: IPs, networks or MACs (these win over subnets and VLANs).
    #[serde(default)]
    pub assets: Vec<Selector>,
}

/// An allowed conduit: `from` may open connections to `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConduitConfig {
    /// Originator's zone.
    pub from: String,
    /// Responder's zone.
    pub to: String,
    /// Only these responder ports (empty: any).
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Only these services or OT protocols (`modbus`, `dns`, ...; empty: any).
    #[serde(default)]
    pub protocols: Vec<String>,
}

/// The OT command watch list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtCommandConfig {
    /// Alert on every `control` and `program` operation (critical).
    pub watch_control_and_program: bool,
    /// Alert on writes from a host that never wrote to that target while learning.
    pub new_writes: bool,
    /// More entries.
    pub watch: Vec<WatchEntry>,
}

impl Default for OtCommandConfig {
    fn default() -> Self {
        OtCommandConfig {
            watch_control_and_program: true,
            new_writes: true,
            watch: Vec::new(),
        }
    }
}

/// One watch-list entry; an operation matches when every non-empty list matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchEntry {
    /// A name for the summary.
    #[serde(default)]
    pub name: Option<String>,
    /// Protocols (`modbus`, `s7comm`, ...).
    #[serde(default)]
    pub protocols: Vec<String>,
    /// Categories (`write`, `control`, ...).
    #[serde(default)]
    pub categories: Vec<String>,
    /// Function codes (the protocol's own numbers).
    #[serde(default)]
    pub codes: Vec<u32>,
    /// Originators: IPs, networks, MACs or `zone:NAME`.
    #[serde(default)]
    pub from: Vec<Selector>,
    /// Targets, same forms.
    #[serde(default)]
    pub to: Vec<Selector>,
    /// Severity of the alert.
    #[serde(default = "high")]
    pub severity: Severity,
    /// Stay quiet when the baseline knows this source, target, protocol and category.
    #[serde(default)]
    pub unless_learned: bool,
}

fn high() -> Severity {
    Severity::High
}

/// DNS checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DnsConfig {
    /// Shannon entropy (bits per character) of the longest label at or above which a
    /// name looks generated.
    pub entropy_threshold: f64,
    /// Labels shorter than this are never called generated.
    pub min_label_len: usize,
    /// Domains (and their subdomains) that always alert.
    pub block_list: Vec<String>,
    /// Alert when an OT asset looks up a domain the baseline never saw.
    pub new_domain_from_ot: bool,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            entropy_threshold: 3.0,
            min_label_len: 10,
            block_list: Vec::new(),
            new_domain_from_ot: true,
        }
    }
}

/// Scan thresholds, per source within a sliding window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Window length in seconds.
    pub window_secs: u32,
    /// Distinct hosts probed on one port (horizontal scan).
    pub horizontal_hosts: usize,
    /// Distinct ports probed on one host (vertical scan).
    pub vertical_ports: usize,
    /// Distinct addresses asked for in ARP requests (ARP sweep).
    pub arp_sweep_targets: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            window_secs: 300,
            horizontal_hosts: 10,
            vertical_ports: 10,
            arp_sweep_targets: 32,
        }
    }
}

/// Storm and loop thresholds (frames per second, summed over workers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StormConfig {
    /// Broadcast frames per second.
    pub broadcast_per_sec: u64,
    /// Multicast frames per second.
    pub multicast_per_sec: u64,
    /// Mirror-duplicate frames per second that suggest a layer-2 loop.
    pub duplicates_per_sec: u64,
    /// Consecutive seconds above a threshold before alerting.
    pub sustain_secs: u32,
}

impl Default for StormConfig {
    fn default() -> Self {
        StormConfig {
            broadcast_per_sec: 500,
            multicast_per_sec: 2000,
            duplicates_per_sec: 1000,
            sustain_secs: 3,
        }
    }
}

/// ARP spoofing and IP conflicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArpConfig {
    /// An address's owner counts as active for this many seconds after its last ARP.
    pub active_secs: u32,
}

impl Default for ArpConfig {
    fn default() -> Self {
        ArpConfig { active_secs: 600 }
    }
}

/// Whether a detector runs, and its severity override.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Switch {
    /// Runs.
    pub enabled: bool,
    /// Replaces the detector's own severity.
    pub severity: Option<Severity>,
}

impl Default for Switch {
    fn default() -> Self {
        Switch {
            enabled: true,
            severity: None,
        }
    }
}

/// One [`Switch`] per alert kind.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct DetectorSwitches {
    pub new_device: Switch,
    pub new_comm: Switch,
    pub eol_os: Switch,
    pub volume_anomaly: Switch,
    pub ot_command: Switch,
    pub signature: Switch,
    pub arp_spoof: Switch,
    pub ip_conflict: Switch,
    pub scan: Switch,
    pub storm: Switch,
    pub dns_suspicious: Switch,
    pub internet_from_ot: Switch,
    pub zone_violation: Switch,
}

impl DetectorSwitches {
    /// The switch of a kind.
    pub fn get(&self, kind: Kind) -> &Switch {
        match kind {
            Kind::NewDevice => &self.new_device,
            Kind::NewComm => &self.new_comm,
            Kind::EolOs => &self.eol_os,
            Kind::VolumeAnomaly => &self.volume_anomaly,
            Kind::OtCommand => &self.ot_command,
            Kind::Signature => &self.signature,
            Kind::ArpSpoof => &self.arp_spoof,
            Kind::IpConflict => &self.ip_conflict,
            Kind::Scan => &self.scan,
            Kind::Storm => &self.storm,
            Kind::DnsSuspicious => &self.dns_suspicious,
            Kind::InternetFromOt => &self.internet_from_ot,
            Kind::ZoneViolation => &self.zone_violation,
        }
    }
}

impl DetectConfig {
    /// The zones as [`crate::net::Zones`] definitions.
    pub fn zone_defs(&self) -> Vec<ZoneDef> {
        self.zones
            .iter()
            .map(|z| ZoneDef {
                name: z.name.clone(),
                subnets: z.subnets.clone(),
                vlans: z.vlans.clone(),
                assets: z.assets.clone(),
            })
            .collect()
    }

    /// Checks what parsing cannot: value ranges and references between keys.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: String, message: String| Err(ConfigError::Invalid { key, message });
        if !(self.learning_hours > 0.0 && self.learning_hours <= 24.0 * 366.0) {
            return bad(
                "detect.learning_hours".into(),
                "must be more than 0 and at most 8784".into(),
            );
        }
        if !(-1440..=1440).contains(&self.utc_offset_minutes) {
            return bad(
                "detect.utc_offset_minutes".into(),
                "must be within -1440..=1440".into(),
            );
        }
        if !(self.volume.k.is_finite() && self.volume.k >= 0.0) {
            return bad("detect.volume.k".into(), "must be a number >= 0".into());
        }
        if !(self.volume.min_ratio.is_finite() && self.volume.min_ratio >= 1.0) {
            return bad(
                "detect.volume.min_ratio".into(),
                "must be a number >= 1".into(),
            );
        }
        if !(self.dns.entropy_threshold.is_finite() && self.dns.entropy_threshold > 0.0) {
            return bad(
                "detect.dns.entropy_threshold".into(),
                "must be a number > 0".into(),
            );
        }
        for (key, v) in [
            ("detect.scan.window_secs", self.scan.window_secs as usize),
            ("detect.scan.horizontal_hosts", self.scan.horizontal_hosts),
            ("detect.scan.vertical_ports", self.scan.vertical_ports),
            ("detect.scan.arp_sweep_targets", self.scan.arp_sweep_targets),
            (
                "detect.storm.sustain_secs",
                self.storm.sustain_secs as usize,
            ),
        ] {
            if v == 0 {
                return bad(key.into(), "must be at least 1".into());
            }
        }
        let mut names = BTreeSet::new();
        for (i, z) in self.zones.iter().enumerate() {
            if z.name.is_empty() || z.name == "internet" {
                return bad(
                    format!("detect.zones[{i}].name"),
                    "must be non-empty and not `internet` (reserved for external addresses)".into(),
                );
            }
            if !names.insert(z.name.as_str()) {
                return bad(
                    format!("detect.zones[{i}].name"),
                    format!("zone `{}` is defined twice", z.name),
                );
            }
        }
        let known = |n: &str| n == "internet" || names.contains(n);
        for (i, c) in self.conduits.iter().enumerate() {
            for (field, n) in [("from", &c.from), ("to", &c.to)] {
                if !known(n) {
                    return bad(
                        format!("detect.conduits[{i}].{field}"),
                        format!("unknown zone `{n}`"),
                    );
                }
            }
        }
        for (i, w) in self.ot_command.watch.iter().enumerate() {
            for (field, list) in [("from", &w.from), ("to", &w.to)] {
                for s in list {
                    if let Selector::Zone(n) = s
                        && !known(n)
                    {
                        return bad(
                            format!("detect.ot_command.watch[{i}].{field}"),
                            format!("unknown zone `{n}`"),
                        );
                    }
                }
            }
            for c in &w.categories {
                if !CATEGORIES.contains(&c.as_str()) {
                    return bad(
                        format!("detect.ot_command.watch[{i}].categories"),
                        format!("unknown category `{c}` (one of {})", CATEGORIES.join(", ")),
                    );
                }
            }
        }
        Ok(())
    }
}

/// The OT function categories of `ot.jsonl`.
const CATEGORIES: [&str; 8] = [
    "read",
    "write",
    "control",
    "program",
    "diagnostic",
    "identify",
    "cyclic",
    "other",
];

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not TOML.
    #[error("{message}")]
    Syntax {
        /// toml's message (with line and column).
        message: String,
    },
    /// A key with a wrong type, an unknown key or a bad value.
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted path of the key (`detect.scan.vertical_ports`).
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A whole configuration file, as far as detection knows it. Other sections of
/// mamori's configuration are added here by their owners; unknown top-level keys are
/// refused.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConfigFile {
    /// `[detect]`.
    pub detect: DetectConfig,
}

/// Parses and validates a configuration file's text.
pub fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
    let de = toml::de::Deserializer::parse(text).map_err(|e| ConfigError::Syntax {
        message: e.to_string(),
    })?;
    let file: ConfigFile = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ConfigError::Invalid {
            key: if path == "." {
                "(top level)".into()
            } else {
                path
            },
            message: inner.message().trim().to_string(),
        }
    })?;
    file.detect.validate()?;
    Ok(file)
}

/// What `mamori config check` prints about a valid configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Zones defined.
    pub zones: usize,
    /// Conduits defined.
    pub conduits: usize,
    /// Extra watch-list entries.
    pub watch_entries: usize,
    /// Domains on the block list.
    pub blocked_domains: usize,
    /// Detectors switched off.
    pub disabled: Vec<&'static str>,
    /// Learning window in hours.
    pub learning_hours: String,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "detect: {} zones, {} conduits, {} watch-list entries, {} blocked domains, learning window {} h",
            self.zones,
            self.conduits,
            self.watch_entries,
            self.blocked_domains,
            self.learning_hours
        )?;
        if !self.disabled.is_empty() {
            write!(f, ", disabled: {}", self.disabled.join(" "))?;
        }
        Ok(())
    }
}

/// `mamori config check FILE`: parses and validates, and summarises.
pub fn check_config(text: &str) -> Result<Summary, ConfigError> {
    let file = parse(text)?;
    Ok(Summary::of(&file.detect))
}

impl Summary {
    /// What a valid `[detect]` section holds.
    pub fn of(d: &DetectConfig) -> Summary {
        Summary {
            zones: d.zones.len(),
            conduits: d.conduits.len(),
            watch_entries: d.ot_command.watch.len(),
            blocked_domains: d.dns.block_list.len(),
            disabled: Kind::ALL
                .iter()
                .filter(|k| !d.detectors.get(**k).enabled)
                .map(|k| k.as_str())
                .collect(),
            learning_hours: format!("{}", d.learning_hours),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_is_the_default() {
        assert_eq!(parse("").unwrap().detect, DetectConfig::default());
        assert_eq!(parse("[detect]\n").unwrap().detect, DetectConfig::default());
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[detect.scan]\nvertical_portz = 3\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { key, message } if key == "detect.scan.vertical_portz" && message.contains("unknown field")),
            "{e}"
        );
        let e = parse("[detect.scan]\nvertical_ports = \"ten\"\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { key, .. } if key == "detect.scan.vertical_ports"),
            "{e}"
        );
        let e = parse("[detect]\ninternal_ranges = [\"10.0.0.0/40\"]\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { key, .. } if key.starts_with("detect.internal_ranges")),
            "{e}"
        );
        let e = parse("[detect.detectors.scan]\nseverity = \"extreme\"\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { key, .. } if key == "detect.detectors.scan.severity"),
            "{e}"
        );
        let e = parse("[detect\n").unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        let e = parse("[other]\n").unwrap_err();
        assert!(matches!(e, ConfigError::Invalid { .. }), "{e}");
    }

    #[test]
    fn references_are_checked() {
        let text = r#"
[[detect.zones]]
name = "office"
subnets = ["10.10.10.0/24"]

[[detect.conduits]]
from = "office"
to = "plant"
"#;
        let e = parse(text).unwrap_err();
        assert_eq!(
            e,
            ConfigError::Invalid {
                key: "detect.conduits[0].to".into(),
                message: "unknown zone `plant`".into()
            }
        );
        let e = parse("[[detect.ot_command.watch]]\ncategories = [\"wrte\"]\n").unwrap_err();
        assert!(
            matches!(&e, ConfigError::Invalid { key, .. } if key == "detect.ot_command.watch[0].categories"),
            "{e}"
        );
        let e = parse("[detect.scan]\nwindow_secs = 0\n").unwrap_err();
        assert!(matches!(&e, ConfigError::Invalid { key, .. } if key == "detect.scan.window_secs"));
    }

    #[test]
    fn example_config_checks() {
        let text = include_str!("../../../mamori.example.toml");
        let s = check_config(text).unwrap();
        assert!(s.zones >= 3, "{s}");
        let parsed = parse(text).unwrap().detect;
        assert_eq!(
            parsed.scan,
            ScanConfig::default(),
            "the example shows the defaults"
        );
        assert_eq!(parsed.volume, VolumeConfig::default());
        assert_eq!(parsed.storm, StormConfig::default());
    }
}
