//! Counters of the packet path, summed over workers for the run summary.

use mamori_flow::FlowStats;
use mamori_wire::decode::defrag::DefragStats;

/// What the workers saw and did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketStats {
    /// Packets read (including duplicates and undecodable ones).
    pub packets: u64,
    /// Their length on the wire, summed.
    pub wire_bytes: u64,
    /// Packets dropped as mirror duplicates.
    pub duplicates: u64,
    /// Packets that could not be decoded.
    pub decode_errors: u64,
    /// IP packets (fragments counted once per fragment).
    pub ip_packets: u64,
    /// ARP packets.
    pub arp_packets: u64,
    /// Other layer-2 frames (PROFINET, LLDP, STP, ...).
    pub l2_frames: u64,
    /// Frames that came out of a tunnel (GRE, ERSPAN, VXLAN).
    pub tunnelled: u64,
    /// IP fragment reassembly.
    pub defrag: DefragStats,
    /// Flow table.
    pub flows: FlowStats,
}

impl PacketStats {
    /// Adds another worker's counters.
    pub fn merge(&mut self, o: &PacketStats) {
        self.packets += o.packets;
        self.wire_bytes += o.wire_bytes;
        self.duplicates += o.duplicates;
        self.decode_errors += o.decode_errors;
        self.ip_packets += o.ip_packets;
        self.arp_packets += o.arp_packets;
        self.l2_frames += o.l2_frames;
        self.tunnelled += o.tunnelled;
        let (d, od) = (&mut self.defrag, &o.defrag);
        d.fragments += od.fragments;
        d.reassembled += od.reassembled;
        d.timed_out += od.timed_out;
        d.evicted += od.evicted;
        d.oversized += od.oversized;
        d.overlaps += od.overlaps;
        self.flows.merge(&o.flows);
    }
}
