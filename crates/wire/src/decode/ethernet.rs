//! Link-layer headers: Ethernet II, 802.3/LLC/SNAP, VLAN tags, Linux cooked, loopback, raw IP.

use std::fmt;

use super::{DecodeError, Network, ethertype};
use crate::LinkType;

/// A 48-bit MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// The broadcast address.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// Whether the group (multicast/broadcast) bit is set.
    pub fn is_multicast(self) -> bool {
        self.0[0] & 1 == 1
    }

    /// Whether this is ff:ff:ff:ff:ff:ff.
    pub fn is_broadcast(self) -> bool {
        self == Self::BROADCAST
    }

    /// Whether the locally-administered bit is set (randomised or assigned by software).
    pub fn is_local(self) -> bool {
        self.0[0] & 2 == 2
    }

    #[inline]
    fn from_slice(b: &[u8]) -> MacAddr {
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[..6]);
        MacAddr(a)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Up to two VLAN ids, outermost first (QinQ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanStack {
    ids: [u16; 2],
    len: u8,
}

impl VlanStack {
    /// No tags.
    pub const EMPTY: VlanStack = VlanStack {
        ids: [0; 2],
        len: 0,
    };

    /// A single tag.
    pub fn one(id: u16) -> Self {
        VlanStack {
            ids: [id, 0],
            len: 1,
        }
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The outermost VLAN id.
    pub fn outer(&self) -> Option<u16> {
        (self.len >= 1).then_some(self.ids[0])
    }

    /// The inner VLAN id of a QinQ frame.
    pub fn inner(&self) -> Option<u16> {
        (self.len >= 2).then_some(self.ids[1])
    }

    /// The tags, outermost first.
    pub fn ids(&self) -> &[u16] {
        &self.ids[..usize::from(self.len)]
    }

    fn push(&mut self, id: u16) -> bool {
        if usize::from(self.len) >= self.ids.len() {
            return false;
        }
        self.ids[usize::from(self.len)] = id;
        self.len += 1;
        true
    }
}

/// Link-layer addresses and tags of a frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L2Header {
    /// Source MAC (also the only address a Linux cooked header has).
    pub src: Option<MacAddr>,
    /// Destination MAC (absent for cooked, loopback and raw IP captures).
    pub dst: Option<MacAddr>,
    /// VLAN tags.
    pub vlans: VlanStack,
}

/// The most VLAN tags accepted; a third tag is rare enough to call malformed.
const MAX_TAGS: usize = 2;

/// Splits the link-layer header off a frame: returns the header, the EtherType (or an
/// 802.3 length) of what follows, and the rest.
#[inline]
pub(crate) fn link_layer(
    link: LinkType,
    data: &[u8],
) -> Result<(L2Header, u16, &[u8]), DecodeError> {
    match link {
        LinkType::ETHERNET => ethernet_ii(data),
        LinkType::RAW | LinkType::RAW_BSD12 | LinkType::RAW_BSD14 => raw_ip(data),
        LinkType::IPV4 => Ok((L2Header::default(), ethertype::IPV4, data)),
        LinkType::IPV6 => Ok((L2Header::default(), ethertype::IPV6, data)),
        LinkType::NULL | LinkType::LOOP => loopback(link, data),
        LinkType::LINUX_SLL => linux_sll(data),
        LinkType::LINUX_SLL2 => linux_sll2(data),
        other => Err(DecodeError::UnsupportedLink(other)),
    }
}

#[inline]
fn ethernet_ii(data: &[u8]) -> Result<(L2Header, u16, &[u8]), DecodeError> {
    let Some((header, rest)) = data.split_first_chunk::<14>() else {
        return Err(DecodeError::Truncated("ethernet"));
    };
    let mut l2 = L2Header {
        dst: Some(MacAddr::from_slice(&header[0..6])),
        src: Some(MacAddr::from_slice(&header[6..12])),
        vlans: VlanStack::EMPTY,
    };
    let (ethertype, mut rest) = strip_vlan_tags(
        u16::from_be_bytes([header[12], header[13]]),
        rest,
        &mut l2.vlans,
    )?;
    // An 802.3 length field: what follows beyond that length is padding (or a
    // captured FCS), not LLC data.
    if ethertype <= 1500 {
        rest = rest.get(..usize::from(ethertype)).unwrap_or(rest);
    }
    Ok((l2, ethertype, rest))
}

/// Removes 802.1Q / 802.1ad tags, recording their VLAN ids.
#[inline]
fn strip_vlan_tags<'a>(
    mut ethertype: u16,
    mut rest: &'a [u8],
    vlans: &mut VlanStack,
) -> Result<(u16, &'a [u8]), DecodeError> {
    let mut tags = 0;
    while matches!(
        ethertype,
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD
    ) {
        if rest.len() < 4 {
            return Err(DecodeError::Truncated("vlan"));
        }
        tags += 1;
        if tags > MAX_TAGS || !vlans.push(u16::from_be_bytes([rest[0], rest[1]]) & 0x0fff) {
            return Err(DecodeError::Malformed("vlan (more than two tags)"));
        }
        ethertype = u16::from_be_bytes([rest[2], rest[3]]);
        rest = &rest[4..];
    }
    Ok((ethertype, rest))
}

fn raw_ip(data: &[u8]) -> Result<(L2Header, u16, &[u8]), DecodeError> {
    match data.first().map(|b| b >> 4) {
        Some(4) => Ok((L2Header::default(), ethertype::IPV4, data)),
        Some(6) => Ok((L2Header::default(), ethertype::IPV6, data)),
        Some(_) => Err(DecodeError::Malformed("raw ip version")),
        None => Err(DecodeError::Truncated("raw ip")),
    }
}

fn loopback(link: LinkType, data: &[u8]) -> Result<(L2Header, u16, &[u8]), DecodeError> {
    if data.len() < 4 {
        return Err(DecodeError::Truncated("loopback"));
    }
    let raw = [data[0], data[1], data[2], data[3]];
    // NULL stores the family in the capturing host's byte order, LOOP in network order.
    // Families are small, so whichever reading is small is the right one.
    let family = if link == LinkType::LOOP {
        u32::from_be_bytes(raw)
    } else {
        let le = u32::from_le_bytes(raw);
        if le <= 0xffff {
            le
        } else {
            u32::from_be_bytes(raw)
        }
    };
    let ethertype = match family {
        2 => ethertype::IPV4,
        // AF_INET6 differs per OS: BSD 24, FreeBSD 28, Darwin 30, Linux 10.
        10 | 24 | 28 | 30 => ethertype::IPV6,
        other => return Err(DecodeError::UnsupportedFamily(other)),
    };
    Ok((L2Header::default(), ethertype, &data[4..]))
}

fn linux_sll(data: &[u8]) -> Result<(L2Header, u16, &[u8]), DecodeError> {
    if data.len() < 16 {
        return Err(DecodeError::Truncated("linux_sll"));
    }
    let hatype = u16::from_be_bytes([data[2], data[3]]);
    let addr_len = usize::from(u16::from_be_bytes([data[4], data[5]]));
    let protocol = u16::from_be_bytes([data[14], data[15]]);
    cooked(hatype, addr_len, &data[6..14], protocol, &data[16..])
}

fn linux_sll2(data: &[u8]) -> Result<(L2Header, u16, &[u8]), DecodeError> {
    if data.len() < 20 {
        return Err(DecodeError::Truncated("linux_sll2"));
    }
    let protocol = u16::from_be_bytes([data[0], data[1]]);
    let hatype = u16::from_be_bytes([data[8], data[9]]);
    let addr_len = usize::from(data[11]);
    cooked(hatype, addr_len, &data[12..20], protocol, &data[20..])
}

/// Shared tail of SLL and SLL2: the sender's address and the protocol field.
fn cooked<'a>(
    hatype: u16,
    addr_len: usize,
    addr: &[u8],
    protocol: u16,
    rest: &'a [u8],
) -> Result<(L2Header, u16, &'a [u8]), DecodeError> {
    const ARPHRD_ETHER: u16 = 1;
    let mut l2 = L2Header::default();
    if hatype == ARPHRD_ETHER && addr_len == 6 {
        l2.src = Some(MacAddr::from_slice(addr));
    }
    // Protocol values below 0x0600 are Linux pseudo-protocols (802.2 LLC = 4, 802.3 = 1).
    let (ethertype, rest) = match protocol {
        0x0004 => (0, rest),
        p if p < 0x0600 => return Err(DecodeError::UnsupportedFamily(u32::from(p))),
        p => strip_vlan_tags(p, rest, &mut l2.vlans)?,
    };
    Ok((l2, ethertype, rest))
}

/// Decodes an IEEE 802.2 LLC header (and SNAP, when present).
pub(crate) fn decode_llc(payload: &[u8]) -> Result<Network<'_>, DecodeError> {
    if payload.len() < 3 {
        return Err(DecodeError::Truncated("llc"));
    }
    let (dsap, ssap) = (payload[0], payload[1]);
    // U-format control fields are one byte; I and S formats are two.
    let control_len = if payload[2] & 3 == 3 { 1 } else { 2 };
    let header = 2 + control_len;
    if payload.len() < header {
        return Err(DecodeError::Truncated("llc"));
    }
    if dsap == 0xaa && ssap == 0xaa {
        if payload.len() < header + 5 {
            return Err(DecodeError::Truncated("snap"));
        }
        let s = &payload[header..];
        let oui = u32::from_be_bytes([0, s[0], s[1], s[2]]);
        let pid = u16::from_be_bytes([s[3], s[4]]);
        return Ok(Network::Llc {
            dsap,
            ssap,
            snap: Some((oui, pid)),
            payload: &payload[header + 5..],
        });
    }
    Ok(Network::Llc {
        dsap,
        ssap,
        snap: None,
        payload: &payload[header..],
    })
}
