//! One worker: a shard of the flows and everything that happens to its packets.

use mamori_flow::FlowKey;
use mamori_flow::table::FlowSink;
use mamori_flow::{ConnRecord, FlowConfig, FlowTable};
use mamori_wire::Timestamp;
use mamori_wire::capture::Packet;
use mamori_wire::decode::defrag::Defragmenter;
use mamori_wire::decode::{self, Frame, IpPacket, L2Header, Network, Transport};

use crate::app::{FlowApp, FlowRef};
use crate::collector::Chunk;
use crate::dedup::DuplicateFilter;
use crate::dhcp_stage::{DhcpStage, is_dhcp_port};
use crate::event::{ArpEvent, Event};
use crate::l2_counter::L2Counter;
use crate::l2_stage::L2Stage;
use crate::stats::PacketStats;

/// Settings shared by every worker.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Flow table limits for this worker.
    pub flows: FlowConfig,
    /// Mirror-duplicate window in nanoseconds (0 disables the filter).
    pub duplicate_window_nanos: i64,
    /// Run the application dissectors (off: flows only).
    pub dissect: bool,
    /// Signature rules to match payloads against (with the dissectors only).
    pub rules: Rules,
}

/// Signature rules shared by every worker.
pub type Rules = Option<std::sync::Arc<mamori_rules::RuleSet>>;

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            flows: FlowConfig::default(),
            duplicate_window_nanos: 3_000_000,
            dissect: true,
            rules: None,
        }
    }
}

/// Events in the last epoch are passed on in chunks of this many.
const FLUSH_CHUNK: usize = 4096;

/// Turns finished flows into events.
struct Events<'a>(&'a mut Vec<Event>);

impl FlowSink<FlowApp> for Events<'_> {
    fn flow_ended(&mut self, record: ConnRecord, app: FlowApp) {
        app.finish(&record, self.0);
        self.0.push(Event::Conn(record));
    }
}

/// Turns the flows flushed at the end (already in order) into chunks as they come.
/// Their last OT operations are kept aside and passed on after every connection,
/// sorted: they sort after connections, so the stream stays in order.
struct Streamed<'a, F: FnMut(Chunk)> {
    events: Vec<Event>,
    later: Vec<Event>,
    emit: &'a mut F,
}

impl<F: FnMut(Chunk)> FlowSink<FlowApp> for Streamed<'_, F> {
    fn flow_ended(&mut self, record: ConnRecord, app: FlowApp) {
        app.finish(&record, &mut self.later);
        self.events.push(Event::Conn(record));
        if self.events.len() >= FLUSH_CHUNK {
            let events = std::mem::replace(&mut self.events, Vec::with_capacity(FLUSH_CHUNK));
            (self.emit)(Chunk { events, end: false });
        }
    }
}

/// Decodes packets and keeps the flows of one shard.
///
/// Events accumulate inside the worker and leave it at each tick as one sorted
/// [`Chunk`] (an epoch), and at the end as a stream of sorted chunks.
#[derive(Debug)]
pub struct Worker {
    flows: FlowTable<FlowApp>,
    defrag: Defragmenter,
    duplicates: DuplicateFilter,
    stats: PacketStats,
    pending: Vec<Event>,
    dissect: bool,
    dhcp: DhcpStage,
    l2: L2Counter,
    l2_app: L2Stage,
    /// The latest packet time seen (for the layer-2 stage's last reports).
    last_ts: i64,
    signatures: Option<Signatures>,
}

/// A worker's signature matching: the shared rules and its own scratch space.
#[derive(Debug)]
struct Signatures {
    rules: std::sync::Arc<mamori_rules::RuleSet>,
    scratch: mamori_rules::Scratch,
    hits: Vec<mamori_rules::Hit>,
}

impl Worker {
    /// A worker with empty tables; `worker_index` tells its layer-2 counts apart
    /// from the other workers'.
    pub fn new(config: &WorkerConfig, worker_index: u16) -> Self {
        Worker {
            flows: FlowTable::new(config.flows),
            defrag: Defragmenter::default(),
            duplicates: DuplicateFilter::new(config.duplicate_window_nanos),
            stats: PacketStats::default(),
            pending: Vec::new(),
            dissect: config.dissect,
            dhcp: DhcpStage::default(),
            l2: L2Counter::new(worker_index),
            l2_app: L2Stage::default(),
            last_ts: 0,
            signatures: config.rules.as_ref().map(|rules| Signatures {
                rules: std::sync::Arc::clone(rules),
                scratch: mamori_rules::Scratch::default(),
                hits: Vec::new(),
            }),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> PacketStats {
        let mut s = self.stats;
        s.flows = self.flows.stats();
        s.defrag = self.defrag.stats();
        s
    }

    /// Handles one packet; `packet_no` is its position in the whole input.
    pub fn packet(&mut self, packet_no: u64, pkt: &Packet<'_>) {
        self.stats.packets += 1;
        self.stats.wire_bytes += u64::from(pkt.orig_len);
        // Borrowed, not moved out of the `Result`: a frame is a few hundred bytes.
        let decoded = decode::decode(pkt.link, pkt.data);
        let Ok(frame) = &decoded else {
            self.stats.decode_errors += 1;
            return;
        };
        self.last_ts = pkt.ts.0;
        if let Some(second) = self.l2.count(pkt.ts, frame.l2.src, frame.l2.dst) {
            self.pending.push(Event::L2Second(second));
        }
        // Only IP packets are checked: cyclic layer-2 protocols (CC-Link IE, PROFINET RT)
        // legitimately repeat identical frames every few hundred microseconds.
        if matches!(frame.network, Network::Ip(_)) && self.duplicates.is_duplicate(pkt.ts, pkt.data)
        {
            self.stats.duplicates += 1;
            self.l2.duplicate();
            return;
        }
        if frame.tunnel.is_some() {
            self.stats.tunnelled += 1;
        }
        match &frame.network {
            Network::Ip(ip) => self.ip(pkt.ts, frame, ip),
            &Network::Arp(arp) => {
                self.stats.arp_packets += 1;
                self.pending.push(Event::Arp(ArpEvent {
                    ts: pkt.ts,
                    packet_no,
                    src_mac: frame.l2.src,
                    dst_mac: frame.l2.dst,
                    vlan: frame.l2.vlans.outer(),
                    arp,
                }));
            }
            &Network::EtherType { ethertype, payload } => {
                self.stats.l2_frames += 1;
                if self.dissect {
                    let (src, dst) = (frame.l2.src, frame.l2.dst);
                    self.l2_app.ethertype(
                        pkt.ts.0,
                        src,
                        dst,
                        ethertype,
                        payload,
                        &mut self.pending,
                    );
                }
            }
            &Network::Llc { snap, payload, .. } => {
                self.stats.l2_frames += 1;
                if let (true, Some(snap)) = (self.dissect, snap) {
                    self.l2_app
                        .snap(pkt.ts.0, frame.l2.src, snap, payload, &mut self.pending);
                }
            }
        }
    }

    #[inline]
    fn ip(&mut self, ts: Timestamp, frame: &Frame<'_>, ip: &IpPacket<'_>) {
        self.stats.ip_packets += 1;
        if ip.fragment.is_none() {
            let (id, dir) = self
                .flows
                .process(ts, &frame.l2, ip, &mut Events(&mut self.pending));
            self.application(id, dir, ts, ip);
            return;
        }
        let Worker {
            defrag,
            flows,
            stats,
            pending: out,
            ..
        } = self;
        if let Some(datagram) = defrag.push(ts, ip) {
            match decode::ip::decode_ip(datagram) {
                Ok(whole) => {
                    flows.process(ts, &frame.l2, &whole, &mut Events(out));
                }
                Err(_) => stats.decode_errors += 1,
            }
        }
    }

    /// Hands a TCP segment or UDP datagram to its flow's application layer
    /// (reassembly and dissectors; DHCP to the worker's own session).
    #[inline]
    fn application(
        &mut self,
        id: mamori_flow::FlowId,
        dir: mamori_flow::Direction,
        ts: Timestamp,
        ip: &IpPacket<'_>,
    ) {
        if !self.dissect {
            return;
        }
        let Some(flow) = self.flows.flow_mut(id) else {
            return;
        };
        let (orig, resp) = flow.endpoints();
        if let Some(sig) = self.signatures.as_mut() {
            let payload = match &ip.transport {
                Transport::Tcp(seg) => Some((mamori_rules::Transport::Tcp, seg.payload)),
                Transport::Udp(udp) => Some((mamori_rules::Transport::Udp, udp.payload)),
                _ => None,
            };
            if let Some((proto, payload)) = payload.filter(|(_, p)| !p.is_empty()) {
                let (src, dst) = match dir {
                    mamori_flow::Direction::Orig => (orig, resp),
                    mamori_flow::Direction::Resp => (resp, orig),
                };
                let ctx = mamori_rules::PacketContext {
                    proto,
                    src: (src.ip(), src.port),
                    dst: (dst.ip(), dst.port),
                    to_server: dir == mamori_flow::Direction::Orig,
                    established: flow.both_directions_seen(),
                    stream: false,
                    payload,
                };
                sig.hits.clear();
                let Signatures {
                    rules,
                    scratch,
                    hits,
                } = sig;
                flow.ext
                    .with_rule_state(|state| rules.scan(&ctx, state, scratch, hits));
                if !sig.hits.is_empty() {
                    let lazy = FlowRef {
                        key: *flow.key(),
                        first_ts: flow.first_ts(),
                        orig,
                        resp,
                        l2: flow.l2_addrs(),
                    };
                    flow.ext
                        .on_rule_hits(&lazy, dir, ts.0, &sig.hits, &mut self.pending);
                }
            }
        }
        let (tcp_syn, dhcp) = match &ip.transport {
            Transport::Tcp(seg) => (seg.flags.syn(), false),
            Transport::Udp(udp) => (
                false,
                is_dhcp_port(udp.src_port) || is_dhcp_port(udp.dst_port),
            ),
            _ => return,
        };
        let (is_tcp, payload) = match &ip.transport {
            Transport::Tcp(seg) => (true, seg.payload),
            Transport::Udp(udp) => (false, udp.payload),
            _ => (false, &[][..]),
        };
        flow.ext
            .decide((orig.port, resp.port), is_tcp, dir, payload);
        if !flow.ext.dissects() && !tcp_syn && !dhcp {
            return;
        }
        let lazy = FlowRef {
            key: *flow.key(),
            first_ts: flow.first_ts(),
            orig,
            resp,
            l2: flow.l2_addrs(),
        };
        match &ip.transport {
            Transport::Tcp(seg) => {
                if seg.flags.syn() {
                    flow.ext
                        .on_syn(&lazy, dir, ts.0, ip, seg, &mut self.pending);
                }
                flow.ext
                    .on_tcp(&lazy, dir, ts.0, seg, &mut flow.services, &mut self.pending);
            }
            Transport::Udp(udp) if dhcp => {
                self.dhcp.datagram(
                    &lazy.resolve(),
                    dir,
                    ts.0,
                    ip,
                    udp,
                    &mut flow.services,
                    &mut self.pending,
                );
            }
            Transport::Udp(udp) => {
                flow.ext.on_udp(
                    &lazy,
                    dir,
                    ts.0,
                    udp.payload,
                    &mut flow.services,
                    &mut self.pending,
                );
            }
            _ => {}
        }
    }

    /// Handles an IP datagram the reader reassembled from fragments (already counted
    /// there as packets); `l2` is the link layer of its last fragment.
    pub fn datagram(&mut self, ts: Timestamp, l2: &L2Header, datagram: &[u8]) {
        match decode::ip::decode_ip(datagram) {
            Ok(ip) => {
                self.flows
                    .process(ts, l2, &ip, &mut Events(&mut self.pending));
            }
            Err(_) => self.stats.decode_errors += 1,
        }
    }

    /// Moves the worker's clock to `now`: flows idle past their timeout end. Returns the
    /// epoch that the tick closes, sorted.
    pub fn tick(&mut self, now: Timestamp) -> Chunk {
        self.flows.advance(now, &mut Events(&mut self.pending));
        if self.dissect {
            self.dhcp.expire(now.0, &mut self.pending);
            self.l2_app.tick(now.0, &mut self.pending);
        }
        self.take_pending()
    }

    /// The events gathered so far, sorted, as a chunk that closes an epoch.
    pub fn take_pending(&mut self) -> Chunk {
        let mut events = std::mem::take(&mut self.pending);
        events.sort_by_key(Event::order_key);
        Chunk { events, end: true }
    }

    /// End of input: closes the current epoch, then ends every flow in a last epoch
    /// streamed to `emit` in sorted chunks.
    pub fn finish(&mut self, mut emit: impl FnMut(Chunk)) {
        self.dhcp.finish(&mut self.pending);
        self.l2_app.finish(self.last_ts, &mut self.pending);
        if let Some(second) = self.l2.flush() {
            self.pending.push(Event::L2Second(second));
        }
        emit(self.take_pending());
        let mut sink = Streamed {
            events: Vec::with_capacity(FLUSH_CHUNK),
            later: Vec::new(),
            emit: &mut emit,
        };
        self.flows.flush(&mut sink);
        let Streamed {
            mut events,
            mut later,
            ..
        } = sink;
        later.sort_by_key(Event::order_key);
        events.append(&mut later);
        emit(Chunk { events, end: true });
    }
}

/// Where the reader sends a packet.
#[derive(Debug)]
pub enum Route {
    /// To this worker, as captured.
    Worker(usize),
    /// An IP fragment: the reader reassembles it first (see [`FragmentStage`]).
    Fragment,
}

/// Picks the worker for a packet: the flow key's symmetric hash (5-tuple and VLAN) for
/// IP, the address pair for ARP, the MAC pair for other layer-2 frames. IP fragments
/// carry no ports, so they are routed to reassembly in the reader instead.
#[inline]
pub fn route(pkt: &Packet<'_>, workers: usize) -> Route {
    match plain_ipv4_key(pkt) {
        Some(key) => Route::Worker(flow_worker(&key, workers)),
        None => route_decoded(pkt, workers),
    }
}

/// The worker for an IP flow: by the key's symmetric hash, except DHCP, whose
/// exchanges span flows and all go to worker 0 (see [`crate::dhcp_stage`]).
#[inline]
fn flow_worker(key: &FlowKey, workers: usize) -> usize {
    if key.proto == 17 && (is_dhcp_port(key.lo.port) || is_dhcp_port(key.hi.port)) {
        return 0;
    }
    (key.symmetric_hash() % workers.max(1) as u64) as usize
}

/// [`route`] for the frames [`plain_ipv4_key`] leaves: a full decode, kept out of
/// line so that the common path stays small.
#[inline(never)]
fn route_decoded(pkt: &Packet<'_>, workers: usize) -> Route {
    let Ok(frame) = decode::decode(pkt.link, pkt.data) else {
        return Route::Worker(0);
    };
    let hash = match frame.network {
        Network::Ip(ip) if ip.fragment.is_some() => return Route::Fragment,
        Network::Ip(ip) => {
            let key = FlowKey::from_ip(&ip, frame.l2.vlans.ids()).key;
            return Route::Worker(flow_worker(&key, workers));
        }
        Network::Arp(arp) => {
            pair_hash(&addr16(arp.sender_ip.into()), &addr16(arp.target_ip.into()))
        }
        // PROFINET DCP identify requests go to a multicast group and each device
        // answers from its own MAC pair: one worker must see them all to pair them.
        Network::EtherType {
            ethertype: mamori_wire::decode::ethertype::PROFINET,
            payload: [0xfe, 0xfc..=0xff, ..],
        } => return Route::Worker(0),
        _ => {
            let (a, b) = (
                frame.l2.src.unwrap_or_default().0,
                frame.l2.dst.unwrap_or_default().0,
            );
            pair_hash(&a, &b)
        }
    };
    Route::Worker((hash % workers.max(1) as u64) as usize)
}

/// The flow key of the most common frame, read straight off the bytes: Ethernet with
/// at most one VLAN tag, an unfragmented IPv4 packet, a whole TCP or UDP header (not
/// VXLAN). Anything else returns `None` and goes the general way. For the frames it
/// accepts, the key equals what [`decode::decode`] and [`FlowKey::from_ip`] give, so
/// both ways route a flow to the same worker (a test checks this).
#[inline]
fn plain_ipv4_key(pkt: &Packet<'_>) -> Option<FlowKey> {
    use mamori_wire::LinkType;
    use mamori_wire::decode::tunnel::VXLAN_PORT;
    if pkt.link != LinkType::ETHERNET {
        return None;
    }
    let d = pkt.data;
    let be16 = |at: usize| d.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let (vlan, ip_at) = match be16(12)? {
        0x0800 => (0, 14),
        0x8100 if be16(16)? == 0x0800 => (be16(14)? & 0x0fff, 18),
        _ => return None,
    };
    let ip = d.get(ip_at..)?;
    if ip.len() < 20 || ip[0] >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let flags_frag = u16::from_be_bytes([ip[6], ip[7]]);
    let proto = ip[9];
    if ihl < 20 || total < ihl || flags_frag & 0x3fff != 0 || (proto != 6 && proto != 17) {
        return None;
    }
    let l4 = ip.get(ihl..total.min(ip.len()))?;
    // A TCP header's own length must be sane and captured, as the decoder demands.
    let needed = if proto == 6 {
        usize::from(*l4.get(12)? >> 4) * 4
    } else {
        8
    };
    if (proto == 6 && needed < 20) || l4.len() < needed {
        return None;
    }
    let (sp, dp) = (
        u16::from_be_bytes([l4[0], l4[1]]),
        u16::from_be_bytes([l4[2], l4[3]]),
    );
    if proto == 17 && dp == VXLAN_PORT {
        return None;
    }
    let addr = |at: usize| {
        0xffff_0000_0000u128
            | u128::from(u32::from_be_bytes([
                ip[at],
                ip[at + 1],
                ip[at + 2],
                ip[at + 3],
            ]))
    };
    let (s, t) = (addr(12), addr(16));
    let (lo, hi) = if (s, sp) <= (t, dp) {
        ((s, sp), (t, dp))
    } else {
        ((t, dp), (s, sp))
    };
    use mamori_flow::key::Endpoint;
    Some(FlowKey {
        proto,
        lo: Endpoint {
            addr: lo.0.to_be_bytes(),
            port: lo.1,
        },
        hi: Endpoint {
            addr: hi.0.to_be_bytes(),
            port: hi.1,
        },
        vlan,
        inner_vlan: 0,
    })
}

/// The worker for a whole (reassembled) IP datagram.
pub fn datagram_worker(l2: &L2Header, ip: &IpPacket<'_>, workers: usize) -> usize {
    flow_worker(&FlowKey::from_ip(ip, l2.vlans.ids()).key, workers)
}

/// IP fragments met by the reader of a threaded run: mirror duplicates dropped, pieces
/// reassembled, so that whole datagrams can be routed by their 5-tuple like any packet.
#[derive(Debug)]
pub struct FragmentStage {
    defrag: Defragmenter,
    duplicates: DuplicateFilter,
    stats: PacketStats,
}

impl FragmentStage {
    /// A stage with the workers' duplicate window.
    pub fn new(config: &WorkerConfig) -> Self {
        FragmentStage {
            defrag: Defragmenter::default(),
            duplicates: DuplicateFilter::new(config.duplicate_window_nanos),
            stats: PacketStats::default(),
        }
    }

    /// Takes one fragment (a packet [`route`] sent here); returns the link layer of the
    /// piece and the whole datagram when this piece completes it.
    pub fn push(&mut self, pkt: &Packet<'_>) -> Option<(L2Header, &[u8])> {
        self.stats.packets += 1;
        self.stats.wire_bytes += u64::from(pkt.orig_len);
        let Ok(frame) = decode::decode(pkt.link, pkt.data) else {
            self.stats.decode_errors += 1;
            return None;
        };
        let Network::Ip(ip) = frame.network else {
            self.stats.decode_errors += 1;
            return None;
        };
        if self.duplicates.is_duplicate(pkt.ts, pkt.data) {
            self.stats.duplicates += 1;
            return None;
        }
        self.stats.ip_packets += 1;
        if frame.tunnel.is_some() {
            self.stats.tunnelled += 1;
        }
        let l2 = frame.l2;
        self.defrag.push(pkt.ts, &ip).map(|datagram| (l2, datagram))
    }

    /// Counters of the fragments handled here.
    pub fn stats(&self) -> PacketStats {
        let mut s = self.stats;
        s.defrag = self.defrag.stats();
        s
    }
}

fn pair_hash(a: &[u8], b: &[u8]) -> u64 {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut acc = 0u64;
    for chunk in lo.chunks(8).chain(hi.chunks(8)) {
        let mut w = [0u8; 8];
        w[..chunk.len()].copy_from_slice(chunk);
        acc = splitmix(acc ^ u64::from_le_bytes(w));
    }
    acc
}

fn addr16(a: std::net::IpAddr) -> [u8; 16] {
    match a {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        std::net::IpAddr::V6(v6) => v6.octets(),
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_wire::build::{self, EthernetSpec, L4};
    use mamori_wire::decode::MacAddr;
    use mamori_wire::{LinkType, Timestamp};
    use proptest::prelude::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn general_key(pkt: &Packet<'_>) -> Option<FlowKey> {
        let frame = decode::decode(pkt.link, pkt.data).ok()?;
        match frame.network {
            Network::Ip(ip) if ip.fragment.is_none() => {
                Some(FlowKey::from_ip(&ip, frame.l2.vlans.ids()).key)
            }
            _ => None,
        }
    }

    #[test]
    fn fast_path_takes_plain_tcp_and_udp_and_leaves_the_rest() {
        let eth = EthernetSpec {
            src: MacAddr([0, 1, 2, 3, 4, 5]),
            dst: MacAddr([0, 1, 2, 3, 4, 6]),
            vlan: Some(5),
        };
        let (a, b) = (
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
        );
        let cases: [(L4<'_>, bool); 4] = [
            (
                L4::Tcp {
                    src_port: 1,
                    dst_port: 502,
                    seq: 1,
                    ack: 0,
                    flags: 2,
                    window: 1,
                    options: &[2, 4, 5, 180],
                    payload: &[],
                },
                true,
            ),
            (
                L4::Udp {
                    src_port: 1,
                    dst_port: 47808,
                    payload: b"x",
                },
                true,
            ),
            (
                L4::Udp {
                    src_port: 1,
                    dst_port: 4789,
                    payload: &[0x08; 30],
                },
                false,
            ),
            (
                L4::Icmp {
                    icmp_type: 8,
                    code: 0,
                    body: b"ping",
                },
                false,
            ),
        ];
        for (l4, fast) in cases {
            let mut frame = Vec::new();
            build::ip_frame(&mut frame, &eth, a, b, 64, 1, &l4);
            let pkt = Packet {
                ts: Timestamp(0),
                link: LinkType::ETHERNET,
                data: &frame,
                orig_len: frame.len() as u32,
            };
            assert_eq!(plain_ipv4_key(&pkt).is_some(), fast, "{l4:?}");
            if fast {
                assert_eq!(plain_ipv4_key(&pkt), general_key(&pkt));
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whenever the fast path reads a key, it is the key the general path builds.
        #[test]
        fn fast_key_equals_general_key(
            a in any::<u32>(), b in any::<u32>(), sp in any::<u16>(), dp in any::<u16>(),
            tcp in any::<bool>(), vlan in proptest::option::of(0u16..4096), cut in 0usize..80,
            flip in any::<usize>(), byte in any::<u8>(),
        ) {
            let eth = EthernetSpec { src: MacAddr([0, 1, 2, 3, 4, 5]), dst: MacAddr([0, 1, 2, 3, 4, 6]), vlan };
            let (src, dst) = (IpAddr::V4(Ipv4Addr::from(a)), IpAddr::V4(Ipv4Addr::from(b)));
            let l4 = if tcp {
                L4::Tcp { src_port: sp, dst_port: dp, seq: 1, ack: 2, flags: 0x18, window: 9, options: &[], payload: b"xyz" }
            } else {
                L4::Udp { src_port: sp, dst_port: dp, payload: b"xyz" }
            };
            let mut frame = Vec::new();
            build::ip_frame(&mut frame, &eth, src, dst, 64, 7, &l4);
            // Damage: cut the frame short and flip one byte.
            frame.truncate(frame.len().saturating_sub(cut));
            if !frame.is_empty() {
                let i = flip % frame.len();
                frame[i] = byte;
            }
            let pkt = Packet { ts: Timestamp(0), link: LinkType::ETHERNET, data: &frame, orig_len: frame.len() as u32 };
            if let Some(fast) = plain_ipv4_key(&pkt) {
                prop_assert_eq!(Some(fast), general_key(&pkt));
            }
        }
    }
}
