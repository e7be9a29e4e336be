//! What workers tell the rest of mamori: typed events with a thread-independent order.

use std::net::IpAddr;

use mamori_dissect::it::dhcp::DhcpRecord;
use mamori_dissect::it::dhcpv6::Dhcpv6Record;
use mamori_dissect::it::dns::DnsRecord;
use mamori_dissect::it::http::HttpRecord;
use mamori_dissect::it::tls::TlsRecord;
use mamori_dissect::record::{IdentityKind, OtOperation};
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
    /// The flow's originator (`None` for layer-2 protocols such as PROFINET DCP).
    pub orig: Option<(IpAddr, u16)>,
    /// The flow's responder (`None` for layer-2 protocols).
    pub resp: Option<(IpAddr, u16)>,
    /// Originator's link-layer address.
    pub orig_l2: Option<MacAddr>,
    /// Responder's link-layer address.
    pub resp_l2: Option<MacAddr>,
    /// The operation.
    pub op: OtOperation,
    /// For cyclic traffic: the minute's aggregate this record stands for.
    pub aggregate: Option<Aggregate>,
}

/// Cyclic exchanges of one flow and minute, logged as one `ot.jsonl` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aggregate {
    /// Exchanges (datagrams or frames) in the minute.
    pub count: u64,
    /// The last one's time (nanoseconds since the epoch); the record's `ts` is the first's.
    pub ts_end: i64,
}

/// Who a flow is between, for application-layer events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowEnds {
    /// The flow's uid.
    pub uid: Uid,
    /// Originator address and port.
    pub orig: (IpAddr, u16),
    /// Responder address and port.
    pub resp: (IpAddr, u16),
    /// Originator's link-layer address.
    pub orig_l2: Option<MacAddr>,
    /// Responder's link-layer address.
    pub resp_l2: Option<MacAddr>,
}

/// An identity fact resolved to the device it is about: a hostname, vendor, model,
/// OS hint, ... that a protocol told, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityEvent {
    /// When it was seen (nanoseconds since the epoch).
    pub ts: i64,
    /// The flow that carried it (`None` for layer-2 frames).
    pub uid: Option<Uid>,
    /// Position among the flow's (or input's) identity events, to order equal times.
    pub seq: u64,
    /// The device's IP address, when known.
    pub ip: Option<IpAddr>,
    /// The device's link-layer address, when known (for an IP subject behind a
    /// router this is the router's MAC and the ledger must not take it as the host's).
    pub mac: Option<MacAddr>,
    /// What kind of fact.
    pub kind: IdentityKind,
    /// Its value.
    pub value: String,
    /// The protocol that told it (`dhcp`, `nbns`, `lldp`, `enip`, ...).
    pub protocol: &'static str,
}

/// A DNS, mDNS or LLMNR transaction: a row of `dns.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsEvent {
    /// Who asked whom.
    pub ends: FlowEnds,
    /// `udp` or `tcp`.
    pub proto: &'static str,
    /// The transaction.
    pub record: DnsRecord,
}

/// An HTTP transaction: a row of `http.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpEvent {
    /// The connection.
    pub ends: FlowEnds,
    /// The transaction (`dir` is the request's, in the flow's terms).
    pub record: HttpRecord,
}

/// A TLS connection's handshake: a row of `tls.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsEvent {
    /// The connection.
    pub ends: FlowEnds,
    /// What the handshake told (`client_dir` in the flow's terms).
    pub record: TlsRecord,
}

/// A DHCP exchange: a row of `dhcp.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct DhcpEvent {
    /// The flow of the exchange's first message.
    pub ends: FlowEnds,
    /// The exchange.
    pub record: DhcpRecord,
}

/// A DHCPv6 transaction: a row of `dhcpv6.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dhcpv6Event {
    /// The flow of the transaction's first message.
    pub ends: FlowEnds,
    /// The transaction.
    pub record: Dhcpv6Record,
}

/// The fields of a TCP SYN or SYN+ACK that a p0f-style OS fingerprint needs, copied
/// from the first SYN (and SYN+ACK) of each flow. The ledger derives p0f's
/// `ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass` from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSynEvent {
    /// When it was seen (nanoseconds since the epoch).
    pub ts: i64,
    /// The flow's uid.
    pub uid: Uid,
    /// The sender's address.
    pub ip: IpAddr,
    /// The sender's link-layer address.
    pub mac: Option<MacAddr>,
    /// SYN+ACK (a server's answer) rather than SYN.
    pub syn_ack: bool,
    /// IPv4 TTL or IPv6 hop limit, as seen.
    pub ttl: u8,
    /// IPv4 Don't Fragment (always false for IPv6).
    pub df: bool,
    /// IPv4 identification (0 for IPv6).
    pub ip_id: u16,
    /// IPv4 options length in bytes (0 for IPv6).
    pub ip_opt_len: u8,
    /// ECN bits of the IP header.
    pub ecn: u8,
    /// IPv6 flow label (0 for IPv4).
    pub flow_label: u32,
    /// TCP window.
    pub window: u16,
    /// TCP flags byte.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Urgent pointer.
    pub urgent: u16,
    /// TCP options, raw (at most 40 bytes; `options_len` of them are valid).
    pub options: [u8; 40],
    /// Valid bytes in `options`.
    pub options_len: u8,
    /// Payload bytes carried by the SYN.
    pub payload_len: u16,
}

impl TcpSynEvent {
    /// The raw TCP options.
    pub fn options(&self) -> &[u8] {
        &self.options[..usize::from(self.options_len).min(40)]
    }
}

/// A signature rule matched a packet's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleHitEvent {
    /// When (nanoseconds since the epoch).
    pub ts: i64,
    /// The flow.
    pub ends: FlowEnds,
    /// Whether the matching payload travelled from originator to responder.
    pub from_orig: bool,
    /// Position among the flow's hits (orders hits of equal time).
    pub seq: u32,
    /// Generator id (1 for ordinary rules).
    pub gid: u32,
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// The rule's `msg`.
    pub msg: std::sync::Arc<str>,
    /// The rule's `classtype`, if any.
    pub classtype: Option<std::sync::Arc<str>>,
    /// Priority (1 highest), from the rule or its classtype.
    pub priority: u8,
    /// The application protocol the flow was identified as, if any.
    pub app_proto: Option<&'static str>,
}

/// Layer-2 traffic of one second as one worker saw it: what storm and loop
/// detection need. Workers emit one per second that had traffic; a consumer sums
/// the records of the same second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct L2SecondEvent {
    /// The second (epoch seconds).
    pub second: i64,
    /// Which worker counted it (orders records of the same second).
    pub worker: u16,
    /// Frames.
    pub frames: u64,
    /// Frames to the broadcast address.
    pub broadcast: u64,
    /// Frames to a multicast address.
    pub multicast: u64,
    /// Mirror duplicates removed.
    pub duplicates: u64,
    /// The source that sent the most broadcast frames this second, with its count.
    pub top_broadcaster: Option<(MacAddr, u64)>,
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
    /// An identity fact about a device.
    Identity(Box<IdentityEvent>),
    /// A DNS transaction.
    Dns(Box<DnsEvent>),
    /// A DHCP exchange.
    Dhcp(Box<DhcpEvent>),
    /// A DHCPv6 transaction.
    Dhcpv6(Box<Dhcpv6Event>),
    /// An HTTP transaction.
    Http(Box<HttpEvent>),
    /// A TLS connection.
    Tls(Box<TlsEvent>),
    /// A TCP SYN or SYN+ACK's fingerprint fields.
    TcpSyn(Box<TcpSynEvent>),
    /// One second of layer-2 counts from one worker.
    L2Second(L2SecondEvent),
    /// A signature rule matched.
    RuleHit(Box<RuleHitEvent>),
}

impl Event {
    /// The sort key within an epoch: by log, then time, then a stable tiebreak
    /// (uid for connections, input position for packets).
    pub fn order_key(&self) -> (u8, Timestamp, u128) {
        match self {
            Event::Conn(c) => (0, c.ts, c.uid.0),
            Event::Arp(a) => (1, a.ts, u128::from(a.packet_no)),
            Event::Ot(o) => (2, Timestamp(o.op.ts), (o.uid.0 << 32) | u128::from(o.seq)),
            Event::Identity(i) => (
                3,
                Timestamp(i.ts),
                (i.uid.map_or(0, |u| u.0) << 32) ^ u128::from(i.seq),
            ),
            Event::Dns(d) => (
                4,
                Timestamp(d.record.ts),
                (d.ends.uid.0 << 16) ^ u128::from(d.record.trans_id),
            ),
            Event::Dhcp(d) => (
                5,
                Timestamp(d.record.ts),
                (d.ends.uid.0 << 32) ^ u128::from(d.record.xid),
            ),
            Event::Dhcpv6(d) => (
                11,
                Timestamp(d.record.ts),
                (d.ends.uid.0 << 32) ^ u128::from(d.record.transaction_id),
            ),
            Event::TcpSyn(t) => (6, Timestamp(t.ts), (t.uid.0 << 1) | u128::from(t.syn_ack)),
            Event::L2Second(l) => (
                7,
                Timestamp(l.second.saturating_mul(1_000_000_000)),
                u128::from(l.worker),
            ),
            Event::Http(h) => (
                9,
                Timestamp(h.record.ts),
                (h.ends.uid.0 << 32) | u128::from(h.record.trans_depth),
            ),
            Event::Tls(t) => (10, Timestamp(t.record.ts), t.ends.uid.0),
            Event::RuleHit(h) => (8, Timestamp(h.ts), (h.ends.uid.0 << 32) | u128::from(h.seq)),
        }
    }
}
