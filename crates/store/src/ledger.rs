//! Rows of the asset ledger, alerts and baselines as the store keeps them.
//!
//! The store does not interpret the JSON it holds (`detail`, `evidence`, `data`):
//! the `assets` and `detect` crates own those shapes. The typed columns are the ones
//! the portal sorts and filters by, and the ones `assets.jsonl` / `alerts.jsonl` need.

use std::fmt;
use std::str::FromStr;

use crate::model::RunId;

/// One asset: a device keyed by MAC, or an address known only behind a router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetRow {
    /// `mac:aa:bb:cc:dd:ee:ff` or `ip:192.0.2.7`.
    pub key: String,
    /// Its MAC, lower-case with colons.
    pub mac: Option<String>,
    /// Its addresses, newest first.
    pub ips: Vec<String>,
    /// Manufacturer (from the OUI or the device itself).
    pub vendor: Option<String>,
    /// The best hostname.
    pub hostname: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// ISO date its OS left support.
    pub os_eol: Option<String>,
    /// `plc`, `hmi`, `ews`, `scada_server`, `historian`, `it_host`, `network_device`,
    /// `iot` or `unknown`.
    pub role: String,
    /// Model, where a protocol told it.
    pub model: Option<String>,
    /// Firmware, where a protocol told it.
    pub firmware: Option<String>,
    /// Key of the router this address sits behind.
    pub behind: Option<String>,
    /// First seen, nanoseconds since the epoch.
    pub first_seen: i64,
    /// Last seen, nanoseconds since the epoch.
    pub last_seen: i64,
    /// Packets sent and received.
    pub pkts: u64,
    /// Bytes sent and received.
    pub bytes: u64,
    /// The whole record as JSON (attributes with sources and history, services).
    pub detail: String,
    /// The run that last changed it.
    pub updated_run: Option<RunId>,
}

/// Which assets to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetQuery {
    /// Only this role.
    pub role: Option<String>,
    /// Case-insensitive substring of key, IPs, vendor, hostname, OS or model.
    pub search: Option<String>,
    /// Only assets seen at or after this time (ns).
    pub seen_since: Option<i64>,
    /// Only assets first seen at or after this time (ns).
    pub first_seen_since: Option<i64>,
    /// Sort order.
    pub sort: AssetSort,
    /// Descending instead of ascending.
    pub descending: bool,
    /// At most this many (all when `None`).
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: u32,
}

/// Columns assets sort by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssetSort {
    /// By key (MAC order).
    #[default]
    Key,
    /// By first IP address text.
    Ip,
    /// By vendor.
    Vendor,
    /// By hostname.
    Hostname,
    /// By role.
    Role,
    /// By OS.
    Os,
    /// By first seen.
    FirstSeen,
    /// By last seen.
    LastSeen,
    /// By bytes.
    Bytes,
}

impl AssetSort {
    /// The SQL column.
    pub(crate) fn column(self) -> &'static str {
        match self {
            AssetSort::Key => "asset_key",
            AssetSort::Ip => "ips",
            AssetSort::Vendor => "vendor",
            AssetSort::Hostname => "hostname",
            AssetSort::Role => "role",
            AssetSort::Os => "os",
            AssetSort::FirstSeen => "first_seen",
            AssetSort::LastSeen => "last_seen",
            AssetSort::Bytes => "bytes",
        }
    }
}

/// Where an alert stands with the operators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum AlertStatus {
    /// Nobody looked at it yet.
    #[default]
    Open,
    /// Someone saw it.
    Acknowledged,
    /// Accepted into the baseline: normal from now on.
    Accepted,
}

impl AlertStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Accepted => "accepted",
        }
    }
}

impl fmt::Display for AlertStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "open" => Ok(AlertStatus::Open),
            "acknowledged" => Ok(AlertStatus::Acknowledged),
            "accepted" => Ok(AlertStatus::Accepted),
            other => Err(format!("{other:?} is not an alert status")),
        }
    }
}

/// One aggregated alert: the fields of `alerts.jsonl` plus its aggregation and
/// workflow state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    /// Store id (0 before it is stored).
    pub id: i64,
    /// What makes two alerts the same (kind, hosts and the detail the detector
    /// chooses); repeats add to `count`.
    pub fingerprint: String,
    /// First seen, nanoseconds since the epoch.
    pub ts: i64,
    /// Last seen, nanoseconds since the epoch.
    pub last_seen: i64,
    /// How many times it fired.
    pub count: u64,
    /// `new_device`, `new_comm`, `ot_command`, ... (DESIGN §3).
    pub kind: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// Source MAC.
    pub src_mac: Option<String>,
    /// Source IP.
    pub src_ip: Option<String>,
    /// Destination MAC.
    pub dst_mac: Option<String>,
    /// Destination IP.
    pub dst_ip: Option<String>,
    /// Protocol involved.
    pub protocol: Option<String>,
    /// One line for people.
    pub summary: String,
    /// JSON object: expected, seen, threshold, flow uids.
    pub evidence: String,
    /// ATT&CK for ICS technique id.
    pub mitre_ics: Option<String>,
    /// Raised while the baseline was still learning.
    pub learning: bool,
    /// Workflow state.
    pub status: AlertStatus,
    /// Who set the status.
    pub status_by: Option<String>,
    /// When the status was set (ns).
    pub status_at: Option<i64>,
    /// The run that raised it (first).
    pub run: Option<RunId>,
}

/// Which alerts to read, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only this kind.
    pub kind: Option<String>,
    /// Only this severity.
    pub severity: Option<String>,
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only alerts whose source or destination IP or MAC is this text.
    pub host: Option<String>,
    /// Last seen at or after (ns).
    pub since: Option<i64>,
    /// First seen before (ns).
    pub until: Option<i64>,
    /// At most this many (all when `None`).
    pub limit: Option<u32>,
    /// Skip this many first.
    pub offset: u32,
}

/// A learned baseline: the detect crate's JSON and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaselineRow {
    /// 1, 2, 3, ... (0 before it is stored).
    pub version: i64,
    /// When it was saved (ns).
    pub created_at: i64,
    /// The run that learned it.
    pub run: Option<RunId>,
    /// Capture time the learning began (ns).
    pub window_start: Option<i64>,
    /// Capture time the learning ended (ns).
    pub window_end: Option<i64>,
    /// Why it was saved (`learned from plant.pcap`, `accepted alert 12`).
    pub note: String,
    /// The baseline, JSON.
    pub data: String,
}
