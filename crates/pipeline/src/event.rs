//! What workers tell the rest of mamori: typed events with a thread-independent order.

use std::net::IpAddr;

use mamori_dissect::record::OtOperation;
use mamori_flow::{ConnRecord, Uid};
use mamori_wire::Timestamp;
use mamori_wire::decode::{ArpPacket, MacAddr};

/// One ARP packet as `arp.jsonl` records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpEvent {
    /// When it was seen.
    pub ts: Timestamp,
    /// Position in the input, to order events of equal time.
    pub packet_no: u64,
    /// Ethernet source.
    pub src_mac: Option<MacAddr>,
    /// Ethernet destination.
    pub dst_mac: Option<MacAddr>,
    /// Outer VLAN.
    pub vlan: Option<u16>,
    /// The ARP content.
    pub arp: ArpPacket,
}

/// One OT request (its response's status merged in): a row of `ot.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtEvent {
    /// The flow's uid.
    pub uid: Uid,
    /// Position among the flow's operations (orders operations of equal time).
    pub seq: u32,
    /// The flow's originator.
    pub orig: (IpAddr, u16),
    /// The flow's responder.
    pub resp: (IpAddr, u16),
    /// Originator's link-layer address.
    pub orig_l2: Option<MacAddr>,
    /// Responder's link-layer address.
    pub resp_l2: Option<MacAddr>,
    /// The operation.
    pub op: OtOperation,
}

/// Something a worker observed.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A connection ended.
    Conn(ConnRecord),
    /// An ARP packet.
    Arp(ArpEvent),
    /// An OT request.
    Ot(Box<OtEvent>),
}

impl Event {
    /// The sort key within an epoch: by log, then time, then a stable tiebreak
    /// (uid for connections, input position for packets).
    pub fn order_key(&self) -> (u8, Timestamp, u128) {
        match self {
            Event::Conn(c) => (0, c.ts, c.uid.0),
            Event::Arp(a) => (1, a.ts, u128::from(a.packet_no)),
            Event::Ot(o) => (2, Timestamp(o.op.ts), (o.uid.0 << 32) | u128::from(o.seq)),
        }
    }
}
