//! The detectors, fed one event at a time.
//!
//! [`Detector`] holds the configuration, the baseline, and the bounded state each
//! detector needs (ARP bindings, probe windows per source, per-minute volume buckets,
//! the current layer-2 second). The pipeline's collector hands it events in a
//! deterministic order; packet time drives every clock, so a capture replays to the
//! same alerts.
//!
//! ## Modes and learning
//! - [`Mode::Learn`] (`analyze --learn`): everything seen is added to the baseline
//!   (starting from the stored one, if any).
//! - [`Mode::Detect`]: compare with the given baseline; the baseline does not change
//!   (except through [`Baseline::accept`]).
//! - [`Mode::Auto`]: with a baseline, as `Detect`; without one, learn for the
//!   configured window of capture time from the first event, then detect.
//!
//! While learning, the detectors that compare with the baseline are silent:
//! `new_device`, `new_comm`, `volume_anomaly`, and the baseline-dependent parts of
//! `ot_command` (writes from a host that never wrote to that target) and
//! `dns_suspicious` (domains never seen before from OT assets). Every other detector
//! runs from the first packet, and what it raises while learning carries
//! `learning = true`: `ot_command` (control and program operations, the configured
//! watch list), `signature`, `arp_spoof`, `ip_conflict`, `scan`, `storm`,
//! `dns_suspicious` (generated names, block list), `eol_os`, `internet_from_ot` and
//! `zone_violation`.
//!
//! ## Detectors in brief
//! - `new_device`: a MAC never seen, as an ARP sender or a connection's originator.
//!   A connection's source MAC is taken as the host of its source IP only until that
//!   MAC sends for a second IP (or for one ARP binds elsewhere): then it is a router's
//!   (a routed flow carries the last hop's MAC) and its flows name no IP.
//! - `new_comm`: a communication ([`CommKey`]) or, for an OT protocol the pair
//!   already speaks, a function category never seen. Connections that carried no
//!   payload (probes) are left to `scan`; group destinations are not reported.
//! - `volume_anomaly`: per directed pair, OT requests per minute and IP bytes per
//!   minute (flows shorter than two minutes, counted in their first minute) against
//!   the threshold of that pair and hour of day. A minute is judged when capture time
//!   is [`GRACE_MINUTES`] past it (connection records arrive when flows end).
//! - `ot_command`: control and program operations (critical), new writes (high), and
//!   the configured watch list.
//! - `arp_spoof` / `ip_conflict`: a MAC that claims an address bound to another MAC.
//!   When the claimant has an address of its own, or the binding flips back and
//!   forth, it is spoofing; when it has none and the owner was active within
//!   `arp.active_secs`, the address is in conflict; otherwise the address moved
//!   (DHCP) and is rebound quietly.
//! - `scan`: per source, within `scan.window_secs`: probes (TCP connections without
//!   payload that never completed a normal exchange, unanswered UDP and ICMP echo)
//!   to many hosts on one port (horizontal) or many ports of one host (vertical),
//!   and ARP requests for many addresses (sweep). The window restarts after an alert.
//! - `storm`: broadcast, multicast or mirror-duplicate frames per second above their
//!   thresholds for `storm.sustain_secs` seconds in a row (duplicates: a layer-2 loop).
//! - `dns_suspicious`: generated-looking names ([`crate::dga`]), block-listed
//!   domains, domains never seen before asked by an OT asset.
//! - `internet_from_ot`: an OT asset (by [`AssetLookup`]) talking to or from an
//!   external address. `zone_violation`: a connection between two zones without a
//!   conduit (external addresses are zone `internet`; unzoned internal hosts are not
//!   judged; OT-to-internet is left to `internet_from_ot`).
//! - `eol_os`: an asset whose OS is out of support, once per asset and not again in
//!   later runs while the store holds the alert ([`Detector::know_alerts`]).
//! - `signature`: every rule hit.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr};

use hashbrown::{HashMap, HashSet};
use mamori_dissect::record::Category;
use mamori_flow::ConnRecord;
use mamori_pipeline::event::{ArpEvent, DnsEvent, Event, L2SecondEvent, OtEvent, RuleHitEvent};
use mamori_wire::decode::MacAddr;
use serde_json::json;

use crate::alert::{Alert, AlertSet, Kind, Severity};
use crate::assets::AssetLookup;
use crate::baseline::{Baseline, CategoryKey, CommKey, Threshold, volume_key};
use crate::config::{DetectConfig, WatchEntry};
use crate::dga;
use crate::net::{Ranges, Selector, Zones, is_group};

/// Minutes after its end that a volume minute is judged (and learned).
pub const GRACE_MINUTES: i64 = 7;
/// Sources with probe windows kept at once.
const MAX_SCAN_SOURCES: usize = 65_536;
/// Probes kept per source window.
const MAX_PROBES: usize = 4096;
/// ARP bindings kept.
const MAX_BINDINGS: usize = 262_144;
/// Open volume buckets kept.
const MAX_BUCKETS: usize = 262_144;
/// Flows longer than this are not counted in per-minute bytes.
const SHORT_FLOW_NANOS: i64 = 120_000_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;

/// How the detector treats the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Add everything seen to the baseline (`analyze --learn`).
    Learn,
    /// Compare with the baseline.
    Detect,
    /// Detect with a baseline; without one, learn for the window, then detect.
    Auto,
}

/// Counters of what the detector saw and refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectStats {
    /// Events observed.
    pub events: u64,
    /// DNS transactions among them.
    pub dns: u64,
    /// Connection bytes that arrived after their minute was judged.
    pub late_volume: u64,
    /// State entries refused because a table was full.
    pub state_overflow: u64,
    /// Alerts refused because the alert set was full.
    pub alerts_dropped: u64,
}

#[derive(Debug, Clone, Copy)]
struct Binding {
    mac: MacAddr,
    last: Option<i64>,
    prev: Option<MacAddr>,
}

#[derive(Debug, Clone)]
struct Probe {
    ts: i64,
    dst: IpAddr,
    port: u16,
    proto: u8,
    uid: String,
}

#[derive(Debug, Default)]
struct Bucket {
    value: u64,
    mac: Option<MacAddr>,
    uids: Vec<String>,
    protocol: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, Default)]
struct L2Sum {
    second: i64,
    frames: u64,
    broadcast: u64,
    multicast: u64,
    duplicates: u64,
    top: Option<(MacAddr, u64)>,
}

/// Baseline learning and every detector.
#[derive(Debug)]
pub struct Detector {
    cfg: DetectConfig,
    ranges: Ranges,
    zones: Zones,
    baseline: Baseline,
    /// Learning ends at this capture time (ns); `Some(i64::MAX)` for `Learn`,
    /// `None` once detecting.
    learn_until: Option<i64>,
    /// Auto mode without a baseline: the window starts at the first event.
    window_pending: bool,
    alerts: AlertSet,
    stats: DetectStats,
    clock: i64,
    minute: i64,
    known_macs: HashSet<MacAddr>,
    bindings: HashMap<Ipv4Addr, Binding>,
    mac_ips: HashMap<MacAddr, Vec<Ipv4Addr>>,
    probes: HashMap<IpAddr, VecDeque<Probe>>,
    sweeps: HashMap<MacAddr, VecDeque<(i64, Ipv4Addr, Option<Ipv4Addr>)>>,
    buckets: HashMap<(String, &'static str, i64), Bucket>,
    thresholds: HashMap<String, Threshold>,
    l2: Option<L2Sum>,
    storm_runs: [u32; 3],
    assets_checked: HashSet<IpAddr>,
    /// Fingerprints of state alerts (`eol_os`) stored by earlier runs: not raised again.
    known_alerts: HashSet<String>,
    /// The first source IP each MAC sent a connection from (bounded).
    conn_ips: HashMap<MacAddr, IpAddr>,
    /// MACs seen sending for several IPs (or for IPs ARP gives to another MAC): routers,
    /// whose connections' source IPs are not theirs.
    routers: HashSet<MacAddr>,
}

fn hour_of(ts_ns: i64, offset_min: i32) -> u8 {
    let secs = ts_ns.div_euclid(NANOS_PER_SEC) + i64::from(offset_min) * 60;
    (secs.rem_euclid(86_400) / 3600) as u8
}

fn mac_ok(m: Option<MacAddr>) -> Option<MacAddr> {
    m.filter(|m| !m.is_multicast() && m.0 != [0; 6])
}

fn proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmp6".into(),
        n => n.to_string(),
    }
}

/// ATT&CK for ICS technique of an OT operation.
fn mitre_for(category: Category, name: &str) -> Option<&'static str> {
    let n = name.to_ascii_lowercase();
    match category {
        Category::Program if n.contains("upload") => Some("T0845"),
        Category::Program if n.contains("delete") => Some("T0809"),
        Category::Program if n.contains("firmware") => Some("T0857"),
        Category::Program => Some("T0843"),
        Category::Control
            if n.contains("restart") || n.contains("reset") || n.contains("reinit") =>
        {
            Some("T0816")
        }
        Category::Control if n.contains("stop") || n.contains("start") || n.contains("run") => {
            Some("T0858")
        }
        Category::Control => Some("T0855"),
        Category::Write => Some("T0836"),
        _ => None,
    }
}

impl Detector {
    /// A detector. `baseline` is the stored one, if any.
    pub fn new(cfg: DetectConfig, baseline: Option<Baseline>, mode: Mode) -> Detector {
        let have = baseline.is_some();
        let baseline = baseline.unwrap_or_default();
        let (learn_until, window_pending) = match (mode, have) {
            (Mode::Learn, _) => (Some(i64::MAX), false),
            (Mode::Detect, _) | (Mode::Auto, true) => (None, false),
            (Mode::Auto, false) => (Some(i64::MAX), true),
        };
        let mut d = Detector {
            ranges: Ranges::new(&cfg.internal_ranges, &cfg.external_ranges),
            zones: Zones::new(cfg.zone_defs()),
            alerts: AlertSet::new(cfg.max_alerts, cfg.max_evidence_uids),
            cfg,
            baseline,
            learn_until,
            window_pending,
            stats: DetectStats::default(),
            clock: i64::MIN,
            minute: i64::MIN,
            known_macs: HashSet::new(),
            bindings: HashMap::new(),
            mac_ips: HashMap::new(),
            probes: HashMap::new(),
            sweeps: HashMap::new(),
            buckets: HashMap::new(),
            thresholds: HashMap::new(),
            l2: None,
            storm_runs: [0; 3],
            assets_checked: HashSet::new(),
            known_alerts: HashSet::new(),
            conn_ips: HashMap::new(),
            routers: HashSet::new(),
        };
        for (mac, dev) in &d.baseline.devices {
            let Some(m) = crate::net::parse_mac(mac) else {
                continue;
            };
            d.known_macs.insert(m);
            for ip in &dev.ips {
                if let Ok(ip) = ip.parse::<Ipv4Addr>() {
                    d.bindings.entry(ip).or_insert(Binding {
                        mac: m,
                        last: None,
                        prev: None,
                    });
                    let v = d.mac_ips.entry(m).or_default();
                    if v.len() < 16 && !v.contains(&ip) {
                        v.push(ip);
                    }
                }
            }
        }
        d
    }

    /// Notes alerts stored by earlier runs (open, acknowledged or accepted): a state
    /// alert (`eol_os`) already stored is not raised again, the stored one stands.
    pub fn know_alerts<'a>(&mut self, fingerprints: impl IntoIterator<Item = &'a str>) {
        for fp in fingerprints {
            if self.known_alerts.len() >= MAX_BINDINGS {
                self.stats.state_overflow += 1;
                break;
            }
            if fp.starts_with("eol_os|") {
                self.known_alerts.insert(fp.to_string());
            }
        }
    }

    /// Whether the baseline is still learning.
    pub fn learning(&self) -> bool {
        self.learn_until.is_some()
    }

    /// The baseline (learned so far, or the one given), for saving.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Counters.
    pub fn stats(&self) -> DetectStats {
        DetectStats {
            alerts_dropped: self.alerts.dropped(),
            ..self.stats
        }
    }

    /// All alerts so far, aggregated.
    pub fn alerts(&self) -> &[Alert] {
        self.alerts.all()
    }

    /// Alerts first raised since the last call.
    pub fn drain_new(&mut self) -> Vec<Alert> {
        self.alerts.drain_new()
    }

    /// Takes one event.
    pub fn observe(&mut self, event: &Event, assets: &dyn AssetLookup) {
        self.stats.events += 1;
        let ts = match event {
            Event::Conn(c) => c.last_ts.0,
            Event::Arp(a) => a.ts.0,
            Event::Ot(o) => o.op.ts,
            Event::Identity(i) => i.ts,
            Event::Dns(d) => d.record.ts,
            Event::Dhcp(d) => d.record.ts,
            Event::Dhcpv6(d) => d.record.ts,
            Event::TcpSyn(t) => t.ts,
            Event::L2Second(l) => l.second.saturating_mul(NANOS_PER_SEC),
            Event::RuleHit(h) => h.ts,
            Event::Http(h) => h.record.ts,
            Event::Tls(t) => t.record.ts,
        };
        self.advance(ts);
        match event {
            Event::Conn(c) => self.conn(c, assets),
            Event::Arp(a) => self.arp(a),
            Event::Ot(o) => self.ot(o),
            Event::Dns(d) => {
                self.stats.dns += 1;
                self.dns(d, assets);
            }
            Event::L2Second(l) => self.l2_second(l),
            Event::RuleHit(h) => self.rule_hit(h),
            Event::Identity(_)
            | Event::Dhcp(_)
            | Event::Dhcpv6(_)
            | Event::TcpSyn(_)
            | Event::Http(_)
            | Event::Tls(_) => {}
        }
    }

    /// The input ended: judges what is pending and returns every alert.
    pub fn finish(&mut self, assets: &dyn AssetLookup) -> Vec<Alert> {
        if let Some(sum) = self.l2.take() {
            self.judge_second(sum);
        }
        self.close_buckets(i64::MAX);
        let ips: Vec<IpAddr> = self.assets_checked.iter().copied().collect();
        let mut ips = ips;
        ips.sort_unstable();
        for ip in ips {
            self.eol_check(ip, assets, self.clock);
        }
        if self.learn_until.is_some() && self.clock != i64::MIN {
            self.baseline.window_end = Some(self.clock);
        }
        self.alerts.all().to_vec()
    }

    // ----- time -----

    fn advance(&mut self, ts: i64) {
        if self.window_pending {
            self.window_pending = false;
            let hours = self.cfg.learning_hours;
            self.learn_until = Some(ts.saturating_add((hours * 3600.0 * 1e9) as i64));
        }
        if self.baseline.window_start.is_none() && self.learn_until.is_some() {
            self.baseline.window_start = Some(ts);
        }
        if ts <= self.clock {
            return;
        }
        self.clock = ts;
        let minute = ts.div_euclid(60 * NANOS_PER_SEC);
        if minute != self.minute {
            self.minute = minute;
            if self.is_learning_at(ts) {
                self.baseline
                    .add_minute(hour_of(ts, self.cfg.utc_offset_minutes));
            }
            self.close_buckets(minute.saturating_sub(GRACE_MINUTES));
        }
        if let Some(until) = self.learn_until
            && ts >= until
        {
            self.baseline.window_end = Some(until);
            self.learn_until = None;
        }
    }

    fn is_learning_at(&self, ts: i64) -> bool {
        self.learn_until.is_some_and(|u| ts < u)
    }

    // ----- raising -----

    fn raise(&mut self, mut a: Alert) {
        let sw = self.cfg.detectors.get(a.kind);
        if !sw.enabled || self.baseline.exemptions.contains(&a.fingerprint) {
            return;
        }
        if let Some(s) = sw.severity {
            a.severity = s;
        }
        a.learning = self.learning();
        self.alerts.push(a);
    }

    /// Whether a baseline-dependent detector may speak.
    fn comparing(&self, kind: Kind) -> bool {
        !self.learning() && self.cfg.detectors.get(kind).enabled
    }

    // ----- naming -----

    fn endpoint(&self, ip: IpAddr) -> String {
        if self.ranges.is_internal(ip) {
            ip.to_string()
        } else {
            "external".into()
        }
    }

    fn ot_endpoint(&self, addr: Option<(IpAddr, u16)>, l2: Option<MacAddr>) -> String {
        match (addr, l2) {
            (Some((ip, _)), _) => self.endpoint(ip),
            (None, Some(m)) => format!("mac:{m}"),
            (None, None) => "unknown".into(),
        }
    }

    // ----- devices -----

    fn device(&mut self, mac: MacAddr, ip: Option<IpAddr>, ts: i64) {
        let ip = ip.filter(|ip| self.ranges.is_internal(*ip) && !ip.is_unspecified());
        if self.is_learning_at(ts) {
            self.known_macs.insert(mac);
            self.baseline
                .add_device(&mac.to_string(), ip.map(|i| i.to_string()).as_deref(), ts);
            return;
        }
        if self.known_macs.contains(&mac) {
            return;
        }
        self.known_macs.insert(mac);
        if !self.comparing(Kind::NewDevice) {
            return;
        }
        let mut a = Alert::new(
            Kind::NewDevice,
            Severity::Medium,
            ts,
            format!("new_device|{mac}"),
            match ip {
                Some(ip) => format!("new device {mac} at {ip}"),
                None => format!("new device {mac}"),
            },
        )
        .with("expected", json!("a MAC address the baseline knows"))
        .with(
            "seen",
            json!({"mac": mac.to_string(), "ip": ip.map(|i| i.to_string())}),
        )
        .with(
            "accept",
            json!({"device": {"mac": mac.to_string(), "ip": ip.map(|i| i.to_string()), "ts": ts}}),
        );
        a.src_mac = Some(mac);
        a.src_ip = ip;
        a.mitre_ics = Some("T0848");
        self.raise(a);
    }

    // ----- connections -----

    fn conn(&mut self, c: &ConnRecord, assets: &dyn AssetLookup) {
        let (Some(oip), Some(rip)) = (c.orig.addr, c.resp.addr) else {
            return;
        };
        let ts = c.ts.0;
        let uid = c.uid.to_string();
        if let Some(m) = mac_ok(c.orig.l2) {
            let ip = self.host_ip(m, oip);
            self.device(m, ip, ts);
        }
        for ip in [oip, rip] {
            if self.ranges.is_internal(ip)
                && !is_group(ip)
                && self.assets_checked.len() < MAX_BINDINGS
                && self.assets_checked.insert(ip)
            {
                self.eol_check(ip, assets, ts);
            }
        }
        let app = c
            .services
            .names()
            .next()
            .map_or_else(|| proto_name(c.proto), str::to_string);
        let key = CommKey {
            src: self.endpoint(oip),
            dst: self.endpoint(rip),
            app,
            port: c.resp.port,
        };
        let probe = self.is_probe(c, rip);
        if self.is_learning_at(ts) {
            self.baseline.add_comm(key.clone());
        } else if self.comparing(Kind::NewComm)
            && !probe
            && !is_group(rip)
            && !self.baseline.comms.contains(&key)
        {
            let mut a = Alert::new(
                Kind::NewComm,
                Severity::Medium,
                ts,
                format!("new_comm|{}|{}|{}", key.src, key.dst, key.port),
                format!(
                    "first {} conversation from {} to {} port {}",
                    key.app, oip, rip, key.port
                ),
            )
            .with("expected", json!("a communication the baseline knows"))
            .with("seen", json!(&key))
            .with("uids", json!([uid]))
            .with("accept", json!({"comm": &key}));
            a.src_ip = Some(oip);
            a.dst_ip = Some(rip);
            a.src_mac = mac_ok(c.orig.l2);
            a.protocol = Some(key.app.clone());
            self.raise(a);
        }
        let bytes = c.orig.ip_bytes.saturating_add(c.resp.ip_bytes);
        if c.last_ts.0.saturating_sub(ts) <= SHORT_FLOW_NANOS && bytes > 0 {
            let pair = format!("{}>{}", key.src, key.dst);
            self.add_volume(pair, "bytes", ts, bytes, &uid, None, mac_ok(c.orig.l2));
        }
        if probe {
            self.scan_probe(c, oip, rip, uid.clone());
        }
        self.internet_and_zones(c, oip, rip, &key.app, &uid, assets);
    }

    /// The IP a connection's source MAC stands for: `None` when the MAC is a router's
    /// (it sent for another IP before, or ARP binds it to other addresses), since a
    /// routed flow's Ethernet source is the last router, not the host.
    fn host_ip(&mut self, mac: MacAddr, ip: IpAddr) -> Option<IpAddr> {
        if self.routers.contains(&mac) {
            return None;
        }
        if let (Some(arp), IpAddr::V4(v4)) = (self.mac_ips.get(&mac), ip)
            && !arp.is_empty()
            && !arp.contains(&v4)
        {
            self.mark_router(mac);
            return None;
        }
        match self.conn_ips.get(&mac) {
            Some(first) if *first == ip => Some(ip),
            Some(_) => {
                self.mark_router(mac);
                None
            }
            None => {
                if self.conn_ips.len() < MAX_BINDINGS {
                    self.conn_ips.insert(mac, ip);
                } else {
                    self.stats.state_overflow += 1;
                }
                Some(ip)
            }
        }
    }

    fn mark_router(&mut self, mac: MacAddr) {
        if self.routers.len() < MAX_BINDINGS {
            self.routers.insert(mac);
        } else {
            self.stats.state_overflow += 1;
        }
    }

    fn is_probe(&self, c: &ConnRecord, rip: IpAddr) -> bool {
        if is_group(rip) {
            return false;
        }
        match c.proto {
            6 => {
                c.orig.bytes == 0
                    && c.resp.bytes == 0
                    && !matches!(c.conn_state, "SF" | "S1" | "S2" | "S3")
            }
            17 => c.resp.pkts == 0,
            1 | 58 => c.resp.pkts == 0 && matches!(c.orig.port, 8 | 128),
            _ => false,
        }
    }

    fn internet_and_zones(
        &mut self,
        c: &ConnRecord,
        oip: IpAddr,
        rip: IpAddr,
        app: &str,
        uid: &str,
        assets: &dyn AssetLookup,
    ) {
        let ts = c.ts.0;
        let (oi, ri) = (self.ranges.is_internal(oip), self.ranges.is_internal(rip));
        let mut internet_alerted = false;
        if oi != ri {
            let (inside, outside, outbound) = if oi {
                (oip, rip, true)
            } else {
                (rip, oip, false)
            };
            if let Some(info) = assets.by_ip(inside).filter(|i| i.is_ot) {
                internet_alerted = true;
                let mut a = Alert::new(
                    Kind::InternetFromOt,
                    Severity::High,
                    ts,
                    format!("internet_from_ot|{oip}|{rip}|{}|{}", c.resp.port, proto_name(c.proto)),
                    if outbound {
                        format!(
                            "OT asset {inside} ({}) talks to internet address {outside} ({app} port {})",
                            info.role, c.resp.port
                        )
                    } else {
                        format!(
                            "internet address {outside} talks to OT asset {inside} ({}) ({app} port {})",
                            info.role, c.resp.port
                        )
                    },
                )
                .with("expected", json!("OT assets talk only to internal addresses"))
                .with(
                    "seen",
                    json!({"role": info.role, "external": outside.to_string(), "port": c.resp.port,
                           "orig_bytes": c.orig.bytes, "resp_bytes": c.resp.bytes}),
                )
                .with("uids", json!([uid]));
                a.src_ip = Some(oip);
                a.dst_ip = Some(rip);
                a.src_mac = mac_ok(c.orig.l2);
                a.protocol = Some(app.to_string());
                a.mitre_ics = Some("T0883");
                self.raise(a);
            }
        }
        if self.zones.is_empty() || internet_alerted || is_group(rip) {
            return;
        }
        let zone = |ip: IpAddr, internal: bool, mac: Option<MacAddr>| {
            if internal {
                self.zones
                    .zone_of(Some(ip), mac, c.vlan)
                    .map(str::to_string)
            } else {
                Some("internet".to_string())
            }
        };
        let (Some(zo), Some(zr)) = (zone(oip, oi, c.orig.l2), zone(rip, ri, None)) else {
            return;
        };
        if zo == zr {
            return;
        }
        // UDP between equal ports (FINS 9600, BACnet 47808, NTP 123) has no telling
        // originator: the flow's first packet may be the answer. Either direction's
        // conduit allows it.
        let symmetric = c.proto == 17 && c.orig.port == c.resp.port;
        let allowed = self.cfg.conduits.iter().any(|cd| {
            ((cd.from == zo && cd.to == zr) || (symmetric && cd.from == zr && cd.to == zo))
                && (cd.ports.is_empty() || cd.ports.contains(&c.resp.port))
                && (cd.protocols.is_empty()
                    || cd
                        .protocols
                        .iter()
                        .any(|p| p == app || c.services.names().any(|s| s == p)))
        });
        if allowed {
            return;
        }
        let mut a = Alert::new(
            Kind::ZoneViolation,
            Severity::High,
            ts,
            format!("zone_violation|{oip}|{rip}|{}|{}", proto_name(c.proto), c.resp.port),
            format!(
                "{oip} ({zo}) opened {app} port {} to {rip} ({zr}): no conduit from {zo} to {zr}",
                c.resp.port
            ),
        )
        .with("expected", json!({"conduits_from": zo, "allowed_to": self.cfg.conduits.iter().filter(|cd| cd.from == zo).map(|cd| cd.to.clone()).collect::<Vec<_>>()}))
        .with("seen", json!({"from_zone": zo, "to_zone": zr, "port": c.resp.port, "app": app}))
        .with("uids", json!([uid]));
        a.src_ip = Some(oip);
        a.dst_ip = Some(rip);
        a.src_mac = mac_ok(c.orig.l2);
        a.protocol = Some(app.to_string());
        self.raise(a);
    }

    fn eol_check(&mut self, ip: IpAddr, assets: &dyn AssetLookup, ts: i64) {
        let Some(info) = assets.by_ip(ip).filter(|i| i.os_eol) else {
            return;
        };
        let fp = format!("eol_os|{}", info.key);
        if self.alerts.contains(&fp) || self.known_alerts.contains(&fp) {
            return;
        }
        let os = info.os.clone().unwrap_or_else(|| "unknown".into());
        let mut a = Alert::new(
            Kind::EolOs,
            Severity::Medium,
            ts,
            fp,
            format!("{ip} ({}) runs {os}, which is out of support", info.role),
        )
        .with("expected", json!("a supported operating system"))
        .with(
            "seen",
            json!({"os": os, "asset": info.key, "role": info.role}),
        );
        a.src_ip = Some(ip);
        self.raise(a);
    }

    // ----- scans -----

    fn scan_probe(&mut self, c: &ConnRecord, src: IpAddr, dst: IpAddr, uid: String) {
        if !self.probes.contains_key(&src) && self.probes.len() >= MAX_SCAN_SOURCES {
            self.stats.state_overflow += 1;
            return;
        }
        let window = i64::from(self.cfg.scan.window_secs) * NANOS_PER_SEC;
        let ts = c.ts.0;
        let q = self.probes.entry(src).or_default();
        if q.len() >= MAX_PROBES {
            q.pop_front();
        }
        q.push_back(Probe {
            ts,
            dst,
            port: c.resp.port,
            proto: c.proto,
            uid,
        });
        let newest = q.iter().map(|p| p.ts).max().unwrap_or(ts);
        q.retain(|p| p.ts >= newest.saturating_sub(window));
        let mut hosts: Vec<IpAddr> = q
            .iter()
            .filter(|p| p.proto == c.proto && p.port == c.resp.port)
            .map(|p| p.dst)
            .collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut ports: Vec<u16> = q
            .iter()
            .filter(|p| p.proto == c.proto && p.dst == dst)
            .map(|p| p.port)
            .collect();
        ports.sort_unstable();
        ports.dedup();
        let (kind, seen, threshold, what) = if hosts.len() >= self.cfg.scan.horizontal_hosts {
            (
                "horizontal",
                hosts.len(),
                self.cfg.scan.horizontal_hosts,
                format!(
                    "{} hosts on {} port {}",
                    hosts.len(),
                    proto_name(c.proto),
                    c.resp.port
                ),
            )
        } else if ports.len() >= self.cfg.scan.vertical_ports {
            (
                "vertical",
                ports.len(),
                self.cfg.scan.vertical_ports,
                format!("{} {} ports of {dst}", ports.len(), proto_name(c.proto)),
            )
        } else {
            return;
        };
        let uids: Vec<String> = q
            .iter()
            .rev()
            .take(self.cfg.max_evidence_uids)
            .map(|p| p.uid.clone())
            .collect();
        let targets: Vec<String> = if kind == "horizontal" {
            hosts
                .iter()
                .take(self.cfg.max_evidence_uids)
                .map(|h| h.to_string())
                .collect()
        } else {
            ports
                .iter()
                .take(self.cfg.max_evidence_uids)
                .map(|p| p.to_string())
                .collect()
        };
        let first = q.iter().map(|p| p.ts).min().unwrap_or(ts);
        q.clear();
        let mut a = Alert::new(
            Kind::Scan,
            Severity::High,
            first,
            format!("scan|{src}|{kind}|{}", proto_name(c.proto)),
            format!(
                "{src} probed {what} within {} s ({kind} scan)",
                self.cfg.scan.window_secs
            ),
        )
        .with("expected", json!(format!("fewer than {threshold} probes")))
        .with("seen", json!(seen))
        .with("threshold", json!(threshold))
        .with("scan", json!(kind))
        .with("targets", json!(targets))
        .with("uids", json!(uids));
        a.last_seen = ts;
        a.src_ip = Some(src);
        a.src_mac = mac_ok(c.orig.l2);
        if kind == "vertical" {
            a.dst_ip = Some(dst);
        }
        a.protocol = Some(proto_name(c.proto));
        a.mitre_ics = Some("T0846");
        self.raise(a);
    }

    // ----- ARP -----

    fn arp(&mut self, e: &ArpEvent) {
        let p = e.arp;
        let ts = e.ts.0;
        let Some(mac) = mac_ok(Some(p.sender_mac)) else {
            return;
        };
        if p.is_probe() {
            self.device(mac, None, ts);
            return;
        }
        self.device(mac, Some(IpAddr::V4(p.sender_ip)), ts);
        if p.operation == 1 && !p.is_gratuitous() {
            self.arp_sweep(mac, p.sender_ip, p.target_ip, ts);
        }
        let ip = p.sender_ip;
        let active = i64::from(self.cfg.arp.active_secs) * NANOS_PER_SEC;
        let own_other: Option<Ipv4Addr> = self
            .mac_ips
            .get(&mac)
            .and_then(|v| v.iter().copied().find(|o| *o != ip));
        let Some(b) = self.bindings.get_mut(&ip) else {
            if self.bindings.len() >= MAX_BINDINGS {
                self.stats.state_overflow += 1;
                return;
            }
            self.bindings.insert(
                ip,
                Binding {
                    mac,
                    last: Some(ts),
                    prev: None,
                },
            );
            self.claim(mac, ip);
            return;
        };
        if b.mac == mac {
            b.last = Some(ts);
            return;
        }
        let owner = b.mac;
        let owner_active = b.last.is_some_and(|l| ts.saturating_sub(l) <= active);
        let flip = b.prev == Some(mac) && owner_active;
        let verdict = if own_other.is_some() || flip {
            Kind::ArpSpoof
        } else if owner_active {
            Kind::IpConflict
        } else {
            b.prev = Some(b.mac);
            b.mac = mac;
            b.last = Some(ts);
            self.claim(mac, ip);
            return;
        };
        let op = if p.operation == 2 {
            "reply"
        } else if p.operation == 1 {
            "request"
        } else {
            "other"
        };
        let mut a = if verdict == Kind::ArpSpoof {
            let mut a = Alert::new(
                Kind::ArpSpoof,
                Severity::High,
                ts,
                format!("arp_spoof|{mac}|{ip}"),
                format!(
                    "{mac}{} claims {ip}, which belongs to {owner} (ARP {op})",
                    own_other.map(|o| format!(" ({o})")).unwrap_or_default()
                ),
            );
            a.src_ip = own_other.map(IpAddr::V4);
            a.mitre_ics = Some("T0830");
            a
        } else {
            let mut a = Alert::new(
                Kind::IpConflict,
                Severity::Medium,
                ts,
                format!("ip_conflict|{ip}|{owner}|{mac}"),
                format!("{ip} is used by {owner} and by {mac}"),
            );
            a.src_ip = Some(IpAddr::V4(ip));
            a
        };
        a = a
            .with("expected", json!({"ip": ip.to_string(), "mac": owner.to_string()}))
            .with("seen", json!({"ip": ip.to_string(), "mac": mac.to_string(), "operation": op, "gratuitous": p.is_gratuitous()}))
            .with("threshold", json!({"owner_active_secs": self.cfg.arp.active_secs}));
        a.src_mac = Some(mac);
        a.dst_mac = Some(owner);
        a.dst_ip = Some(IpAddr::V4(ip));
        a.protocol = Some("arp".into());
        if let Some(b) = self.bindings.get_mut(&ip) {
            b.prev = Some(mac);
        }
        self.raise(a);
    }

    fn claim(&mut self, mac: MacAddr, ip: Ipv4Addr) {
        if !self.mac_ips.contains_key(&mac) && self.mac_ips.len() >= MAX_BINDINGS {
            self.stats.state_overflow += 1;
            return;
        }
        let v = self.mac_ips.entry(mac).or_default();
        if v.len() < 16 && !v.contains(&ip) {
            v.push(ip);
        }
    }

    fn arp_sweep(&mut self, mac: MacAddr, sender: Ipv4Addr, target: Ipv4Addr, ts: i64) {
        if !self.sweeps.contains_key(&mac) && self.sweeps.len() >= MAX_SCAN_SOURCES {
            self.stats.state_overflow += 1;
            return;
        }
        let window = i64::from(self.cfg.scan.window_secs) * NANOS_PER_SEC;
        let q = self.sweeps.entry(mac).or_default();
        if q.len() >= MAX_PROBES {
            q.pop_front();
        }
        q.push_back((ts, target, Some(sender)));
        while q.front().is_some_and(|f| f.0 < ts.saturating_sub(window)) {
            q.pop_front();
        }
        let mut targets: Vec<Ipv4Addr> = q.iter().map(|x| x.1).collect();
        targets.sort_unstable();
        targets.dedup();
        let threshold = self.cfg.scan.arp_sweep_targets;
        if targets.len() < threshold {
            return;
        }
        let first = q.front().map_or(ts, |f| f.0);
        q.clear();
        let sample: Vec<String> = targets
            .iter()
            .take(self.cfg.max_evidence_uids)
            .map(|t| t.to_string())
            .collect();
        let mut a = Alert::new(
            Kind::Scan,
            Severity::High,
            first,
            format!("scan|{mac}|arp_sweep"),
            format!(
                "{mac} ({sender}) asked ARP for {} addresses within {} s (ARP sweep)",
                targets.len(),
                self.cfg.scan.window_secs
            ),
        )
        .with(
            "expected",
            json!(format!("fewer than {threshold} addresses")),
        )
        .with("seen", json!(targets.len()))
        .with("threshold", json!(threshold))
        .with("scan", json!("arp_sweep"))
        .with("targets", json!(sample));
        a.last_seen = ts;
        a.src_mac = Some(mac);
        a.src_ip = (!sender.is_unspecified()).then_some(IpAddr::V4(sender));
        a.protocol = Some("arp".into());
        a.mitre_ics = Some("T0846");
        self.raise(a);
    }

    // ----- OT -----

    fn ot(&mut self, e: &OtEvent) {
        let op = &e.op;
        let ts = op.ts;
        let src = self.ot_endpoint(e.orig, e.orig_l2);
        let dst = self.ot_endpoint(e.resp, e.resp_l2);
        let uid = e.uid.to_string();
        let (from, to) = (
            Self::shown(e.orig, e.orig_l2),
            Self::shown(e.resp, e.resp_l2),
        );
        let category = op.function.category.as_str();
        let cat_key = CategoryKey {
            src: src.clone(),
            dst: dst.clone(),
            protocol: op.protocol.to_string(),
            category: category.to_string(),
        };
        let learning_now = self.is_learning_at(ts);
        let known_pair = self.baseline.knows_protocol(&src, &dst, op.protocol);
        let known_cat = self.baseline.categories.contains(&cat_key);
        let new_write_alerted = self.ot_command(e, &cat_key, known_cat, &uid);
        if learning_now {
            self.baseline.add_category(cat_key.clone());
        } else if self.comparing(Kind::NewComm) && !known_cat && !(known_pair && new_write_alerted)
        {
            let port = e.resp.map_or(0, |r| r.1);
            let (fp, summary, accept) = if known_pair {
                (
                    format!("new_comm|{src}|{dst}|{}|{category}", op.protocol),
                    format!(
                        "function category `{category}` never seen in {} from {from} to {to}",
                        op.protocol
                    ),
                    json!({"category": &cat_key}),
                )
            } else {
                let comm = CommKey {
                    src: src.clone(),
                    dst: dst.clone(),
                    app: op.protocol.to_string(),
                    port,
                };
                (
                    format!("new_comm|{src}|{dst}|{port}"),
                    format!("first {} conversation from {from} to {to}", op.protocol),
                    json!({"comm": comm, "category": &cat_key}),
                )
            };
            let mut a = Alert::new(Kind::NewComm, Severity::Medium, ts, fp, summary)
                .with("expected", json!("a communication the baseline knows"))
                .with("seen", json!({"protocol": op.protocol, "category": category, "function": op.function.name}))
                .with("uids", json!([uid]))
                .with("accept", accept);
            self.ends(&mut a, e);
            a.protocol = Some(op.protocol.to_string());
            self.raise(a);
        }
        let pair = format!("{src}>{dst}");
        self.add_volume(
            pair,
            "ops",
            ts,
            1,
            &uid,
            Some(op.protocol),
            mac_ok(e.orig_l2),
        );
    }

    /// How an OT end reads in a summary: its address, or its MAC for layer 2.
    fn shown(addr: Option<(IpAddr, u16)>, l2: Option<MacAddr>) -> String {
        match (addr, l2) {
            (Some((ip, _)), _) => ip.to_string(),
            (None, Some(m)) => m.to_string(),
            (None, None) => "unknown".into(),
        }
    }

    fn ends(&self, a: &mut Alert, e: &OtEvent) {
        a.src_ip = e.orig.map(|o| o.0);
        a.dst_ip = e.resp.map(|r| r.0);
        a.src_mac = mac_ok(e.orig_l2);
        a.dst_mac = mac_ok(e.resp_l2);
    }

    fn selector_matches(
        &self,
        sel: &[Selector],
        addr: Option<(IpAddr, u16)>,
        mac: Option<MacAddr>,
    ) -> bool {
        let ip = addr.map(|a| a.0);
        sel.is_empty()
            || sel.iter().any(|s| match s {
                Selector::Net(c) => ip.is_some_and(|ip| c.contains(ip)),
                Selector::Mac(m) => mac == Some(*m),
                Selector::Zone(z) => {
                    if z == "internet" {
                        ip.is_some_and(|ip| !self.ranges.is_internal(ip))
                    } else {
                        self.zones.zone_of(ip, mac, None) == Some(z.as_str())
                    }
                }
            })
    }

    fn watch_matches(&self, w: &WatchEntry, e: &OtEvent) -> bool {
        let op = &e.op;
        (w.protocols.is_empty() || w.protocols.iter().any(|p| p == op.protocol))
            && (w.categories.is_empty()
                || w.categories
                    .iter()
                    .any(|c| c == op.function.category.as_str()))
            && (w.codes.is_empty() || w.codes.contains(&op.function.code))
            && self.selector_matches(&w.from, e.orig, e.orig_l2)
            && self.selector_matches(&w.to, e.resp, e.resp_l2)
    }

    /// Raises the OT command alert, if any; true when the new-write rule raised it
    /// (the category-level `new_comm` would say the same).
    fn ot_command(
        &mut self,
        e: &OtEvent,
        cat_key: &CategoryKey,
        known_cat: bool,
        uid: &str,
    ) -> bool {
        let op = &e.op;
        let category = op.function.category;
        let mut hit: Option<(Severity, String)> = None;
        let mut new_write = false;
        for w in &self.cfg.ot_command.watch {
            if self.watch_matches(w, e) && !(w.unless_learned && known_cat) {
                hit = Some((
                    w.severity,
                    w.name.clone().unwrap_or_else(|| "watch list".into()),
                ));
                break;
            }
        }
        if hit.is_none()
            && self.cfg.ot_command.watch_control_and_program
            && matches!(category, Category::Control | Category::Program)
        {
            hit = Some((Severity::Critical, format!("every {category} operation")));
        }
        if hit.is_none()
            && self.cfg.ot_command.new_writes
            && category == Category::Write
            && !known_cat
            && self.comparing(Kind::OtCommand)
        {
            hit = Some((
                Severity::High,
                "a write never seen from this host to this target".into(),
            ));
            new_write = true;
        }
        let Some((severity, rule)) = hit else {
            return false;
        };
        if !self.cfg.detectors.ot_command.enabled {
            return false;
        }
        let (src, dst) = (&cat_key.src, &cat_key.dst);
        let (from, to) = (
            Self::shown(e.orig, e.orig_l2),
            Self::shown(e.resp, e.resp_l2),
        );
        let mut a = Alert::new(
            Kind::OtCommand,
            severity,
            op.ts,
            // Writes aggregate per function code; control and program operations
            // per category, so one program download is one alert.
            match category {
                Category::Control | Category::Program => {
                    format!("ot_command|{src}|{dst}|{}|{category}", op.protocol)
                }
                _ => format!(
                    "ot_command|{src}|{dst}|{}|{}",
                    op.protocol, op.function.code
                ),
            },
            format!(
                "{from} sent {} {} ({category}, code {}) to {to}{}",
                op.protocol,
                op.function.name,
                op.function.code,
                if op.target.is_empty() {
                    String::new()
                } else {
                    format!(" target {}", op.target)
                }
            ),
        )
        .with(
            "expected",
            json!(if known_cat {
                "operations of this category are in the baseline, but the watch list names them"
            } else {
                "no such operation in the baseline"
            }),
        )
        .with(
            "seen",
            json!({"protocol": op.protocol, "pdu": op.pdu, "function": op.function.code,
                   "function_name": op.function.name, "category": category.as_str(),
                   "target": op.target, "status": op.status.to_string()}),
        )
        .with("threshold", json!({"rule": rule}))
        .with("functions", json!([op.function.name]))
        .with("uids", json!([uid]))
        .with("accept", json!({"category": cat_key}));
        self.ends(&mut a, e);
        a.protocol = Some(op.protocol.to_string());
        a.mitre_ics = mitre_for(category, op.function.name);
        self.raise(a);
        new_write
    }

    // ----- volume -----

    #[allow(clippy::too_many_arguments)]
    fn add_volume(
        &mut self,
        pair: String,
        metric: &'static str,
        ts: i64,
        n: u64,
        uid: &str,
        protocol: Option<&'static str>,
        mac: Option<MacAddr>,
    ) {
        let minute = ts.div_euclid(60 * NANOS_PER_SEC);
        if minute < self.minute.saturating_sub(GRACE_MINUTES) {
            self.stats.late_volume += 1;
            return;
        }
        let key = (pair, metric, minute);
        if !self.buckets.contains_key(&key) && self.buckets.len() >= MAX_BUCKETS {
            self.stats.state_overflow += 1;
            return;
        }
        let max_uids = self.cfg.max_evidence_uids;
        let b = self.buckets.entry(key).or_default();
        b.value = b.value.saturating_add(n);
        if b.protocol.is_none() {
            b.protocol = protocol;
        }
        if b.mac.is_none() {
            b.mac = mac;
        }
        if b.uids.len() < max_uids && !b.uids.iter().any(|u| u == uid) {
            b.uids.push(uid.to_string());
        }
    }

    /// Judges and learns every bucket of a minute before `before`.
    fn close_buckets(&mut self, before: i64) {
        let mut done: Vec<((String, &'static str, i64), Bucket)> = Vec::new();
        let keys: Vec<(String, &'static str, i64)> = self
            .buckets
            .keys()
            .filter(|k| k.2 < before)
            .cloned()
            .collect();
        for k in keys {
            if let Some(b) = self.buckets.remove(&k) {
                done.push((k, b));
            }
        }
        done.sort_by(|a, b| (a.0.2, &a.0.0, a.0.1).cmp(&(b.0.2, &b.0.0, b.0.1)));
        for ((pair, metric, minute), b) in done {
            let ts = minute.saturating_mul(60 * NANOS_PER_SEC);
            let hour = hour_of(ts, self.cfg.utc_offset_minutes);
            let (src, dst) = pair.split_once('>').unwrap_or((pair.as_str(), ""));
            let key = volume_key(src, dst, metric, hour);
            if self.is_learning_at(ts) {
                self.baseline.add_volume(key, b.value);
                continue;
            }
            if !self.comparing(Kind::VolumeAnomaly) {
                continue;
            }
            let floor = if metric == "ops" {
                self.cfg.volume.floor_ops
            } else {
                self.cfg.volume.floor_bytes
            };
            let t = match self.thresholds.get(&key) {
                Some(t) => *t,
                None => {
                    let t = self
                        .baseline
                        .volume_threshold(&key, hour, &self.cfg.volume, floor);
                    if self.thresholds.len() < MAX_BUCKETS {
                        self.thresholds.insert(key.clone(), t);
                    }
                    t
                }
            };
            if (b.value as f64) <= t.limit {
                continue;
            }
            let unit = if metric == "ops" {
                "OT requests"
            } else {
                "IP bytes"
            };
            let mut a = Alert::new(
                Kind::VolumeAnomaly,
                Severity::Medium,
                ts,
                format!("volume_anomaly|{src}|{dst}|{metric}"),
                format!(
                    "{src} to {dst}: {} {unit} in one minute, threshold {:.0} for hour {hour} (median {:.0})",
                    b.value, t.limit, t.median
                ),
            )
            .with("expected", json!({"median": t.median, "mad": t.mad, "minutes_learned": t.minutes}))
            .with("seen", json!(b.value))
            .with("threshold", json!(t.limit))
            .with("metric", json!(metric))
            .with("hour", json!(hour))
            .with("uids", json!(b.uids))
            .with("accept", json!({"volume": {"key": key, "value": b.value}}));
            a.src_ip = src.parse().ok();
            a.dst_ip = dst.parse().ok();
            a.src_mac = b.mac;
            a.protocol = b.protocol.map(str::to_string);
            self.raise(a);
        }
    }

    // ----- DNS -----

    fn dns(&mut self, e: &DnsEvent, assets: &dyn AssetLookup) {
        let r = &e.record;
        let Some(name) = r.query.as_deref() else {
            return;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return;
        }
        let (asker, server) = match r.dir {
            mamori_flow::Direction::Orig => (e.ends.orig.0, e.ends.resp.0),
            mamori_flow::Direction::Resp => (e.ends.resp.0, e.ends.orig.0),
        };
        let ts = r.ts;
        let uid = e.ends.uid.to_string();
        let learning_now = self.is_learning_at(ts);
        let known = self.baseline.domains.contains(&name);
        if learning_now {
            self.baseline.add_domain(&name);
        }
        let blocked = self.cfg.dns.block_list.iter().find(|b| {
            let b = b.trim_end_matches('.').to_ascii_lowercase();
            name == b || name.ends_with(&format!(".{b}"))
        });
        let score = dga::score(
            &name,
            self.cfg.dns.entropy_threshold,
            self.cfg.dns.min_label_len,
        );
        let (reason, severity, expected) = if let Some(b) = blocked {
            (
                format!("block list ({b})"),
                Severity::High,
                json!("no block-listed domain"),
            )
        } else if score.generated {
            (
                "generated-looking name".to_string(),
                Severity::Medium,
                json!({"entropy_below": self.cfg.dns.entropy_threshold}),
            )
        } else if self.cfg.dns.new_domain_from_ot
            && !learning_now
            && !known
            && !self.learning()
            && r.protocol == "dns"
            && assets.by_ip(asker).is_some_and(|i| i.is_ot)
        {
            (
                "domain never seen before, asked by an OT asset".to_string(),
                Severity::Medium,
                json!("a domain the baseline knows"),
            )
        } else {
            return;
        };
        let kind_key = if blocked.is_some() {
            "block"
        } else if score.generated {
            "dga"
        } else {
            "new"
        };
        let mut a = Alert::new(
            Kind::DnsSuspicious,
            severity,
            ts,
            format!("dns_suspicious|{asker}|{kind_key}"),
            format!("{asker} looked up {name}: {reason}"),
        )
        .with("expected", expected)
        .with(
            "seen",
            json!({"name": name, "entropy": (score.entropy * 100.0).round() / 100.0,
                   "label": score.label, "rcode": r.rcode_name}),
        )
        .with("threshold", json!(self.cfg.dns.entropy_threshold))
        .with("names", json!([name]))
        .with("uids", json!([uid]));
        if kind_key == "new" {
            a = a.with("accept", json!({"domain": name}));
        }
        a.src_ip = Some(asker);
        a.dst_ip = Some(server);
        a.src_mac = mac_ok(match r.dir {
            mamori_flow::Direction::Orig => e.ends.orig_l2,
            mamori_flow::Direction::Resp => e.ends.resp_l2,
        });
        a.protocol = Some(r.protocol.to_string());
        a.mitre_ics = if kind_key == "dga" {
            Some("T0869")
        } else {
            None
        };
        self.raise(a);
    }

    // ----- signatures -----

    fn rule_hit(&mut self, h: &RuleHitEvent) {
        let ((sip, _), (dip, _), smac, dmac) = if h.from_orig {
            (h.ends.orig, h.ends.resp, h.ends.orig_l2, h.ends.resp_l2)
        } else {
            (h.ends.resp, h.ends.orig, h.ends.resp_l2, h.ends.orig_l2)
        };
        let severity = match h.priority {
            0 | 1 => Severity::High,
            2 => Severity::Medium,
            _ => Severity::Low,
        };
        let mut a = Alert::new(
            Kind::Signature,
            severity,
            h.ts,
            format!("signature|{}:{}|{sip}|{dip}", h.gid, h.sid),
            format!("[{}:{}:{}] {}", h.gid, h.sid, h.rev, h.msg),
        )
        .with("expected", json!("no rule matches"))
        .with(
            "seen",
            json!({"gid": h.gid, "sid": h.sid, "rev": h.rev, "msg": &*h.msg,
                   "classtype": h.classtype.as_deref(), "priority": h.priority, "app_proto": h.app_proto}),
        )
        .with("uids", json!([h.ends.uid.to_string()]));
        a.src_ip = Some(sip);
        a.dst_ip = Some(dip);
        a.src_mac = mac_ok(smac);
        a.dst_mac = mac_ok(dmac);
        a.protocol = h.app_proto.map(str::to_string);
        self.raise(a);
    }

    // ----- storms -----

    fn l2_second(&mut self, l: &L2SecondEvent) {
        match &mut self.l2 {
            Some(s) if s.second == l.second => {
                s.frames = s.frames.saturating_add(l.frames);
                s.broadcast = s.broadcast.saturating_add(l.broadcast);
                s.multicast = s.multicast.saturating_add(l.multicast);
                s.duplicates = s.duplicates.saturating_add(l.duplicates);
                if let Some((m, n)) = l.top_broadcaster
                    && s.top.is_none_or(|t| n > t.1)
                {
                    s.top = Some((m, n));
                }
            }
            _ => {
                if let Some(prev) = self.l2.take() {
                    if l.second != prev.second.saturating_add(1) {
                        self.judge_second(prev);
                        self.storm_runs = [0; 3];
                    } else {
                        self.judge_second(prev);
                    }
                }
                self.l2 = Some(L2Sum {
                    second: l.second,
                    frames: l.frames,
                    broadcast: l.broadcast,
                    multicast: l.multicast,
                    duplicates: l.duplicates,
                    top: l.top_broadcaster,
                });
            }
        }
    }

    fn judge_second(&mut self, s: L2Sum) {
        let c = &self.cfg.storm;
        let checks = [
            ("broadcast", s.broadcast, c.broadcast_per_sec),
            ("multicast", s.multicast, c.multicast_per_sec),
            ("duplicates", s.duplicates, c.duplicates_per_sec),
        ];
        let sustain = c.sustain_secs;
        for (i, (what, value, limit)) in checks.into_iter().enumerate() {
            if value <= limit {
                self.storm_runs[i] = 0;
                continue;
            }
            self.storm_runs[i] = self.storm_runs[i].saturating_add(1);
            if self.storm_runs[i] < sustain {
                continue;
            }
            let ts = s
                .second
                .saturating_sub(i64::from(sustain) - 1)
                .saturating_mul(NANOS_PER_SEC);
            let summary = if what == "duplicates" {
                format!(
                    "{value} repeated frames per second for {} s: a layer-2 loop?",
                    self.storm_runs[i]
                )
            } else {
                format!(
                    "{value} {what} frames per second for {} s ({what} storm)",
                    self.storm_runs[i]
                )
            };
            let mut a = Alert::new(
                Kind::Storm,
                Severity::High,
                ts,
                format!("storm|{what}"),
                summary,
            )
            .with("expected", json!(format!("at most {limit} per second")))
            .with("seen", json!(value))
            .with("threshold", json!(limit))
            .with("frames", json!(s.frames))
            .with("sustain_secs", json!(sustain));
            a.last_seen = s.second.saturating_mul(NANOS_PER_SEC);
            if what == "broadcast" {
                a.src_mac = s.top.map(|t| t.0);
            }
            self.storm_runs[i] = 0;
            self.raise(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_follow_the_offset() {
        // 2026-04-06 00:00 JST is 2026-04-05 15:00 UTC.
        let ts = 1_775_401_200 * NANOS_PER_SEC;
        assert_eq!(hour_of(ts, 0), 15);
        assert_eq!(hour_of(ts, 540), 0);
        assert_eq!(hour_of(-1, 0), 23);
    }

    #[test]
    fn mitre_mapping() {
        assert_eq!(mitre_for(Category::Control, "plc_stop"), Some("T0858"));
        assert_eq!(mitre_for(Category::Control, "cold_restart"), Some("T0816"));
        assert_eq!(
            mitre_for(Category::Program, "request_download"),
            Some("T0843")
        );
        assert_eq!(mitre_for(Category::Program, "start_upload"), Some("T0845"));
        assert_eq!(
            mitre_for(Category::Write, "write_single_register"),
            Some("T0836")
        );
        assert_eq!(mitre_for(Category::Read, "read"), None);
    }
}
