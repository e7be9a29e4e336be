//! One worker: a shard of the flows and everything that happens to its packets.

use mamori_flow::FlowKey;
use mamori_flow::table::FlowSink;
use mamori_flow::{ConnRecord, FlowConfig, FlowTable};
use mamori_wire::Timestamp;
use mamori_wire::capture::Packet;
use mamori_wire::decode::defrag::Defragmenter;
use mamori_wire::decode::{self, Frame, IpPacket, L2Header, Network};

use crate::collector::Chunk;
use crate::dedup::DuplicateFilter;
use crate::event::{ArpEvent, Event};
use crate::stats::PacketStats;

/// Settings shared by every worker.
#[derive(Debug, Clone, Copy)]
pub struct WorkerConfig {
    /// Flow table limits for this worker.
    pub flows: FlowConfig,
    /// Mirror-duplicate window in nanoseconds (0 disables the filter).
    pub duplicate_window_nanos: i64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            flows: FlowConfig::default(),
            duplicate_window_nanos: 3_000_000,
        }
    }
}

/// Events in the last epoch are passed on in chunks of this many.
const FLUSH_CHUNK: usize = 4096;

/// Turns finished flows into events.
struct Events<'a>(&'a mut Vec<Event>);

impl FlowSink<()> for Events<'_> {
    fn flow_ended(&mut self, record: ConnRecord, _ext: ()) {
        self.0.push(Event::Conn(record));
    }
}

/// Turns the flows flushed at the end (already in order) into chunks as they come.
struct Streamed<'a, F: FnMut(Chunk)> {
    events: Vec<Event>,
    emit: &'a mut F,
}

impl<F: FnMut(Chunk)> FlowSink<()> for Streamed<'_, F> {
    fn flow_ended(&mut self, record: ConnRecord, _ext: ()) {
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
    flows: FlowTable<()>,
    defrag: Defragmenter,
    duplicates: DuplicateFilter,
    stats: PacketStats,
    pending: Vec<Event>,
}

impl Worker {
    /// A worker with empty tables.
    pub fn new(config: &WorkerConfig) -> Self {
        Worker {
            flows: FlowTable::new(config.flows),
            defrag: Defragmenter::default(),
            duplicates: DuplicateFilter::new(config.duplicate_window_nanos),
            stats: PacketStats::default(),
            pending: Vec::new(),
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
        let frame = match decode::decode(pkt.link, pkt.data) {
            Ok(frame) => frame,
            Err(_) => {
                self.stats.decode_errors += 1;
                return;
            }
        };
        // Only IP packets are checked: cyclic layer-2 protocols (CC-Link IE, PROFINET RT)
        // legitimately repeat identical frames every few hundred microseconds.
        if matches!(frame.network, Network::Ip(_)) && self.duplicates.is_duplicate(pkt.ts, pkt.data)
        {
            self.stats.duplicates += 1;
            return;
        }
        if frame.tunnel.is_some() {
            self.stats.tunnelled += 1;
        }
        match &frame.network {
            Network::Ip(ip) => self.ip(pkt.ts, &frame, ip),
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
            Network::EtherType { .. } | Network::Llc { .. } => self.stats.l2_frames += 1,
        }
    }

    #[inline]
    fn ip(&mut self, ts: Timestamp, frame: &Frame<'_>, ip: &IpPacket<'_>) {
        self.stats.ip_packets += 1;
        if ip.fragment.is_none() {
            self.flows
                .process(ts, &frame.l2, ip, &mut Events(&mut self.pending));
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
        emit(self.take_pending());
        let mut sink = Streamed {
            events: Vec::with_capacity(FLUSH_CHUNK),
            emit: &mut emit,
        };
        self.flows.flush(&mut sink);
        let events = sink.events;
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
pub fn route(pkt: &Packet<'_>, workers: usize) -> Route {
    let Ok(frame) = decode::decode(pkt.link, pkt.data) else {
        return Route::Worker(0);
    };
    let hash = match frame.network {
        Network::Ip(ip) if ip.fragment.is_some() => return Route::Fragment,
        Network::Ip(ip) => FlowKey::from_ip(&ip, frame.l2.vlans.ids())
            .key
            .symmetric_hash(),
        Network::Arp(arp) => {
            pair_hash(&addr16(arp.sender_ip.into()), &addr16(arp.target_ip.into()))
        }
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

/// The worker for a whole (reassembled) IP datagram.
pub fn datagram_worker(l2: &L2Header, ip: &IpPacket<'_>, workers: usize) -> usize {
    (FlowKey::from_ip(ip, l2.vlans.ids()).key.symmetric_hash() % workers.max(1) as u64) as usize
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
