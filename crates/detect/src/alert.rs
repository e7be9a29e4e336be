//! Alerts: what a detector says, how repeats aggregate, and the two forms they
//! leave in (an `alerts.jsonl` line and a store row).
//!
//! Every alert has a *fingerprint*, the detector's statement of what makes two alerts
//! the same (kind, hosts, and the detail that matters: port, function code, rule id).
//! [`AlertSet`] keeps one [`Alert`] per fingerprint: a repeat adds to `count`, moves
//! `last_seen` and adds its flow uids to the evidence up to a cap. The alert's `id`
//! in `alerts.jsonl` is derived from the fingerprint, so the same alert keeps the same
//! id in every run.

use std::fmt;
use std::net::IpAddr;

use hashbrown::HashMap;
use mamori_store::{AlertRow, AlertStatus};
use mamori_wire::decode::MacAddr;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// Alert kinds, as `alerts.jsonl` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Kind {
    NewDevice,
    NewComm,
    EolOs,
    VolumeAnomaly,
    OtCommand,
    Signature,
    ArpSpoof,
    IpConflict,
    Scan,
    Storm,
    DnsSuspicious,
    InternetFromOt,
    ZoneViolation,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 13] = [
        Kind::NewDevice,
        Kind::NewComm,
        Kind::EolOs,
        Kind::VolumeAnomaly,
        Kind::OtCommand,
        Kind::Signature,
        Kind::ArpSpoof,
        Kind::IpConflict,
        Kind::Scan,
        Kind::Storm,
        Kind::DnsSuspicious,
        Kind::InternetFromOt,
        Kind::ZoneViolation,
    ];

    /// The name in `alerts.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NewDevice => "new_device",
            Kind::NewComm => "new_comm",
            Kind::EolOs => "eol_os",
            Kind::VolumeAnomaly => "volume_anomaly",
            Kind::OtCommand => "ot_command",
            Kind::Signature => "signature",
            Kind::ArpSpoof => "arp_spoof",
            Kind::IpConflict => "ip_conflict",
            Kind::Scan => "scan",
            Kind::Storm => "storm",
            Kind::DnsSuspicious => "dns_suspicious",
            Kind::InternetFromOt => "internet_from_ot",
            Kind::ZoneViolation => "zone_violation",
        }
    }

    /// The kind with this name.
    pub fn from_name(s: &str) -> Option<Kind> {
        Kind::ALL.iter().copied().find(|k| k.as_str() == s)
    }

    /// Whether the detector compares with a baseline (and so stays silent while
    /// learning).
    pub fn needs_baseline(self) -> bool {
        matches!(self, Kind::NewDevice | Kind::NewComm | Kind::VolumeAnomaly)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// The name in `alerts.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One aggregated alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// What makes repeats the same alert.
    pub fingerprint: String,
    /// First seen, nanoseconds since the epoch.
    pub ts: i64,
    /// Last seen, nanoseconds since the epoch.
    pub last_seen: i64,
    /// How many times it fired.
    pub count: u64,
    /// Kind.
    pub kind: Kind,
    /// Severity.
    pub severity: Severity,
    /// Source MAC.
    pub src_mac: Option<MacAddr>,
    /// Source IP.
    pub src_ip: Option<IpAddr>,
    /// Destination MAC.
    pub dst_mac: Option<MacAddr>,
    /// Destination IP.
    pub dst_ip: Option<IpAddr>,
    /// Protocol involved.
    pub protocol: Option<String>,
    /// One line for people.
    pub summary: String,
    /// JSON object: `expected`, `seen`, `threshold`, `uids` and detector details;
    /// `accept` describes what accepting the alert adds to the baseline.
    pub evidence: Value,
    /// ATT&CK for ICS technique.
    pub mitre_ics: Option<&'static str>,
    /// Raised while the baseline was still learning.
    pub learning: bool,
}

impl Alert {
    /// A new alert with empty evidence, count 1.
    pub fn new(
        kind: Kind,
        severity: Severity,
        ts: i64,
        fingerprint: String,
        summary: String,
    ) -> Self {
        Alert {
            fingerprint,
            ts,
            last_seen: ts,
            count: 1,
            kind,
            severity,
            src_mac: None,
            src_ip: None,
            dst_mac: None,
            dst_ip: None,
            protocol: None,
            summary,
            evidence: Value::Object(Map::new()),
            mitre_ics: None,
            learning: false,
        }
    }

    /// The stable id written to `alerts.jsonl`: `A` and 16 hex digits of the
    /// fingerprint's FNV-1a hash.
    pub fn id(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.fingerprint.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("A{h:016x}")
    }

    /// Sets one evidence field.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        if let Value::Object(m) = &mut self.evidence {
            m.insert(key.to_string(), value);
        }
        self
    }

    /// The `alerts.jsonl` object (DESIGN §3 fields, plus `count`, `last_seen` and
    /// `fingerprint`).
    pub fn to_json(&self) -> Value {
        json!({
            "ts": self.ts as f64 / 1e9,
            "id": self.id(),
            "kind": self.kind.as_str(),
            "severity": self.severity.as_str(),
            "src_mac": self.src_mac.map(|m| m.to_string()),
            "src_ip": self.src_ip.map(|i| i.to_string()),
            "dst_mac": self.dst_mac.map(|m| m.to_string()),
            "dst_ip": self.dst_ip.map(|i| i.to_string()),
            "protocol": self.protocol,
            "summary": self.summary,
            "evidence": self.evidence,
            "mitre_ics": self.mitre_ics,
            "learning": self.learning,
            "count": self.count,
            "last_seen": self.last_seen as f64 / 1e9,
            "fingerprint": self.fingerprint,
        })
    }

    /// One `alerts.jsonl` line (no newline).
    pub fn to_jsonl(&self) -> String {
        self.to_json().to_string()
    }

    /// The store's row (status open, not yet stored).
    pub fn to_row(&self) -> AlertRow {
        AlertRow {
            id: 0,
            fingerprint: self.fingerprint.clone(),
            ts: self.ts,
            last_seen: self.last_seen,
            count: self.count,
            kind: self.kind.as_str().to_string(),
            severity: self.severity.as_str().to_string(),
            src_mac: self.src_mac.map(|m| m.to_string()),
            src_ip: self.src_ip.map(|i| i.to_string()),
            dst_mac: self.dst_mac.map(|m| m.to_string()),
            dst_ip: self.dst_ip.map(|i| i.to_string()),
            protocol: self.protocol.clone(),
            summary: self.summary.clone(),
            evidence: self.evidence.to_string(),
            mitre_ics: self.mitre_ics.map(str::to_string),
            learning: self.learning,
            status: AlertStatus::Open,
            status_by: None,
            status_at: None,
            run: None,
        }
    }

    fn absorb(&mut self, other: Alert, max_uids: usize) {
        self.count = self.count.saturating_add(other.count);
        self.ts = self.ts.min(other.ts);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.learning &= other.learning;
        let (Value::Object(mine), Value::Object(theirs)) = (&mut self.evidence, other.evidence)
        else {
            return;
        };
        for (k, v) in theirs {
            match (k.as_str(), mine.get_mut(&k)) {
                ("uids" | "names" | "targets" | "functions", Some(Value::Array(a))) => {
                    if let Value::Array(more) = v {
                        for x in more {
                            if a.len() >= max_uids {
                                break;
                            }
                            if !a.contains(&x) {
                                a.push(x);
                            }
                        }
                    }
                }
                ("seen", Some(old)) => {
                    // Keep the largest observation (volume, probe counts).
                    if let (Some(o), Some(n)) = (old.as_f64(), v.as_f64())
                        && n > o
                    {
                        *old = v;
                    }
                }
                (_, None) => {
                    mine.insert(k, v);
                }
                _ => {}
            }
        }
    }
}

/// Alerts aggregated by fingerprint, in order of first appearance.
#[derive(Debug, Clone, Default)]
pub struct AlertSet {
    alerts: Vec<Alert>,
    index: HashMap<String, usize>,
    max_alerts: usize,
    max_uids: usize,
    dropped: u64,
    drained: usize,
}

impl AlertSet {
    /// An empty set holding at most `max_alerts` distinct alerts.
    pub fn new(max_alerts: usize, max_uids: usize) -> Self {
        AlertSet {
            max_alerts,
            max_uids,
            ..AlertSet::default()
        }
    }

    /// Adds an alert or aggregates it into its earlier twin.
    pub fn push(&mut self, alert: Alert) {
        if let Some(&i) = self.index.get(&alert.fingerprint) {
            if let Some(a) = self.alerts.get_mut(i) {
                a.absorb(alert, self.max_uids);
            }
            return;
        }
        if self.alerts.len() >= self.max_alerts {
            self.dropped += 1;
            return;
        }
        self.index
            .insert(alert.fingerprint.clone(), self.alerts.len());
        self.alerts.push(alert);
    }

    /// Whether an alert with this fingerprint exists.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.index.contains_key(fingerprint)
    }

    /// All alerts so far.
    pub fn all(&self) -> &[Alert] {
        &self.alerts
    }

    /// Alerts first raised since the last call (repeats of them keep aggregating
    /// into [`AlertSet::all`]).
    pub fn drain_new(&mut self) -> Vec<Alert> {
        let out = self.alerts.get(self.drained..).unwrap_or_default().to_vec();
        self.drained = self.alerts.len();
        out
    }

    /// Distinct alerts refused because the set was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(ts: i64, uid: &str) -> Alert {
        Alert::new(Kind::Scan, Severity::High, ts, "scan|x".into(), "s".into())
            .with("uids", json!([uid]))
            .with("seen", json!(ts))
    }

    #[test]
    fn repeats_aggregate() {
        let mut set = AlertSet::new(10, 2);
        set.push(alert(5, "a"));
        set.push(alert(9, "b"));
        set.push(alert(3, "c"));
        assert_eq!(set.all().len(), 1);
        let a = &set.all()[0];
        assert_eq!((a.count, a.ts, a.last_seen), (3, 3, 9));
        assert_eq!(a.evidence["uids"], json!(["a", "b"]));
        assert_eq!(a.evidence["seen"], json!(9));
        assert_eq!(set.drain_new().len(), 1);
        assert!(set.drain_new().is_empty());
    }

    #[test]
    fn cap_counts_drops() {
        let mut set = AlertSet::new(1, 2);
        set.push(alert(1, "a"));
        let mut other = alert(1, "a");
        other.fingerprint = "other".into();
        set.push(other);
        assert_eq!(set.dropped(), 1);
    }

    #[test]
    fn jsonl_has_design_fields() {
        let mut a = alert(1_500_000_000, "a");
        a.src_ip = Some("10.0.0.1".parse().unwrap());
        a.mitre_ics = Some("T0846");
        let v: Value = serde_json::from_str(&a.to_jsonl()).unwrap();
        for k in [
            "ts",
            "id",
            "kind",
            "severity",
            "src_mac",
            "src_ip",
            "dst_mac",
            "dst_ip",
            "protocol",
            "summary",
            "evidence",
            "mitre_ics",
            "learning",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(v["ts"], json!(1.5));
        assert_eq!(v["kind"], "scan");
        assert_eq!(a.to_row().src_ip.as_deref(), Some("10.0.0.1"));
        assert_eq!(a.id(), alert(7, "z").id(), "the id follows the fingerprint");
    }
}
