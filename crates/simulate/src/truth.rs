//! The ground-truth file written beside a capture: which alerts a correct detector
//! raises on it, with the attack that causes each and its time window.

use std::net::Ipv4Addr;

use serde::Serialize;

use crate::Attack;
use crate::plant::Protocol;

/// One alert a detector should raise.
#[derive(Debug, Clone, Serialize)]
pub struct ExpectedAlert {
    /// Alert kind, as in DESIGN.md §3 (`new_device`, `scan`, `ot_command`, ...).
    pub kind: &'static str,
    /// Severity a reasonable detector gives it.
    pub severity: &'static str,
    /// The attack that causes it.
    pub attack: Attack,
    /// Source MAC, where relevant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_mac: Option<String>,
    /// Source address, where relevant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<Ipv4Addr>,
    /// Destination address, where relevant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dst_ip: Option<Ipv4Addr>,
    /// Protocol involved, where one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// OT function category (`write`, `control`, `program`) for `ot_command` alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<&'static str>,
    /// MITRE ATT&CK for ICS technique, where one fits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mitre_ics: Option<&'static str>,
    /// Start of the window the alert falls in (epoch seconds).
    pub ts_start: f64,
    /// End of that window (epoch seconds).
    pub ts_end: f64,
    /// What happens.
    pub description: String,
}

/// The whole ground-truth document.
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    /// `normal` or `incident`.
    pub scenario: &'static str,
    /// The seed used.
    pub seed: u64,
    /// Device-count multiplier.
    pub scale: u32,
    /// First instant simulated (epoch seconds).
    pub start: f64,
    /// End of the simulated window (epoch seconds).
    pub end: f64,
    /// Alerts a detector with a baseline learned from a normal day should raise.
    /// Empty for a normal day.
    pub expected_alerts: Vec<ExpectedAlert>,
}
