//! One asset: a device keyed by its MAC, or an address known only behind a router,
//! with everything the ledger learned about it and where each fact came from.
//!
//! [`Asset`] is the ledger's whole state for a device and is what the store keeps
//! (its JSON, with the summary fields of `assets.jsonl` added, is the row's `detail`):
//! loading a stored ledger deserialises it and the next run carries on from there.
//! The summary — best vendor, hostname and OS, end of support, the protocols served
//! and used, the OT identity — is derived from it by [`Asset::summary`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use mamori_wire::decode::MacAddr;
use serde::{Deserialize, Serialize};

use crate::attr::Attribute;
use crate::os;
use crate::oui::MacKind;

/// Addresses kept per asset (the oldest is dropped and counted).
pub const IPS_CAP: usize = 32;
/// Hostnames kept per asset.
pub const HOSTNAMES_CAP: usize = 8;
/// Served and used (transport, port) entries kept per asset, each.
pub const SERVICES_CAP: usize = 64;
/// OT peers remembered per asset.
pub const PEERS_CAP: usize = 64;
/// IP conflicts remembered per asset.
pub const CONFLICTS_CAP: usize = 16;

/// What identifies an asset: its MAC, or, for a host seen only behind a router (or
/// in a capture without link-layer headers), its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetKey {
    /// A device on the local link.
    Mac(MacAddr),
    /// An address whose device's MAC we cannot see.
    Ip(IpAddr),
}

impl fmt::Display for AssetKey {
    /// `mac:aa:bb:cc:dd:ee:ff` or `ip:192.0.2.7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AssetKey::Mac(m) => write!(f, "mac:{m}"),
            AssetKey::Ip(ip) => write!(f, "ip:{ip}"),
        }
    }
}

impl FromStr for AssetKey {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(m) = s.strip_prefix("mac:") {
            crate::serde_util::parse_mac(m)
                .map(AssetKey::Mac)
                .ok_or_else(|| format!("bad MAC in asset key {s:?}"))
        } else if let Some(ip) = s.strip_prefix("ip:") {
            ip.parse()
                .map(AssetKey::Ip)
                .map_err(|_| format!("bad address in asset key {s:?}"))
        } else {
            Err(format!("{s:?} is not an asset key (mac:... or ip:...)"))
        }
    }
}

impl Serialize for AssetKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AssetKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// What a device does in the plant.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A controller: serves an OT protocol.
    Plc,
    /// Operator station: polls a few controllers.
    Hmi,
    /// Engineering workstation: programs controllers.
    Ews,
    /// Polls many controllers, or serves OPC UA and polls controllers.
    ScadaServer,
    /// Serves OPC UA (collects process data) without polling controllers itself.
    Historian,
    /// An office-style computer or server.
    ItHost,
    /// A router, gateway, switch or access point.
    NetworkDevice,
    /// An appliance speaking only discovery and time protocols.
    Iot,
    /// Not enough evidence.
    #[default]
    Unknown,
}

impl Role {
    /// The name `assets.jsonl` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Plc => "plc",
            Role::Hmi => "hmi",
            Role::Ews => "ews",
            Role::ScadaServer => "scada_server",
            Role::Historian => "historian",
            Role::ItHost => "it_host",
            Role::NetworkDevice => "network_device",
            Role::Iot => "iot",
            Role::Unknown => "unknown",
        }
    }

    /// Whether the role belongs to the control system.
    pub fn is_ot(self) -> bool {
        matches!(
            self,
            Role::Plc | Role::Hmi | Role::Ews | Role::ScadaServer | Role::Historian
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an address was tied to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// Packets from the address with this MAC as their source.
    Traffic,
    /// The device answered or announced ARP for it.
    Arp,
    /// A DHCP server gave it to the device.
    Dhcp,
    /// An identity fact named it.
    Identity,
}

impl Claim {
    /// Whether the device itself claims the address (not just carries it).
    pub fn is_own(self) -> bool {
        matches!(self, Claim::Arp | Claim::Dhcp)
    }
}

/// One address of an asset over time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpUse {
    /// The address.
    pub ip: IpAddr,
    /// First seen (ns; seconds in JSON).
    #[serde(with = "crate::serde_util::secs")]
    pub first_seen: i64,
    /// Last seen.
    #[serde(with = "crate::serde_util::secs")]
    pub last_seen: i64,
    /// The strongest way it was tied to the device.
    pub claim: Claim,
    /// Packets sent and received with this address.
    pub pkts: u64,
    /// IP bytes sent and received with this address.
    pub bytes: u64,
}

/// A (transport, port) an asset serves or uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceUse {
    /// IP protocol number (6 TCP, 17 UDP).
    pub proto: u8,
    /// The server's port.
    pub port: u16,
    /// Application protocols recognised on it.
    #[serde(with = "crate::serde_util::services")]
    pub services: u64,
    /// Connections.
    pub flows: u64,
    /// First seen.
    #[serde(with = "crate::serde_util::secs")]
    pub first_seen: i64,
    /// Last seen.
    #[serde(with = "crate::serde_util::secs")]
    pub last_seen: i64,
}

impl ServiceUse {
    /// `tcp/502` form.
    pub fn port_name(&self) -> String {
        let t = match self.proto {
            6 => "tcp",
            17 => "udp",
            n => return format!("{n}/{}", self.port),
        };
        format!("{t}/{}", self.port)
    }
}

/// OT requests counted by category (`ot.jsonl`'s category names).
pub const CATEGORIES: [&str; 8] = [
    "read",
    "write",
    "control",
    "program",
    "diagnostic",
    "identify",
    "cyclic",
    "other",
];

/// One OT protocol an asset serves or uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtUse {
    /// `modbus`, `s7comm`, ...
    pub protocol: String,
    /// Connections seen carrying it.
    pub flows: u64,
    /// Requests, by category name.
    pub requests: BTreeMap<String, u64>,
    /// First seen.
    #[serde(with = "crate::serde_util::secs")]
    pub first_seen: i64,
    /// Last seen.
    #[serde(with = "crate::serde_util::secs")]
    pub last_seen: i64,
}

impl OtUse {
    /// Requests of one category.
    pub fn count(&self, category: &str) -> u64 {
        self.requests.get(category).copied().unwrap_or(0)
    }
}

/// OT activity of an asset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OtActivity {
    /// Protocols it answers as a server.
    pub served: Vec<OtUse>,
    /// Protocols it uses as a client.
    pub used: Vec<OtUse>,
    /// Keys of the OT servers it talks to (at most [`PEERS_CAP`]).
    pub servers: Vec<AssetKey>,
    /// Keys of its OT clients (at most [`PEERS_CAP`]).
    pub clients: Vec<AssetKey>,
}

/// Two devices claimed one address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpConflict {
    /// The address.
    pub ip: IpAddr,
    /// The other device's MAC.
    #[serde(with = "crate::serde_util::mac_opt")]
    pub other: Option<MacAddr>,
    /// When (ns).
    #[serde(with = "crate::serde_util::secs")]
    pub ts: i64,
    /// How the newer claim was made.
    pub claim: Claim,
}

/// Why a MAC is taken for a router.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouterInfo {
    /// Decided at (ns).
    #[serde(with = "crate::serde_util::secs")]
    pub since: i64,
    /// The evidence.
    pub reason: String,
}

/// Counts of what per-asset caps dropped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dropped {
    /// Addresses.
    #[serde(default)]
    pub ips: u64,
    /// Hostnames.
    #[serde(default)]
    pub hostnames: u64,
    /// Service entries.
    #[serde(default)]
    pub services: u64,
    /// OT peers.
    #[serde(default)]
    pub peers: u64,
    /// Conflicts.
    #[serde(default)]
    pub conflicts: u64,
}

/// Everything the ledger knows about one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asset {
    /// Its key.
    pub key: AssetKey,
    /// Its MAC (for MAC-keyed assets).
    #[serde(with = "crate::serde_util::mac_opt")]
    pub mac: Option<MacAddr>,
    /// What kind of MAC it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac_kind: Option<MacKind>,
    /// The router this address sits behind (for `ip:` assets).
    #[serde(default, with = "crate::serde_util::mac_opt")]
    pub behind: Option<MacAddr>,
    /// Set when this MAC routes for other addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub router: Option<RouterInfo>,
    /// First seen (ns; seconds in JSON).
    #[serde(with = "crate::serde_util::secs")]
    pub first_seen: i64,
    /// Last seen.
    #[serde(with = "crate::serde_util::secs")]
    pub last_seen: i64,
    /// Packets sent and received.
    pub pkts: u64,
    /// IP bytes sent and received.
    pub bytes: u64,
    /// Its role.
    pub role: Role,
    /// Why.
    pub role_reason: String,
    /// Addresses over time, oldest first.
    pub ip_history: Vec<IpUse>,
    /// Single-valued attributes by name: `vendor`, `oui_vendor`, `product`, `model`,
    /// `firmware`, `serial`, `device_type`, `vendor_class`, `dhcp_fingerprint`,
    /// `user_agent`, `software`, `description`, `domain`, `device_id`,
    /// `management_address`, `tcp_signature`.
    pub attributes: BTreeMap<String, Attribute>,
    /// Hostnames, one attribute each.
    pub hostname_evidence: Vec<Attribute>,
    /// OS guesses by source (`p0f`, `dhcp`, `browser`, `user_agent`, ...).
    pub os_evidence: BTreeMap<String, Attribute>,
    /// (transport, port)s it answers on.
    pub served: Vec<ServiceUse>,
    /// (transport, port)s it connects to.
    pub used: Vec<ServiceUse>,
    /// OT activity.
    pub ot: OtActivity,
    /// Addresses another device claimed too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_conflicts: Vec<IpConflict>,
    /// What the per-asset caps dropped.
    #[serde(default)]
    pub dropped: Dropped,
}

/// The OT identity a device reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OtIdentity {
    /// Manufacturer.
    pub vendor: Option<String>,
    /// Product name.
    pub product: Option<String>,
    /// Model or order number (the product code where no model was told).
    pub model: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
}

/// The summary fields of `assets.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Addresses, newest first.
    pub ips: Vec<String>,
    /// Manufacturer: what the device said, else the OUI's.
    pub vendor: Option<String>,
    /// Hostnames, most confident first.
    pub hostnames: Vec<String>,
    /// The most confident OS.
    pub os: Option<String>,
    /// Whether that OS was past its end of support when the asset was last seen.
    pub os_eol: bool,
    /// Its end-of-support date.
    pub os_eol_date: Option<&'static str>,
    /// Protocols it serves: recognised names, else `tcp/PORT`.
    pub protocols_served: Vec<String>,
    /// Protocols it uses.
    pub protocols_used: Vec<String>,
    /// What the device said about itself.
    pub ot_identity: OtIdentity,
}

/// Protocol names of a service list: names where recognised, else `tcp/PORT`.
fn protocol_names(list: &[ServiceUse]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in list {
        if s.services == 0 {
            out.push(s.port_name());
        } else {
            out.extend(
                mamori_flow::ServiceSet(s.services)
                    .names()
                    .map(str::to_string),
            );
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Asset {
    /// An empty asset first seen at `ts`.
    pub fn new(key: AssetKey, ts: i64) -> Asset {
        let mac = match key {
            AssetKey::Mac(m) => Some(m),
            AssetKey::Ip(_) => None,
        };
        Asset {
            key,
            mac,
            mac_kind: mac.map(MacKind::of),
            behind: None,
            router: None,
            first_seen: ts,
            last_seen: ts,
            pkts: 0,
            bytes: 0,
            role: Role::Unknown,
            role_reason: String::new(),
            ip_history: Vec::new(),
            attributes: BTreeMap::new(),
            hostname_evidence: Vec::new(),
            os_evidence: BTreeMap::new(),
            served: Vec::new(),
            used: Vec::new(),
            ot: OtActivity::default(),
            ip_conflicts: Vec::new(),
            dropped: Dropped::default(),
        }
    }

    /// Widens the seen span.
    pub(crate) fn touch(&mut self, first: i64, last: i64) {
        self.first_seen = self.first_seen.min(first);
        self.last_seen = self.last_seen.max(last);
    }

    /// An attribute's value.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(|a| a.value.as_str())
    }

    /// The manufacturer: what the device said, else the OUI registry's.
    pub fn vendor(&self) -> Option<&str> {
        self.attr("vendor").or_else(|| self.attr("oui_vendor"))
    }

    /// The most confident hostname.
    pub fn hostname(&self) -> Option<&str> {
        self.hostname_evidence
            .iter()
            .max_by_key(|a| (a.confidence, a.last_seen))
            .map(|a| a.value.as_str())
    }

    /// The most confident OS guess and its source.
    pub fn os(&self) -> Option<(&str, &Attribute)> {
        self.os_evidence
            .iter()
            .max_by_key(|(_, a)| (a.confidence, a.value.len()))
            .map(|(_, a)| (a.value.as_str(), a))
    }

    /// The OS's end-of-support date, if the table knows the OS.
    pub fn os_eol_date(&self) -> Option<&'static str> {
        self.os()
            .and_then(|(name, _)| os::end_of_support(name))
            .map(|(date, ..)| date)
    }

    /// Whether the OS was past its end of support when the asset was last seen.
    pub fn os_eol(&self) -> bool {
        let day = crate::date::day_of_nanos(self.last_seen);
        self.os()
            .and_then(|(name, _)| os::end_of_support(name))
            .is_some_and(|(_, eol_day, _)| eol_day < day)
    }

    /// Its role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether it belongs to the control system (PLC, HMI, EWS, SCADA, historian).
    pub fn is_ot(&self) -> bool {
        self.role.is_ot()
    }

    /// Its addresses, newest first.
    pub fn ips(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let mut v: Vec<&IpUse> = self.ip_history.iter().collect();
        v.sort_by_key(|u| std::cmp::Reverse((u.last_seen, u.first_seen)));
        v.into_iter().map(|u| u.ip)
    }

    /// The OT identity the device reported.
    pub fn ot_identity(&self) -> OtIdentity {
        let get = |n: &str| self.attr(n).map(str::to_string);
        OtIdentity {
            vendor: get("vendor"),
            product: get("product"),
            model: get("model").or_else(|| get("product")),
            firmware: get("firmware"),
            serial: get("serial"),
        }
    }

    /// The summary fields of `assets.jsonl`.
    pub fn summary(&self) -> Summary {
        let mut names: Vec<&Attribute> = self.hostname_evidence.iter().collect();
        names.sort_by_key(|a| std::cmp::Reverse((a.confidence, a.last_seen)));
        Summary {
            ips: self.ips().map(|i| i.to_string()).collect(),
            vendor: self.vendor().map(str::to_string),
            hostnames: names.iter().map(|a| a.value.clone()).collect(),
            os: self.os().map(|(n, _)| n.to_string()),
            os_eol: self.os_eol(),
            os_eol_date: self.os_eol_date(),
            protocols_served: protocol_names(&self.served),
            protocols_used: protocol_names(&self.used),
            ot_identity: self.ot_identity(),
        }
    }

    /// The `assets.jsonl` record: the summary fields, then the whole state.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Record<'a> {
            #[serde(flatten)]
            summary: Summary,
            #[serde(flatten)]
            asset: &'a Asset,
        }
        serde_json::to_string(&Record {
            summary: self.summary(),
            asset: self,
        })
        .unwrap_or_else(|_| "{}".to_string())
    }

    /// Reads a record written by [`Asset::to_json`] (the summary fields are derived
    /// again, so only the state is read).
    pub fn from_json(text: &str) -> Result<Asset, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Merges a stored record of the same asset into this one.
    pub fn merge(&mut self, other: Asset) {
        self.touch(other.first_seen, other.last_seen);
        self.pkts = self.pkts.saturating_add(other.pkts);
        self.bytes = self.bytes.saturating_add(other.bytes);
        if self.router.is_none() {
            self.router = other.router;
        }
        if self.behind.is_none() {
            self.behind = other.behind;
        }
        for u in other.ip_history {
            match self.ip_history.iter_mut().find(|x| x.ip == u.ip) {
                Some(x) => {
                    x.first_seen = x.first_seen.min(u.first_seen);
                    x.last_seen = x.last_seen.max(u.last_seen);
                    x.claim = x.claim.max(u.claim);
                    x.pkts = x.pkts.saturating_add(u.pkts);
                    x.bytes = x.bytes.saturating_add(u.bytes);
                }
                None => self.ip_history.push(u),
            }
        }
        self.ip_history.sort_by_key(|u| u.last_seen);
        let excess = self.ip_history.len().saturating_sub(IPS_CAP);
        self.ip_history.drain(..excess);
        for (k, a) in other.attributes {
            match self.attributes.get_mut(&k) {
                Some(mine) => mine.merge(a),
                None => {
                    self.attributes.insert(k, a);
                }
            }
        }
        for (k, a) in other.os_evidence {
            match self.os_evidence.get_mut(&k) {
                Some(mine) => mine.merge(a),
                None => {
                    self.os_evidence.insert(k, a);
                }
            }
        }
        for a in other.hostname_evidence {
            let n = self.hostname_evidence.len();
            match self
                .hostname_evidence
                .iter_mut()
                .find(|h| h.value == a.value)
            {
                Some(h) => h.merge(a),
                None if n < HOSTNAMES_CAP => self.hostname_evidence.push(a),
                None => self.dropped.hostnames += 1,
            }
        }
        merge_services(&mut self.served, other.served, &mut self.dropped.services);
        merge_services(&mut self.used, other.used, &mut self.dropped.services);
        merge_ot(&mut self.ot.served, other.ot.served);
        merge_ot(&mut self.ot.used, other.ot.used);
        for (mine, theirs) in [
            (&mut self.ot.servers, other.ot.servers),
            (&mut self.ot.clients, other.ot.clients),
        ] {
            for p in theirs {
                if !mine.contains(&p) && mine.len() < PEERS_CAP {
                    mine.push(p);
                }
            }
            mine.sort();
        }
        for c in other.ip_conflicts {
            if self.ip_conflicts.len() < CONFLICTS_CAP {
                self.ip_conflicts.push(c);
            }
        }
    }
}

fn merge_services(mine: &mut Vec<ServiceUse>, theirs: Vec<ServiceUse>, dropped: &mut u64) {
    for s in theirs {
        match mine.binary_search_by_key(&(s.proto, s.port), |x| (x.proto, x.port)) {
            Ok(i) => {
                if let Some(x) = mine.get_mut(i) {
                    x.services |= s.services;
                    x.flows = x.flows.saturating_add(s.flows);
                    x.first_seen = x.first_seen.min(s.first_seen);
                    x.last_seen = x.last_seen.max(s.last_seen);
                }
            }
            Err(i) if mine.len() < SERVICES_CAP => mine.insert(i, s),
            Err(_) => *dropped += 1,
        }
    }
}

fn merge_ot(mine: &mut Vec<OtUse>, theirs: Vec<OtUse>) {
    for o in theirs {
        match mine.iter_mut().find(|x| x.protocol == o.protocol) {
            Some(x) => {
                x.flows = x.flows.saturating_add(o.flows);
                for (k, v) in o.requests {
                    *x.requests.entry(k).or_default() += v;
                }
                x.first_seen = x.first_seen.min(o.first_seen);
                x.last_seen = x.last_seen.max(o.last_seen);
            }
            None => mine.push(o),
        }
    }
    mine.sort_by(|a, b| a.protocol.cmp(&b.protocol));
}
