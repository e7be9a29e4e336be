//! What detection needs to know about a device, without depending on the ledger.
//!
//! The asset ledger (crate `mamori-assets`) knows roles, vendors and operating
//! systems; detection asks through [`AssetLookup`], which the application implements
//! over the ledger. Tests implement it from the simulator's plant. [`NoAssets`] knows
//! nothing: role-dependent detectors (`internet_from_ot`, `eol_os`, DNS from OT
//! assets) then stay quiet.

use std::net::IpAddr;

use mamori_wire::decode::MacAddr;

/// What the ledger knows about one device.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AssetInfo {
    /// The ledger's key (`mac:…` or `ip:…`).
    pub key: String,
    /// `plc`, `hmi`, `ews`, `scada_server`, `historian`, `it_host`, ...
    pub role: String,
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// Whether that OS is out of support.
    pub os_eol: bool,
    /// Whether the device is an OT asset (controller, HMI, EWS, SCADA, historian, field device).
    pub is_ot: bool,
    /// First seen, nanoseconds since the epoch.
    pub first_seen: i64,
}

/// Looks devices up by address.
pub trait AssetLookup {
    /// The device using `ip`.
    fn by_ip(&self, ip: IpAddr) -> Option<AssetInfo>;
    /// The device with this MAC.
    fn by_mac(&self, mac: MacAddr) -> Option<AssetInfo>;
}

/// A lookup that knows no device.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAssets;

impl AssetLookup for NoAssets {
    fn by_ip(&self, _ip: IpAddr) -> Option<AssetInfo> {
        None
    }
    fn by_mac(&self, _mac: MacAddr) -> Option<AssetInfo> {
        None
    }
}

/// Whether a role name is an OT role.
pub fn is_ot_role(role: &str) -> bool {
    matches!(
        role,
        "plc" | "hmi" | "ews" | "scada_server" | "historian" | "remote_io" | "rtu" | "field_device"
    )
}
