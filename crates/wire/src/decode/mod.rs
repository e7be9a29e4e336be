//! Zero-copy decoding of one captured frame, from the link layer to layer 4.
//!
//! [`decode`] returns a [`Frame`]: small `Copy` headers plus slices borrowed from the
//! captured bytes. It never allocates. What it cannot decode it reports either as a
//! [`DecodeError`] (the frame is unusable) or as a flag on the part that is short
//! (`truncated`), so that a snapshot-length cut still counts the packet with the
//! lengths its headers state.
//!
//! Tunnels that mirror sessions deliver (GRE, ERSPAN II/III, VXLAN) are opened and the
//! inner frame is returned, with [`Frame::tunnel`] saying what was removed.

pub mod arp;
pub mod defrag;
pub mod ethernet;
pub mod ip;
pub mod transport;
pub mod tunnel;

pub use arp::ArpPacket;
pub use ethernet::{L2Header, MacAddr, VlanStack};
pub use ip::{FragmentInfo, IpPacket};
pub use transport::{IcmpMessage, TcpFlags, TcpSegment, Transport, UdpDatagram};
pub use tunnel::Tunnel;

use crate::LinkType;

/// EtherType values mamori handles or hands to layer-2 dissectors.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// IEEE 802.1ad service tag (QinQ outer).
    pub const QINQ: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag.
    pub const QINQ_OLD: u16 = 0x9100;
    /// IPv6.
    pub const IPV6: u16 = 0x86dd;
    /// PROFINET (RT, DCP, alarms).
    pub const PROFINET: u16 = 0x8892;
    /// CC-Link IE Field / Control.
    pub const CCLINK_IE: u16 = 0x890f;
    /// LLDP.
    pub const LLDP: u16 = 0x88cc;
    /// IEC 61850 GOOSE.
    pub const GOOSE: u16 = 0x88b8;
    /// IEC 61850 sampled values.
    pub const SAMPLED_VALUES: u16 = 0x88ba;
    /// EtherCAT.
    pub const ETHERCAT: u16 = 0x88a4;
    /// Ethernet POWERLINK.
    pub const POWERLINK: u16 = 0x88ab;
    /// Transparent Ethernet bridging (GRE payload).
    pub const TEB: u16 = 0x6558;
    /// ERSPAN type I/II (GRE payload).
    pub const ERSPAN_II: u16 = 0x88be;
    /// ERSPAN type III (GRE payload).
    pub const ERSPAN_III: u16 = 0x22eb;
}

/// The most tunnels opened inside one frame; deeper nesting is an error.
pub const MAX_TUNNEL_DEPTH: usize = 3;

/// A decoded frame: link-layer header and what it carries.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Link-layer addresses and VLAN tags (of the innermost frame when tunnelled).
    pub l2: L2Header,
    /// The network-layer content.
    pub network: Network<'a>,
    /// The outermost tunnel that was opened to reach this frame, if any.
    pub tunnel: Option<Tunnel>,
}

/// What a frame carries above the link layer.
#[derive(Debug, Clone, Copy)]
pub enum Network<'a> {
    /// IPv4 or IPv6.
    Ip(IpPacket<'a>),
    /// ARP over Ethernet for IPv4.
    Arp(ArpPacket),
    /// A layer-2 protocol identified by EtherType (PROFINET, LLDP, CC-Link IE, GOOSE, ...).
    EtherType {
        /// The EtherType.
        ethertype: u16,
        /// Everything after it.
        payload: &'a [u8],
    },
    /// An IEEE 802.3 frame with an LLC header (STP, CDP over SNAP, ...).
    Llc {
        /// Destination service access point.
        dsap: u8,
        /// Source service access point.
        ssap: u8,
        /// SNAP organisation code and protocol id when `dsap` and `ssap` are 0xAA.
        snap: Option<(u32, u16)>,
        /// Everything after the LLC (and SNAP) header.
        payload: &'a [u8],
    },
}

/// Why a frame could not be decoded at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The capture's link type is not one mamori decodes.
    #[error("unsupported link type {0}")]
    UnsupportedLink(LinkType),
    /// A header is cut short.
    #[error("{0} header truncated")]
    Truncated(&'static str),
    /// A header holds impossible values.
    #[error("malformed {0} header")]
    Malformed(&'static str),
    /// The loopback/cooked header names a protocol that is not IP or a known EtherType.
    #[error("unsupported loopback address family {0}")]
    UnsupportedFamily(u32),
    /// Tunnels nest deeper than [`MAX_TUNNEL_DEPTH`].
    #[error("tunnels nested too deep")]
    TunnelTooDeep,
}

/// Decodes one captured frame.
#[inline]
pub fn decode(link: LinkType, data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    decode_at_depth(link, data, 0)
}

/// Decodes a frame found inside `depth` tunnels. The frame is built once, where the
/// caller wants it; only a tunnel takes the out-of-line way ([`decode_tunnelled`]).
#[inline]
fn decode_at_depth(link: LinkType, data: &[u8], depth: usize) -> Result<Frame<'_>, DecodeError> {
    let (l2, ethertype, payload) = ethernet::link_layer(link, data)?;
    let network = decode_network(ethertype, payload)?;
    if let Network::Ip(ip) = &network
        && let Some(opened) = tunnel::open(ip)?
    {
        return decode_tunnelled(opened, depth);
    }
    Ok(Frame {
        l2,
        network,
        tunnel: None,
    })
}

/// Decodes the inner frame of a tunnel met at `depth`; the tunnel becomes the frame's
/// outermost one, and its VLAN (ERSPAN) stands in when the inner frame has none.
#[inline(never)]
fn decode_tunnelled<'a>(
    (tunnel, inner_link, inner): tunnel::Opened<'a>,
    depth: usize,
) -> Result<Frame<'a>, DecodeError> {
    if depth >= MAX_TUNNEL_DEPTH {
        return Err(DecodeError::TunnelTooDeep);
    }
    let mut frame = decode_at_depth(inner_link, inner, depth + 1)?;
    if frame.l2.vlans.is_empty() {
        frame.l2.vlans = tunnel.vlan.map_or(VlanStack::EMPTY, VlanStack::one);
    }
    frame.tunnel = Some(tunnel);
    Ok(frame)
}

/// Decodes what follows a link-layer header, given its EtherType (or an 802.3 length).
#[inline]
pub fn decode_network(ethertype: u16, payload: &[u8]) -> Result<Network<'_>, DecodeError> {
    Ok(match ethertype {
        ethertype::IPV4 | ethertype::IPV6 => Network::Ip(ip::decode_ip(payload)?),
        ethertype::ARP => match arp::decode_arp(payload) {
            Some(arp) => Network::Arp(arp),
            None => Network::EtherType { ethertype, payload },
        },
        0..=1500 => ethernet::decode_llc(payload)?,
        _ => Network::EtherType { ethertype, payload },
    })
}

#[cfg(test)]
mod tests;
