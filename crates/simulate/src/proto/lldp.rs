//! LLDP (IEEE 802.1AB) advertisements from switches, EtherType 0x88CC.

use std::net::Ipv4Addr;

use mamori_wire::decode::MacAddr;

/// The nearest-bridge multicast address LLDP is sent to.
pub(crate) const MULTICAST: MacAddr = MacAddr([0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e]);

fn tlv(out: &mut Vec<u8>, kind: u8, value: &[u8]) {
    let head = (u16::from(kind) << 9) | (value.len() as u16 & 0x01ff);
    out.extend_from_slice(&head.to_be_bytes());
    out.extend_from_slice(value);
}

/// What one advertisement says.
pub(crate) struct Advert<'a> {
    pub(crate) chassis: MacAddr,
    pub(crate) port: &'a str,
    pub(crate) port_desc: &'a str,
    pub(crate) system_name: &'a str,
    pub(crate) system_desc: &'a str,
    /// Capabilities bit map (0x0004 bridge, 0x0010 router).
    pub(crate) caps: u16,
    pub(crate) mgmt: Ipv4Addr,
    pub(crate) ttl: u16,
}

/// Appends an LLDPDU.
pub(crate) fn lldpdu(out: &mut Vec<u8>, a: &Advert<'_>) {
    let mut chassis = [0u8; 7];
    chassis[0] = 4; // MAC address subtype
    chassis[1..].copy_from_slice(&a.chassis.0);
    tlv(out, 1, &chassis);
    let mut port = Vec::with_capacity(1 + a.port.len());
    port.push(5); // interface name
    port.extend_from_slice(a.port.as_bytes());
    tlv(out, 2, &port);
    tlv(out, 3, &a.ttl.to_be_bytes());
    tlv(out, 4, a.port_desc.as_bytes());
    tlv(out, 5, a.system_name.as_bytes());
    tlv(out, 6, a.system_desc.as_bytes());
    let c = a.caps.to_be_bytes();
    tlv(out, 7, &[c[0], c[1], c[0], c[1]]);
    // Management address: length 5, IPv4 subtype, address, ifIndex numbering, 1, no OID.
    let ip = a.mgmt.octets();
    tlv(
        out,
        8,
        &[5, 1, ip[0], ip[1], ip[2], ip[3], 2, 0, 0, 0, 1, 0],
    );
    tlv(out, 0, &[]);
}
