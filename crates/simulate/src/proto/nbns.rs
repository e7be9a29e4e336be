//! NetBIOS name service (RFC 1002), UDP 137.

use std::net::Ipv4Addr;

use super::{put_u16, put_u32};

/// First-level encoding of a NetBIOS name with suffix 0x00 (workstation).
fn encoded_name(out: &mut Vec<u8>, name: &str) {
    let mut raw = [b' '; 16];
    for (i, b) in name.bytes().take(15).enumerate() {
        raw[i] = b.to_ascii_uppercase();
    }
    raw[15] = 0x00;
    out.push(32);
    for b in raw {
        out.push(b'A' + (b >> 4));
        out.push(b'A' + (b & 0x0f));
    }
    out.push(0);
}

/// Broadcast name registration (opcode 5) of `name` at `ip`.
pub(crate) fn registration(out: &mut Vec<u8>, id: u16, name: &str, ip: Ipv4Addr) {
    put_u16(out, id);
    put_u16(out, 0x2910); // registration, RD, broadcast
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 1]);
    encoded_name(out, name);
    put_u16(out, 0x0020); // NB
    put_u16(out, 1);
    put_u16(out, 0xc00c);
    put_u16(out, 0x0020);
    put_u16(out, 1);
    put_u32(out, 300_000);
    put_u16(out, 6);
    put_u16(out, 0x0000); // B-node, unique
    out.extend_from_slice(&ip.octets());
}

/// Broadcast name query (opcode 0).
pub(crate) fn query(out: &mut Vec<u8>, id: u16, name: &str) {
    put_u16(out, id);
    put_u16(out, 0x0110); // query, RD, broadcast
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    encoded_name(out, name);
    put_u16(out, 0x0020);
    put_u16(out, 1);
}

/// Positive name query response from the owner.
pub(crate) fn positive_response(out: &mut Vec<u8>, id: u16, name: &str, ip: Ipv4Addr) {
    put_u16(out, id);
    put_u16(out, 0x8500); // response, authoritative, RD
    out.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    encoded_name(out, name);
    put_u16(out, 0x0020);
    put_u16(out, 1);
    put_u32(out, 300_000);
    put_u16(out, 6);
    put_u16(out, 0x0000);
    out.extend_from_slice(&ip.octets());
}
