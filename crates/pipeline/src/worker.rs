//! One worker: a shard of the flows and everything that happens to its packets.

use mamori_flow::table::FlowSink;
use mamori_flow::{ConnRecord, FlowConfig, FlowTable};
use mamori_wire::Timestamp;
use mamori_wire::capture::Packet;
use mamori_wire::decode::defrag::Defragmenter;
use mamori_wire::decode::{self, Frame, IpPacket, Network};

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

/// Turns finished flows into events.
struct Events<'a>(&'a mut Vec<Event>);

impl FlowSink<()> for Events<'_> {
    fn flow_ended(&mut self, record: ConnRecord, _ext: ()) {
        self.0.push(Event::Conn(record));
    }
}

/// Decodes packets and keeps the flows of one shard.
#[derive(Debug)]
pub struct Worker {
    flows: FlowTable<()>,
    defrag: Defragmenter,
    duplicates: DuplicateFilter,
    stats: PacketStats,
}

impl Worker {
    /// A worker with empty tables.
    pub fn new(config: &WorkerConfig) -> Self {
        Worker {
            flows: FlowTable::new(config.flows),
            defrag: Defragmenter::default(),
            duplicates: DuplicateFilter::new(config.duplicate_window_nanos),
            stats: PacketStats::default(),
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
    pub fn packet(&mut self, packet_no: u64, pkt: &Packet<'_>, out: &mut Vec<Event>) {
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
        if matches!(frame.network, Network::Ip(_)) && self.duplicates.is_duplicate(pkt.ts, pkt.data) {
            self.stats.duplicates += 1;
            return;
        }
        if frame.tunnel.is_some() {
            self.stats.tunnelled += 1;
        }
        match frame.network {
            Network::Ip(ip) => self.ip(pkt.ts, &frame, &ip, out),
            Network::Arp(arp) => {
                self.stats.arp_packets += 1;
                out.push(Event::Arp(ArpEvent {
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

    fn ip(&mut self, ts: Timestamp, frame: &Frame<'_>, ip: &IpPacket<'_>, out: &mut Vec<Event>) {
        self.stats.ip_packets += 1;
        if ip.fragment.is_none() {
            self.flows.process(ts, &frame.l2, ip, &mut Events(out));
            return;
        }
        let Worker {
            defrag,
            flows,
            stats,
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

    /// Moves the worker's clock to `now`: flows idle past their timeout end.
    pub fn tick(&mut self, now: Timestamp, out: &mut Vec<Event>) {
        self.flows.advance(now, &mut Events(out));
    }

    /// Ends every flow (end of input).
    pub fn finish(&mut self, out: &mut Vec<Event>) {
        self.flows.flush(&mut Events(out));
    }
}

/// Picks the worker for a packet: a hash of the address pair (sorted, so both
/// directions agree; without ports, so IP fragments follow their flow) and VLAN.
pub fn shard_of(pkt: &Packet<'_>, workers: usize) -> usize {
    if workers <= 1 {
        return 0;
    }
    let Ok(frame) = decode::decode(pkt.link, pkt.data) else {
        return 0;
    };
    let mut acc = u64::from(frame.l2.vlans.outer().unwrap_or(0));
    let (a, b): ([u8; 16], [u8; 16]) = match frame.network {
        Network::Ip(ip) => (addr16(ip.src), addr16(ip.dst)),
        Network::Arp(arp) => (addr16(arp.sender_ip.into()), addr16(arp.target_ip.into())),
        _ => {
            let mut a = [0u8; 16];
            let mut b = [0u8; 16];
            a[..6].copy_from_slice(&frame.l2.src.unwrap_or_default().0);
            b[..6].copy_from_slice(&frame.l2.dst.unwrap_or_default().0);
            (a, b)
        }
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    for chunk in lo.chunks_exact(8).chain(hi.chunks_exact(8)) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        acc = splitmix(acc ^ u64::from_le_bytes(w));
    }
    (acc % workers as u64) as usize
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
