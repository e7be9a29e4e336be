//! Identity fusion: turning the pipeline's events into one record per device.
//!
//! # Keys
//!
//! A device on the local link is keyed by its MAC (`mac:…`); its IP addresses are
//! attributes that change over time, so a DHCP renewal, a new lease or a manually
//! changed address updates the same asset. An address whose device we cannot see —
//! a host behind a router, or any host in a capture without link-layer headers — is
//! keyed by the address (`ip:…`), marked `behind` the router's MAC where there is one.
//!
//! # Routers
//!
//! On a routed network every remote host's packets carry the router's MAC, so a
//! naive ledger would give the router hundreds of addresses (or make hundreds of
//! fake devices of them). A MAC becomes a router (role `network_device`) when, within
//! [`LedgerConfig::router_window_secs`] of packet time, it is the link-layer source of
//! at least [`LedgerConfig::router_min_ips`] distinct unicast addresses that it does
//! not claim itself, each seen talking to a peer on another subnet (a /24, or an IPv6
//! /64: a router forwards between subnets, while a host with many addresses on its
//! own subnet — a BACnet device simulator, a multi-homed server — does not) — claimed meaning it answered or announced ARP for them, or a DHCP
//! server leased them to it — and those foreign addresses are more than half of all
//! its addresses. IPv6 addresses count once per /64 prefix (a host's privacy
//! addresses share one) and link-local ones not at all. The time window keeps a host
//! whose address changes a few times over a day from looking like a router; the
//! ARP/DHCP test keeps a multi-homed host that announces its addresses from it. From
//! then on the router keeps only the addresses it claims; every other address it
//! carries becomes (or stays) an `ip:` asset behind it, and the addresses it carried
//! before the decision move to those assets with their packet counts. An address that
//! belongs to a device on the local link (seen with that device's own MAC) stays with
//! that device even when routed traffic to or from it also passes the router. The
//! services the router's MAC showed before the decision stay with it.
//!
//! # Conflicts
//!
//! Two MACs claiming one address (by ARP or DHCP) within
//! [`LedgerConfig::conflict_window_secs`] are recorded on both assets; the address
//! goes to the newer claimant. Traffic alone (no claim) does not take an address
//! from a device that claimed it within the router window: such packets are routed
//! copies or spoofed, and a device that really moved says so by ARP or DHCP (or, in
//! captures without either, is followed once the old claim is older than the window).
//!
//! # Broadcasts
//!
//! A frame to a group MAC (broadcast or multicast) is to no device: its destination
//! makes no asset, and the sender polls nobody by it (no OT server, no role). Its
//! IPv4 destination is remembered as a subnet broadcast (up to 256 of them), so the
//! same address without a link layer is no device either; so are 255.255.255.255
//! and multicast addresses. (DHCP's subnet mask is not dissected, so the ledger
//! learns broadcasts from the link layer only.)
//!
//! # What counts as a sighting
//!
//! A connection side that sent packets (a scanned address that never answered is no
//! device), an ARP sender, both ends of an answered OT request, a DHCP client, a TCP
//! SYN's sender, and the subject of an identity fact. Identity facts about an address
//! the ledger has not seen (a DNS answer about a far-away host) wait in a bounded
//! queue until the address shows up, and are dropped (counted) otherwise.
//!
//! # Bounds
//!
//! [`LedgerConfig::max_assets`] assets in all, of which at most
//! [`LedgerConfig::max_remote`] `ip:` assets; new assets beyond are refused and
//! counted in [`LedgerStats`]; the address indexes hold at most
//! [`LedgerConfig::max_addresses`] addresses and forget what an asset's address cap
//! drops. Per asset: [`crate::asset::IPS_CAP`] addresses,
//! hostnames, services, peers and conflicts are capped likewise, and attribute
//! histories keep [`crate::attr::HISTORY_CAP`] changes.

use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use mamori_dissect::it::dhcp::DhcpRecord;
use mamori_dissect::record::{IdentityKind, Status};
use mamori_flow::{ConnRecord, ServiceSet, Uid};
use mamori_pipeline::event::{ArpEvent, DhcpEvent, Event, IdentityEvent, OtEvent, TcpSynEvent};
use mamori_store::{AssetRow, RunId};
use mamori_wire::decode::MacAddr;
use serde::{Deserialize, Serialize};

use crate::asset::{
    Asset, AssetKey, CONFLICTS_CAP, Claim, HOSTNAMES_CAP, IPS_CAP, IpConflict, IpUse, OtUse,
    PEERS_CAP, Role, RouterInfo, SERVICES_CAP, ServiceUse,
};
use crate::attr::{Attribute, Observed, SourceRef};
use crate::oui::{MacKind, OuiTable};
use crate::p0f::{P0fDb, TcpSignature};
use crate::{os, role};

type Map<K, V> = foldhash::HashMap<K, V>;

/// OT protocol names as `conn.jsonl`'s `service` and `ot.jsonl`'s `protocol` write them.
pub const OT_PROTOCOLS: [&str; 14] = [
    "modbus",
    "s7comm",
    "s7comm-plus",
    "enip",
    "cip",
    "dnp3",
    "bacnet",
    "iec104",
    "opcua",
    "profinet-dcp",
    "cclink-ief-basic",
    "cclink-ie",
    "slmp",
    "fins",
];

/// Foreign addresses remembered per MAC for the router decision.
const CARRIED_CAP: usize = 64;
/// Identity facts waiting for their address, in all.
const PENDING_CAP: usize = 4096;
/// Facts waiting per address.
const PENDING_PER_IP: usize = 8;
/// OT flows whose devices are remembered (the memory is cleared when full).
const OT_FLOWS_CAP: usize = 4096;
/// Longest attribute value kept (characters beyond are cut).
const VALUE_MAX: usize = 256;
/// Subnet broadcast addresses remembered.
const BROADCASTS_CAP: usize = 256;

/// Limits and thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    /// Assets in all; new ones beyond are refused (counted).
    pub max_assets: usize,
    /// `ip:` assets (hosts behind routers) among them.
    pub max_remote: usize,
    /// Foreign addresses that make a MAC a router.
    pub router_min_ips: usize,
    /// The window those addresses must fall in (seconds of packet time).
    pub router_window_secs: i64,
    /// Two ARP/DHCP claims of one address by two MACs this close are a conflict.
    pub conflict_window_secs: i64,
    /// Addresses indexed (address → asset, address → claiming MAC); new ones
    /// beyond are still kept on their assets but not indexed (counted).
    pub max_addresses: usize,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            max_assets: 100_000,
            max_remote: 50_000,
            router_min_ips: 4,
            router_window_secs: 600,
            conflict_window_secs: 300,
            max_addresses: 400_000,
        }
    }
}

/// What the ledger knows before it sees traffic: vendor tables and OS fingerprints.
///
/// The tables are shared, read-only and loaded once per process:
/// [`Knowledge::system`] reads p0f's and Wireshark's files on its first call only,
/// so analysing many captures in one process (the tests, `demo`) parses them once.
#[derive(Debug, Clone)]
pub struct Knowledge {
    /// The IEEE registries (built in).
    pub oui: &'static OuiTable,
    /// Wireshark's `manuf`, read at run time, consulted after the IEEE table.
    pub manuf: Option<&'static OuiTable>,
    /// TCP fingerprints.
    pub p0f: Arc<P0fDb>,
}

impl Default for Knowledge {
    fn default() -> Self {
        Knowledge::builtin()
    }
}

/// Where [`Knowledge::system`] looks for p0f's database.
pub const P0F_PATH: &str = "/etc/p0f/p0f.fp";
/// Where [`Knowledge::system`] looks for Wireshark's `manuf`.
pub const MANUF_PATH: &str = "/usr/share/wireshark/manuf";

impl Knowledge {
    /// The built-in tables only: the IEEE registries and `mamori.fp`.
    pub fn builtin() -> Knowledge {
        static P0F: OnceLock<Arc<P0fDb>> = OnceLock::new();
        Knowledge {
            oui: OuiTable::ieee(),
            manuf: None,
            p0f: P0F.get_or_init(|| Arc::new(P0fDb::builtin())).clone(),
        }
    }

    /// The built-in tables plus, where installed, p0f's `/etc/p0f/p0f.fp` (its
    /// signatures take precedence over ours at equal rank) and Wireshark's `manuf`.
    /// The files are read on the first call in a process; later calls share what it
    /// read. Returns notes on what was loaded or could not be read, for the log.
    pub fn system() -> (Knowledge, Vec<String>) {
        static SYSTEM: OnceLock<(Knowledge, Vec<String>)> = OnceLock::new();
        let (k, notes) = SYSTEM.get_or_init(Knowledge::read_system);
        (k.clone(), notes.clone())
    }

    fn read_system() -> (Knowledge, Vec<String>) {
        let mut notes = Vec::new();
        let mut p0f = P0fDb::default();
        if let Ok(text) = std::fs::read_to_string(P0F_PATH) {
            let errors = p0f.parse(&text, "p0f.fp");
            let (req, resp) = p0f.len();
            notes.push(format!(
                "{P0F_PATH}: {req} SYN and {resp} SYN+ACK signatures, {} lines skipped",
                errors.len()
            ));
        }
        let _ = p0f.parse(crate::p0f::MAMORI_FP, "mamori.fp");
        let manuf = std::fs::read_to_string(MANUF_PATH).ok().map(|t| {
            let table = OuiTable::load_manuf(&t);
            notes.push(format!(
                "{MANUF_PATH}: {:?} prefixes (36, 28, 24 bits)",
                table.counts()
            ));
            &*Box::leak(Box::new(table))
        });
        (
            Knowledge {
                oui: OuiTable::ieee(),
                manuf,
                p0f: Arc::new(p0f),
            },
            notes,
        )
    }

    /// The registered vendor of a MAC and the table it came from.
    pub fn vendor(&self, mac: MacAddr) -> Option<(&str, &'static str)> {
        self.oui
            .lookup(mac)
            .map(|v| (v, self.oui.source()))
            .or_else(|| {
                self.manuf
                    .as_ref()
                    .and_then(|m| m.lookup(mac).map(|v| (v, m.source())))
            })
    }
}

/// What the ledger counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerStats {
    /// Events taken.
    pub events: u64,
    /// New assets refused at `max_assets`.
    pub assets_refused: u64,
    /// New `ip:` assets refused at `max_remote`.
    pub remote_refused: u64,
    /// Addresses not indexed at `max_addresses`.
    pub addresses_refused: u64,
    /// MACs taken for routers.
    pub routers: u64,
    /// Address conflicts recorded.
    pub ip_conflicts: u64,
    /// Identity facts dropped: their address never showed up, or the queue was full.
    pub facts_dropped: u64,
    /// Stored assets that could not be read back.
    pub load_errors: u64,
}

/// What detectors ask about a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetInfo<'a> {
    /// Its key.
    pub key: AssetKey,
    /// Its role.
    pub role: Role,
    /// Its manufacturer.
    pub vendor: Option<&'a str>,
    /// Its OS.
    pub os: Option<&'a str>,
    /// Whether its OS is past end of support.
    pub os_eol: bool,
    /// Whether its role is an OT one.
    pub is_ot: bool,
    /// First seen (ns).
    pub first_seen: i64,
    /// The router it sits behind.
    pub behind: Option<MacAddr>,
}

impl<'a> AssetInfo<'a> {
    fn of(a: &'a Asset) -> AssetInfo<'a> {
        AssetInfo {
            key: a.key,
            role: a.role,
            vendor: a.vendor(),
            os: a.os().map(|(n, _)| n),
            os_eol: a.os_eol(),
            is_ot: a.is_ot(),
            first_seen: a.first_seen,
            behind: a.behind,
        }
    }
}

/// A stored asset that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("stored asset {key}: {source}")]
pub struct LoadError {
    /// Its key.
    pub key: String,
    /// Why.
    #[source]
    pub source: serde_json::Error,
}

#[derive(Debug)]
struct PendingFact {
    kind: IdentityKind,
    value: String,
    protocol: &'static str,
    ts: i64,
    uid: Option<Uid>,
}

/// The asset ledger.
#[derive(Debug)]
pub struct Ledger {
    config: LedgerConfig,
    knowledge: Knowledge,
    assets: Vec<Asset>,
    by_key: Map<AssetKey, usize>,
    by_ip: Map<IpAddr, usize>,
    /// ARP/DHCP claims: address → (MAC, last claim).
    own: Map<IpAddr, (MacAddr, i64)>,
    /// Per asset (by index), foreign address units (IPv4 address, IPv6 /64) its MAC
    /// carried and when last.
    carried: Vec<Vec<(IpAddr, i64)>>,
    /// Addresses DHCP servers name as routers.
    gateways: Vec<IpAddr>,
    /// IPv4 addresses seen as destinations of frames to a group (broadcast or
    /// multicast) MAC: subnet broadcasts, never devices.
    broadcasts: Vec<IpAddr>,
    pending: Map<IpAddr, Vec<PendingFact>>,
    /// Assets loaded from the store: hash of the stored record and its run.
    loaded: Map<AssetKey, (u64, Option<RunId>)>,
    /// Devices of recent OT flows: uid → (client, server).
    ot_flows: Map<Uid, (Option<usize>, Option<usize>)>,
    /// The last TCP fingerprint of each asset and when its attribute was refreshed.
    last_sig: Map<usize, (TcpSignature, i64)>,
    remote: usize,
    dirty: Vec<usize>,
    stats: LedgerStats,
    now: i64,
}

fn is_unicast_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v) => !(v.is_unspecified() || v.is_broadcast() || v.is_multicast()),
        IpAddr::V6(v) => !(v.is_unspecified() || v.is_multicast()),
    }
}

fn is_device_mac(m: MacAddr) -> bool {
    !m.is_multicast() && m.0 != [0; 6]
}

/// Whether two addresses share a link by the usual prefix: a /24 for IPv4, a /64 for
/// IPv6 (the ledger knows no subnet masks; a router forwards between prefixes).
fn same_subnet(a: IpAddr, b: IpAddr) -> bool {
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets().get(..3) == b.octets().get(..3),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.segments().get(..4) == b.segments().get(..4),
        _ => false,
    }
}

/// The unit the router decision counts: the address, or an IPv6 /64.
fn router_unit(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(_) => Some(ip),
        IpAddr::V6(v) => {
            let s = v.segments();
            if s[0] & 0xffc0 == 0xfe80 {
                return None;
            }
            Some(IpAddr::V6(std::net::Ipv6Addr::new(
                s[0], s[1], s[2], s[3], 0, 0, 0, 0,
            )))
        }
    }
}

/// The category the ledger counts an OT request under: the dissector's, except for
/// Logix program transfers, which the CIP dissector leaves `other` (their services
/// are not public): writes and class-specific services to the Logix controller
/// object (class 0xAC), seen only in the download/upload/run capture
/// (`emreekin_ControlLogix_Logix5000_download_upload_run.pcap`) and never from an
/// HMI's tag polling, are counted as `program`.
fn category(op: &mamori_dissect::record::OtOperation) -> &'static str {
    let cat = op.function.category.as_str();
    if op.protocol == "cip"
        && matches!(
            op.function.name,
            "class_specific" | "set_attribute_list" | "set_attribute_single"
        )
        && op.target.starts_with("class 0xac ")
    {
        return "program";
    }
    cat
}

/// Cuts a value to [`VALUE_MAX`] characters and trims it.
fn clip(value: &str) -> &str {
    let v = value.trim();
    match v.char_indices().nth(VALUE_MAX) {
        Some((i, _)) => v.get(..i).unwrap_or(v),
        None => v,
    }
}

fn hostname_confidence(protocol: &str) -> u8 {
    match protocol {
        "dhcp" | "lldp" | "profinet-dcp" => 80,
        "nbns" | "browser" | "s7comm" | "dhcpv6" => 75,
        "dnp3" | "enip" => 70,
        "mdns" => 65,
        "llmnr" => 60,
        "dns" => 50,
        _ => 60,
    }
}

impl Ledger {
    /// An empty ledger.
    pub fn new(config: LedgerConfig, knowledge: Knowledge) -> Ledger {
        Ledger {
            config,
            knowledge,
            assets: Vec::new(),
            by_key: Map::default(),
            by_ip: Map::default(),
            own: Map::default(),
            carried: Vec::new(),
            gateways: Vec::new(),
            broadcasts: Vec::new(),
            pending: Map::default(),
            last_sig: Map::default(),
            ot_flows: Map::default(),
            loaded: Map::default(),
            remote: 0,
            dirty: Vec::new(),
            stats: LedgerStats::default(),
            now: i64::MIN,
        }
    }

    /// Takes one event, in the pipeline's order.
    pub fn observe(&mut self, event: &Event) {
        self.stats.events += 1;
        match event {
            Event::Conn(c) => self.on_conn(c),
            Event::Arp(a) => self.on_arp(a),
            Event::Ot(o) => self.on_ot(o),
            Event::Identity(i) => self.on_identity(i),
            Event::Dhcp(d) => self.on_dhcp(d),
            Event::TcpSyn(t) => self.on_syn(t),
            // DHCPv6 clients' names and DUID MACs arrive as identity facts.
            Event::Dns(_)
            | Event::Dhcpv6(_)
            | Event::L2Second(_)
            | Event::RuleHit(_)
            | Event::Http(_)
            | Event::Tls(_) => {}
        }
        self.refresh_roles();
    }

    /// The input ended: drops the facts still waiting for their address and settles
    /// every role.
    pub fn finish(&mut self) {
        let waiting: usize = self.pending.values().map(Vec::len).sum();
        self.stats.facts_dropped += waiting as u64;
        self.pending.clear();
        self.dirty.extend(0..self.assets.len());
        self.refresh_roles();
    }

    /// Every asset, in the order they were first seen (or loaded).
    pub fn assets(&self) -> impl Iterator<Item = &Asset> {
        self.assets.iter()
    }

    /// Every asset, by key.
    pub fn assets_by_key(&self) -> Vec<&Asset> {
        let mut v: Vec<&Asset> = self.assets.iter().collect();
        v.sort_by_key(|a| a.key);
        v
    }

    /// Number of assets.
    pub fn len(&self) -> usize {
        self.assets.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.assets.is_empty()
    }

    /// What the ledger counted.
    pub fn stats(&self) -> &LedgerStats {
        &self.stats
    }

    /// The knowledge it uses.
    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// One asset by key.
    pub fn get(&self, key: &AssetKey) -> Option<&Asset> {
        self.by_key.get(key).and_then(|&i| self.assets.get(i))
    }

    /// The asset that holds an address now.
    pub fn by_ip(&self, ip: IpAddr) -> Option<&Asset> {
        self.by_ip.get(&ip).and_then(|&i| self.assets.get(i))
    }

    /// The asset of a MAC.
    pub fn by_mac(&self, mac: MacAddr) -> Option<&Asset> {
        self.get(&AssetKey::Mac(mac))
    }

    /// What detectors need to know about the holder of an address.
    pub fn info_by_ip(&self, ip: IpAddr) -> Option<AssetInfo<'_>> {
        self.by_ip(ip).map(AssetInfo::of)
    }

    /// What detectors need to know about a MAC's device.
    pub fn info_by_mac(&self, mac: MacAddr) -> Option<AssetInfo<'_>> {
        self.by_mac(mac).map(AssetInfo::of)
    }

    /// The latest packet time seen (ns), `i64::MIN` before any.
    pub fn now(&self) -> i64 {
        self.now
    }

    // ---- sightings -------------------------------------------------------------

    /// The asset for a key, created if new and there is room.
    fn asset_for(&mut self, key: AssetKey, ts: i64) -> Option<usize> {
        if let Some(&i) = self.by_key.get(&key) {
            return Some(i);
        }
        if self.assets.len() >= self.config.max_assets {
            self.stats.assets_refused += 1;
            return None;
        }
        if matches!(key, AssetKey::Ip(_)) {
            if self.remote >= self.config.max_remote {
                self.stats.remote_refused += 1;
                return None;
            }
            self.remote += 1;
        }
        let mut asset = Asset::new(key, ts);
        if let AssetKey::Mac(m) = key
            && asset.mac_kind == Some(MacKind::Universal)
            && let Some((vendor, table)) = self.knowledge.vendor(m)
        {
            let src = SourceRef {
                protocol: table,
                ts,
                uid: None,
            };
            asset
                .attributes
                .insert("oui_vendor".to_string(), Attribute::new(vendor, 60, src));
        }
        let i = self.assets.len();
        self.assets.push(asset);
        self.carried.push(Vec::new());
        self.by_key.insert(key, i);
        self.dirty.push(i);
        Some(i)
    }

    fn is_own_by(&self, ip: IpAddr, mac: MacAddr) -> bool {
        self.own.get(&ip).is_some_and(|(m, _)| *m == mac)
    }

    /// Whether a destination is a group, not a device: a group (broadcast or
    /// multicast) MAC, a broadcast or multicast address, or an address seen before as
    /// the destination of frames to a group MAC (a subnet broadcast).
    /// An IPv4 destination of a group MAC is learned as a subnet broadcast.
    fn is_group_dst(&mut self, ip: Option<IpAddr>, mac: Option<MacAddr>) -> bool {
        if mac.is_some_and(|m| m.is_multicast()) {
            self.learn_broadcast(ip);
            return true;
        }
        ip.is_some_and(|i| !is_unicast_ip(i) || self.broadcasts.contains(&i))
    }

    fn learn_broadcast(&mut self, ip: Option<IpAddr>) {
        if let Some(i @ IpAddr::V4(_)) = ip
            && is_unicast_ip(i)
            && !self.broadcasts.contains(&i)
            && self.broadcasts.len() < BROADCASTS_CAP
        {
            self.broadcasts.push(i);
            if let Some(&j) = self.by_ip.get(&i)
                && self.assets.get(j).is_some_and(|a| a.mac.is_none())
            {
                // An `ip:` asset made of it before it was known: no device.
                self.by_ip.remove(&i);
            }
        }
    }

    /// Resolves an (address, MAC) sighting to an asset (see the module docs).
    fn sight(
        &mut self,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        ts: i64,
        claim: Claim,
    ) -> Option<usize> {
        self.sight_from(ip, mac, ts, claim, None)
    }

    /// [`Ledger::sight`] of one end of a conversation with `peer` (the other end's
    /// address): only such traffic counts towards the router decision, and only when
    /// the two addresses are on different subnets (a router forwards between them; a
    /// host with many addresses on its own subnet is no router).
    fn sight_from(
        &mut self,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        ts: i64,
        claim: Claim,
        peer: Option<IpAddr>,
    ) -> Option<usize> {
        self.now = self.now.max(ts);
        // Frames to a group MAC are to no device; their IPv4 destination is a
        // (subnet) broadcast, remembered for captures and moments without MACs.
        if mac.is_some_and(|m| m.is_multicast()) {
            self.learn_broadcast(ip);
            return None;
        }
        let ip = ip.filter(|i| is_unicast_ip(*i) && !self.broadcasts.contains(i));
        let mac = mac.filter(|m| is_device_mac(*m));
        match (mac, ip) {
            (Some(m), ip) => {
                let mi = self.asset_for(AssetKey::Mac(m), ts)?;
                let Some(ip) = ip else {
                    return Some(mi);
                };
                if claim.is_own() {
                    self.claim_own(ip, m, mi, ts, claim);
                } else if claim == Claim::Traffic
                    && peer.is_some_and(|p| !same_subnet(p, ip))
                    && self.assets.get(mi).is_some_and(|a| a.router.is_none())
                    && !self.is_own_by(ip, m)
                {
                    self.track_carried(mi, m, ip, ts);
                }
                let routed = self.assets.get(mi).is_some_and(|a| a.router.is_some())
                    && !self.is_own_by(ip, m);
                if routed {
                    // A local device's address, routed between its link and another.
                    if let Some(&j) = self.by_ip.get(&ip) {
                        let local = self
                            .assets
                            .get(j)
                            .is_some_and(|a| j != mi && a.mac.is_some() && a.router.is_none());
                        if local {
                            return Some(j);
                        }
                    }
                    return self.remote_asset(ip, m, ts);
                }
                self.attach_ip(mi, ip, ts, claim);
                Some(mi)
            }
            (None, Some(ip)) => {
                if let Some(&j) = self.by_ip.get(&ip) {
                    return Some(j);
                }
                if claim == Claim::Identity {
                    return None;
                }
                let j = self.asset_for(AssetKey::Ip(ip), ts)?;
                self.attach_ip(j, ip, ts, claim);
                Some(j)
            }
            (None, None) => None,
        }
    }

    /// Records an ARP/DHCP claim; two MACs claiming one address closely is a conflict.
    fn claim_own(&mut self, ip: IpAddr, mac: MacAddr, mi: usize, ts: i64, claim: Claim) {
        let window = self
            .config
            .conflict_window_secs
            .saturating_mul(1_000_000_000);
        if let Some(&(other, last)) = self.own.get(&ip)
            && other != mac
            && ts.saturating_sub(last) <= window
        {
            self.stats.ip_conflicts += 1;
            let oi = self.by_key.get(&AssetKey::Mac(other)).copied();
            for (idx, peer) in [(Some(mi), other), (oi, mac)] {
                if let Some(a) = idx.and_then(|i| self.assets.get_mut(i)) {
                    if a.ip_conflicts.len() < CONFLICTS_CAP {
                        a.ip_conflicts.push(IpConflict {
                            ip,
                            other: Some(peer),
                            ts,
                            claim,
                        });
                    } else {
                        a.dropped.conflicts += 1;
                    }
                }
            }
        }
        if !self.own.contains_key(&ip) && self.own.len() >= self.config.max_addresses {
            self.stats.addresses_refused += 1;
            return;
        }
        self.own.insert(ip, (mac, ts));
        // A router that claims an address keeps it.
        if let Some(list) = self.carried.get_mut(mi) {
            list.retain(|(u, _)| *u != ip);
        }
    }

    /// Notes a foreign address carried by a MAC and decides whether it is a router.
    fn track_carried(&mut self, mi: usize, mac: MacAddr, ip: IpAddr, ts: i64) {
        let Some(unit) = router_unit(ip) else {
            return;
        };
        let window = self.config.router_window_secs.saturating_mul(1_000_000_000);
        let Some(list) = self.carried.get_mut(mi) else {
            return;
        };
        let n = list.len();
        match list.iter_mut().find(|(u, _)| *u == unit) {
            Some(e) => e.1 = e.1.max(ts),
            None if n < CARRIED_CAP => list.push((unit, ts)),
            None => {
                if let Some(oldest) = list.iter_mut().min_by_key(|e| e.1) {
                    *oldest = (unit, ts);
                }
            }
        }
        let recent = list
            .iter()
            .filter(|(_, t)| ts.saturating_sub(*t) <= window)
            .count();
        if recent < self.config.router_min_ips {
            return;
        }
        let own = self.assets.get(mi).map_or(0, |a| {
            a.ip_history.iter().filter(|u| u.claim.is_own()).count()
        });
        if recent * 2 > recent + own {
            self.make_router(mi, mac, ts, recent);
        }
    }

    /// Turns a MAC into a router and moves the addresses it carried to `ip:` assets.
    fn make_router(&mut self, mi: usize, mac: MacAddr, ts: i64, foreign: usize) {
        let window = self.config.router_window_secs;
        let Some(asset) = self.assets.get_mut(mi) else {
            return;
        };
        asset.router = Some(RouterInfo {
            since: ts,
            reason: format!(
                "router: link-layer source of {foreign} addresses it does not claim (ARP/DHCP) within {window} s"
            ),
        });
        self.stats.routers += 1;
        if let Some(list) = self.carried.get_mut(mi) {
            *list = Vec::new();
        }
        self.ot_flows.clear();
        let moved: Vec<IpUse> = {
            let own = &self.own;
            let (keep, moved): (Vec<IpUse>, Vec<IpUse>) = asset
                .ip_history
                .drain(..)
                .partition(|u| own.get(&u.ip).is_some_and(|(m, _)| *m == mac));
            asset.ip_history = keep;
            moved
        };
        // Addresses that local devices showed with their own MACs stay theirs (the
        // router carried routed copies of their traffic): one pass over the assets,
        // once per router.
        let moved_ips: foldhash::HashSet<IpAddr> = moved.iter().map(|u| u.ip).collect();
        let mut local: Map<IpAddr, (usize, i64)> = Map::default();
        for (j, a) in self.assets.iter().enumerate() {
            if j == mi || a.mac.is_none() || a.router.is_some() {
                continue;
            }
            for u in a.ip_history.iter().filter(|u| moved_ips.contains(&u.ip)) {
                let e = local.entry(u.ip).or_insert((j, u.last_seen));
                if u.last_seen > e.1 {
                    *e = (j, u.last_seen);
                }
            }
        }
        for u in moved {
            if let Some(a) = self.assets.get_mut(mi) {
                a.pkts = a.pkts.saturating_sub(u.pkts);
                a.bytes = a.bytes.saturating_sub(u.bytes);
            }
            if self.by_ip.get(&u.ip) == Some(&mi) {
                self.by_ip.remove(&u.ip);
            }
            let target = match local.get(&u.ip) {
                Some(&(j, _)) => {
                    self.by_ip.insert(u.ip, j);
                    Some(j)
                }
                None => self.remote_asset(u.ip, mac, u.first_seen),
            };
            if let Some(j) = target
                && let Some(a) = self.assets.get_mut(j)
            {
                a.touch(u.first_seen, u.last_seen);
                a.pkts = a.pkts.saturating_add(u.pkts);
                a.bytes = a.bytes.saturating_add(u.bytes);
                if let Some(x) = a.ip_history.iter_mut().find(|x| x.ip == u.ip) {
                    x.first_seen = x.first_seen.min(u.first_seen);
                    x.last_seen = x.last_seen.max(u.last_seen);
                    x.pkts = x.pkts.saturating_add(u.pkts);
                    x.bytes = x.bytes.saturating_add(u.bytes);
                }
            }
        }
        self.dirty.push(mi);
    }

    /// The `ip:` asset of an address behind `router`.
    fn remote_asset(&mut self, ip: IpAddr, router: MacAddr, ts: i64) -> Option<usize> {
        let j = self.asset_for(AssetKey::Ip(ip), ts)?;
        if let Some(a) = self.assets.get_mut(j) {
            a.behind = Some(router);
        }
        self.attach_ip(j, ip, ts, Claim::Traffic);
        Some(j)
    }

    /// Adds or refreshes an address of an asset and points the index at it.
    fn attach_ip(&mut self, i: usize, ip: IpAddr, ts: i64, claim: Claim) {
        let Some(a) = self.assets.get_mut(i) else {
            return;
        };
        match a.ip_history.iter_mut().find(|u| u.ip == ip) {
            Some(u) => {
                u.first_seen = u.first_seen.min(ts);
                u.last_seen = u.last_seen.max(ts);
                u.claim = u.claim.max(claim);
            }
            None => {
                if a.ip_history.len() >= IPS_CAP {
                    if let Some(pos) = a
                        .ip_history
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, u)| u.last_seen)
                        .map(|(p, _)| p)
                    {
                        let old = a.ip_history.remove(pos).ip;
                        // The indexes forget what the asset forgot.
                        if self.by_ip.get(&old) == Some(&i) {
                            self.by_ip.remove(&old);
                        }
                        if let Some(m) = a.mac
                            && self.own.get(&old).is_some_and(|(o, _)| *o == m)
                        {
                            self.own.remove(&old);
                        }
                    }
                    a.dropped.ips += 1;
                }
                a.ip_history.push(IpUse {
                    ip,
                    first_seen: ts,
                    last_seen: ts,
                    claim,
                    pkts: 0,
                    bytes: 0,
                });
            }
        }
        a.touch(ts, ts);
        // Mere traffic does not take an address from a device that claimed it by
        // ARP or DHCP recently (a routed copy, a spoofed packet): conflicts between
        // claims are recorded by `claim_own`, moves need a claim or time.
        if !claim.is_own()
            && let Some(&j) = self.by_ip.get(&ip)
            && j != i
            && let Some(holder) = self.assets.get(j)
            && holder.ip_history.iter().any(|u| {
                u.ip == ip
                    && u.claim.is_own()
                    && ts.saturating_sub(u.last_seen)
                        <= self.config.router_window_secs.saturating_mul(1_000_000_000)
            })
        {
            return;
        }
        if !self.by_ip.contains_key(&ip) && self.by_ip.len() >= self.config.max_addresses {
            self.stats.addresses_refused += 1;
            return;
        }
        if self.by_ip.insert(ip, i) != Some(i)
            && !self.pending.is_empty()
            && let Some(facts) = self.pending.remove(&ip)
        {
            for f in facts {
                self.apply_fact(i, f.kind, &f.value, f.protocol, f.ts, f.uid);
            }
        }
    }

    /// Adds traffic to an asset and its address.
    fn count(
        &mut self,
        i: usize,
        ip: Option<IpAddr>,
        first: i64,
        last: i64,
        pkts: u64,
        bytes: u64,
    ) {
        let Some(a) = self.assets.get_mut(i) else {
            return;
        };
        a.touch(first, last);
        a.pkts = a.pkts.saturating_add(pkts);
        a.bytes = a.bytes.saturating_add(bytes);
        if let Some(u) = ip.and_then(|ip| a.ip_history.iter_mut().find(|u| u.ip == ip)) {
            u.last_seen = u.last_seen.max(last);
            u.pkts = u.pkts.saturating_add(pkts);
            u.bytes = u.bytes.saturating_add(bytes);
        }
    }

    // ---- events ----------------------------------------------------------------

    fn on_conn(&mut self, c: &ConnRecord) {
        let (first, last) = (c.ts.0, c.last_ts.0);
        let pkts = c.orig.pkts.saturating_add(c.resp.pkts);
        let bytes = c.orig.ip_bytes.saturating_add(c.resp.ip_bytes);
        // A conversation with a group (broadcast, multicast) polls no device.
        let to_group = self.is_group_dst(c.resp.addr, c.resp.l2);
        let orig = if c.orig.pkts > 0 {
            self.sight_from(c.orig.addr, c.orig.l2, first, Claim::Traffic, c.resp.addr)
        } else {
            None
        };
        let resp = if c.resp.pkts > 0 && !to_group {
            self.sight_from(c.resp.addr, c.resp.l2, first, Claim::Traffic, c.orig.addr)
        } else {
            None
        };
        for (i, addr) in [(orig, c.orig.addr), (resp, c.resp.addr)] {
            if let Some(i) = i {
                self.count(i, addr, first, last, pkts, bytes);
            }
        }
        if matches!(c.proto, 1 | 58) {
            return; // ICMP "ports" are types and codes
        }
        let served = c.resp.pkts > 0
            && !(c.proto == 6
                && matches!(
                    c.conn_state,
                    "REJ" | "S0" | "RSTOS0" | "RSTRH" | "SH" | "SHR"
                ));
        let ot: Vec<&'static str> = if to_group {
            Vec::new()
        } else {
            c.services
                .names()
                .filter(|n| OT_PROTOCOLS.contains(n))
                .collect()
        };
        let key_of = |ledger: &Ledger, i: Option<usize>, addr: Option<IpAddr>| {
            i.and_then(|i| ledger.assets.get(i))
                .map(|a| a.key)
                .or_else(|| addr.map(AssetKey::Ip))
        };
        let (orig_key, resp_key) = if ot.is_empty() {
            (None, None)
        } else {
            (
                key_of(self, orig, c.orig.addr),
                key_of(self, resp, c.resp.addr),
            )
        };
        if let Some(i) = orig {
            self.service(i, false, c.proto, c.resp.port, c.services, first, last);
            for p in &ot {
                self.ot_use(i, false, p, None, true, first, resp_key);
            }
        }
        if let (Some(i), true) = (resp, served) {
            self.service(i, true, c.proto, c.resp.port, c.services, first, last);
            for p in &ot {
                self.ot_use(i, true, p, None, true, first, orig_key);
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn service(
        &mut self,
        i: usize,
        served: bool,
        proto: u8,
        port: u16,
        services: ServiceSet,
        first: i64,
        last: i64,
    ) {
        let Some(a) = self.assets.get_mut(i) else {
            return;
        };
        let list = if served { &mut a.served } else { &mut a.used };
        match list.binary_search_by_key(&(proto, port), |s| (s.proto, s.port)) {
            Ok(p) => {
                if let Some(s) = list.get_mut(p) {
                    if s.services | services.0 != s.services {
                        s.services |= services.0;
                        self.dirty.push(i);
                    }
                    s.flows += 1;
                    s.first_seen = s.first_seen.min(first);
                    s.last_seen = s.last_seen.max(last);
                }
            }
            Err(p) if list.len() < SERVICES_CAP => {
                list.insert(
                    p,
                    ServiceUse {
                        proto,
                        port,
                        services: services.0,
                        flows: 1,
                        first_seen: first,
                        last_seen: last,
                    },
                );
                self.dirty.push(i);
            }
            Err(_) => a.dropped.services += 1,
        }
    }

    /// Counts OT use: a flow (`flow`) or a request of `category`.
    #[allow(clippy::too_many_arguments)]
    fn ot_use(
        &mut self,
        i: usize,
        served: bool,
        protocol: &str,
        category: Option<&str>,
        flow: bool,
        ts: i64,
        peer: Option<AssetKey>,
    ) {
        let Some(a) = self.assets.get_mut(i) else {
            return;
        };
        let mut changed = false;
        let list = if served {
            &mut a.ot.served
        } else {
            &mut a.ot.used
        };
        let pos = match list.iter().position(|u| u.protocol == protocol) {
            Some(p) => p,
            None => {
                list.push(OtUse {
                    protocol: protocol.to_string(),
                    flows: 0,
                    requests: Default::default(),
                    first_seen: ts,
                    last_seen: ts,
                });
                list.sort_by(|x, y| x.protocol.cmp(&y.protocol));
                changed = true;
                list.iter()
                    .position(|u| u.protocol == protocol)
                    .unwrap_or(0)
            }
        };
        if let Some(u) = list.get_mut(pos) {
            u.first_seen = u.first_seen.min(ts);
            u.last_seen = u.last_seen.max(ts);
            if flow {
                u.flows += 1;
                // A client's role weighs how long and how much it polled (see
                // [`crate::role`]): look again now and then as the evidence grows.
                changed |= !served && u.flows >= 16 && u.flows.is_power_of_two();
            }
            if let Some(cat) = category {
                match u.requests.get_mut(cat) {
                    Some(n) => {
                        *n += 1;
                        changed |= !served && *n >= 16 && n.is_power_of_two();
                    }
                    None => {
                        u.requests.insert(cat.to_string(), 1);
                        changed = true;
                    }
                }
            }
        }
        if let Some(peer) = peer {
            let peers = if served {
                &mut a.ot.clients
            } else {
                &mut a.ot.servers
            };
            if let Err(p) = peers.binary_search(&peer) {
                if peers.len() < PEERS_CAP {
                    peers.insert(p, peer);
                    changed = true;
                } else {
                    a.dropped.peers += 1;
                }
            }
        }
        if changed {
            self.dirty.push(i);
        }
    }

    fn on_arp(&mut self, e: &ArpEvent) {
        let a = &e.arp;
        let ts = e.ts.0;
        let ip = (!a.is_probe()).then_some(IpAddr::V4(a.sender_ip));
        if let Some(i) = self.sight(ip, Some(a.sender_mac), ts, Claim::Arp) {
            self.count(i, ip, ts, ts, 0, 0);
        }
        if let Some(src) = e.src_mac.filter(|m| *m != a.sender_mac) {
            self.sight(None, Some(src), ts, Claim::Traffic);
        }
    }

    fn on_ot(&mut self, o: &OtEvent) {
        let ts = o.op.ts;
        let resp_ip = o.resp.map(|x| x.0);
        if self.is_group_dst(resp_ip, o.resp_l2) {
            // A request to a group (a broadcast Who-Is, CC-Link IE Field Basic's
            // cyclic broadcast): the sender is seen, but it polls no device.
            self.sight(o.orig.map(|x| x.0), o.orig_l2, ts, Claim::Traffic);
            return;
        }
        let answered = o.op.status != Status::NoResponse;
        // A flow's requests all come from the same two devices: resolve them once
        // per flow (the connection record updates their times and counters).
        let cached = self
            .ot_flows
            .get(&o.uid)
            .copied()
            .filter(|(_, s)| s.is_some() || !answered);
        let (client, server) = match cached {
            Some((c, s)) => (c, s.filter(|_| answered)),
            None => {
                let orig_ip = o.orig.map(|x| x.0);
                let client = self.sight_from(orig_ip, o.orig_l2, ts, Claim::Traffic, resp_ip);
                let server = if answered {
                    self.sight_from(resp_ip, o.resp_l2, ts, Claim::Traffic, orig_ip)
                } else {
                    None
                };
                if self.ot_flows.len() >= OT_FLOWS_CAP {
                    self.ot_flows.clear();
                }
                self.ot_flows.insert(o.uid, (client, server));
                (client, server)
            }
        };
        let key =
            |ledger: &Ledger, i: Option<usize>| i.and_then(|i| ledger.assets.get(i)).map(|a| a.key);
        let (ck, sk) = (key(self, client), key(self, server));
        let cat = category(&o.op);
        if let Some(c) = client {
            self.ot_use(c, false, o.op.protocol, Some(cat), false, ts, sk);
        }
        if let Some(s) = server {
            self.ot_use(s, true, o.op.protocol, Some(cat), false, ts, ck);
        }
    }

    fn on_identity(&mut self, e: &IdentityEvent) {
        match self.sight(e.ip, e.mac, e.ts, Claim::Identity) {
            Some(i) => self.apply_fact(i, e.kind, &e.value, e.protocol, e.ts, e.uid),
            None => {
                let Some(ip) = e.ip.filter(|i| is_unicast_ip(*i)) else {
                    self.stats.facts_dropped += 1;
                    return;
                };
                let waiting: usize = self.pending.len();
                let list = self.pending.entry(ip).or_default();
                if waiting >= PENDING_CAP && list.is_empty() || list.len() >= PENDING_PER_IP {
                    self.stats.facts_dropped += 1;
                    if list.is_empty() {
                        self.pending.remove(&ip);
                    }
                    return;
                }
                list.push(PendingFact {
                    kind: e.kind,
                    value: clip(&e.value).to_string(),
                    protocol: e.protocol,
                    ts: e.ts,
                    uid: e.uid,
                });
            }
        }
    }

    fn set_attr(
        &mut self,
        i: usize,
        name: &str,
        value: &str,
        confidence: u8,
        src: SourceRef<'_>,
    ) -> Observed {
        let Some(a) = self.assets.get_mut(i) else {
            return Observed::Ignored;
        };
        let value = clip(value);
        if value.is_empty() {
            return Observed::Ignored;
        }
        match a.attributes.get_mut(name) {
            Some(attr) => attr.observe(value, confidence, src),
            None => {
                a.attributes
                    .insert(name.to_string(), Attribute::new(value, confidence, src));
                Observed::New
            }
        }
    }

    fn set_os(&mut self, i: usize, source: &str, guess: os::OsGuess, src: SourceRef<'_>) {
        let Some(a) = self.assets.get_mut(i) else {
            return;
        };
        let changed = match a.os_evidence.get_mut(source) {
            Some(attr) => attr.observe(&guess.name, guess.confidence, src),
            None => {
                a.os_evidence.insert(
                    source.to_string(),
                    Attribute::new(&guess.name, guess.confidence, src),
                );
                Observed::New
            }
        };
        if matches!(changed, Observed::New | Observed::Changed) {
            self.dirty.push(i);
        }
    }

    fn add_hostname(&mut self, i: usize, name: &str, src: SourceRef<'_>) {
        let Some(a) = self.assets.get_mut(i) else {
            return;
        };
        let name = clip(name).trim_end_matches('.');
        if name.is_empty() {
            return;
        }
        let confidence = hostname_confidence(src.protocol);
        let n = a.hostname_evidence.len();
        match a
            .hostname_evidence
            .iter_mut()
            .find(|h| h.value.eq_ignore_ascii_case(name))
        {
            Some(h) => {
                h.observe(&h.value.clone(), confidence, src);
            }
            None if n < HOSTNAMES_CAP => {
                a.hostname_evidence
                    .push(Attribute::new(name, confidence, src));
            }
            None => a.dropped.hostnames += 1,
        }
    }

    fn apply_fact(
        &mut self,
        i: usize,
        kind: IdentityKind,
        value: &str,
        protocol: &str,
        ts: i64,
        uid: Option<Uid>,
    ) {
        let src = SourceRef { protocol, ts, uid };
        match kind {
            // CIP's model fact is a description ("device type 12 (communications
            // adapter) product code 58"); its product name is the catalogue number.
            IdentityKind::Model if value.starts_with("device type ") => {
                if matches!(
                    self.set_attr(i, "device_type", value, 80, src),
                    Observed::New | Observed::Changed
                ) {
                    self.dirty.push(i);
                }
            }
            // A bare code (BACnet's vendor id without a name, CC-Link's vendor code)
            // is kept as `vendor_code`; the vendor stays the registry's name.
            IdentityKind::Vendor if crate::models::vendor_code(value).is_some() => {
                if let Some(code) = crate::models::vendor_code(value) {
                    self.set_attr(i, "vendor_code", &code, 85, src);
                }
            }
            // Model codes are kept as `model_code`; the model is named where the code
            // is a published one (see [`crate::models`]).
            IdentityKind::Model => {
                let (model, code) = crate::models::split_model(protocol, value);
                if let Some(code) = code {
                    self.set_attr(i, "model_code", &code, 85, src);
                }
                if let Some(model) = model {
                    self.set_attr(i, "model", &model, 85, src);
                }
            }
            IdentityKind::Vendor
            | IdentityKind::Product
            | IdentityKind::Firmware
            | IdentityKind::Serial => {
                self.set_attr(i, kind.as_str(), value, 85, src);
            }
            IdentityKind::Hostname => {
                if protocol == "bacnet" && value.starts_with("device ") {
                    self.set_attr(i, "device_id", value, 80, src);
                } else {
                    self.add_hostname(i, value, src);
                }
            }
            IdentityKind::Os => {
                let guess = os::OsGuess {
                    name: os::normalize(clip(value)),
                    confidence: 85,
                };
                self.set_os(i, protocol, guess, src);
            }
            IdentityKind::UserAgent => {
                self.set_attr(i, "user_agent", value, 50, src);
                if let Some(g) = os::from_user_agent(value) {
                    self.set_os(i, "user_agent", g, src);
                }
            }
            IdentityKind::DeviceType => {
                if matches!(
                    self.set_attr(i, "device_type", value, 80, src),
                    Observed::New | Observed::Changed
                ) {
                    self.dirty.push(i);
                }
            }
            IdentityKind::VendorClass | IdentityKind::DhcpFingerprint => {
                self.set_attr(i, kind.as_str(), value, 70, src);
                let a = self.assets.get(i);
                let vc = a.and_then(|a| a.attr("vendor_class")).map(str::to_string);
                let prl = a
                    .and_then(|a| a.attr("dhcp_fingerprint"))
                    .map(str::to_string);
                if let Some(g) = os::from_dhcp(vc.as_deref(), prl.as_deref()) {
                    self.set_os(i, "dhcp", g, src);
                }
            }
            IdentityKind::Software
            | IdentityKind::DeviceId
            | IdentityKind::Description
            | IdentityKind::ManagementAddress
            | IdentityKind::Domain => {
                self.set_attr(i, kind.as_str(), value, 70, src);
            }
        }
    }

    fn on_dhcp(&mut self, e: &DhcpEvent) {
        let r: &DhcpRecord = &e.record;
        for gw in &r.routers {
            let gw = IpAddr::V4(*gw);
            if !self.gateways.contains(&gw) && self.gateways.len() < 256 {
                self.gateways.push(gw);
                if let Some(&j) = self.by_ip.get(&gw) {
                    self.dirty.push(j);
                }
            }
        }
        let ip = r.assigned_addr.or(r.client_addr).map(IpAddr::V4);
        let Some(i) = self.sight(ip, r.mac, r.ts, Claim::Dhcp) else {
            return;
        };
        let src = SourceRef {
            protocol: "dhcp",
            ts: r.ts,
            uid: Some(e.ends.uid),
        };
        for name in [&r.host_name, &r.client_fqdn].into_iter().flatten() {
            self.add_hostname(i, name, src);
        }
        if let Some(vc) = &r.vendor_class {
            self.set_attr(i, "vendor_class", vc, 70, src);
        }
        if let Some(p) = &r.param_list {
            self.set_attr(i, "dhcp_fingerprint", p, 70, src);
        }
        let guess =
            os::from_dhcp(r.vendor_class.as_deref(), r.param_list.as_deref()).or_else(|| {
                r.os_hint.map(|h| os::OsGuess {
                    name: h.to_string(),
                    confidence: 50,
                })
            });
        if let Some(g) = guess {
            self.set_os(i, "dhcp", g, src);
        }
    }

    fn on_syn(&mut self, e: &TcpSynEvent) {
        let Some(i) = self.sight(Some(e.ip), e.mac, e.ts, Claim::Traffic) else {
            return;
        };
        let sig = TcpSignature::from_event(e);
        let src = SourceRef {
            protocol: "p0f",
            ts: e.ts,
            uid: Some(e.uid),
        };
        // The same fingerprint as this device's last: the same answer. Refresh the
        // attribute's time once a minute, not per SYN.
        if let Some((last, at)) = self.last_sig.get_mut(&i)
            && *last == sig
        {
            if e.ts.saturating_sub(*at) >= 60_000_000_000 {
                *at = e.ts;
                let text = sig.to_string();
                self.set_attr(i, "tcp_signature", &text, 50, src);
            }
            return;
        }
        let text = sig.to_string();
        self.last_sig.insert(i, (sig.clone(), e.ts));
        self.set_attr(i, "tcp_signature", &text, 50, src);
        if let Some(m) = self.knowledge.p0f.matches(&sig) {
            let confidence = match (m.generic, m.fuzzy) {
                (false, false) => 70,
                (true, false) => 55,
                _ => 40,
            };
            let guess = os::OsGuess {
                name: os::normalize(&m.os),
                confidence,
            };
            self.set_os(i, "p0f", guess, src);
        }
    }

    fn refresh_roles(&mut self) {
        if self.dirty.is_empty() {
            return;
        }
        let mut dirty = std::mem::take(&mut self.dirty);
        dirty.sort_unstable();
        dirty.dedup();
        for &i in &dirty {
            let Some(a) = self.assets.get(i) else {
                continue;
            };
            let gateway = a.ip_history.iter().any(|u| self.gateways.contains(&u.ip));
            let (role, reason) = role::infer(a, gateway);
            if let Some(a) = self.assets.get_mut(i) {
                a.role = role;
                a.role_reason = reason;
            }
        }
        dirty.clear();
        self.dirty = dirty;
    }

    // ---- the store -------------------------------------------------------------

    /// Rows for the store, by key, each with its full record as `detail`. An asset
    /// loaded from the store and not changed since keeps its stored `updated_run`;
    /// the others get `run`.
    pub fn to_rows(&self, run: Option<RunId>) -> Vec<AssetRow> {
        self.rows(run, false)
    }

    /// Only the rows that changed since [`Ledger::load`] (all of them for assets
    /// new in this run): what a store update needs to write.
    pub fn changed_rows(&self, run: Option<RunId>) -> Vec<AssetRow> {
        self.rows(run, true)
    }

    fn rows(&self, run: Option<RunId>, only_changed: bool) -> Vec<AssetRow> {
        let hasher = foldhash::fast::FixedState::default();
        self.assets_by_key()
            .into_iter()
            .filter_map(|a| {
                let mut row = to_row(a, run);
                match self.loaded.get(&a.key) {
                    Some((hash, stored_run)) if *hash == hasher.hash_one(&row.detail) => {
                        if only_changed {
                            return None;
                        }
                        row.updated_run = *stored_run;
                    }
                    _ => {}
                }
                Some(row)
            })
            .collect()
    }

    /// Loads a stored ledger (rows written by [`Ledger::to_rows`]) so that a new run
    /// carries on from it: first/last seen, counters and attribute histories continue.
    /// A row whose key is already in the ledger is merged into it. Rows that cannot
    /// be read are skipped and returned.
    pub fn load(&mut self, rows: &[AssetRow]) -> Vec<LoadError> {
        let mut errors = Vec::new();
        for row in rows {
            match Asset::from_json(&row.detail) {
                Ok(a) => {
                    let hash = foldhash::fast::FixedState::default().hash_one(&row.detail);
                    self.loaded.insert(a.key, (hash, row.updated_run));
                    self.insert_loaded(a);
                }
                Err(source) => {
                    self.stats.load_errors += 1;
                    errors.push(LoadError {
                        key: row.key.clone(),
                        source,
                    });
                }
            }
        }
        self.dirty.extend(0..self.assets.len());
        self.refresh_roles();
        errors
    }

    fn insert_loaded(&mut self, a: Asset) {
        let i = match self.by_key.get(&a.key) {
            Some(&i) => {
                if let Some(mine) = self.assets.get_mut(i) {
                    mine.merge(a);
                }
                i
            }
            None => {
                if self.assets.len() >= self.config.max_assets {
                    self.stats.assets_refused += 1;
                    return;
                }
                if matches!(a.key, AssetKey::Ip(_)) {
                    self.remote += 1;
                }
                let i = self.assets.len();
                self.by_key.insert(a.key, i);
                self.assets.push(a);
                self.carried.push(Vec::new());
                i
            }
        };
        let Some(a) = self.assets.get(i) else {
            return;
        };
        self.now = self.now.max(a.last_seen);
        let uses: Vec<IpUse> = a.ip_history.clone();
        let mac = a.mac;
        for u in uses {
            let newer = match self.by_ip.get(&u.ip).and_then(|&j| self.assets.get(j)) {
                Some(holder) => holder
                    .ip_history
                    .iter()
                    .find(|x| x.ip == u.ip)
                    .is_none_or(|x| x.last_seen <= u.last_seen),
                None => true,
            };
            if newer {
                self.by_ip.insert(u.ip, i);
            }
            if let (Some(m), true) = (mac, u.claim.is_own()) {
                self.own.insert(u.ip, (m, u.last_seen));
            }
        }
    }

    /// Writes `assets.jsonl`: one record per asset, by key.
    pub fn write_jsonl<W: std::io::Write>(&self, mut w: W) -> std::io::Result<()> {
        for a in self.assets_by_key() {
            w.write_all(a.to_json().as_bytes())?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }
}

/// An asset as the store's row.
pub fn to_row(a: &Asset, run: Option<RunId>) -> AssetRow {
    let s = a.summary();
    AssetRow {
        key: a.key.to_string(),
        mac: a.mac.map(|m| m.to_string()),
        vendor: s.vendor.clone(),
        hostname: s.hostnames.first().cloned(),
        os: s.os.clone(),
        os_eol: if s.os_eol {
            s.os_eol_date.map(str::to_string)
        } else {
            None
        },
        role: a.role.as_str().to_string(),
        model: s.ot_identity.model.clone(),
        firmware: s.ot_identity.firmware.clone(),
        behind: a.behind.map(|m| AssetKey::Mac(m).to_string()),
        first_seen: a.first_seen,
        last_seen: a.last_seen,
        pkts: a.pkts,
        bytes: a.bytes,
        detail: a.to_json(),
        updated_run: run,
        ips: s.ips,
    }
}
