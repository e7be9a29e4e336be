//! The finished-connection record: one row of `conn.jsonl`.

use std::fmt;
use std::net::IpAddr;

use mamori_wire::Timestamp;
use mamori_wire::decode::MacAddr;

use crate::ServiceSet;
use crate::key::{FlowKey, mix};
use crate::tcp::History;

/// A connection's unique id, stable for the same capture: it is derived from the flow
/// key and the first packet's time, not drawn at random, so logs replay identically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uid(pub u128);

impl Uid {
    /// Derives the uid of a flow from its key and start time.
    pub fn derive(key: &FlowKey, first_ts: Timestamp) -> Self {
        let h1 = key.symmetric_hash();
        let h2 = mix(h1 ^ (first_ts.0 as u64).rotate_left(17) ^ 0x6d61_6d6f_7269);
        let h3 = mix(h2 ^ first_ts.0 as u64);
        Uid((u128::from(h2) << 64 | u128::from(h3)) & ((1u128 << 96) - 1))
    }
}

impl fmt::Display for Uid {
    /// `C` followed by 17 base-62 digits, like Zeek's connection uids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut buf = [b'0'; 18];
        buf[0] = b'C';
        let mut v = self.0;
        for slot in buf[1..].iter_mut().rev() {
            *slot = DIGITS[(v % 62) as usize];
            v /= 62;
        }
        // Only ASCII digits are written.
        f.write_str(std::str::from_utf8(&buf).unwrap_or("C"))
    }
}

/// Why a flow's record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndReason {
    /// No packet within the protocol's inactivity timeout.
    Timeout,
    /// TCP closed (FIN both ways or RST) and the close delay passed.
    Closed,
    /// A new connection reused the same ports after this one closed.
    Reused,
    /// The table was full and this flow was the closest to expiry.
    Evicted,
    /// The input ended.
    EndOfInput,
}

/// Per-direction totals of a finished flow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Side {
    /// Address.
    pub addr: Option<IpAddr>,
    /// Port (ICMP: type for the originator, code for the responder).
    pub port: u16,
    /// Packets sent.
    pub pkts: u64,
    /// IP bytes sent (sum of the IP headers' total lengths).
    pub ip_bytes: u64,
    /// Payload bytes sent (TCP: from sequence numbers, like Zeek).
    pub bytes: u64,
    /// Link-layer address.
    pub l2: Option<MacAddr>,
}

/// A finished connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnRecord {
    /// First packet.
    pub ts: Timestamp,
    /// Last packet.
    pub last_ts: Timestamp,
    /// Unique id.
    pub uid: Uid,
    /// IP protocol number.
    pub proto: u8,
    /// IP version of the addresses.
    pub ipv6: bool,
    /// The originator.
    pub orig: Side,
    /// The responder.
    pub resp: Side,
    /// Application protocols recognised.
    pub services: ServiceSet,
    /// Zeek's connection state.
    pub conn_state: &'static str,
    /// Zeek's history letters.
    pub history: History,
    /// Bytes missing from reassembled TCP streams.
    pub missed_bytes: u64,
    /// Outer VLAN.
    pub vlan: Option<u16>,
    /// Inner (QinQ) VLAN.
    pub inner_vlan: Option<u16>,
    /// Why the record was written.
    pub end_reason: EndReason,
}

impl ConnRecord {
    /// Seconds between the first and last packet.
    pub fn duration_secs(&self) -> f64 {
        self.last_ts.nanos_since(self.ts) as f64 / 1e9
    }

    /// The protocol as `conn.jsonl` writes it: `tcp`, `udp`, `icmp`, or the number.
    pub fn proto_name(&self) -> ProtoName {
        ProtoName(self.proto)
    }
}

/// Display form of an IP protocol number.
#[derive(Debug, Clone, Copy)]
pub struct ProtoName(u8);

impl fmt::Display for ProtoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            6 => f.write_str("tcp"),
            17 => f.write_str("udp"),
            1 => f.write_str("icmp"),
            58 => f.write_str("icmp6"),
            n => write!(f, "{n}"),
        }
    }
}
