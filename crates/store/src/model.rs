//! The records the store holds, independent of any back end.
//!
//! Every timestamp is an `i64` of nanoseconds since the Unix epoch (UTC), the
//! unit packet timestamps arrive in. Counters are `u64`; a back end that keeps
//! them in signed 64-bit columns refuses values above `i64::MAX` with
//! [`StoreError::OutOfRange`](crate::StoreError::OutOfRange) rather than wrap.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Nanoseconds in one hour: the width of a [`FlowHourly`] bucket.
pub const HOUR_NANOS: i64 = 3_600 * 1_000_000_000;

/// The start of the UTC hour that holds `ts` (nanoseconds since the epoch).
///
/// Rounds towards negative infinity, so timestamps before 1970 land in the
/// hour that contains them too. In the first partial hour of the `i64` range
/// (the year 1677), whose start is not representable, the result saturates
/// to `i64::MIN`.
pub fn hour_bucket(ts: i64) -> i64 {
    // rem_euclid is in 0..HOUR_NANOS; only the subtraction can overflow.
    ts.saturating_sub(ts.rem_euclid(HOUR_NANOS))
}

/// The wall clock now, in nanoseconds since the epoch, for run records.
///
/// Saturates instead of failing: a clock before 1970 gives 0, one past the
/// year 2262 gives `i64::MAX`.
pub fn unix_nanos_now() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Identifies a run in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// How a run ended, or that it has not ended yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum RunStatus {
    /// Started and not finished: still going, or the process died.
    #[serde(rename = "running")]
    Running,
    /// Every input was read to its end.
    #[serde(rename = "ok")]
    Ok,
    /// The run finished, but at least one input was truncated or damaged.
    #[serde(rename = "damaged input")]
    DamagedInput,
    /// The run stopped on an error.
    #[serde(rename = "failed")]
    Failed,
}

impl RunStatus {
    /// The text stored in the database and shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::DamagedInput => "damaged input",
            RunStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the [`RunStatus`] names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run status {0:?}")]
pub struct UnknownRunStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownRunStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(RunStatus::Running),
            "ok" => Ok(RunStatus::Ok),
            "damaged input" => Ok(RunStatus::DamagedInput),
            "failed" => Ok(RunStatus::Failed),
            other => Err(UnknownRunStatus(other.to_owned())),
        }
    }
}

/// What is known when a run starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRun {
    /// The command, e.g. `"analyze"`.
    pub command: String,
    /// Wall clock at the start.
    pub started_at: i64,
    /// The input paths in the order given (after glob and folder expansion).
    pub inputs: Vec<String>,
    /// Worker threads used.
    pub threads: u32,
    /// Version of the program that ran.
    pub version: String,
}

/// One input of a run and what was read from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInput {
    /// The path as given.
    pub path: String,
    /// Packets read from this input.
    pub packets: u64,
    /// Captured bytes read from this input.
    pub bytes: u64,
    /// Why the input could not be read to its end, if it could not.
    pub error: Option<String>,
}

impl RunInput {
    /// An input that has not been read yet.
    pub fn unread(path: impl Into<String>) -> Self {
        RunInput {
            path: path.into(),
            packets: 0,
            bytes: 0,
            error: None,
        }
    }
}

/// What is known when a run ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFinish {
    /// Wall clock at the end.
    pub finished_at: i64,
    /// Every input with its counts; replaces the list given at the start.
    pub inputs: Vec<RunInput>,
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Flows (connections) the run produced.
    pub flows: u64,
    /// Packets dropped as duplicates (e.g. seen on two mirror ports).
    pub duplicates: u64,
    /// Frames that could not be decoded.
    pub decode_errors: u64,
    /// Flows evicted early because the flow table was full.
    pub evictions: u64,
    /// Elapsed wall-clock seconds.
    pub elapsed_secs: f64,
    /// How the run ended; [`RunStatus::Running`] is refused.
    pub status: RunStatus,
}

/// A run as stored: what a portal lists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Identifier.
    pub id: RunId,
    /// The command, e.g. `"analyze"`.
    pub command: String,
    /// Wall clock at the start.
    pub started_at: i64,
    /// Wall clock at the end; `None` while running.
    pub finished_at: Option<i64>,
    /// Inputs in the order given.
    pub inputs: Vec<RunInput>,
    /// Packets read.
    pub packets: u64,
    /// Captured bytes read.
    pub bytes: u64,
    /// Flows produced.
    pub flows: u64,
    /// Duplicate packets dropped.
    pub duplicates: u64,
    /// Frames that could not be decoded.
    pub decode_errors: u64,
    /// Flows evicted early.
    pub evictions: u64,
    /// Elapsed wall-clock seconds (0 while running).
    pub elapsed_secs: f64,
    /// Worker threads used.
    pub threads: u32,
    /// How the run ended.
    pub status: RunStatus,
    /// Version of the program that ran.
    pub version: String,
}

/// One finished connection as the store writer takes it.
///
/// The pipeline converts its conn records into this; only what the flow
/// aggregates need is here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnSummary {
    /// Start of the connection (first packet), nanoseconds since the epoch.
    pub ts: i64,
    /// Originator address.
    pub orig_h: IpAddr,
    /// Responder address.
    pub resp_h: IpAddr,
    /// IP protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, ...).
    pub proto: u8,
    /// Responder port (0 where the protocol has none).
    pub resp_p: u16,
    /// Identified application protocols, comma-separated, as in `conn.jsonl`.
    pub service: Option<String>,
    /// 802.1Q VLAN id, 0 to 4095, when tagged.
    pub vlan: Option<u16>,
    /// Packets from the originator.
    pub orig_pkts: u64,
    /// Packets from the responder.
    pub resp_pkts: u64,
    /// Payload bytes from the originator.
    pub orig_bytes: u64,
    /// Payload bytes from the responder.
    pub resp_bytes: u64,
    /// IP-level bytes from the originator.
    pub orig_ip_bytes: u64,
    /// IP-level bytes from the responder.
    pub resp_ip_bytes: u64,
    /// Duration (last packet minus first), nanoseconds; negative counts as 0.
    pub duration_nanos: i64,
    /// The run that saw this connection.
    pub run_id: RunId,
}

/// The key of a [`FlowHourly`] row.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FlowKey {
    /// Start of the UTC hour ([`hour_bucket`] of the connection start).
    pub hour: i64,
    /// Originator address.
    pub orig_h: IpAddr,
    /// Responder address.
    pub resp_h: IpAddr,
    /// IP protocol number.
    pub proto: u8,
    /// Responder port.
    pub resp_p: u16,
    /// Identified application protocols; `None` when none was identified.
    pub service: Option<String>,
    /// VLAN id when tagged.
    pub vlan: Option<u16>,
}

impl FlowKey {
    /// The key a connection is summed under.
    ///
    /// An empty service string counts as none, so that both spellings share a
    /// row.
    pub fn of(conn: &ConnSummary) -> Self {
        FlowKey {
            hour: hour_bucket(conn.ts),
            orig_h: conn.orig_h,
            resp_h: conn.resp_h,
            proto: conn.proto,
            resp_p: conn.resp_p,
            service: conn.service.clone().filter(|s| !s.is_empty()),
            vlan: conn.vlan,
        }
    }
}

/// Sums of the connections under one [`FlowKey`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowSums {
    /// Connections.
    pub conns: u64,
    /// Packets from originators.
    pub orig_pkts: u64,
    /// Packets from responders.
    pub resp_pkts: u64,
    /// Payload bytes from originators.
    pub orig_bytes: u64,
    /// Payload bytes from responders.
    pub resp_bytes: u64,
    /// IP-level bytes from originators.
    pub orig_ip_bytes: u64,
    /// IP-level bytes from responders.
    pub resp_ip_bytes: u64,
    /// Summed durations, nanoseconds.
    pub duration_nanos: u64,
    /// Earliest connection start.
    pub first_seen: i64,
    /// Latest connection end (start plus duration).
    pub last_seen: i64,
}

impl FlowSums {
    /// The sums of a single connection.
    pub fn of(conn: &ConnSummary) -> Self {
        let duration = conn.duration_nanos.max(0);
        FlowSums {
            conns: 1,
            orig_pkts: conn.orig_pkts,
            resp_pkts: conn.resp_pkts,
            orig_bytes: conn.orig_bytes,
            resp_bytes: conn.resp_bytes,
            orig_ip_bytes: conn.orig_ip_bytes,
            resp_ip_bytes: conn.resp_ip_bytes,
            duration_nanos: duration.unsigned_abs(),
            first_seen: conn.ts,
            last_seen: conn.ts.saturating_add(duration),
        }
    }

    /// Adds `other` into `self`. Sums saturate rather than wrap: a counter
    /// that reaches `u64::MAX` is wrong either way, and saturation cannot
    /// panic.
    pub fn merge(&mut self, other: &FlowSums) {
        self.conns = self.conns.saturating_add(other.conns);
        self.orig_pkts = self.orig_pkts.saturating_add(other.orig_pkts);
        self.resp_pkts = self.resp_pkts.saturating_add(other.resp_pkts);
        self.orig_bytes = self.orig_bytes.saturating_add(other.orig_bytes);
        self.resp_bytes = self.resp_bytes.saturating_add(other.resp_bytes);
        self.orig_ip_bytes = self.orig_ip_bytes.saturating_add(other.orig_ip_bytes);
        self.resp_ip_bytes = self.resp_ip_bytes.saturating_add(other.resp_ip_bytes);
        self.duration_nanos = self.duration_nanos.saturating_add(other.duration_nanos);
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
    }
}

/// One row of the hourly flow aggregate: what was written, or what is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowHourly {
    /// The aggregation key.
    #[serde(flatten)]
    pub key: FlowKey,
    /// The sums.
    #[serde(flatten)]
    pub sums: FlowSums,
    /// The latest run that added to this row (`None` if that run was deleted).
    pub last_run: Option<RunId>,
}

/// Which [`FlowHourly`] rows to read. The default selects every row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowFilter {
    /// Only hours starting at or after this time.
    pub from: Option<i64>,
    /// Only hours starting before this time.
    pub to: Option<i64>,
    /// Only rows where this address is the originator or the responder.
    pub host: Option<IpAddr>,
    /// At most this many rows (in key order); ignored by totals.
    pub limit: Option<u32>,
}

/// Sums over the [`FlowHourly`] rows a filter selects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowTotals {
    /// Rows selected.
    pub rows: u64,
    /// Connections.
    pub conns: u64,
    /// Packets from originators.
    pub orig_pkts: u64,
    /// Packets from responders.
    pub resp_pkts: u64,
    /// Payload bytes from originators.
    pub orig_bytes: u64,
    /// Payload bytes from responders.
    pub resp_bytes: u64,
    /// IP-level bytes from originators.
    pub orig_ip_bytes: u64,
    /// IP-level bytes from responders.
    pub resp_ip_bytes: u64,
    /// Earliest connection start; `None` when no row is selected.
    pub first_seen: Option<i64>,
    /// Latest connection end; `None` when no row is selected.
    pub last_seen: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hour_bucket_rounds_down_on_both_sides_of_the_epoch() {
        assert_eq!(hour_bucket(0), 0);
        assert_eq!(hour_bucket(HOUR_NANOS - 1), 0);
        assert_eq!(hour_bucket(HOUR_NANOS), HOUR_NANOS);
        assert_eq!(hour_bucket(-1), -HOUR_NANOS);
        assert_eq!(hour_bucket(i64::MIN + 5), i64::MIN);
        assert_eq!(hour_bucket(i64::MAX) % HOUR_NANOS, 0);
    }

    #[test]
    fn run_status_round_trips_through_text() {
        for s in [
            RunStatus::Running,
            RunStatus::Ok,
            RunStatus::DamagedInput,
            RunStatus::Failed,
        ] {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
        }
        assert!("done".parse::<RunStatus>().is_err());
    }
}
