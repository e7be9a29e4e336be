//! Building frames: the inverse of [`crate::decode`], for the simulator and for tests.
//!
//! Builders write into a caller's `Vec<u8>` and compute real checksums, so that what
//! they make dissects cleanly in Wireshark.

use std::net::IpAddr;

use crate::decode::MacAddr;
use crate::decode::ethertype;
use crate::decode::ip::protocol;

/// Layer-2 framing for a built packet.
#[derive(Debug, Clone, Copy)]
pub struct EthernetSpec {
    /// Source MAC.
    pub src: MacAddr,
    /// Destination MAC.
    pub dst: MacAddr,
    /// 802.1Q tag to add, if any.
    pub vlan: Option<u16>,
}

/// Layer-4 content of a built IP packet.
#[derive(Debug, Clone, Copy)]
pub enum L4<'a> {
    /// A TCP segment.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Sequence number.
        seq: u32,
        /// Acknowledgement number.
        ack: u32,
        /// Flags (see [`crate::decode::TcpFlags`]).
        flags: u8,
        /// Window.
        window: u16,
        /// Raw options (padded to 4 bytes by the builder).
        options: &'a [u8],
        /// Payload.
        payload: &'a [u8],
    },
    /// A UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Payload.
        payload: &'a [u8],
    },
    /// An ICMP (IPv4) or ICMPv6 (IPv6) message.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// Bytes after the checksum (identifier, sequence, data...).
        body: &'a [u8],
    },
}

/// Appends an Ethernet header (with an optional VLAN tag) for `ethertype`.
pub fn ethernet_header(out: &mut Vec<u8>, eth: &EthernetSpec, ether_type: u16) {
    out.extend_from_slice(&eth.dst.0);
    out.extend_from_slice(&eth.src.0);
    if let Some(vlan) = eth.vlan {
        out.extend_from_slice(&ethertype::VLAN.to_be_bytes());
        out.extend_from_slice(&(vlan & 0x0fff).to_be_bytes());
    }
    out.extend_from_slice(&ether_type.to_be_bytes());
}

/// Appends a whole Ethernet frame carrying an IP packet; returns the IP packet's length.
/// `ttl` and `ident` go into the IP header. Mismatched address families are written as IPv6.
pub fn ip_frame(
    out: &mut Vec<u8>,
    eth: &EthernetSpec,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    ident: u16,
    l4: &L4<'_>,
) -> usize {
    let v4 = matches!((src, dst), (IpAddr::V4(_), IpAddr::V4(_)));
    ethernet_header(out, eth, if v4 { ethertype::IPV4 } else { ethertype::IPV6 });
    let start = out.len();
    ip_packet(out, src, dst, ttl, ident, l4);
    let len = out.len() - start;
    // Ethernet frames are at least 60 bytes before the FCS.
    while out.len() < 60 {
        out.push(0);
    }
    len
}

/// Appends an IP packet (IPv4 when both addresses are IPv4, else IPv6).
pub fn ip_packet(out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, ttl: u8, ident: u16, l4: &L4<'_>) {
    let (proto, l4_len) = match l4 {
        L4::Tcp {
            options, payload, ..
        } => (protocol::TCP, 20 + padded(options.len()) + payload.len()),
        L4::Udp { payload, .. } => (protocol::UDP, 8 + payload.len()),
        L4::Icmp { body, .. } => {
            let p = if src.is_ipv4() && dst.is_ipv4() {
                protocol::ICMP
            } else {
                protocol::ICMPV6
            };
            (p, 4 + body.len())
        }
    };
    let ip_start = out.len();
    let (src16, dst16) = (ipv6_bytes(src), ipv6_bytes(dst));
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = (20 + l4_len).min(usize::from(u16::MAX)) as u16;
            out.extend_from_slice(&[0x45, 0]);
            out.extend_from_slice(&total.to_be_bytes());
            out.extend_from_slice(&ident.to_be_bytes());
            out.extend_from_slice(&[0x40, 0, ttl, proto, 0, 0]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
            let sum = checksum(&out[ip_start..ip_start + 20], 0);
            out[ip_start + 10..ip_start + 12].copy_from_slice(&sum.to_be_bytes());
        }
        _ => {
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&(l4_len.min(usize::from(u16::MAX)) as u16).to_be_bytes());
            out.extend_from_slice(&[proto, ttl]);
            out.extend_from_slice(&src16);
            out.extend_from_slice(&dst16);
        }
    }
    let l4_start = out.len();
    match *l4 {
        L4::Tcp {
            src_port,
            dst_port,
            seq,
            ack,
            flags,
            window,
            options,
            payload,
        } => {
            let header_len = 20 + padded(options.len());
            out.extend_from_slice(&src_port.to_be_bytes());
            out.extend_from_slice(&dst_port.to_be_bytes());
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(&ack.to_be_bytes());
            out.extend_from_slice(&[((header_len / 4) as u8) << 4, flags]);
            out.extend_from_slice(&window.to_be_bytes());
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(options);
            out.resize(l4_start + header_len, 1); // NOP padding
            out.extend_from_slice(payload);
        }
        L4::Udp {
            src_port,
            dst_port,
            payload,
        } => {
            out.extend_from_slice(&src_port.to_be_bytes());
            out.extend_from_slice(&dst_port.to_be_bytes());
            out.extend_from_slice(
                &((8 + payload.len()).min(usize::from(u16::MAX)) as u16).to_be_bytes(),
            );
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(payload);
        }
        L4::Icmp {
            icmp_type,
            code,
            body,
        } => {
            out.extend_from_slice(&[icmp_type, code, 0, 0]);
            out.extend_from_slice(body);
        }
    }
    let checksum_at = match l4 {
        L4::Tcp { .. } => 16,
        L4::Udp { .. } => 6,
        L4::Icmp { .. } => 2,
    };
    let pseudo = if proto == protocol::ICMP {
        0
    } else if src.is_ipv4() && dst.is_ipv4() {
        pseudo_sum(&src16[12..], &dst16[12..], proto, out.len() - l4_start)
    } else {
        pseudo_sum(&src16, &dst16, proto, out.len() - l4_start)
    };
    let mut sum = checksum(&out[l4_start..], pseudo);
    if proto == protocol::UDP && sum == 0 {
        sum = 0xffff;
    }
    out[l4_start + checksum_at..l4_start + checksum_at + 2].copy_from_slice(&sum.to_be_bytes());
}

fn padded(n: usize) -> usize {
    (n + 3) & !3
}

fn ipv6_bytes(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

fn pseudo_sum(src: &[u8], dst: &[u8], proto: u8, len: usize) -> u32 {
    let mut sum = 0u32;
    for chunk in src.chunks(2).chain(dst.chunks(2)) {
        sum += u32::from(u16::from_be_bytes([chunk[0], chunk[1]]));
    }
    sum + u32::from(proto) + len as u32
}

/// The Internet checksum (RFC 1071) of `data`, starting from a partial sum.
pub fn checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = u64::from(initial);
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Appends a whole Ethernet frame carrying `body` after the EtherType, padded to the
/// 60-byte minimum (LLDP, PROFINET DCP and other layer-2 protocols).
pub fn ethernet_frame(out: &mut Vec<u8>, eth: &EthernetSpec, ether_type: u16, body: &[u8]) {
    ethernet_header(out, eth, ether_type);
    out.extend_from_slice(body);
    while out.len() < 60 {
        out.push(0);
    }
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy)]
pub struct ArpSpec {
    /// 1 = request, 2 = reply (see [`crate::decode::arp`]).
    pub operation: u16,
    /// Sender hardware address (also the frame's source).
    pub sender_mac: MacAddr,
    /// Sender protocol address.
    pub sender_ip: std::net::Ipv4Addr,
    /// Target hardware address (zero in requests).
    pub target_mac: MacAddr,
    /// Target protocol address.
    pub target_ip: std::net::Ipv4Addr,
    /// Frame destination: broadcast for requests and gratuitous ARP, else the target.
    pub dst: MacAddr,
}

impl ArpSpec {
    /// `who-has target_ip tell sender_ip`, broadcast.
    pub fn request(
        sender_mac: MacAddr,
        sender_ip: std::net::Ipv4Addr,
        target_ip: std::net::Ipv4Addr,
    ) -> Self {
        ArpSpec {
            operation: 1,
            sender_mac,
            sender_ip,
            target_mac: MacAddr([0; 6]),
            target_ip,
            dst: MacAddr::BROADCAST,
        }
    }

    /// `sender_ip is-at sender_mac`, unicast to the asker.
    pub fn reply(
        sender_mac: MacAddr,
        sender_ip: std::net::Ipv4Addr,
        target_mac: MacAddr,
        target_ip: std::net::Ipv4Addr,
    ) -> Self {
        ArpSpec {
            operation: 2,
            sender_mac,
            sender_ip,
            target_mac,
            target_ip,
            dst: target_mac,
        }
    }

    /// A gratuitous ARP announcement (a broadcast request for one's own address).
    pub fn gratuitous(mac: MacAddr, ip: std::net::Ipv4Addr) -> Self {
        ArpSpec {
            operation: 1,
            sender_mac: mac,
            sender_ip: ip,
            target_mac: MacAddr([0; 6]),
            target_ip: ip,
            dst: MacAddr::BROADCAST,
        }
    }
}

/// Appends an Ethernet frame carrying an ARP packet (padded to 60 bytes).
pub fn arp_frame(out: &mut Vec<u8>, vlan: Option<u16>, arp: &ArpSpec) {
    let eth = EthernetSpec {
        src: arp.sender_mac,
        dst: arp.dst,
        vlan,
    };
    ethernet_header(out, &eth, ethertype::ARP);
    out.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4]);
    out.extend_from_slice(&arp.operation.to_be_bytes());
    out.extend_from_slice(&arp.sender_mac.0);
    out.extend_from_slice(&arp.sender_ip.octets());
    out.extend_from_slice(&arp.target_mac.0);
    out.extend_from_slice(&arp.target_ip.octets());
    while out.len() < 60 {
        out.push(0);
    }
}
