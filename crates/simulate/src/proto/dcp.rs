//! PROFINET DCP Identify (IEC 61158-6-10), EtherType 0x8892.

use std::net::Ipv4Addr;

use super::put_u16;
use mamori_wire::decode::MacAddr;

/// Multicast address of DCP Identify requests.
pub(crate) const IDENTIFY_MULTICAST: MacAddr = MacAddr([0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00]);

/// Identify-all request (frame id 0xFEFE).
pub(crate) fn identify_all(out: &mut Vec<u8>, xid: u32) {
    put_u16(out, 0xfefe);
    out.extend_from_slice(&[0x05, 0x00]); // service identify, request
    out.extend_from_slice(&xid.to_be_bytes());
    put_u16(out, 0x0080); // response delay factor
    put_u16(out, 4); // data length
    out.extend_from_slice(&[0xff, 0xff, 0x00, 0x00]); // all selector
}

/// What a device reports about itself.
pub(crate) struct Identity<'a> {
    pub(crate) vendor_text: &'a str,
    pub(crate) station: &'a str,
    pub(crate) vendor_id: u16,
    pub(crate) device_id: u16,
    pub(crate) ip: Ipv4Addr,
    pub(crate) gateway: Ipv4Addr,
}

fn block(out: &mut Vec<u8>, option: u8, sub: u8, value: &[u8]) {
    out.push(option);
    out.push(sub);
    put_u16(out, (value.len() + 2) as u16);
    put_u16(out, 0); // block info
    out.extend_from_slice(value);
    if value.len() % 2 == 1 {
        out.push(0);
    }
}

/// Identify response (frame id 0xFEFF) from a device.
pub(crate) fn identify_response(out: &mut Vec<u8>, xid: u32, id: &Identity<'_>) {
    put_u16(out, 0xfeff);
    out.extend_from_slice(&[0x05, 0x01]); // identify, response success
    out.extend_from_slice(&xid.to_be_bytes());
    put_u16(out, 0); // reserved
    let len_at = out.len();
    put_u16(out, 0);
    let start = out.len();
    block(out, 0x02, 0x01, id.vendor_text.as_bytes());
    block(out, 0x02, 0x02, id.station.as_bytes());
    let mut ids = [0u8; 4];
    ids[..2].copy_from_slice(&id.vendor_id.to_be_bytes());
    ids[2..].copy_from_slice(&id.device_id.to_be_bytes());
    block(out, 0x02, 0x03, &ids);
    block(out, 0x02, 0x04, &[0x01, 0x00]); // role: IO device
    let mut ip = [0u8; 12];
    ip[..4].copy_from_slice(&id.ip.octets());
    ip[4..8].copy_from_slice(&[255, 255, 255, 0]);
    ip[8..].copy_from_slice(&id.gateway.octets());
    // IP block: block info 1 = IP set, then address, mask, gateway.
    out.extend_from_slice(&[0x01, 0x02]);
    put_u16(out, 14);
    put_u16(out, 0x0001);
    out.extend_from_slice(&ip);
    let len = (out.len() - start) as u16;
    out[len_at..len_at + 2].copy_from_slice(&len.to_be_bytes());
}
