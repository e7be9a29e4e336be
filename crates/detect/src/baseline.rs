//! The learned normal of a plant, and accepting alerts into it.
//!
//! A [`Baseline`] holds:
//! - **devices**: every MAC seen as a sender, with the addresses it used;
//! - **communications** ([`CommKey`]): originator, responder, application protocol
//!   (or transport) and responder port, plus for OT protocols the function
//!   categories used ([`CategoryKey`]). Internal hosts are named by address;
//!   every external address is `external`, so an office PC visiting a new web site
//!   is not a new communication (`internet_from_ot` and zone rules watch the
//!   internet instead);
//! - **volume**: per directed pair, metric (OT requests or IP bytes) and hour of day,
//!   the non-zero per-minute counts ([`VolumeSamples`], at most
//!   [`MAX_SAMPLES`] each) and, per hour of day, how many minutes were observed, so
//!   silent minutes count as zeros. [`Baseline::volume_threshold`] turns them into
//!   `max(median + k·MAD, median·min_ratio, floor)`;
//! - **domains** looked up, and what operators accepted: alert fingerprints to stay
//!   quiet about, OT commands allowed, volume ceilings.
//!
//! It serialises to JSON ([`Baseline::to_json`]) with a format number, and is stored
//! through `mamori_store::LedgerStore::save_baseline` (each save is a new version).
//! [`Baseline::accept`] takes an alert's kind, fingerprint and evidence (the
//! evidence's `accept` object says what to add) and makes it normal.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::VolumeConfig;

/// The JSON format this crate writes.
pub const BASELINE_FORMAT: u32 = 1;
/// Non-zero samples kept per volume key.
pub const MAX_SAMPLES: usize = 240;
/// Devices, communications and domains kept at most (each); more are counted.
pub const MAX_ENTRIES: usize = 200_000;

/// A device.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceEntry {
    /// Addresses it used (at most 16).
    pub ips: BTreeSet<String>,
    /// First seen (ns).
    pub first_seen: i64,
    /// Last seen (ns).
    pub last_seen: i64,
}

/// A communication: who opened what to whom.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommKey {
    /// Originator (`10.0.0.5`, `mac:…` for layer-2 protocols, or `external`).
    pub src: String,
    /// Responder, same forms.
    pub dst: String,
    /// Application protocol, or the transport (`tcp`, `udp`, `icmp`) when none.
    pub app: String,
    /// Responder port (ICMP: type; layer 2: 0).
    pub port: u16,
}

/// An OT function category used between two hosts.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CategoryKey {
    /// Originator.
    pub src: String,
    /// Responder.
    pub dst: String,
    /// OT protocol.
    pub protocol: String,
    /// Category (`read`, `write`, ...).
    pub category: String,
}

/// Per-minute counts of one pair, metric and hour of day.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct VolumeSamples {
    /// Non-zero minutes (at most [`MAX_SAMPLES`]; older ones are overwritten in turn).
    pub samples: Vec<u64>,
    /// Non-zero minutes ever added.
    pub seen: u64,
}

/// What [`Baseline::volume_threshold`] computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// The limit a minute may reach.
    pub limit: f64,
    /// Median per minute.
    pub median: f64,
    /// Median absolute deviation.
    pub mad: f64,
    /// Minutes behind it.
    pub minutes: u64,
}

/// The learned normal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Baseline {
    /// [`BASELINE_FORMAT`].
    pub format: u32,
    /// Capture time learning began (ns).
    pub window_start: Option<i64>,
    /// Capture time learning ended (ns).
    pub window_end: Option<i64>,
    /// Devices by MAC.
    pub devices: BTreeMap<String, DeviceEntry>,
    /// Communications.
    pub comms: BTreeSet<CommKey>,
    /// OT categories per pair and protocol.
    pub categories: BTreeSet<CategoryKey>,
    /// Volume samples by `src>dst|metric|hour`.
    pub volume: BTreeMap<String, VolumeSamples>,
    /// Minutes observed per hour of day (24 entries).
    pub minutes: Vec<u64>,
    /// Domains looked up.
    pub domains: BTreeSet<String>,
    /// Accepted alert fingerprints: never raised again.
    pub exemptions: BTreeSet<String>,
    /// Accepted volume: the threshold of a key is at least this.
    pub volume_ceilings: BTreeMap<String, u64>,
    /// Entries refused because a table was full.
    pub overflow: u64,
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            format: BASELINE_FORMAT,
            window_start: None,
            window_end: None,
            devices: BTreeMap::new(),
            comms: BTreeSet::new(),
            categories: BTreeSet::new(),
            volume: BTreeMap::new(),
            minutes: vec![0; 24],
            domains: BTreeSet::new(),
            exemptions: BTreeSet::new(),
            volume_ceilings: BTreeMap::new(),
            overflow: 0,
        }
    }
}

/// A baseline's JSON could not be read, or an alert could not be accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// Not a baseline.
    #[error("baseline JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Written by a newer mamori.
    #[error("baseline format {0} is newer than this mamori understands ({BASELINE_FORMAT})")]
    Format(u32),
}

/// The key of a volume series.
pub fn volume_key(src: &str, dst: &str, metric: &str, hour: u8) -> String {
    format!("{src}>{dst}|{metric}|{hour}")
}

fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Baseline {
    /// Reads a stored baseline.
    pub fn from_json(text: &str) -> Result<Baseline, BaselineError> {
        let mut b: Baseline = serde_json::from_str(text)?;
        if b.format > BASELINE_FORMAT {
            return Err(BaselineError::Format(b.format));
        }
        b.minutes.resize(24, 0);
        Ok(b)
    }

    /// The JSON to store.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    fn full(&mut self, len: usize) -> bool {
        if len >= MAX_ENTRIES {
            self.overflow += 1;
            true
        } else {
            false
        }
    }

    /// The store's row for this baseline (version 0: the store numbers it).
    /// `created_at` is when it is saved (ns); `note` says why.
    pub fn to_row(&self, note: &str, created_at: i64) -> mamori_store::BaselineRow {
        mamori_store::BaselineRow {
            version: 0,
            created_at,
            run: None,
            window_start: self.window_start,
            window_end: self.window_end,
            note: note.to_string(),
            data: self.to_json(),
        }
    }

    /// Reads a stored row.
    pub fn from_row(row: &mamori_store::BaselineRow) -> Result<Baseline, BaselineError> {
        Baseline::from_json(&row.data)
    }

    /// Notes a device (its MAC and, if any, an address it used).
    pub fn add_device(&mut self, mac: &str, ip: Option<&str>, ts: i64) {
        if !self.devices.contains_key(mac) && self.full(self.devices.len()) {
            return;
        }
        let d = self.devices.entry(mac.to_string()).or_insert(DeviceEntry {
            ips: BTreeSet::new(),
            first_seen: ts,
            last_seen: ts,
        });
        d.first_seen = d.first_seen.min(ts);
        d.last_seen = d.last_seen.max(ts);
        if let Some(ip) = ip
            && d.ips.len() < 16
        {
            d.ips.insert(ip.to_string());
        }
    }

    /// Notes a communication.
    pub fn add_comm(&mut self, key: CommKey) {
        if !self.comms.contains(&key) && !self.full(self.comms.len()) {
            self.comms.insert(key);
        }
    }

    /// Notes an OT category between two hosts.
    pub fn add_category(&mut self, key: CategoryKey) {
        if !self.categories.contains(&key) && !self.full(self.categories.len()) {
            self.categories.insert(key);
        }
    }

    /// Whether the pair ever used `protocol`, whatever the category.
    pub fn knows_protocol(&self, src: &str, dst: &str, protocol: &str) -> bool {
        let lo = CategoryKey {
            src: src.into(),
            dst: dst.into(),
            protocol: protocol.into(),
            category: String::new(),
        };
        self.categories
            .range(lo..)
            .next()
            .is_some_and(|k| k.src == src && k.dst == dst && k.protocol == protocol)
    }

    /// Notes a domain.
    pub fn add_domain(&mut self, name: &str) {
        let n = name.trim_end_matches('.').to_ascii_lowercase();
        if !self.domains.contains(&n) && !self.full(self.domains.len()) {
            self.domains.insert(n);
        }
    }

    /// Notes that a minute of hour `hour` was observed.
    pub fn add_minute(&mut self, hour: u8) {
        self.minutes.resize(24, 0);
        if let Some(m) = self.minutes.get_mut(usize::from(hour)) {
            *m += 1;
        }
    }

    /// Adds a non-zero per-minute count.
    pub fn add_volume(&mut self, key: String, value: u64) {
        if !self.volume.contains_key(&key) && self.full(self.volume.len()) {
            return;
        }
        let s = self.volume.entry(key).or_default();
        if s.samples.len() < MAX_SAMPLES {
            s.samples.push(value);
        } else {
            let i = (s.seen % MAX_SAMPLES as u64) as usize;
            if let Some(slot) = s.samples.get_mut(i) {
                *slot = value;
            }
        }
        s.seen += 1;
    }

    /// The threshold of a volume key: `max(median + k·MAD, median·min_ratio, floor)`
    /// over the observed minutes of its hour, zeros included; at least an accepted
    /// ceiling.
    pub fn volume_threshold(
        &self,
        key: &str,
        hour: u8,
        cfg: &VolumeConfig,
        floor: u64,
    ) -> Threshold {
        let minutes = self.minutes.get(usize::from(hour)).copied().unwrap_or(0);
        let (mut values, seen) = match self.volume.get(key) {
            Some(s) => (
                s.samples.iter().map(|&v| v as f64).collect::<Vec<_>>(),
                s.seen,
            ),
            None => (Vec::new(), 0),
        };
        let zeros_total = minutes.saturating_sub(seen);
        if !values.is_empty() && seen > 0 {
            // Scale the zero minutes to the kept sample.
            let zeros = (zeros_total as f64 * values.len() as f64 / seen as f64).round() as usize;
            values.extend(std::iter::repeat_n(0.0, zeros.min(100_000)));
        }
        let med = median(&mut values);
        let mut dev: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
        let mad = median(&mut dev);
        let ceiling = self.volume_ceilings.get(key).copied().unwrap_or(0) as f64;
        let limit = (med + cfg.k * mad)
            .max(med * cfg.min_ratio)
            .max(floor as f64)
            .max(ceiling);
        Threshold {
            limit,
            median: med,
            mad,
            minutes,
        }
    }

    /// Accepts an alert into the baseline: its fingerprint is never raised again,
    /// and what its evidence's `accept` object describes becomes normal (a device, a
    /// communication, an OT category, a domain, a volume ceiling). Returns what was
    /// added, for the CLI to print.
    pub fn accept(&mut self, kind: &str, fingerprint: &str, evidence: &Value) -> Vec<String> {
        let mut done = Vec::new();
        if self.exemptions.insert(fingerprint.to_string()) {
            done.push(format!("{kind} alert {fingerprint} silenced"));
        }
        let Some(acc) = evidence.get("accept") else {
            return done;
        };
        if let Some(d) = acc.get("device")
            && let Some(mac) = d.get("mac").and_then(Value::as_str)
        {
            let ts = d.get("ts").and_then(Value::as_i64).unwrap_or(0);
            self.add_device(mac, d.get("ip").and_then(Value::as_str), ts);
            done.push(format!("device {mac}"));
        }
        if let Some(c) = acc.get("comm")
            && let Ok(key) = serde_json::from_value::<CommKey>(c.clone())
        {
            done.push(format!(
                "communication {} > {} {}/{}",
                key.src, key.dst, key.app, key.port
            ));
            self.add_comm(key);
        }
        if let Some(c) = acc.get("category")
            && let Ok(key) = serde_json::from_value::<CategoryKey>(c.clone())
        {
            done.push(format!(
                "{} {} from {} to {}",
                key.protocol, key.category, key.src, key.dst
            ));
            self.add_category(key);
        }
        if let Some(n) = acc.get("domain").and_then(Value::as_str) {
            self.add_domain(n);
            done.push(format!("domain {n}"));
        }
        if let Some(v) = acc.get("volume")
            && let (Some(key), Some(value)) = (
                v.get("key").and_then(Value::as_str),
                v.get("value").and_then(Value::as_u64),
            )
        {
            let c = self.volume_ceilings.entry(key.to_string()).or_insert(0);
            *c = (*c).max(value);
            done.push(format!("volume ceiling {key} = {value}"));
        }
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trip_and_format_guard() {
        let mut b = Baseline::default();
        b.add_device("00:1b:1b:00:00:01", Some("10.0.0.1"), 5);
        b.add_comm(CommKey {
            src: "10.0.0.1".into(),
            dst: "10.0.0.2".into(),
            app: "modbus".into(),
            port: 502,
        });
        b.add_volume(volume_key("a", "b", "ops", 3), 30);
        b.add_minute(3);
        let back = Baseline::from_json(&b.to_json()).unwrap();
        assert_eq!(back, b);
        let row = b.to_row("learned from test", 9);
        assert_eq!(
            (row.version, row.created_at, row.note.as_str()),
            (0, 9, "learned from test")
        );
        assert_eq!(Baseline::from_row(&row).unwrap(), b);
        let newer = json!({"format": BASELINE_FORMAT + 1}).to_string();
        assert!(matches!(
            Baseline::from_json(&newer),
            Err(BaselineError::Format(_))
        ));
        assert!(Baseline::from_json("5").is_err());
    }

    #[test]
    fn threshold_is_robust_and_counts_silent_minutes() {
        let cfg = VolumeConfig {
            k: 6.0,
            min_ratio: 2.0,
            floor_ops: 10,
            floor_bytes: 0,
        };
        let mut b = Baseline::default();
        let key = volume_key("a", "b", "ops", 0);
        for i in 0..60 {
            b.add_minute(0);
            // 30 a minute, with one outlier that must not move the threshold much.
            b.add_volume(key.clone(), if i == 7 { 3000 } else { 30 + (i % 3) });
        }
        let t = b.volume_threshold(&key, 0, &cfg, 10);
        assert_eq!(t.median, 31.0);
        assert_eq!(t.mad, 1.0);
        assert_eq!(t.limit, 62.0, "median·min_ratio wins over median + 6·MAD");
        // A pair silent in 55 of 60 minutes: the median is zero, the floor rules.
        let sparse = volume_key("c", "d", "ops", 0);
        for _ in 0..5 {
            b.add_volume(sparse.clone(), 8);
        }
        let t = b.volume_threshold(&sparse, 0, &cfg, 10);
        assert_eq!((t.median, t.limit), (0.0, 10.0));
        // Unknown keys and hours fall back to the floor.
        assert_eq!(b.volume_threshold("x", 5, &cfg, 10).limit, 10.0);
    }

    #[test]
    fn samples_are_capped() {
        let mut b = Baseline::default();
        for i in 0..1000 {
            b.add_volume("k".into(), i + 1);
        }
        let s = &b.volume["k"];
        assert_eq!((s.samples.len(), s.seen), (MAX_SAMPLES, 1000));
    }

    #[test]
    fn accept_adds_what_the_evidence_describes() {
        let mut b = Baseline::default();
        let ev = json!({"accept": {
            "comm": {"src": "10.0.0.9", "dst": "10.0.0.2", "app": "modbus", "port": 502},
            "category": {"src": "10.0.0.9", "dst": "10.0.0.2", "protocol": "modbus", "category": "write"},
            "device": {"mac": "28:d2:44:00:00:01", "ip": "10.0.0.9", "ts": 1},
            "domain": "Example.COM.",
            "volume": {"key": "k", "value": 500}
        }});
        let done = b.accept("new_comm", "fp1", &ev);
        assert_eq!(done.len(), 6, "{done:?}");
        assert!(b.exemptions.contains("fp1"));
        assert!(b.knows_protocol("10.0.0.9", "10.0.0.2", "modbus"));
        assert!(!b.knows_protocol("10.0.0.9", "10.0.0.2", "s7comm"));
        assert!(b.domains.contains("example.com"));
        assert!(b.devices.contains_key("28:d2:44:00:00:01"));
        let cfg = VolumeConfig::default();
        assert_eq!(b.volume_threshold("k", 0, &cfg, 1).limit, 500.0);
        assert_eq!(
            b.accept("new_comm", "fp1", &json!({})),
            Vec::<String>::new()
        );
    }
}
