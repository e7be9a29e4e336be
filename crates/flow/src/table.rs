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
    /// Highest byte offset past `seq_base` seen (or acknowledged by the peer).
    seq_span: u64,
    /// A FIN was sent (it takes one sequence number after the data).
    fin: bool,
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
    /// Whether packets were seen in both directions (for TCP, at least the handshake's
    /// answer): what signature rules call an established flow.
    pub fn both_directions_seen(&self) -> bool {
        self.dirs[0].pkts > 0 && self.dirs[1].pkts > 0
    }
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
    /// The originator's and responder's link-layer addresses.
    pub fn l2_addrs(&self) -> [Option<mamori_wire::decode::MacAddr>; 2] {
        self.l2
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
                // Only data moves the span: a bare ACK after a FIN sits one past the data.
                if len > 0 {
                    stats.seq_span = stats.seq_span.max(end);
                }
            }
            stats.fin |= t.flags.fin();
            if t.flags.ack() {
                acknowledge(flow, dir, t.ack);
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

/// The largest content gap one acknowledgement may reveal (16 MiB).
const MAX_ACK_GAP: u64 = 16 << 20;

/// The peer of `dir` acknowledged up to `ack`: bytes it got that the capture never
/// showed are a content gap, counted in `missed_bytes` (and `g`/`G` in the history,
/// for the side whose data is missing), as Zeek reports packet loss.
fn acknowledge<X>(flow: &mut Flow<X>, dir: Direction, ack: u32) {
    let sender = &mut flow.dirs[dir.reverse().index()];
    let Some(base) = sender.seq_base else { return };
    let rel = ack.wrapping_sub(base);
    if rel >= 1 << 31 {
        return;
    }
    let seen = sender.seq_span + u64::from(sender.fin);
    // An acknowledgement far beyond anything seen is garbage (or a desynchronised
    // stream), not lost data: ignore jumps past what any window allows in flight.
    if u64::from(rel) > seen && u64::from(rel) - seen <= MAX_ACK_GAP {
        flow.missed_bytes += u64::from(rel) - seen;
        sender.seq_span = u64::from(rel) - u64::from(sender.fin);
        flow.history.record(Event::Gap, dir.reverse());
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

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use mamori_wire::build::{self, EthernetSpec, L4};
    use mamori_wire::decode::{self, MacAddr, Network, TcpFlags};

    use super::*;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    /// Feeds built frames through a table; returns the records of finished flows.
    struct Harness {
        table: FlowTable<()>,
        done: Vec<ConnRecord>,
    }

    impl Harness {
        fn new(max_flows: usize) -> Self {
            Harness {
                table: FlowTable::new(FlowConfig {
                    max_flows,
                    ..FlowConfig::default()
                }),
                done: Vec::new(),
            }
        }

        fn send(&mut self, secs: f64, src: IpAddr, dst: IpAddr, l4: L4<'_>) -> Direction {
            let mac = |ip: IpAddr| MacAddr([0, 0, 0, 0, 0, if ip == A { 1 } else { 2 }]);
            let eth = EthernetSpec {
                src: mac(src),
                dst: mac(dst),
                vlan: None,
            };
            let mut frame = Vec::new();
            build::ip_frame(&mut frame, &eth, src, dst, 64, 1, &l4);
            let f = decode::decode(mamori_wire::LinkType::ETHERNET, &frame).unwrap();
            let Network::Ip(ip) = f.network else {
                panic!("not IP")
            };
            let ts = Timestamp((secs * 1e9) as i64);
            self.table.process(ts, &f.l2, &ip, &mut self.done).1
        }

        fn tcp(
            &mut self,
            secs: f64,
            from_a: bool,
            seq: u32,
            ack: u32,
            flags: u8,
            payload: &[u8],
        ) -> Direction {
            let (s, d, sp, dp) = if from_a {
                (A, B, 40000, 502)
            } else {
                (B, A, 502, 40000)
            };
            self.send(
                secs,
                s,
                d,
                L4::Tcp {
                    src_port: sp,
                    dst_port: dp,
                    seq,
                    ack,
                    flags,
                    window: 1000,
                    options: &[],
                    payload,
                },
            )
        }

        fn tick(&mut self, secs: i64) {
            self.table
                .advance(Timestamp::from_secs(secs), &mut self.done);
        }

        fn flush(&mut self) -> Vec<ConnRecord> {
            self.table.flush(&mut self.done);
            std::mem::take(&mut self.done)
        }
    }

    const SYN: u8 = TcpFlags::SYN;
    const ACK: u8 = TcpFlags::ACK;
    const FIN: u8 = TcpFlags::FIN;
    const PSH: u8 = TcpFlags::PSH;

    #[test]
    fn a_whole_conversation_is_one_record_with_zeek_accounting() {
        let mut h = Harness::new(16);
        assert_eq!(h.tcp(0.0, true, 100, 0, SYN, b""), Direction::Orig);
        assert_eq!(h.tcp(0.1, false, 900, 101, SYN | ACK, b""), Direction::Resp);
        h.tcp(0.2, true, 101, 901, ACK, b"");
        h.tcp(0.3, true, 101, 901, ACK | PSH, b"12345");
        h.tcp(0.4, false, 901, 106, ACK | PSH, b"abcdefghij");
        h.tcp(0.5, true, 106, 911, FIN | ACK, b"");
        h.tcp(0.6, false, 911, 107, FIN | ACK, b"");
        h.tcp(0.7, true, 107, 912, ACK, b"");
        h.tick(3);
        assert!(h.done.is_empty(), "closed connections wait for stragglers");
        h.tick(6);
        let [c] = h.done.as_slice() else {
            panic!("{:?}", h.done)
        };
        assert_eq!(
            (c.orig.addr, c.orig.port, c.resp.addr, c.resp.port),
            (Some(A), 40000, Some(B), 502)
        );
        assert_eq!((c.orig.pkts, c.resp.pkts), (5, 3));
        assert_eq!((c.orig.bytes, c.resp.bytes), (5, 10));
        assert_eq!(c.conn_state, "SF");
        assert_eq!(c.history.as_str(), "ShADdFf");
        assert_eq!(c.missed_bytes, 0);
        assert_eq!(c.end_reason, EndReason::Closed);
        assert_eq!(c.orig.l2, Some(MacAddr([0, 0, 0, 0, 0, 1])));
    }

    #[test]
    fn a_flow_first_seen_at_its_syn_ack_is_turned_around() {
        let mut h = Harness::new(16);
        assert_eq!(h.tcp(0.0, false, 900, 101, SYN | ACK, b""), Direction::Resp);
        let [c] = h.flush().try_into().unwrap();
        assert_eq!((c.orig.addr, c.resp.port), (Some(A), 502));
        assert_eq!(c.history.as_str(), "^h");
    }

    #[test]
    fn a_mid_stream_flow_takes_the_service_port_as_responder() {
        let mut h = Harness::new(16);
        assert_eq!(
            h.tcp(0.0, false, 5000, 77, ACK | PSH, b"reply"),
            Direction::Resp
        );
        let [c] = h.flush().try_into().unwrap();
        assert_eq!(c.resp.port, 502);
        assert_eq!(c.conn_state, "OTH");
    }

    #[test]
    fn acknowledged_bytes_the_capture_never_showed_are_missed_bytes() {
        let mut h = Harness::new(16);
        h.tcp(0.0, true, 100, 0, SYN, b"");
        h.tcp(0.1, false, 900, 101, SYN | ACK, b"");
        h.tcp(0.2, true, 101, 901, ACK | PSH, b"hello");
        // The responder acknowledges 1,000 more bytes than the capture carried.
        h.tcp(0.3, false, 901, 1106, ACK, b"");
        let [c] = h.flush().try_into().unwrap();
        assert_eq!(c.missed_bytes, 1000);
        assert_eq!(
            c.orig.bytes, 1005,
            "sequence space counts the gap, as Zeek's orig_bytes does"
        );
        assert!(c.history.as_str().contains('G'), "{}", c.history.as_str());
        // The ACK of a FIN is not a gap.
        let mut h = Harness::new(16);
        h.tcp(0.0, true, 100, 0, SYN, b"");
        h.tcp(0.1, false, 900, 101, SYN | ACK, b"");
        h.tcp(0.2, true, 101, 901, FIN | ACK, b"");
        h.tcp(0.3, false, 901, 102, ACK, b"");
        assert_eq!(h.flush()[0].missed_bytes, 0);
    }

    #[test]
    fn idle_flows_time_out_and_a_later_packet_starts_a_new_flow() {
        let mut h = Harness::new(16);
        let udp = |p: &'static [u8]| L4::Udp {
            src_port: 5000,
            dst_port: 47808,
            payload: p,
        };
        h.send(0.0, A, B, udp(b"a"));
        h.tick(30);
        assert!(h.done.is_empty());
        h.tick(61);
        assert_eq!(h.done.len(), 1, "UDP times out after 60 s");
        assert_eq!(h.done[0].end_reason, EndReason::Timeout);
        h.send(70.0, A, B, udp(b"b"));
        // A packet after the timeout but before the next tick also starts over.
        h.send(200.0, B, A, udp(b"c"));
        let all = h.flush();
        assert_eq!(all.len(), 3);
        assert_ne!(all[1].uid, all[2].uid);
    }

    #[test]
    fn a_full_table_evicts_and_counts() {
        let mut h = Harness::new(2);
        for port in 0..5u16 {
            h.send(
                f64::from(port),
                A,
                B,
                L4::Udp {
                    src_port: 6000 + port,
                    dst_port: 53,
                    payload: b"q",
                },
            );
        }
        assert_eq!(h.table.len(), 2);
        assert_eq!(h.table.stats().evicted, 3);
        assert!(h.done.iter().all(|c| c.end_reason == EndReason::Evicted));
    }

    #[test]
    fn a_ping_and_its_reply_are_one_icmp_flow() {
        let mut h = Harness::new(16);
        assert_eq!(
            h.send(
                0.0,
                A,
                B,
                L4::Icmp {
                    icmp_type: 8,
                    code: 0,
                    body: b"\0\x01\0\x01"
                }
            ),
            Direction::Orig
        );
        assert_eq!(
            h.send(
                0.1,
                B,
                A,
                L4::Icmp {
                    icmp_type: 0,
                    code: 0,
                    body: b"\0\x01\0\x01"
                }
            ),
            Direction::Resp
        );
        let [c] = h.flush().try_into().unwrap();
        assert_eq!((c.orig.addr, c.orig.port, c.resp.port), (Some(A), 8, 0));
        assert_eq!((c.orig.pkts, c.resp.pkts), (1, 1));
        assert_eq!(c.conn_state, "SF");
    }

    #[test]
    fn a_new_syn_after_a_close_starts_a_new_connection() {
        let mut h = Harness::new(16);
        h.tcp(0.0, true, 100, 0, SYN, b"");
        h.tcp(0.1, false, 900, 101, SYN | ACK, b"");
        h.tcp(0.2, true, 101, 901, TcpFlags::RST, b"");
        h.tcp(1.0, true, 5000, 0, SYN, b"");
        assert_eq!(h.done.len(), 1);
        assert_eq!(h.done[0].conn_state, "RSTO");
        assert_eq!(h.done[0].end_reason, EndReason::Reused);
    }
}
