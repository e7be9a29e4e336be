//! IPv4 and IPv6 (with extension headers).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::DecodeError;
use super::transport::{self, Transport};

/// IP protocol numbers used across mamori.
pub mod protocol {
    /// IPv6 hop-by-hop options.
    pub const HOPOPT: u8 = 0;
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 routing header.
    pub const IPV6_ROUTE: u8 = 43;
    /// IPv6 fragment header.
    pub const IPV6_FRAG: u8 = 44;
    /// GRE.
    pub const GRE: u8 = 47;
    /// ESP (IPsec), opaque.
    pub const ESP: u8 = 50;
    /// Authentication header.
    pub const AH: u8 = 51;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// No next header.
    pub const NONE: u8 = 59;
    /// IPv6 destination options.
    pub const IPV6_OPTS: u8 = 60;
    /// Mobility header.
    pub const MOBILITY: u8 = 135;
    /// Host identity protocol.
    pub const HIP: u8 = 139;
    /// Shim6.
    pub const SHIM6: u8 = 140;
}

/// The most IPv6 extension headers walked before giving up.
const MAX_EXTENSION_HEADERS: usize = 8;

/// Where a fragment belongs in its datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentInfo {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// An IPv4 or IPv6 packet.
#[derive(Debug, Clone, Copy)]
pub struct IpPacket<'a> {
    /// 4 or 6.
    pub version: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (after any IPv6 extension headers).
    pub protocol: u8,
    /// Length of the whole packet as its header states it (IPv4 total length;
    /// IPv6 40 + payload length). This is what `*_ip_bytes` count.
    pub total_len: u32,
    /// TTL or hop limit.
    pub ttl: u8,
    /// IPv4 "don't fragment" flag.
    pub dont_fragment: bool,
    /// IPv4 identification (0 for IPv6).
    pub ident: u16,
    /// Set when this packet is a fragment of a larger datagram.
    pub fragment: Option<FragmentInfo>,
    /// The bytes from the start of the IP header up to the upper-layer payload.
    pub header: &'a [u8],
    /// The upper-layer bytes that were captured (may be shorter than stated).
    pub payload: &'a [u8],
    /// The layer-4 content.
    pub transport: Transport<'a>,
    /// The capture holds fewer bytes than the header states (snapshot length).
    pub truncated: bool,
}

/// Decodes an IPv4 or IPv6 packet, by its version nibble.
#[inline]
pub fn decode_ip(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    match data.first().map(|b| b >> 4) {
        Some(4) => decode_ipv4(data),
        Some(6) => decode_ipv6(data),
        Some(_) => Err(DecodeError::Malformed("ip version")),
        None => Err(DecodeError::Truncated("ip")),
    }
}

#[inline]
fn decode_ipv4(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    if data.len() < 20 {
        return Err(DecodeError::Truncated("ipv4"));
    }
    let ihl = usize::from(data[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(DecodeError::Malformed("ipv4 header length"));
    }
    if data.len() < ihl {
        return Err(DecodeError::Truncated("ipv4 options"));
    }
    let total_len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    // Some stacks (TSO on the capturing host) write 0; trust the captured length then.
    let stated = if total_len == 0 {
        data.len()
    } else {
        total_len
    };
    if stated < ihl {
        return Err(DecodeError::Malformed("ipv4 total length"));
    }
    let ident = u16::from_be_bytes([data[4], data[5]]);
    let flags_frag = u16::from_be_bytes([data[6], data[7]]);
    let more = flags_frag & 0x2000 != 0;
    let offset = u32::from(flags_frag & 0x1fff) * 8;
    let protocol = data[9];
    let src = IpAddr::V4(Ipv4Addr::new(data[12], data[13], data[14], data[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(data[16], data[17], data[18], data[19]));
    // Ethernet padding follows short packets: cut at the stated length.
    let end = stated.min(data.len());
    let payload = &data[ihl..end];
    let fragment = (more || offset > 0).then_some(FragmentInfo {
        id: u32::from(ident),
        offset,
        more,
    });
    let truncated = data.len() < stated;
    let transport = if offset > 0 {
        Transport::Fragment
    } else {
        transport::decode_transport(protocol, payload, stated - ihl, more || truncated)
    };
    Ok(IpPacket {
        version: 4,
        src,
        dst,
        protocol,
        total_len: stated as u32,
        ttl: data[8],
        dont_fragment: flags_frag & 0x4000 != 0,
        ident,
        fragment,
        header: &data[..ihl],
        payload,
        transport,
        truncated,
    })
}

#[inline]
fn decode_ipv6(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    if data.len() < 40 {
        return Err(DecodeError::Truncated("ipv6"));
    }
    let payload_len = usize::from(u16::from_be_bytes([data[4], data[5]]));
    // A zero payload length means a jumbogram (or TSO); trust the captured length then.
    let stated = if payload_len == 0 {
        data.len()
    } else {
        40 + payload_len
    };
    let end = stated.min(data.len());
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&data[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    let (src, dst) = (addr(8), addr(24));
    let mut next = data[6];
    let mut at = 40;
    let mut fragment = None;
    for _ in 0..MAX_EXTENSION_HEADERS {
        match next {
            protocol::HOPOPT
            | protocol::IPV6_ROUTE
            | protocol::IPV6_OPTS
            | protocol::MOBILITY
            | protocol::HIP
            | protocol::SHIM6 => {
                if end < at + 8 {
                    return Err(DecodeError::Truncated("ipv6 extension header"));
                }
                next = data[at];
                at += (usize::from(data[at + 1]) + 1) * 8;
            }
            protocol::AH => {
                if end < at + 8 {
                    return Err(DecodeError::Truncated("ipv6 authentication header"));
                }
                next = data[at];
                at += (usize::from(data[at + 1]) + 2) * 4;
            }
            protocol::IPV6_FRAG => {
                if end < at + 8 {
                    return Err(DecodeError::Truncated("ipv6 fragment header"));
                }
                let off_flags = u16::from_be_bytes([data[at + 2], data[at + 3]]);
                let id =
                    u32::from_be_bytes([data[at + 4], data[at + 5], data[at + 6], data[at + 7]]);
                fragment = Some(FragmentInfo {
                    id,
                    offset: u32::from(off_flags & 0xfff8),
                    more: off_flags & 1 != 0,
                });
                next = data[at];
                at += 8;
                // What follows is the fragmentable part: in later fragments it is data,
                // not headers, and reassembly needs every fragment cut at this point.
                break;
            }
            _ => break,
        }
    }
    if at > end {
        return Err(DecodeError::Malformed("ipv6 extension header length"));
    }
    let payload = &data[at..end];
    let truncated = data.len() < stated;
    let transport = match fragment {
        Some(f) if f.offset > 0 => Transport::Fragment,
        Some(f) => transport::decode_transport(next, payload, stated - at, f.more || truncated),
        None => transport::decode_transport(next, payload, stated - at, truncated),
    };
    Ok(IpPacket {
        version: 6,
        src,
        dst,
        protocol: next,
        total_len: stated as u32,
        ttl: data[7],
        dont_fragment: false,
        ident: 0,
        fragment,
        header: &data[..at],
        payload,
        transport,
        truncated,
    })
}
