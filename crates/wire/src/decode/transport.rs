//! Layer 4: TCP, UDP, ICMP and ICMPv6 headers.

use super::ip::protocol;

/// What an IP packet carries.
#[derive(Debug, Clone, Copy)]
pub enum Transport<'a> {
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
    /// A UDP datagram.
    Udp(UdpDatagram<'a>),
    /// An ICMP message.
    Icmp(IcmpMessage<'a>),
    /// An ICMPv6 message.
    Icmp6(IcmpMessage<'a>),
    /// A later fragment of a datagram: no layer-4 header here.
    Fragment,
    /// The layer-4 header is cut short in the capture.
    Truncated,
    /// Another protocol (ESP, OSPF, GRE that is not a known tunnel, ...).
    Other,
}

/// TCP header flags.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
    /// ECE.
    pub const ECE: u8 = 0x40;
    /// CWR.
    pub const CWR: u8 = 0x80;

    /// Whether every bit of `mask` is set.
    pub fn has(self, mask: u8) -> bool {
        self.0 & mask == mask
    }
    /// SYN set.
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    /// ACK set.
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
    /// FIN set.
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    /// RST set.
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
}

impl std::fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const NAMES: [&str; 8] = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];
        let set: Vec<&str> = NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| *n)
            .collect();
        write!(f, "[{}]", set.join(","))
    }
}

/// A TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags.
    pub flags: TcpFlags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Urgent pointer.
    pub urgent: u16,
    /// Header length in bytes.
    pub header_len: u8,
    /// Raw option bytes (for OS fingerprints).
    pub options: &'a [u8],
    /// The captured payload.
    pub payload: &'a [u8],
    /// The payload length the IP header states (more than `payload.len()` when cut short).
    pub payload_len: u32,
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// The length field (header + payload).
    pub length: u16,
    /// The captured payload, cut to the length field.
    pub payload: &'a [u8],
}

/// An ICMP or ICMPv6 message.
#[derive(Debug, Clone, Copy)]
pub struct IcmpMessage<'a> {
    /// Type.
    pub icmp_type: u8,
    /// Code.
    pub code: u8,
    /// Everything after the 4-byte type/code/checksum.
    pub body: &'a [u8],
}

/// Decodes the layer-4 header. `stated_len` is the payload length the IP header
/// claims; `partial` says the captured bytes may end early (first fragment, snaplen).
#[inline]
pub(crate) fn decode_transport(
    proto: u8,
    payload: &[u8],
    stated_len: usize,
    partial: bool,
) -> Transport<'_> {
    match proto {
        protocol::TCP => decode_tcp(payload, stated_len),
        protocol::UDP => decode_udp(payload, partial),
        protocol::ICMP | protocol::ICMPV6 => {
            if payload.len() < 4 {
                return Transport::Truncated;
            }
            let msg = IcmpMessage {
                icmp_type: payload[0],
                code: payload[1],
                body: &payload[4..],
            };
            if proto == protocol::ICMP {
                Transport::Icmp(msg)
            } else {
                Transport::Icmp6(msg)
            }
        }
        _ => Transport::Other,
    }
}

#[inline]
fn decode_tcp(p: &[u8], stated_len: usize) -> Transport<'_> {
    if p.len() < 20 {
        return Transport::Truncated;
    }
    let header_len = usize::from(p[12] >> 4) * 4;
    if header_len < 20 || p.len() < header_len {
        return Transport::Truncated;
    }
    Transport::Tcp(TcpSegment {
        src_port: u16::from_be_bytes([p[0], p[1]]),
        dst_port: u16::from_be_bytes([p[2], p[3]]),
        seq: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
        ack: u32::from_be_bytes([p[8], p[9], p[10], p[11]]),
        flags: TcpFlags(p[13]),
        window: u16::from_be_bytes([p[14], p[15]]),
        urgent: u16::from_be_bytes([p[18], p[19]]),
        header_len: header_len as u8,
        options: &p[20..header_len],
        payload: &p[header_len..],
        payload_len: stated_len.saturating_sub(header_len) as u32,
    })
}

#[inline]
fn decode_udp(p: &[u8], partial: bool) -> Transport<'_> {
    if p.len() < 8 {
        return Transport::Truncated;
    }
    let length = u16::from_be_bytes([p[4], p[5]]);
    let end = if usize::from(length) >= 8 && (usize::from(length) <= p.len() || !partial) {
        usize::from(length).min(p.len())
    } else {
        p.len()
    };
    Transport::Udp(UdpDatagram {
        src_port: u16::from_be_bytes([p[0], p[1]]),
        dst_port: u16::from_be_bytes([p[2], p[3]]),
        length,
        payload: &p[8..end],
    })
}
