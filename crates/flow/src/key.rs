//! Canonical flow keys and the symmetric hash that shards flows over threads.

use std::net::{IpAddr, Ipv6Addr};

use mamori_wire::decode::{IpPacket, Transport};

/// Which way a packet travels within its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the originator to the responder.
    Orig,
    /// From the responder to the originator.
    Resp,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Self {
        match self {
            Direction::Orig => Direction::Resp,
            Direction::Resp => Direction::Orig,
        }
    }

    /// 0 for `Orig`, 1 for `Resp`, for indexing per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Direction::Orig => 0,
            Direction::Resp => 1,
        }
    }
}

/// One side of a flow: an address (IPv4 stored as IPv4-mapped IPv6) and a port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// The address, IPv4 mapped into IPv6.
    pub addr: [u8; 16],
    /// The port (ICMP: see [`FlowKey`]).
    pub port: u16,
}

impl Endpoint {
    /// Builds an endpoint from an address and port.
    pub fn new(addr: IpAddr, port: u16) -> Self {
        Endpoint {
            addr: mapped(addr).to_be_bytes(),
            port,
        }
    }

    /// The address as a std `IpAddr` (IPv4 when it is IPv4-mapped).
    pub fn ip(&self) -> IpAddr {
        let v6 = Ipv6Addr::from(self.addr);
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }
    }
}

/// The canonical key of a flow: protocol, the two endpoints in sorted order, and the
/// VLAN id(s). Both directions of a conversation map to the same key.
///
/// ICMP has no ports: echo-style request/reply pairs are keyed by the request type
/// (replies map back to their request), the code goes in the other "port", so a ping
/// and its answer share a flow, the way Zeek joins them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// IP protocol number.
    pub proto: u8,
    /// The lower endpoint.
    pub lo: Endpoint,
    /// The higher endpoint.
    pub hi: Endpoint,
    /// Outer VLAN id, or 0.
    pub vlan: u16,
    /// Inner (QinQ) VLAN id, or 0.
    pub inner_vlan: u16,
}

/// The flow-relevant facts of one IP packet, extracted once.
#[derive(Debug, Clone, Copy)]
pub struct PacketTuple {
    /// The key.
    pub key: FlowKey,
    /// Whether the packet travels from `key.lo` to `key.hi`.
    pub from_lo: bool,
    /// Source port as seen in the packet (for ICMP: the type).
    pub src_port: u16,
    /// Destination port as seen in the packet (for ICMP: the code).
    pub dst_port: u16,
    /// ICMP or ICMPv6: the ports are a (request type, code) pair.
    pub icmp: bool,
}

impl std::hash::Hash for FlowKey {
    /// Five words instead of a field-by-field walk: this runs once per packet.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let word = |a: &[u8; 16], i: usize| {
            u64::from_ne_bytes([
                a[i],
                a[i + 1],
                a[i + 2],
                a[i + 3],
                a[i + 4],
                a[i + 5],
                a[i + 6],
                a[i + 7],
            ])
        };
        state.write_u64(word(&self.lo.addr, 0) ^ word(&self.hi.addr, 0).rotate_left(32));
        state.write_u64(word(&self.lo.addr, 8));
        state.write_u64(word(&self.hi.addr, 8));
        state.write_u64(
            u64::from(self.lo.port)
                | u64::from(self.hi.port) << 16
                | u64::from(self.vlan) << 32
                | u64::from(self.inner_vlan) << 44
                | u64::from(self.proto) << 56,
        );
    }
}

impl FlowKey {
    /// Builds the key of an IP packet and tells which way it travels.
    #[inline]
    pub fn from_ip(ip: &IpPacket<'_>, vlans: &[u16]) -> PacketTuple {
        let (src_port, dst_port, icmp) = ports(ip);
        // As integers, addresses compare in one instruction; the integers' big-endian
        // bytes keep the same order.
        let (s, d) = (mapped(ip.src), mapped(ip.dst));
        let from_lo = if icmp {
            s <= d
        } else {
            (s, src_port) <= (d, dst_port)
        };
        let (lo, hi) = if from_lo { (s, d) } else { (d, s) };
        let (lo_addr, hi_addr) = (lo.to_be_bytes(), hi.to_be_bytes());
        // ICMP keeps (request type, code) in fixed places so a request and its reply
        // share the key; TCP and UDP ports travel with their addresses.
        let (lo_port, hi_port) = if icmp || from_lo {
            (src_port, dst_port)
        } else {
            (dst_port, src_port)
        };
        let key = FlowKey {
            proto: ip.protocol,
            lo: Endpoint {
                addr: lo_addr,
                port: lo_port,
            },
            hi: Endpoint {
                addr: hi_addr,
                port: hi_port,
            },
            vlan: vlans.first().copied().unwrap_or(0),
            inner_vlan: vlans.get(1).copied().unwrap_or(0),
        };
        PacketTuple {
            key,
            from_lo,
            src_port,
            dst_port,
            icmp,
        }
    }

    /// A hash that is the same for both directions and independent of the process, for
    /// choosing a worker thread.
    #[inline]
    pub fn symmetric_hash(&self) -> u64 {
        // The key is already canonical (sorted), so any fixed hash of it is symmetric.
        let (lo, hi) = (
            u128::from_le_bytes(self.lo.addr),
            u128::from_le_bytes(self.hi.addr),
        );
        let a = (lo as u64) ^ ((lo >> 64) as u64).rotate_left(17);
        let b = (hi as u64) ^ ((hi >> 64) as u64).rotate_left(41);
        let rest = u64::from(self.lo.port)
            | u64::from(self.hi.port) << 16
            | u64::from(self.vlan) << 32
            | u64::from(self.inner_vlan) << 44
            | u64::from(self.proto) << 56;
        mix(a.wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ b.wrapping_add(rest).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            ^ rest)
    }
}

/// An address as a 128-bit integer, IPv4 mapped into IPv6 (`::ffff:a.b.c.d`).
#[inline]
fn mapped(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => 0xffff_0000_0000 | u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// splitmix64's finaliser: a fast, well-distributed 64-bit mix.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Source port, destination port and whether they are ICMP (request type, code).
fn ports(ip: &IpPacket<'_>) -> (u16, u16, bool) {
    match &ip.transport {
        Transport::Tcp(t) => (t.src_port, t.dst_port, false),
        Transport::Udp(u) => (u.src_port, u.dst_port, false),
        Transport::Icmp(m) => (
            u16::from(icmp4_request_type(m.icmp_type)),
            u16::from(m.code),
            true,
        ),
        Transport::Icmp6(m) => (
            u16::from(icmp6_request_type(m.icmp_type)),
            u16::from(m.code),
            true,
        ),
        // A header cut short, a later fragment or another protocol: no ports.
        _ => (0, 0, false),
    }
}

/// Maps ICMPv4 reply types to the request they answer.
pub fn icmp4_request_type(t: u8) -> u8 {
    match t {
        0 => 8,   // echo reply -> echo request
        14 => 13, // timestamp reply
        16 => 15, // information reply
        18 => 17, // address mask reply
        other => other,
    }
}

/// Maps ICMPv6 reply types to the request they answer.
pub fn icmp6_request_type(t: u8) -> u8 {
    match t {
        129 => 128, // echo reply
        131 => 130, // multicast listener report -> query
        136 => 135, // neighbor advertisement -> solicitation
        134 => 133, // router advertisement -> solicitation
        other => other,
    }
}

/// Whether an ICMP(v6) type is a reply (sent by the responder of its exchange).
pub fn is_icmp_reply(v6: bool, t: u8) -> bool {
    if v6 {
        matches!(t, 129 | 131 | 134 | 136)
    } else {
        matches!(t, 0 | 14 | 16 | 18)
    }
}
