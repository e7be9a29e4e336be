//! DHCP (BOOTP with options, RFC 2131/2132), UDP 67/68.

use std::net::Ipv4Addr;

use super::{put_u16, put_u32};
use mamori_wire::decode::MacAddr;

/// DHCP message types (option 53).
pub(crate) const DISCOVER: u8 = 1;
pub(crate) const OFFER: u8 = 2;
pub(crate) const REQUEST: u8 = 3;
pub(crate) const ACK: u8 = 5;

/// What one message says.
pub(crate) struct Msg<'a> {
    pub(crate) kind: u8,
    pub(crate) xid: u32,
    pub(crate) secs: u16,
    pub(crate) broadcast: bool,
    pub(crate) client_mac: MacAddr,
    /// ciaddr (the client's address when renewing).
    pub(crate) ciaddr: Ipv4Addr,
    /// yiaddr (offered/assigned address) in server messages.
    pub(crate) yiaddr: Ipv4Addr,
    /// Requested address (option 50) in client messages.
    pub(crate) requested: Option<Ipv4Addr>,
    pub(crate) hostname: &'a str,
    /// Server identifier, router, DNS server, lease (server messages and REQUEST).
    pub(crate) server: Option<Ipv4Addr>,
    pub(crate) router: Ipv4Addr,
    pub(crate) dns: Ipv4Addr,
    pub(crate) lease_secs: u32,
    pub(crate) domain: &'a str,
}

/// Option 55 of a Windows 10/11 client.
const PARAMS_WINDOWS: [u8; 14] = [1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252];

/// Appends a DHCP message.
pub(crate) fn message(out: &mut Vec<u8>, m: &Msg<'_>) {
    let from_client = matches!(m.kind, DISCOVER | REQUEST);
    out.push(if from_client { 1 } else { 2 }); // op
    out.extend_from_slice(&[1, 6, 0]); // htype ethernet, hlen, hops
    put_u32(out, m.xid);
    put_u16(out, m.secs);
    put_u16(out, if m.broadcast { 0x8000 } else { 0 });
    out.extend_from_slice(&m.ciaddr.octets());
    out.extend_from_slice(&m.yiaddr.octets());
    out.extend_from_slice(&[0; 4]); // siaddr
    out.extend_from_slice(&[0; 4]); // giaddr
    out.extend_from_slice(&m.client_mac.0);
    out.extend_from_slice(&[0; 10]); // chaddr padding
    out.extend_from_slice(&[0; 64]); // sname
    out.extend_from_slice(&[0; 128]); // file
    out.extend_from_slice(&[0x63, 0x82, 0x53, 0x63]);
    out.extend_from_slice(&[53, 1, m.kind]);
    if from_client {
        out.extend_from_slice(&[61, 7, 1]);
        out.extend_from_slice(&m.client_mac.0);
        if let Some(r) = m.requested {
            out.extend_from_slice(&[50, 4]);
            out.extend_from_slice(&r.octets());
        }
        if let Some(s) = m.server {
            out.extend_from_slice(&[54, 4]);
            out.extend_from_slice(&s.octets());
        }
        out.extend_from_slice(&[12, m.hostname.len() as u8]);
        out.extend_from_slice(m.hostname.as_bytes());
        if m.kind == REQUEST {
            // Client FQDN (option 81): flags S, rcode1/2 = 0, then the name.
            let fqdn = m.hostname.len() + 1 + m.domain.len();
            out.extend_from_slice(&[81, (3 + fqdn) as u8, 0x00, 0, 0]);
            out.extend_from_slice(m.hostname.as_bytes());
            out.push(b'.');
            out.extend_from_slice(m.domain.as_bytes());
        }
        out.extend_from_slice(&[60, 8]);
        out.extend_from_slice(b"MSFT 5.0");
        out.extend_from_slice(&[55, PARAMS_WINDOWS.len() as u8]);
        out.extend_from_slice(&PARAMS_WINDOWS);
    } else {
        if let Some(s) = m.server {
            out.extend_from_slice(&[54, 4]);
            out.extend_from_slice(&s.octets());
        }
        out.extend_from_slice(&[51, 4]);
        put_u32(out, m.lease_secs);
        out.extend_from_slice(&[58, 4]);
        put_u32(out, m.lease_secs / 2);
        out.extend_from_slice(&[59, 4]);
        put_u32(out, m.lease_secs / 8 * 7);
        out.extend_from_slice(&[1, 4, 255, 255, 255, 0]);
        out.extend_from_slice(&[3, 4]);
        out.extend_from_slice(&m.router.octets());
        out.extend_from_slice(&[6, 4]);
        out.extend_from_slice(&m.dns.octets());
        out.extend_from_slice(&[15, m.domain.len() as u8]);
        out.extend_from_slice(m.domain.as_bytes());
    }
    out.push(255);
    // Pad to the 300-byte BOOTP minimum, as most stacks do.
    while out.len() < 300 {
        out.push(0);
    }
}
