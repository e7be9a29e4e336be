//! CDP, the Cisco Discovery Protocol: what a Cisco switch, router, phone or access
//! point says about itself every minute on each link.
//!
//! An IEEE 802.3 frame to `01:00:0c:cc:cc:cc` with LLC `AA AA 03` and SNAP OUI
//! `00:00:0c`, protocol id `0x2000` ([`strip_llc_snap`] checks those); then:
//!
//! ```text
//! version u8 (1 or 2) | ttl u8 (seconds) | checksum u16
//! TLVs: type u16 | length u16 (header included, so at least 4) | value
//! ```
//!
//! The checksum is the Internet checksum of the whole PDU with Cisco's quirk for an
//! odd length: the last byte `v` counts as the word `0x00vv`, or `0xff00 + v - 1` when
//! `v >= 0x80` (a sign-extension bug compensated for; Wireshark and lldpd verify it the
//! same way). A mismatch sets [`Flags::BAD_CHECKSUM`] and is otherwise harmless.
//!
//! TLVs decoded: device id (1), addresses (2), port id (3), capabilities (4),
//! software version (5), platform (6), VTP management domain (9), native VLAN (10),
//! duplex (11), system name (20), management addresses (22). Addresses are entries of
//! protocol type (1 NLPID, 2 IEEE 802.2), protocol bytes (`CC` IPv4, `AA AA 03 00 00
//! 00 86 DD` IPv6) and address. Others are counted. [`pdu_from_frame`] takes a whole
//! frame and cuts the PDU to the 802.3 length, which [`Cdp::parse`] needs.
//!
//! [`Cdp::parse`] borrows everything; [`CdpRecord`] is the owned row for logs;
//! [`identity`] turns a frame into facts about its source MAC: hostname (device id),
//! software (the software version's first line), an OS when that line names one
//! ([`super::lldp::os_from_description`]), model (platform), device type
//! (capabilities) and management addresses.
//!
//! Violations: `bad_length` for a TLV shorter than its header or running past the
//! PDU, a fixed-size TLV of the wrong size or an address list that disagrees with its
//! count; `reserved_set` for a repeated TLV. A version other than 1 or 2 is not CDP
//! at all ([`Cdp::parse`] returns `None`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

use super::lldp::{os_from_description, push_fact, text};
use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

#[cfg(test)]
mod tests;

/// Protocol name in logs and identity facts.
pub const PROTOCOL: &str = "cdp";
/// CDP's destination MAC.
pub const MULTICAST: MacAddr = MacAddr([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc]);
/// SNAP organisation code (Cisco).
pub const SNAP_OUI: u32 = 0x00_000c;
/// SNAP protocol id of CDP.
pub const SNAP_PID: u16 = 0x2000;
/// TLVs walked per PDU at most.
pub const MAX_TLVS: usize = 256;
/// Addresses read from one address TLV at most.
pub const MAX_ADDRESSES: usize = 32;

/// TLV types.
pub mod tlv {
    /// Device id (the host name).
    pub const DEVICE_ID: u16 = 0x0001;
    /// Addresses of the sending interface.
    pub const ADDRESSES: u16 = 0x0002;
    /// Port id (interface name).
    pub const PORT_ID: u16 = 0x0003;
    /// Capabilities (u32 bits).
    pub const CAPABILITIES: u16 = 0x0004;
    /// Software version (multi-line text).
    pub const SOFTWARE_VERSION: u16 = 0x0005;
    /// Platform (model).
    pub const PLATFORM: u16 = 0x0006;
    /// VTP management domain.
    pub const VTP_DOMAIN: u16 = 0x0009;
    /// Native VLAN (u16).
    pub const NATIVE_VLAN: u16 = 0x000a;
    /// Duplex (u8: 0 half, 1 full).
    pub const DUPLEX: u16 = 0x000b;
    /// System name.
    pub const SYSTEM_NAME: u16 = 0x0014;
    /// Management addresses.
    pub const MANAGEMENT_ADDRESSES: u16 = 0x0016;
}

/// The payload after an LLC/SNAP header when it is CDP's (`AA AA 03 00 00 0C 20 00`).
pub fn strip_llc_snap(llc: &[u8]) -> Option<&[u8]> {
    match llc {
        [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, rest @ ..] => Some(rest),
        _ => None,
    }
}

/// The CDP PDU of a whole Ethernet frame (IEEE 802.3 with LLC/SNAP, optionally with up
/// to two VLAN tags), cut to the 802.3 length field so that Ethernet padding and a
/// captured FCS are not read as TLVs. `None` when it is not CDP's LLC/SNAP.
pub fn pdu_from_frame(frame: &[u8]) -> Option<&[u8]> {
    let mut at = 12;
    for _ in 0..2 {
        let t = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
        if !matches!(t, 0x8100 | 0x88a8 | 0x9100) {
            break;
        }
        at += 4;
    }
    let len = usize::from(u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?));
    if len > 1500 {
        return None;
    }
    let llc = frame.get(at + 2..)?;
    // A capture cut by its snapshot length keeps what it has.
    strip_llc_snap(llc.get(..len).unwrap_or(llc))
}

/// Capability bit names, bit 0 first.
const CAPABILITY_NAMES: [&str; 11] = [
    "router",
    "transparent_bridge",
    "source_route_bridge",
    "switch",
    "host",
    "igmp_capable",
    "repeater",
    "voip_phone",
    "remotely_managed",
    "cvta",
    "two_port_mac_relay",
];

/// Names of the set capability bits.
pub fn capability_names(bits: u32) -> impl Iterator<Item = &'static str> {
    CAPABILITY_NAMES
        .into_iter()
        .enumerate()
        .filter(move |(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| n)
}

/// CDP's checksum of `pdu` (see the module's doc for the odd-length rule). Over a
/// whole PDU with its checksum in place, a correct one gives 0.
pub fn checksum(pdu: &[u8]) -> u16 {
    let mut sum = 0u64;
    let mut words = pdu.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [v] = words.remainder() {
        sum += if v & 0x80 != 0 {
            0xff00 + u64::from(v - 1)
        } else {
            u64::from(*v)
        };
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One address of an address TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Address<'a> {
    /// Protocol type: 1 NLPID, 2 IEEE 802.2.
    pub protocol_type: u8,
    /// Protocol (`CC` for IPv4 as NLPID; an 802.2 SNAP header for IPv6).
    pub protocol: &'a [u8],
    /// The address.
    pub address: &'a [u8],
}

impl Address<'_> {
    /// The address as an IP, when it is IPv4 or IPv6.
    pub fn ip(&self) -> Option<IpAddr> {
        match (self.protocol_type, self.protocol, self.address.len()) {
            (1, [0xcc], 4) => <[u8; 4]>::try_from(self.address)
                .ok()
                .map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            (2, [0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd], 16) => <[u8; 16]>::try_from(self.address)
                .ok()
                .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            _ => None,
        }
    }
}

/// Walks an address TLV's value: the addresses and whether the list agreed with its
/// count and length (at most [`MAX_ADDRESSES`] are read).
fn addresses(v: &[u8]) -> (impl Iterator<Item = Address<'_>>, bool) {
    let count = v
        .get(..4)
        .map_or(0, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize);
    let mut at = 4;
    let mut ok = v.len() >= 4;
    let mut n = 0;
    // Validate first so the iterator below can stop quietly.
    while n < count.min(MAX_ADDRESSES) {
        match address_at(v, at) {
            Some((_, next)) => at = next,
            None => {
                ok = false;
                break;
            }
        }
        n += 1;
    }
    if ok && count <= MAX_ADDRESSES && at != v.len() {
        ok = false;
    }
    let mut at = 4;
    let iter = std::iter::from_fn(move || {
        let (a, next) = address_at(v, at)?;
        at = next;
        Some(a)
    })
    .take(count.min(MAX_ADDRESSES));
    (iter, ok)
}

fn address_at(v: &[u8], at: usize) -> Option<(Address<'_>, usize)> {
    let protocol_type = *v.get(at)?;
    let plen = usize::from(*v.get(at + 1)?);
    let protocol = v.get(at + 2..at + 2 + plen)?;
    let l = v.get(at + 2 + plen..at + 4 + plen)?;
    let alen = usize::from(u16::from_be_bytes([l[0], l[1]]));
    let start = at + 4 + plen;
    let address = v.get(start..start + alen)?;
    Some((
        Address {
            protocol_type,
            protocol,
            address,
        },
        start + alen,
    ))
}

/// One TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Type.
    pub tlv_type: u16,
    /// Value (after the 4-byte header).
    pub value: &'a [u8],
}

fn tlv_at(b: &[u8], at: usize) -> Option<(Tlv<'_>, usize)> {
    let h = b.get(at..at + 4)?;
    let tlv_type = u16::from_be_bytes([h[0], h[1]]);
    let len = usize::from(u16::from_be_bytes([h[2], h[3]]));
    if len < 4 {
        return None;
    }
    let value = b.get(at + 4..at + len)?;
    Some((Tlv { tlv_type, value }, at + len))
}

/// One CDP PDU, validated; text fields are the bytes as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cdp<'a> {
    /// The PDU.
    pub bytes: &'a [u8],
    /// Version (1 or 2).
    pub version: u8,
    /// Time to live, seconds.
    pub ttl: u8,
    /// Checksum as sent (a wrong one sets [`Flags::BAD_CHECKSUM`]).
    pub checksum: u16,
    /// Device id.
    pub device_id: Option<&'a [u8]>,
    /// Port id.
    pub port_id: Option<&'a [u8]>,
    /// Capabilities (names: [`capability_names`]).
    pub capabilities: Option<u32>,
    /// Software version (several lines).
    pub software_version: Option<&'a [u8]>,
    /// Platform.
    pub platform: Option<&'a [u8]>,
    /// VTP management domain.
    pub vtp_domain: Option<&'a [u8]>,
    /// Native VLAN.
    pub native_vlan: Option<u16>,
    /// Duplex: 0 half, 1 full.
    pub duplex: Option<u8>,
    /// System name.
    pub system_name: Option<&'a [u8]>,
    /// TLVs walked.
    pub tlv_count: u16,
    /// TLVs of types not decoded here.
    pub other_tlvs: u16,
    /// Violations.
    pub flags: Flags,
}

impl<'a> Cdp<'a> {
    /// Parses the PDU from the CDP header on. `bytes` must end where the PDU ends (an
    /// 802.3 frame's length field says where; Ethernet padding after it would read
    /// as a malformed TLV and break the checksum). Not CDP when shorter than the
    /// header or of a version other than 1 or 2.
    pub fn parse(bytes: &'a [u8]) -> Option<Cdp<'a>> {
        let (&version, rest) = bytes.split_first()?;
        let (&ttl, rest) = rest.split_first()?;
        let c = rest.get(..2)?;
        if !matches!(version, 1 | 2) {
            return None;
        }
        let mut d = Cdp {
            bytes,
            version,
            ttl,
            checksum: u16::from_be_bytes([c[0], c[1]]),
            device_id: None,
            port_id: None,
            capabilities: None,
            software_version: None,
            platform: None,
            vtp_domain: None,
            native_vlan: None,
            duplex: None,
            system_name: None,
            tlv_count: 0,
            other_tlvs: 0,
            flags: Flags(if checksum(bytes) != 0 {
                Flags::BAD_CHECKSUM
            } else {
                0
            }),
        };
        let mut at = 4;
        while at < bytes.len() && usize::from(d.tlv_count) < MAX_TLVS {
            let Some((t, next)) = tlv_at(bytes, at) else {
                d.flags.set(Flags::BAD_LENGTH);
                break;
            };
            d.tlv_count += 1;
            d.on_tlv(t);
            // Progress: a TLV is at least its 4-byte header.
            at = next;
        }
        Some(d)
    }

    fn on_tlv(&mut self, t: Tlv<'a>) {
        let v = t.value;
        let flags = &mut self.flags;
        let set_once = |slot: &mut Option<&'a [u8]>, flags: &mut Flags| {
            if slot.is_some() {
                flags.set(Flags::RESERVED_SET);
            } else {
                *slot = Some(v);
            }
        };
        match t.tlv_type {
            tlv::DEVICE_ID => set_once(&mut self.device_id, flags),
            tlv::PORT_ID => set_once(&mut self.port_id, flags),
            tlv::SOFTWARE_VERSION => set_once(&mut self.software_version, flags),
            tlv::PLATFORM => set_once(&mut self.platform, flags),
            tlv::VTP_DOMAIN => set_once(&mut self.vtp_domain, flags),
            tlv::SYSTEM_NAME => set_once(&mut self.system_name, flags),
            tlv::CAPABILITIES => match v {
                [a, b, c, d] => {
                    if self.capabilities.is_some() {
                        flags.set(Flags::RESERVED_SET);
                    }
                    self.capabilities
                        .get_or_insert(u32::from_be_bytes([*a, *b, *c, *d]));
                }
                _ => flags.set(Flags::BAD_LENGTH),
            },
            tlv::NATIVE_VLAN => match v {
                [a, b] => {
                    self.native_vlan.get_or_insert(u16::from_be_bytes([*a, *b]));
                }
                _ => flags.set(Flags::BAD_LENGTH),
            },
            tlv::DUPLEX => match v {
                [d] => {
                    self.duplex.get_or_insert(*d);
                }
                _ => flags.set(Flags::BAD_LENGTH),
            },
            tlv::ADDRESSES | tlv::MANAGEMENT_ADDRESSES => {
                if !addresses(v).1 {
                    flags.set(Flags::BAD_LENGTH);
                }
            }
            _ => self.other_tlvs += 1,
        }
    }

    /// Every TLV walked, in order.
    pub fn iter_tlvs(&self) -> impl Iterator<Item = Tlv<'a>> + 'a {
        let b = self.bytes;
        let mut at = 4;
        std::iter::from_fn(move || {
            let (t, next) = tlv_at(b, at)?;
            at = next;
            Some(t)
        })
        .take(MAX_TLVS)
    }

    fn addresses_of(&self, kind: u16) -> impl Iterator<Item = Address<'a>> + 'a {
        self.iter_tlvs()
            .filter(move |t| t.tlv_type == kind)
            .flat_map(|t| addresses(t.value).0)
    }

    /// Addresses of the sending interface (TLV 2).
    pub fn addresses(&self) -> impl Iterator<Item = Address<'a>> + 'a {
        self.addresses_of(tlv::ADDRESSES)
    }

    /// Management addresses (TLV 22).
    pub fn management_addresses(&self) -> impl Iterator<Item = Address<'a>> + 'a {
        self.addresses_of(tlv::MANAGEMENT_ADDRESSES)
    }
}

/// One CDP PDU per LLC/SNAP payload (after [`strip_llc_snap`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Cdp<'a>;
    const MAX_PDU: usize = 1500;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Cdp<'a>> {
        match Cdp::parse(input) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: input.len(),
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// The first line of a software version, trimmed.
pub fn first_line(s: &str) -> &str {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

/// One CDP PDU as a row for logs (owned; text as lossy UTF-8, trailing NULs and
/// blanks trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CdpRecord {
    /// Nanoseconds since the epoch.
    pub ts: i64,
    /// Source MAC of the frame.
    pub src: Option<MacAddr>,
    /// Version.
    pub version: u8,
    /// Time to live, seconds.
    pub ttl: u8,
    /// Device id.
    pub device_id: Option<String>,
    /// Port id.
    pub port_id: Option<String>,
    /// Capabilities.
    pub capabilities: Option<u32>,
    /// Software version (all lines).
    pub software_version: Option<String>,
    /// Platform.
    pub platform: Option<String>,
    /// VTP management domain.
    pub vtp_domain: Option<String>,
    /// Native VLAN.
    pub native_vlan: Option<u16>,
    /// Duplex: 0 half, 1 full.
    pub duplex: Option<u8>,
    /// System name.
    pub system_name: Option<String>,
    /// Interface addresses (IPs only, at most [`MAX_ADDRESSES`]).
    pub addresses: Vec<IpAddr>,
    /// Management addresses (IPs only, at most [`MAX_ADDRESSES`]).
    pub management_addresses: Vec<IpAddr>,
    /// [`os_from_description`] of the software version.
    pub os: Option<String>,
    /// Violations.
    pub flags: Flags,
}

impl CdpRecord {
    /// The record of a PDU from `src` at `ts`.
    pub fn new(ts: i64, src: MacAddr, d: &Cdp<'_>) -> CdpRecord {
        let software_version = d.software_version.map(text);
        CdpRecord {
            ts,
            src: Some(src),
            version: d.version,
            ttl: d.ttl,
            device_id: d.device_id.map(text),
            port_id: d.port_id.map(text),
            capabilities: d.capabilities,
            os: software_version
                .as_deref()
                .and_then(|s| os_from_description(first_line(s))),
            software_version,
            platform: d.platform.map(text),
            vtp_domain: d.vtp_domain.map(text),
            native_vlan: d.native_vlan,
            duplex: d.duplex,
            system_name: d.system_name.map(text),
            addresses: d
                .addresses()
                .filter_map(|a| a.ip())
                .take(MAX_ADDRESSES)
                .collect(),
            management_addresses: d
                .management_addresses()
                .filter_map(|a| a.ip())
                .take(MAX_ADDRESSES)
                .collect(),
            flags: d.flags,
        }
    }
}

/// What a PDU from `src` (the Ethernet source) says about its sender:
///
/// - `hostname`: the device id;
/// - `software`: the software version's first line; `os` from it when
///   [`os_from_description`] matches (`Cisco IOS 12.2(55)SE5`);
/// - `model`: the platform (`cisco WS-C2960-24TT-L`);
/// - `device_type`: the capabilities' names joined by commas (`router,switch,igmp_capable`);
/// - `management_address`: each IP of the management addresses and the addresses
///   TLVs.
pub fn identity(src: MacAddr, d: &Cdp<'_>, facts: &mut Vec<IdentityFact>) {
    let start = facts.len();
    let about = Subject::Mac(src);
    let mut add = |kind, value: String| push_fact(facts, start, about, kind, value, PROTOCOL);
    if let Some(n) = d.device_id {
        add(IdentityKind::Hostname, text(n));
    }
    if let Some(s) = d.software_version {
        let s = text(s);
        let line = first_line(&s);
        if let Some(os) = os_from_description(line) {
            add(IdentityKind::Os, os);
        }
        add(IdentityKind::Software, line.to_string());
    }
    if let Some(p) = d.platform {
        add(IdentityKind::Model, text(p));
    }
    if let Some(c) = d.capabilities {
        add(
            IdentityKind::DeviceType,
            capability_names(c).collect::<Vec<_>>().join(","),
        );
    }
    for a in d.management_addresses().chain(d.addresses()) {
        if let Some(ip) = a.ip() {
            add(IdentityKind::ManagementAddress, ip.to_string());
        }
    }
}
