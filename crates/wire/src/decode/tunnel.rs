//! Tunnels that deliver mirrored traffic: GRE (with ERSPAN I/II/III or transparent
//! Ethernet bridging) and VXLAN.
//!
//! A remote mirror session (RSPAN over GRE, ERSPAN) wraps every copied frame in an
//! outer IP packet from the switch to the sensor. The outer flow says nothing about the
//! plant, so [`open`] hands back the inner frame and a [`Tunnel`] describing the wrapper.

use super::ip::protocol;
use super::transport::Transport;
use super::{DecodeError, IpPacket, ethertype};
use crate::LinkType;

/// UDP port of VXLAN (RFC 7348).
pub const VXLAN_PORT: u16 = 4789;

/// The kind of encapsulation that was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TunnelKind {
    /// Plain GRE carrying Ethernet or IP.
    Gre,
    /// ERSPAN type I (GRE 0x88BE without sequence number: no ERSPAN header).
    ErspanI,
    /// ERSPAN type II.
    ErspanII,
    /// ERSPAN type III.
    ErspanIII,
    /// VXLAN.
    Vxlan,
}

/// What a removed tunnel said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tunnel {
    /// Encapsulation kind.
    pub kind: TunnelKind,
    /// ERSPAN session id or VXLAN network identifier.
    pub session: u32,
    /// The original VLAN an ERSPAN header reports, when the inner frame lost its tag.
    pub vlan: Option<u16>,
}

/// An opened tunnel: what it said, the inner frame's link type, and the inner frame.
pub(crate) type Opened<'a> = (Tunnel, LinkType, &'a [u8]);

/// Opens a tunnel carried by `ip`, returning the tunnel, the inner link type and the
/// inner frame. `Ok(None)` means `ip` is not a tunnel mamori opens.
#[inline]
pub(crate) fn open<'a>(ip: &IpPacket<'a>) -> Result<Option<Opened<'a>>, DecodeError> {
    if ip.fragment.is_some() {
        return Ok(None);
    }
    match (ip.protocol, &ip.transport) {
        (protocol::GRE, _) => open_gre(ip.payload),
        (_, Transport::Udp(udp)) if udp.dst_port == VXLAN_PORT => Ok(open_vxlan(udp.payload)),
        _ => Ok(None),
    }
}

fn open_gre(p: &[u8]) -> Result<Option<Opened<'_>>, DecodeError> {
    if p.len() < 4 {
        return Err(DecodeError::Truncated("gre"));
    }
    let flags = u16::from_be_bytes([p[0], p[1]]);
    if flags & 0x0007 != 0 {
        // GRE version 1 is PPTP; not a mirror session.
        return Ok(None);
    }
    let proto = u16::from_be_bytes([p[2], p[3]]);
    let has_checksum = flags & 0x8000 != 0;
    let has_key = flags & 0x2000 != 0;
    let has_seq = flags & 0x1000 != 0;
    let header = 4 + 4 * (usize::from(has_checksum) + usize::from(has_key) + usize::from(has_seq));
    if p.len() < header {
        return Err(DecodeError::Truncated("gre"));
    }
    let body = &p[header..];
    let gre = Tunnel {
        kind: TunnelKind::Gre,
        session: 0,
        vlan: None,
    };
    Ok(match proto {
        ethertype::TEB => Some((gre, LinkType::ETHERNET, body)),
        ethertype::IPV4 => Some((gre, LinkType::IPV4, body)),
        ethertype::IPV6 => Some((gre, LinkType::IPV6, body)),
        ethertype::ERSPAN_II if !has_seq => Some((
            Tunnel {
                kind: TunnelKind::ErspanI,
                ..gre
            },
            LinkType::ETHERNET,
            body,
        )),
        ethertype::ERSPAN_II => {
            if body.len() < 8 {
                return Err(DecodeError::Truncated("erspan ii"));
            }
            let vlan = u16::from_be_bytes([body[0], body[1]]) & 0x0fff;
            let session = u32::from(u16::from_be_bytes([body[2], body[3]]) & 0x03ff);
            let tunnel = Tunnel {
                kind: TunnelKind::ErspanII,
                session,
                vlan: (vlan != 0).then_some(vlan),
            };
            Some((tunnel, LinkType::ETHERNET, &body[8..]))
        }
        ethertype::ERSPAN_III => {
            if body.len() < 12 {
                return Err(DecodeError::Truncated("erspan iii"));
            }
            let vlan = u16::from_be_bytes([body[0], body[1]]) & 0x0fff;
            let session = u32::from(u16::from_be_bytes([body[2], body[3]]) & 0x03ff);
            // The O bit announces an 8-byte platform-specific subheader.
            let optional = body[11] & 0x01 != 0;
            let len = if optional { 20 } else { 12 };
            if body.len() < len {
                return Err(DecodeError::Truncated("erspan iii subheader"));
            }
            let tunnel = Tunnel {
                kind: TunnelKind::ErspanIII,
                session,
                vlan: (vlan != 0).then_some(vlan),
            };
            Some((tunnel, LinkType::ETHERNET, &body[len..]))
        }
        _ => None,
    })
}

fn open_vxlan(p: &[u8]) -> Option<Opened<'_>> {
    // Flags byte with the I bit (0x08) set, then the 24-bit network identifier.
    if p.len() < 8 + 14 || p[0] & 0x08 == 0 {
        return None;
    }
    let vni = u32::from_be_bytes([0, p[4], p[5], p[6]]);
    Some((
        Tunnel {
            kind: TunnelKind::Vxlan,
            session: vni,
            vlan: None,
        },
        LinkType::ETHERNET,
        &p[8..],
    ))
}
