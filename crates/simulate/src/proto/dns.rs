//! DNS queries and answers (RFC 1035), UDP 53.

use std::net::Ipv4Addr;

use super::{put_u16, put_u32};

/// Record types.
pub(crate) const TYPE_A: u16 = 1;

fn name(out: &mut Vec<u8>, fqdn: &str) {
    for label in fqdn.split('.').filter(|l| !l.is_empty()) {
        out.push(label.len().min(63) as u8);
        out.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    out.push(0);
}

/// A recursive query for `fqdn`.
pub(crate) fn query(out: &mut Vec<u8>, id: u16, fqdn: &str, qtype: u16) {
    put_u16(out, id);
    put_u16(out, 0x0100); // RD
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    name(out, fqdn);
    put_u16(out, qtype);
    put_u16(out, 1);
}

/// The answer: one A record, or NXDOMAIN when `addr` is `None`.
pub(crate) fn answer(out: &mut Vec<u8>, id: u16, fqdn: &str, addr: Option<Ipv4Addr>, ttl: u32) {
    put_u16(out, id);
    put_u16(out, if addr.is_some() { 0x8180 } else { 0x8183 });
    out.extend_from_slice(&[0, 1, 0, u8::from(addr.is_some()), 0, 0, 0, 0]);
    name(out, fqdn);
    put_u16(out, TYPE_A);
    put_u16(out, 1);
    if let Some(a) = addr {
        put_u16(out, 0xc00c); // pointer to the question name
        put_u16(out, TYPE_A);
        put_u16(out, 1);
        put_u32(out, ttl);
        put_u16(out, 4);
        out.extend_from_slice(&a.octets());
    }
}
