//! The flow table: lookup, accounting, timeouts and eviction.

use mamori_wire::Timestamp;
use mamori_wire::decode::ip::protocol;
use mamori_wire::decode::{IpPacket, L2Header, Transport};

use crate::key::{Direction, FlowKey, PacketTuple, is_icmp_reply};
use crate::record::{ConnRecord, EndReason, Side, Uid};
use crate::service::ServiceSet;
use crate::tcp::{Event, History, TcpState, connectionless_state};
use crate::wheel::{Entry, Wheel};

/// Inactivity timeouts, in seconds of packet time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connections (established or not). Zeek: 5 minutes.
    pub tcp: i64,
    /// How long a closed TCP connection (FIN both ways, or RST) waits for stragglers.
    pub tcp_close: i64,
    /// UDP flows.
    pub udp: i64,
    /// ICMP and ICMPv6 flows.
    pub icmp: i64,
    /// Every other IP protocol.
    pub other: i64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: 300,
            tcp_close: 5,
            udp: 60,
            icmp: 60,
            other: 60,
        }
    }
}

/// Flow table limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowConfig {
    /// Flows held at once; past this the flow closest to expiry is evicted.
    pub max_flows: usize,
    /// Inactivity timeouts.
    pub timeouts: Timeouts,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 1 << 20,
            timeouts: Timeouts::default(),
        }
    }
}

impl FlowConfig {
    /// Bytes one flow may cost in the table at worst, for turning a memory cap into
    /// [`FlowConfig::max_flows`]: the flow itself, its index entry at the hash map's
    /// lowest load (half full, just after growing), two timer entries (one may be
    /// stale) and its slot generation.
    pub const BYTES_PER_FLOW: usize = std::mem::size_of::<Option<Flow<()>>>()
        + 2 * (std::mem::size_of::<FlowKey>() + std::mem::size_of::<u32>() + 1)
        + 2 * std::mem::size_of::<Entry>()
        + std::mem::size_of::<u32>();
}

/// Counters of the table's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowStats {
    /// Flows created.
    pub created: u64,
    /// Flows ended by inactivity.
    pub timed_out: u64,
    /// TCP flows ended by FIN/RST.
    pub closed: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// Flows ended because the input ended.
    pub flushed: u64,
    /// Most flows held at once.
    pub peak: u64,
}

impl FlowStats {
    /// Adds another table's counters (peaks add up: tables run side by side).
    pub fn merge(&mut self, other: &FlowStats) {
        self.created += other.created;
        self.timed_out += other.timed_out;
        self.closed += other.closed;
        self.evicted += other.evicted;
        self.flushed += other.flushed;
        self.peak += other.peak;
    }
}

/// A handle on a live flow. Stale after the flow ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowId {
    slot: u32,
    generation: u32,
}

/// Per-direction accounting.
#[derive(Debug, Clone, Copy, Default)]
struct DirStats {
    pkts: u64,
    ip_bytes: u64,
    /// UDP/ICMP/other payload bytes; TCP payload bytes are derived from sequence numbers.
    payload: u64,
    /// First TCP sequence number seen (after the SYN), the base for `seq_span`.
    seq_base: Option<u32>,
    /// Highest byte offset past `seq_base` seen.
    seq_span: u64,
}

/// A live flow.
#[derive(Debug)]
pub struct Flow<X> {
    key: FlowKey,
    /// Whether the originator is `key.lo`.
    orig_is_lo: bool,
    first_ts: Timestamp,
    last_ts: Timestamp,
    deadline: Timestamp,
    /// Second at which the flow's live timer entry fires.
    timer_sec: i64,
    dirs: [DirStats; 2],
    l2: [Option<mamori_wire::decode::MacAddr>; 2],
    tcp: TcpState,
    history: History,
    /// Application protocols recognised so far.
    pub services: ServiceSet,
    /// Bytes the reassembler had to skip.
    pub missed_bytes: u64,
    /// Per-flow state owned by the layer above (dissectors).
    pub ext: X,
}

impl<X> Flow<X> {
    /// The flow's key.
    pub fn key(&self) -> &FlowKey {
        &self.key
    }
    /// When the flow started.
    pub fn first_ts(&self) -> Timestamp {
        self.first_ts
    }
    /// Its uid.
    pub fn uid(&self) -> Uid {
        Uid::derive(&self.key, self.first_ts)
    }
    /// The originator's and responder's endpoints.
    pub fn endpoints(&self) -> (crate::key::Endpoint, crate::key::Endpoint) {
        if self.orig_is_lo {
            (self.key.lo, self.key.hi)
        } else {
            (self.key.hi, self.key.lo)
        }
    }
}

/// What eventually happens to a finished flow: its record and its extension state.
pub trait FlowSink<X> {
    /// Called once per finished flow.
    fn flow_ended(&mut self, record: ConnRecord, ext: X);
}

impl<X> FlowSink<X> for Vec<ConnRecord> {
    fn flow_ended(&mut self, record: ConnRecord, _ext: X) {
        self.push(record);
    }
}

type Map = hashbrown::HashMap<FlowKey, u32, foldhash::fast::RandomState>;

/// Bidirectional flows keyed by canonical 5-tuple and VLAN.
#[derive(Debug)]
pub struct FlowTable<X = ()> {
    config: FlowConfig,
    map: Map,
    slots: Vec<Option<Flow<X>>>,
    generations: Vec<u32>,
    free: Vec<u32>,
    wheel: Wheel,
    stats: FlowStats,
}

/// Ports that identify a server, for guessing who originated a flow first seen mid-way.
fn is_service_port(port: u16) -> bool {
    port < 1024
        || matches!(
            port,
            1433 | 1883
                | 2222
                | 2404
                | 3306
                | 3389
                | 4840
                | 5007
                | 5060
                | 5432
                | 5900
                | 8080
                | 8443
                | 9600
                | 20000
                | 34962..=34964 | 44818 | 47808 | 48898 | 61450 | 61451
        )
}

impl<X: Default> FlowTable<X> {
    /// An empty table.
    pub fn new(config: FlowConfig) -> Self {
        FlowTable {
            config,
            map: Map::with_capacity_and_hasher(1024, foldhash::fast::RandomState::default()),
            slots: Vec::new(),
            generations: Vec::new(),
            free: Vec::new(),
            wheel: Wheel::new(),
            stats: FlowStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> FlowStats {
        self.stats
    }

    /// Flows currently held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no flow is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The live flow behind a handle.
    pub fn flow_mut(&mut self, id: FlowId) -> Option<&mut Flow<X>> {
        if self.generations.get(id.slot as usize) != Some(&id.generation) {
            return None;
        }
        self.slots.get_mut(id.slot as usize)?.as_mut()
    }

    /// Accounts one IP packet to its flow, creating the flow if needed. Flows that end
    /// because of this packet (an idle flow whose key is reused, an evicted flow) go
    /// to `sink`. Returns the flow and the packet's direction in it.
    pub fn process(
        &mut self,
        ts: Timestamp,
        l2: &L2Header,
        ip: &IpPacket<'_>,
        sink: &mut impl FlowSink<X>,
    ) -> (FlowId, Direction) {
        let tuple = FlowKey::from_ip(ip, l2.vlans.ids());
        let slot = match self.map.get(&tuple.key).copied() {
            Some(slot) if self.must_restart(slot, ts, ip) => {
                let reason = if self.slot(slot).deadline < ts {
                    EndReason::Timeout
                } else {
                    EndReason::Reused
                };
                self.finish(slot, reason, sink);
                self.create(ts, &tuple, l2, ip, sink)
            }
            Some(slot) => slot,
            None => self.create(ts, &tuple, l2, ip, sink),
        };
        let timeouts = self.config.timeouts;
        let flow = self.slots[slot as usize]
            .as_mut()
            .expect("mapped slot holds a flow");
        let from_lo = tuple.from_lo;
        let dir = if from_lo == flow.orig_is_lo {
            Direction::Orig
        } else {
            Direction::Resp
        };
        update(flow, dir, ts, l2, ip);
        let timeout = match ip.protocol {
            protocol::TCP if flow.tcp.is_finished() => timeouts.tcp_close,
            protocol::TCP => timeouts.tcp,
            protocol::UDP => timeouts.udp,
            protocol::ICMP | protocol::ICMPV6 => timeouts.icmp,
            _ => timeouts.other,
        };
        flow.deadline = ts.plus_secs(timeout);
        let deadline_sec = flow.deadline.secs();
        if deadline_sec < flow.timer_sec {
            // The deadline moved earlier than the live timer: file a new one.
            flow.timer_sec = deadline_sec;
            let generation = self.generations[slot as usize].wrapping_add(1);
            self.generations[slot as usize] = generation;
            self.wheel
                .schedule(deadline_sec, Entry { slot, generation });
        }
        (
            FlowId {
                slot,
                generation: self.generations[slot as usize],
            },
            dir,
        )
    }

    /// Moves the table's clock to `now`, ending every flow whose deadline has passed.
    pub fn advance(&mut self, now: Timestamp, sink: &mut impl FlowSink<X>) {
        let mut expired: Vec<u32> = Vec::new();
        let FlowTable {
            wheel,
            slots,
            generations,
            ..
        } = self;
        wheel.advance(now.secs(), |wheel, entry| {
            if generations[entry.slot as usize] != entry.generation {
                return;
            }
            let Some(flow) = slots[entry.slot as usize].as_mut() else {
                return;
            };
            if flow.deadline <= now {
                expired.push(entry.slot);
            } else {
                flow.timer_sec = flow.deadline.secs();
                wheel.schedule(flow.timer_sec, entry);
            }
        });
        for slot in expired {
            let closed = self.slot(slot).tcp.is_finished();
            self.finish(
                slot,
                if closed {
                    EndReason::Closed
                } else {
                    EndReason::Timeout
                },
                sink,
            );
        }
    }

    /// Ends every flow (end of input), in the order of their records: first packet time,
    /// then uid. Sorted here, where the flows already are, so that whoever merges
    /// several tables' records can stream them instead of holding them all.
    pub fn flush(&mut self, sink: &mut impl FlowSink<X>) {
        let mut order: Vec<(Timestamp, Uid, u32)> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (f.first_ts, f.uid(), i as u32)))
            .collect();
        order.sort_unstable();
        for (_, _, slot) in order {
            self.finish(slot, EndReason::EndOfInput, sink);
        }
        self.wheel.clear();
    }

    fn slot(&self, slot: u32) -> &Flow<X> {
        self.slots[slot as usize]
            .as_ref()
            .expect("mapped slot holds a flow")
    }

    /// Whether a packet for an existing flow must start a new one instead: the old one
    /// went idle past its deadline, or a closed TCP connection sees a fresh SYN.
    fn must_restart(&self, slot: u32, ts: Timestamp, ip: &IpPacket<'_>) -> bool {
        let flow = self.slot(slot);
        if flow.deadline < ts {
            return true;
        }
        matches!(&ip.transport, Transport::Tcp(t) if t.flags.syn() && !t.flags.ack() && flow.tcp.is_finished())
    }

    fn create(
        &mut self,
        ts: Timestamp,
        tuple: &PacketTuple,
        l2: &L2Header,
        ip: &IpPacket<'_>,
        sink: &mut impl FlowSink<X>,
    ) -> u32 {
        while self.map.len() >= self.config.max_flows.max(1) {
            if !self.evict_one(sink) {
                break;
            }
        }
        let flipped = sender_is_responder(ip, tuple);
        let orig_is_lo = tuple.from_lo != flipped;
        let mut history = History::default();
        if flipped {
            history.record_flip();
        }
        let (orig_l2, resp_l2) = if flipped {
            (l2.dst, l2.src)
        } else {
            (l2.src, l2.dst)
        };
        let flow = Flow {
            key: tuple.key,
            orig_is_lo,
            first_ts: ts,
            last_ts: ts,
            deadline: ts,
            timer_sec: i64::MAX,
            dirs: [DirStats::default(); 2],
            l2: [orig_l2, resp_l2],
            tcp: TcpState::default(),
            history,
            services: ServiceSet::default(),
            missed_bytes: 0,
            ext: X::default(),
        };
        let slot = match self.free.pop() {
            Some(s) => {
                self.slots[s as usize] = Some(flow);
                s
            }
            None => {
                self.slots.push(Some(flow));
                self.generations.push(0);
                (self.slots.len() - 1) as u32
            }
        };
        self.map.insert(tuple.key, slot);
        self.stats.created += 1;
        self.stats.peak = self.stats.peak.max(self.map.len() as u64);
        slot
    }

    /// Evicts the flow whose timer is due soonest; false when there is none.
    fn evict_one(&mut self, sink: &mut impl FlowSink<X>) -> bool {
        while let Some(entry) = self.wheel.pop_soonest() {
            if self.generations[entry.slot as usize] == entry.generation
                && self.slots[entry.slot as usize].is_some()
            {
                self.finish(entry.slot, EndReason::Evicted, sink);
                return true;
            }
        }
        false
    }

    fn finish(&mut self, slot: u32, reason: EndReason, sink: &mut impl FlowSink<X>) {
        let Some(flow) = self.slots[slot as usize].take() else {
            return;
        };
        self.map.remove(&flow.key);
        // Invalidate handles and timer entries of this slot.
        self.generations[slot as usize] = self.generations[slot as usize].wrapping_add(1);
        self.free.push(slot);
        match reason {
            EndReason::Timeout => self.stats.timed_out += 1,
            EndReason::Closed | EndReason::Reused => self.stats.closed += 1,
            EndReason::Evicted => self.stats.evicted += 1,
            EndReason::EndOfInput => self.stats.flushed += 1,
        }
        let (record, ext) = into_record(flow, reason);
        sink.flow_ended(record, ext);
    }
}

/// Whether the first packet of a flow was sent by the responder, so the roles flip.
fn sender_is_responder(ip: &IpPacket<'_>, tuple: &PacketTuple) -> bool {
    match &ip.transport {
        Transport::Tcp(t) if t.flags.syn() => t.flags.ack(),
        Transport::Icmp(m) => is_icmp_reply(false, m.icmp_type),
        Transport::Icmp6(m) => is_icmp_reply(true, m.icmp_type),
        _ if tuple.icmp => false,
        _ => is_service_port(tuple.src_port) && !is_service_port(tuple.dst_port),
    }
}

/// Accounts a packet travelling in `dir`.
fn update<X>(flow: &mut Flow<X>, dir: Direction, ts: Timestamp, l2: &L2Header, ip: &IpPacket<'_>) {
    flow.last_ts = flow.last_ts.max(ts);
    let d = dir.index();
    let stats = &mut flow.dirs[d];
    stats.pkts += 1;
    stats.ip_bytes += u64::from(ip.total_len);
    if flow.l2[d].is_none() {
        flow.l2[d] = l2.src;
    }
    if flow.l2[1 - d].is_none() {
        flow.l2[1 - d] = l2.dst;
    }
    match &ip.transport {
        Transport::Tcp(t) => {
            let len = t.payload_len;
            // The SYN and FIN each take one sequence number but carry no data.
            let data_seq = if t.flags.syn() {
                t.seq.wrapping_add(1)
            } else {
                t.seq
            };
            let base = *stats.seq_base.get_or_insert(data_seq);
            let rel = data_seq.wrapping_sub(base);
            // Offsets "before" the base (rel >= 2^31) are old retransmissions.
            if rel < 1 << 31 {
                let end = u64::from(rel) + u64::from(len);
                if len > 0 && end <= stats.seq_span && !t.flags.syn() {
                    flow.history.record(Event::Retransmit, dir);
                }
                stats.seq_span = stats.seq_span.max(end);
            }
            flow.tcp
                .on_segment(dir, t.flags, len, t.window, &mut flow.history);
        }
        Transport::Udp(u) => {
            stats.payload += u64::from(u.length.saturating_sub(8));
            flow.history.record(Event::Data, dir);
        }
        Transport::Icmp(_) | Transport::Icmp6(_) => {
            stats.payload += u64::from(ip.total_len).saturating_sub(ip.header.len() as u64 + 8);
        }
        _ => {
            stats.payload += ip.payload.len() as u64;
        }
    }
}

fn into_record<X>(flow: Flow<X>, reason: EndReason) -> (ConnRecord, X) {
    let uid = flow.uid();
    let (orig_ep, resp_ep) = flow.endpoints();
    let is_tcp = flow.key.proto == protocol::TCP;
    let side = |d: usize, ep: crate::key::Endpoint| {
        let s = &flow.dirs[d];
        Side {
            addr: Some(ep.ip()),
            port: ep.port,
            pkts: s.pkts,
            ip_bytes: s.ip_bytes,
            bytes: if is_tcp { s.seq_span } else { s.payload },
            l2: flow.l2[d],
        }
    };
    let mut orig = side(0, orig_ep);
    let mut resp = side(1, resp_ep);
    if matches!(flow.key.proto, protocol::ICMP | protocol::ICMPV6) {
        // ICMP "ports" are the request type (originator) and the code (responder).
        orig.port = flow.key.lo.port;
        resp.port = flow.key.hi.port;
    }
    let conn_state = if is_tcp {
        flow.tcp.conn_state(&flow.history, orig.bytes, resp.bytes)
    } else {
        connectionless_state(orig.pkts, resp.pkts)
    };
    let record = ConnRecord {
        ts: flow.first_ts,
        last_ts: flow.last_ts,
        uid,
        proto: flow.key.proto,
        ipv6: orig.addr.is_some_and(|a| a.is_ipv6()),
        orig,
        resp,
        services: flow.services,
        conn_state,
        history: flow.history,
        missed_bytes: flow.missed_bytes,
        vlan: (flow.key.vlan != 0).then_some(flow.key.vlan),
        inner_vlan: (flow.key.inner_vlan != 0).then_some(flow.key.inner_vlan),
        end_reason: reason,
    };
    (record, flow.ext)
}
