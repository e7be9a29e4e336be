//! ARP for IPv4 over Ethernet (RFC 826).

use std::net::Ipv4Addr;

use super::MacAddr;

/// ARP operation: request.
pub const OP_REQUEST: u16 = 1;
/// ARP operation: reply.
pub const OP_REPLY: u16 = 2;

/// An Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpPacket {
    /// Operation (1 request, 2 reply, others kept raw).
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

impl ArpPacket {
    /// A gratuitous ARP announces the sender's own address (sender IP = target IP).
    pub fn is_gratuitous(&self) -> bool {
        self.sender_ip == self.target_ip
    }

    /// An ARP probe (RFC 5227) asks about an address with a zero sender IP.
    pub fn is_probe(&self) -> bool {
        self.sender_ip.is_unspecified()
    }
}

/// Decodes ARP for Ethernet (htype 1) and IPv4 (ptype 0x0800); anything else is `None`.
pub(crate) fn decode_arp(p: &[u8]) -> Option<ArpPacket> {
    if p.len() < 28 {
        return None;
    }
    let htype = u16::from_be_bytes([p[0], p[1]]);
    let ptype = u16::from_be_bytes([p[2], p[3]]);
    if htype != 1 || ptype != 0x0800 || p[4] != 6 || p[5] != 4 {
        return None;
    }
    let mac = |at: usize| {
        let mut a = [0u8; 6];
        a.copy_from_slice(&p[at..at + 6]);
        MacAddr(a)
    };
    let ip = |at: usize| Ipv4Addr::new(p[at], p[at + 1], p[at + 2], p[at + 3]);
    Some(ArpPacket {
        operation: u16::from_be_bytes([p[6], p[7]]),
        sender_mac: mac(8),
        sender_ip: ip(14),
        target_mac: mac(18),
        target_ip: ip(24),
    })
}
