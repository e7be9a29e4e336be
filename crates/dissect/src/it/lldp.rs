//! LLDP, the Link Layer Discovery Protocol (IEEE 802.1AB), EtherType 0x88CC.
//!
//! Every few seconds a switch port, a PLC or a host running `lldpd` sends one frame to
//! a link-local multicast address saying who it is. The payload after the Ethernet
//! header is a list of TLVs, each a 16-bit header (type: 7 bits, length: 9 bits) and
//! up to 511 bytes of value:
//!
//! ```text
//! 1 chassis id  (subtype u8, id)   } mandatory, in this order, first
//! 2 port id     (subtype u8, id)   }
//! 3 time to live (u16 seconds)     }
//! 4 port description | 5 system name | 6 system description (text)
//! 7 system capabilities (available u16, enabled u16)
//! 8 management address (len u8, family u8, address, if-subtype u8, if-number u32,
//!   oid len u8, oid)
//! 127 organisation-specific (OUI [3], subtype u8, data)
//! 0 end of LLDPDU (length 0)
//! ```
//!
//! [`Lldpdu::parse`] walks the TLVs once without allocating and keeps the fields as
//! borrowed slices; [`LldpRecord`] is the owned copy for logs, and [`identity`] turns
//! a frame into facts about its source MAC (the caller's, from the Ethernet header):
//! hostname (system name), description (system description), device type (enabled
//! capabilities, `bridge,router`), management addresses, and an OS when the system
//! description names one plainly ([`os_from_description`] says which patterns count).
//! PROFINET devices describe themselves in a fixed layout (vendor, product, order
//! number, hardware and firmware revision: [`StationDescription`]), which gives vendor,
//! product, model and firmware facts too.
//!
//! Organisation-specific TLVs are counted; two are decoded because they are cheap and
//! say much about a port: IEEE 802.1 port VLAN id and IEEE 802.3 MAC/PHY status.
//! PROFINET devices (OUI 00-0e-cf) send their own TLVs (port status, MRP, delay):
//! [`Lldpdu::profinet_tlvs`] counts them, a sign the sender is a PROFINET device.
//!
//! Violations are [`Flags`]: `bad_length` for a TLV running past the frame, a value
//! whose length is wrong for its type (TTL not 2 bytes, capabilities not 4, an empty
//! chassis or port id, an inconsistent management address) or a missing End TLV;
//! `reserved_set` for mandatory TLVs missing, out of place or repeated, a repeated
//! single TLV, a reserved TLV type (9..=126) or an End TLV with a length;
//! `unknown_function` for a chassis or port id subtype the standard does not define.
//! Only a frame whose first TLV is not a chassis id is "not LLDP".

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

#[cfg(test)]
mod tests;

/// Protocol name in logs and identity facts.
pub const PROTOCOL: &str = "lldp";
/// LLDP's EtherType.
pub const ETHERTYPE: u16 = 0x88cc;
/// TLVs walked per frame at most (a 9000-byte jumbo frame holds 4500 empty TLVs).
pub const MAX_TLVS: usize = 512;
/// Management addresses an [`LldpRecord`] keeps.
pub const MAX_MGMT_ADDRS: usize = 8;

/// TLV types.
pub mod tlv {
    /// End of LLDPDU.
    pub const END: u8 = 0;
    /// Chassis id (mandatory, first).
    pub const CHASSIS_ID: u8 = 1;
    /// Port id (mandatory, second).
    pub const PORT_ID: u8 = 2;
    /// Time to live (mandatory, third).
    pub const TTL: u8 = 3;
    /// Port description.
    pub const PORT_DESCRIPTION: u8 = 4;
    /// System name.
    pub const SYSTEM_NAME: u8 = 5;
    /// System description.
    pub const SYSTEM_DESCRIPTION: u8 = 6;
    /// System capabilities.
    pub const SYSTEM_CAPABILITIES: u8 = 7;
    /// Management address.
    pub const MANAGEMENT_ADDRESS: u8 = 8;
    /// Organisation-specific.
    pub const ORG_SPECIFIC: u8 = 127;
}

/// Organisationally unique identifiers of organisation-specific TLVs.
pub mod oui {
    /// IEEE 802.1.
    pub const IEEE_802_1: [u8; 3] = [0x00, 0x80, 0xc2];
    /// IEEE 802.3.
    pub const IEEE_802_3: [u8; 3] = [0x00, 0x12, 0x0f];
    /// PROFINET (PNO).
    pub const PROFINET: [u8; 3] = [0x00, 0x0e, 0xcf];
    /// TIA TR-41 (LLDP-MED).
    pub const TIA_MED: [u8; 3] = [0x00, 0x12, 0xbb];
}

/// The name of a TLV type.
pub fn tlv_name(t: u8) -> &'static str {
    match t {
        tlv::END => "end",
        tlv::CHASSIS_ID => "chassis_id",
        tlv::PORT_ID => "port_id",
        tlv::TTL => "ttl",
        tlv::PORT_DESCRIPTION => "port_description",
        tlv::SYSTEM_NAME => "system_name",
        tlv::SYSTEM_DESCRIPTION => "system_description",
        tlv::SYSTEM_CAPABILITIES => "system_capabilities",
        tlv::MANAGEMENT_ADDRESS => "management_address",
        tlv::ORG_SPECIFIC => "org_specific",
        _ => "reserved",
    }
}

/// System capability bit names, bit 0 first (802.1AB-2009 table 8-4).
const CAPABILITY_NAMES: [&str; 11] = [
    "other",
    "repeater",
    "bridge",
    "wlan_access_point",
    "router",
    "telephone",
    "docsis_cable_device",
    "station_only",
    "c_vlan_component",
    "s_vlan_component",
    "two_port_mac_relay",
];

/// Names of the set capability bits (bits 11..15 are reserved and not named).
pub fn capability_names(bits: u16) -> impl Iterator<Item = &'static str> {
    CAPABILITY_NAMES
        .into_iter()
        .enumerate()
        .filter(move |(i, _)| bits & (1 << i) != 0)
        .map(|(_, n)| n)
}

/// How a chassis or port id is encoded, by subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdEncoding {
    /// Text (an alias, a component or interface name, locally assigned).
    Text,
    /// A MAC address.
    Mac,
    /// A network address: an IANA address family byte and the address.
    Network,
    /// Opaque bytes (agent circuit id, reserved subtypes).
    Binary,
}

/// A chassis id or port id: the raw subtype and the id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id<'a> {
    /// Whether this is a chassis id (else a port id): the subtypes differ.
    pub chassis: bool,
    /// Subtype.
    pub subtype: u8,
    /// The id as sent.
    pub value: &'a [u8],
}

impl Id<'_> {
    /// How the subtype says the id is encoded.
    pub fn encoding(&self) -> IdEncoding {
        match (self.chassis, self.subtype) {
            (true, 4) | (false, 3) => IdEncoding::Mac,
            (true, 5) | (false, 4) => IdEncoding::Network,
            (true, 1 | 2 | 3 | 6 | 7) | (false, 1 | 2 | 5 | 7) => IdEncoding::Text,
            _ => IdEncoding::Binary,
        }
    }

    /// The subtype's name (`mac_address`, `interface_name`, ...) or `"reserved"`.
    pub fn subtype_name(&self) -> &'static str {
        match (self.chassis, self.subtype) {
            (true, 1) => "chassis_component",
            (true, 2) | (false, 1) => "interface_alias",
            (true, 3) | (false, 2) => "port_component",
            (true, 4) | (false, 3) => "mac_address",
            (true, 5) | (false, 4) => "network_address",
            (true, 6) | (false, 5) => "interface_name",
            (false, 6) => "agent_circuit_id",
            (_, 7) => "locally_assigned",
            _ => "reserved",
        }
    }

    /// The id as text: `aa:bb:..` for a MAC, an IP for a network address, the text
    /// itself, or hex for anything else (or a value of the wrong length).
    pub fn to_text(&self) -> String {
        match self.encoding() {
            IdEncoding::Mac if self.value.len() == 6 => mac_text(self.value),
            IdEncoding::Network => match network_address(self.value) {
                Some(ip) => ip.to_string(),
                None => hex(self.value),
            },
            IdEncoding::Text => text(self.value),
            _ => hex(self.value),
        }
    }
}

/// System capabilities: what the system can do and what is enabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// Capabilities the system has (bit 0 other, 2 bridge, 4 router, ...).
    pub available: u16,
    /// Those enabled.
    pub enabled: u16,
}

/// A management address TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MgmtAddr<'a> {
    /// IANA address family (1 IPv4, 2 IPv6, 6 IEEE 802 MAC).
    pub family: u8,
    /// The address.
    pub address: &'a [u8],
    /// Interface numbering subtype (1 unknown, 2 ifIndex, 3 system port number).
    pub if_subtype: u8,
    /// Interface number.
    pub if_number: u32,
    /// Object identifier of the hardware component (BER encoded), often empty.
    pub oid: &'a [u8],
}

impl MgmtAddr<'_> {
    /// The address as an IP, when it is IPv4 or IPv6 of the right length.
    pub fn ip(&self) -> Option<IpAddr> {
        match (self.family, self.address.len()) {
            (1, 4) => <[u8; 4]>::try_from(self.address)
                .ok()
                .map(|a| IpAddr::V4(Ipv4Addr::from(a))),
            (2, 16) => <[u8; 16]>::try_from(self.address)
                .ok()
                .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
            _ => None,
        }
    }

    /// The address as text: an IP, a MAC (family 6), else `family:hex`.
    pub fn to_text(&self) -> String {
        match (self.ip(), self.family, self.address.len()) {
            (Some(ip), _, _) => ip.to_string(),
            (None, 6, 6) => mac_text(self.address),
            _ => format!("{}:{}", self.family, hex(self.address)),
        }
    }

    /// Parses a management address TLV's value; `None` when its lengths disagree
    /// (address string length outside 2..=32, or running past the value, or an OID
    /// longer than 128 bytes).
    pub fn parse(v: &[u8]) -> Option<MgmtAddr<'_>> {
        let (&len, rest) = v.split_first()?;
        let len = usize::from(len);
        if !(2..=32).contains(&len) {
            return None;
        }
        let (&family, rest) = rest.split_first()?;
        let address = rest.get(..len - 1)?;
        let rest = rest.get(len - 1..)?;
        let if_subtype = *rest.first()?;
        let if_number = u32::from_be_bytes(rest.get(1..5)?.try_into().ok()?);
        let oid_len = usize::from(*rest.get(5)?);
        if oid_len > 128 {
            return None;
        }
        let oid = rest.get(6..6 + oid_len)?;
        Some(MgmtAddr {
            family,
            address,
            if_subtype,
            if_number,
            oid,
        })
    }
}

/// IEEE 802.3 MAC/PHY configuration and status (OUI 00-12-0f, subtype 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MacPhy {
    /// Auto-negotiation: bit 0 supported, bit 1 enabled.
    pub autoneg: u8,
    /// PMD auto-negotiation advertised capabilities (RFC 4836 bits).
    pub advertised: u16,
    /// Operational MAU type (RFC 4836 dot3MauType: 16 = 100BASE-TX full duplex,
    /// 30 = 1000BASE-T full duplex, ...).
    pub mau_type: u16,
}

/// One TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Type (7 bits).
    pub tlv_type: u8,
    /// Value (its 9-bit length checked against the frame).
    pub value: &'a [u8],
}

/// The TLV at `at` and where the next starts; `None` when the header or the value
/// runs past the end.
fn tlv_at(b: &[u8], at: usize) -> Option<(Tlv<'_>, usize)> {
    let h = b.get(at..at + 2)?;
    let word = u16::from_be_bytes([h[0], h[1]]);
    let len = usize::from(word & 0x01ff);
    let value = b.get(at + 2..at + 2 + len)?;
    Some((
        Tlv {
            tlv_type: (word >> 9) as u8,
            value,
        },
        at + 2 + len,
    ))
}

/// One LLDP frame, validated; text fields are the bytes as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lldpdu<'a> {
    /// The TLVs walked (from the first to the End TLV, or to where the walk stopped).
    pub tlvs: &'a [u8],
    /// Chassis id.
    pub chassis_id: Option<Id<'a>>,
    /// Port id.
    pub port_id: Option<Id<'a>>,
    /// Time to live, seconds (0: forget this sender).
    pub ttl: Option<u16>,
    /// Port description.
    pub port_description: Option<&'a [u8]>,
    /// System name.
    pub system_name: Option<&'a [u8]>,
    /// System description.
    pub system_description: Option<&'a [u8]>,
    /// System capabilities.
    pub capabilities: Option<Capabilities>,
    /// IEEE 802.1 port VLAN id (0: none).
    pub port_vlan: Option<u16>,
    /// IEEE 802.3 MAC/PHY configuration and status.
    pub mac_phy: Option<MacPhy>,
    /// TLVs walked, End included.
    pub tlv_count: u16,
    /// Management address TLVs that parsed.
    pub mgmt_count: u16,
    /// Organisation-specific TLVs.
    pub org_tlvs: u16,
    /// Of those, PROFINET's (OUI 00-0e-cf).
    pub profinet_tlvs: u16,
    /// Whether the End TLV was there.
    pub end: bool,
    /// Violations.
    pub flags: Flags,
}

impl<'a> Lldpdu<'a> {
    /// Parses the payload after the Ethernet header (and any VLAN tags). Not LLDP
    /// unless the first TLV is a chassis id; everything else is flagged (see the
    /// module's doc). Bytes after the End TLV are Ethernet padding and ignored.
    pub fn parse(bytes: &'a [u8]) -> Option<Lldpdu<'a>> {
        let first = bytes.first()?;
        if first >> 1 != tlv::CHASSIS_ID {
            return None;
        }
        let mut d = Lldpdu {
            tlvs: bytes,
            chassis_id: None,
            port_id: None,
            ttl: None,
            port_description: None,
            system_name: None,
            system_description: None,
            capabilities: None,
            port_vlan: None,
            mac_phy: None,
            tlv_count: 0,
            mgmt_count: 0,
            org_tlvs: 0,
            profinet_tlvs: 0,
            end: false,
            flags: Flags::default(),
        };
        let mut at = 0;
        let mut index = 0usize;
        while index < MAX_TLVS {
            let Some((t, next)) = tlv_at(bytes, at) else {
                break;
            };
            d.tlv_count += 1;
            d.on_tlv(index, t);
            // Progress: `next >= at + 2`.
            at = next;
            index += 1;
            if t.tlv_type == tlv::END {
                d.end = true;
                break;
            }
        }
        d.tlvs = bytes.get(..at).unwrap_or(bytes);
        if !d.end {
            d.flags.set(Flags::BAD_LENGTH);
        }
        if d.chassis_id.is_none() || d.port_id.is_none() || d.ttl.is_none() {
            d.flags.set(Flags::RESERVED_SET);
        }
        Some(d)
    }

    fn on_tlv(&mut self, index: usize, t: Tlv<'a>) {
        let v = t.value;
        let flags = &mut self.flags;
        // The mandatory TLVs are the first three, in order, and only there.
        let mandatory = [tlv::CHASSIS_ID, tlv::PORT_ID, tlv::TTL];
        let expected = mandatory.get(index).copied();
        if (expected.is_some() && expected != Some(t.tlv_type))
            || (expected.is_none() && mandatory.contains(&t.tlv_type))
        {
            flags.set(Flags::RESERVED_SET);
        }
        let once = |slot: bool, flags: &mut Flags| {
            if slot {
                flags.set(Flags::RESERVED_SET);
            }
            !slot
        };
        match t.tlv_type {
            tlv::END => {
                if !v.is_empty() {
                    flags.set(Flags::RESERVED_SET);
                }
            }
            tlv::CHASSIS_ID | tlv::PORT_ID => {
                let chassis = t.tlv_type == tlv::CHASSIS_ID;
                let slot = if chassis {
                    &mut self.chassis_id
                } else {
                    &mut self.port_id
                };
                match v.split_first() {
                    Some((&subtype, value)) if !value.is_empty() && value.len() <= 255 => {
                        if index >= 2 {
                            // Out of place: already flagged; keep the first.
                        } else if slot.is_none() {
                            let id = Id {
                                chassis,
                                subtype,
                                value,
                            };
                            let wrong_len = match id.encoding() {
                                IdEncoding::Mac => value.len() != 6,
                                IdEncoding::Network => network_address(value).is_none(),
                                _ => false,
                            };
                            if wrong_len {
                                flags.set(Flags::BAD_LENGTH);
                            }
                            if id.subtype_name() == "reserved" {
                                flags.set(Flags::UNKNOWN_FUNCTION);
                            }
                            *slot = Some(id);
                        }
                    }
                    _ => flags.set(Flags::BAD_LENGTH),
                }
            }
            tlv::TTL => match v {
                [a, b] if index == 2 => self.ttl = Some(u16::from_be_bytes([*a, *b])),
                [_, _] => {}
                _ => flags.set(Flags::BAD_LENGTH),
            },
            tlv::PORT_DESCRIPTION | tlv::SYSTEM_NAME | tlv::SYSTEM_DESCRIPTION => {
                let slot = match t.tlv_type {
                    tlv::PORT_DESCRIPTION => &mut self.port_description,
                    tlv::SYSTEM_NAME => &mut self.system_name,
                    _ => &mut self.system_description,
                };
                if once(slot.is_some(), flags) {
                    *slot = Some(v);
                }
            }
            tlv::SYSTEM_CAPABILITIES => match v {
                [a, b, c, d] => {
                    if once(self.capabilities.is_some(), flags) {
                        self.capabilities = Some(Capabilities {
                            available: u16::from_be_bytes([*a, *b]),
                            enabled: u16::from_be_bytes([*c, *d]),
                        });
                    }
                }
                _ => flags.set(Flags::BAD_LENGTH),
            },
            tlv::MANAGEMENT_ADDRESS => match MgmtAddr::parse(v) {
                Some(_) => self.mgmt_count += 1,
                None => flags.set(Flags::BAD_LENGTH),
            },
            tlv::ORG_SPECIFIC => {
                self.org_tlvs += 1;
                let (Some(o), Some(&subtype), Some(data)) = (v.get(..3), v.get(3), v.get(4..))
                else {
                    flags.set(Flags::BAD_LENGTH);
                    return;
                };
                match (o, subtype, data) {
                    (o, 1, [a, b]) if o == oui::IEEE_802_1 => {
                        self.port_vlan.get_or_insert(u16::from_be_bytes([*a, *b]));
                    }
                    (o, 1, [an, a1, a2, m1, m2]) if o == oui::IEEE_802_3 => {
                        self.mac_phy.get_or_insert(MacPhy {
                            autoneg: *an,
                            advertised: u16::from_be_bytes([*a1, *a2]),
                            mau_type: u16::from_be_bytes([*m1, *m2]),
                        });
                    }
                    (o, 1, _) if o == oui::IEEE_802_1 || o == oui::IEEE_802_3 => {
                        flags.set(Flags::BAD_LENGTH);
                    }
                    (o, _, _) if o == oui::PROFINET => self.profinet_tlvs += 1,
                    _ => {}
                }
            }
            _ => flags.set(Flags::RESERVED_SET),
        }
    }

    /// Every TLV walked, in order.
    pub fn iter_tlvs(&self) -> impl Iterator<Item = Tlv<'a>> + 'a {
        let b = self.tlvs;
        let mut at = 0;
        std::iter::from_fn(move || {
            let (t, next) = tlv_at(b, at)?;
            at = next;
            Some(t)
        })
        .take(MAX_TLVS)
    }

    /// The management addresses that parsed.
    pub fn management_addresses(&self) -> impl Iterator<Item = MgmtAddr<'a>> + 'a {
        self.iter_tlvs()
            .filter(|t| t.tlv_type == tlv::MANAGEMENT_ADDRESS)
            .filter_map(|t| MgmtAddr::parse(t.value))
    }

    /// Organisation-specific TLVs: (OUI, subtype, data).
    pub fn org_specific(&self) -> impl Iterator<Item = ([u8; 3], u8, &'a [u8])> + 'a {
        self.iter_tlvs()
            .filter(|t| t.tlv_type == tlv::ORG_SPECIFIC)
            .filter_map(|t| {
                let o: [u8; 3] = t.value.get(..3)?.try_into().ok()?;
                Some((o, *t.value.get(3)?, t.value.get(4..)?))
            })
    }
}

/// One LLDP frame per EtherType 0x88CC payload.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Lldpdu<'a>;
    const MAX_PDU: usize = 65535;

    /// The whole payload is one PDU (padding after the End TLV included).
    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Lldpdu<'a>> {
        match Lldpdu::parse(input) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: input.len(),
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// One LLDP frame as a row for logs (owned, text fields as lossy UTF-8 with trailing
/// NULs and blanks trimmed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LldpRecord {
    /// Nanoseconds since the epoch.
    pub ts: i64,
    /// Source MAC of the frame.
    pub src: Option<MacAddr>,
    /// Chassis id subtype.
    pub chassis_subtype: Option<u8>,
    /// Chassis id as text ([`Id::to_text`]).
    pub chassis_id: Option<String>,
    /// Port id subtype.
    pub port_subtype: Option<u8>,
    /// Port id as text.
    pub port_id: Option<String>,
    /// Time to live, seconds.
    pub ttl: Option<u16>,
    /// Port description.
    pub port_description: Option<String>,
    /// System name.
    pub system_name: Option<String>,
    /// System description.
    pub system_description: Option<String>,
    /// Capabilities available (names: [`capability_names`]).
    pub capabilities: Option<u16>,
    /// Capabilities enabled.
    pub enabled_capabilities: Option<u16>,
    /// Management addresses as text (at most [`MAX_MGMT_ADDRS`]).
    pub management_addresses: Vec<String>,
    /// IEEE 802.1 port VLAN id.
    pub port_vlan: Option<u16>,
    /// IEEE 802.3 operational MAU type.
    pub mau_type: Option<u16>,
    /// Organisation-specific TLVs.
    pub org_tlvs: u16,
    /// PROFINET TLVs among them.
    pub profinet_tlvs: u16,
    /// [`os_from_description`] of the system description.
    pub os: Option<String>,
    /// Violations.
    pub flags: Flags,
}

impl LldpRecord {
    /// The record of a frame from `src` at `ts`.
    pub fn new(ts: i64, src: MacAddr, d: &Lldpdu<'_>) -> LldpRecord {
        LldpRecord {
            ts,
            src: Some(src),
            chassis_subtype: d.chassis_id.map(|i| i.subtype),
            chassis_id: d.chassis_id.map(|i| i.to_text()),
            port_subtype: d.port_id.map(|i| i.subtype),
            port_id: d.port_id.map(|i| i.to_text()),
            ttl: d.ttl,
            port_description: d.port_description.map(text),
            system_name: d.system_name.map(text),
            system_description: d.system_description.map(text),
            capabilities: d.capabilities.map(|c| c.available),
            enabled_capabilities: d.capabilities.map(|c| c.enabled),
            management_addresses: d
                .management_addresses()
                .take(MAX_MGMT_ADDRS)
                .map(|m| m.to_text())
                .collect(),
            port_vlan: d.port_vlan,
            mau_type: d.mac_phy.map(|m| m.mau_type),
            org_tlvs: d.org_tlvs,
            profinet_tlvs: d.profinet_tlvs,
            os: d
                .system_description
                .and_then(|s| os_from_description(&text(s))),
            flags: d.flags,
        }
    }
}

/// Pushes a fact unless it is empty or already among `facts[start..]`.
pub(crate) fn push_fact(
    facts: &mut Vec<IdentityFact>,
    start: usize,
    about: Subject,
    kind: IdentityKind,
    value: String,
    protocol: &'static str,
) {
    if value.is_empty()
        || facts
            .get(start..)
            .is_some_and(|f| f.iter().any(|f| f.kind == kind && f.value == value))
    {
        return;
    }
    facts.push(IdentityFact {
        about,
        kind,
        value,
        protocol,
    });
}

/// What a frame from `src` (the Ethernet source) says about its sender:
///
/// - `hostname`: the system name;
/// - `description`: the system description;
/// - `os`: [`os_from_description`] of the system description, when it matches;
/// - `vendor`, `product`, `model` (order number) and `firmware`, when the system
///   description has the PROFINET layout ([`StationDescription`]);
/// - `device_type`: the enabled capabilities' names joined by commas
///   (`bridge,router`), when any is enabled;
/// - `management_address`: each IPv4/IPv6 management address.
pub fn identity(src: MacAddr, d: &Lldpdu<'_>, facts: &mut Vec<IdentityFact>) {
    let start = facts.len();
    let about = Subject::Mac(src);
    let mut add = |kind, value: String| push_fact(facts, start, about, kind, value, PROTOCOL);
    if let Some(n) = d.system_name {
        add(IdentityKind::Hostname, text(n));
    }
    if let Some(desc) = d.system_description {
        let desc = text(desc);
        if let Some(os) = os_from_description(&desc) {
            add(IdentityKind::Os, os);
        }
        if let Some(s) = StationDescription::parse(&desc) {
            add(IdentityKind::Vendor, s.vendor.to_string());
            add(IdentityKind::Product, s.product.to_string());
            add(IdentityKind::Model, s.order_id.to_string());
            add(IdentityKind::Firmware, s.firmware.to_string());
        }
        add(IdentityKind::Description, desc);
    }
    if let Some(c) = d.capabilities {
        add(
            IdentityKind::DeviceType,
            capability_names(c.enabled).collect::<Vec<_>>().join(","),
        );
    }
    for m in d.management_addresses() {
        if let Some(ip) = m.ip() {
            add(IdentityKind::ManagementAddress, ip.to_string());
        }
    }
}

/// An operating system named plainly by a system description (LLDP) or software
/// version (CDP), as `<name> <version>`; `None` for anything else. The rules, and
/// nothing more (a guess from a product name is the ledger's job, not a dissector's):
///
/// - Cisco: a text starting `Cisco IOS Software`, `Cisco IOS XE Software`, `Cisco
///   IOS XR Software`, `Cisco Nexus Operating System (NX-OS) Software` or `Cisco
///   Internetwork Operating System Software` with `Version <v>` in it gives
///   `Cisco IOS <v>` (`Cisco IOS XE <v>`, `Cisco IOS XR <v>`, `Cisco NX-OS <v>`;
///   IOS XE also when the text says `IOS-XE` or `IOSXE`, as Catalyst 9000 images
///   do); `<v>` ends at a comma or blank.
/// - Juniper: `JUNOS <v>` anywhere gives `JUNOS <v>`.
/// - Linux (lldpd's default: `Debian GNU/Linux 12 (bookworm) Linux 6.1.0-13-amd64
///   #1 SMP ...`): the word `Linux` followed by a word starting with a digit gives
///   `Linux <that word>`, the kernel release.
pub fn os_from_description(desc: &str) -> Option<String> {
    let desc = desc.trim();
    const CISCO: [(&str, &str); 5] = [
        ("Cisco IOS XE Software", "Cisco IOS XE"),
        ("Cisco IOS XR Software", "Cisco IOS XR"),
        (
            "Cisco Nexus Operating System (NX-OS) Software",
            "Cisco NX-OS",
        ),
        ("Cisco IOS Software", "Cisco IOS"),
        ("Cisco Internetwork Operating System Software", "Cisco IOS"),
    ];
    if let Some(&(_, name)) = CISCO.iter().find(|(p, _)| desc.starts_with(p)) {
        let name = if name == "Cisco IOS" && (desc.contains("IOS-XE") || desc.contains("IOSXE")) {
            "Cisco IOS XE"
        } else {
            name
        };
        let v = word_after(desc, "Version ")?;
        return Some(format!("{name} {v}"));
    }
    if let Some(v) = word_after(desc, "JUNOS ") {
        return Some(format!("JUNOS {v}"));
    }
    let mut words = desc.split_whitespace();
    while let Some(w) = words.next() {
        if w == "Linux"
            && let Some(release) = words.clone().next()
            && release.starts_with(|c: char| c.is_ascii_digit())
        {
            return Some(format!("Linux {release}"));
        }
    }
    None
}

/// A system description in the layout PROFINET devices use (IEC 61158-6-10's
/// `SystemIdentification`, which Siemens, Phoenix Contact and others put in LLDP):
/// comma-separated vendor, product family and name, order number, `HW: <rev>`,
/// `FW: <version>`, e.g. `Siemens, SIMATIC NET, SCALANCE X212-2, 6GK5 212-2BB00-2AA3,
/// HW: 7, FW: V4.02`. Recognised only when a field starts `HW:` right before one
/// starting `FW:`, with the vendor, at least one product field and the order number
/// before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StationDescription<'s> {
    /// Vendor (`Siemens`).
    pub vendor: &'s str,
    /// Product family and name (`SIMATIC NET, SCALANCE X212-2`).
    pub product: &'s str,
    /// Order number (`6GK5 212-2BB00-2AA3`).
    pub order_id: &'s str,
    /// Hardware revision (`7`).
    pub hardware: &'s str,
    /// Firmware version (`V4.02`).
    pub firmware: &'s str,
}

impl<'s> StationDescription<'s> {
    /// Splits a description in the PROFINET layout; `None` for any other.
    pub fn parse(desc: &'s str) -> Option<StationDescription<'s>> {
        let hw_at = desc.find(", HW:")?;
        let head = desc.get(..hw_at)?;
        let tail = desc.get(hw_at + 2..)?;
        let (hw, fw) = tail.split_once(',')?;
        let hardware = hw.strip_prefix("HW:")?.trim();
        let fw = fw.trim_start().strip_prefix("FW:")?;
        let firmware = fw.split(',').next()?.trim();
        let (vendor, rest) = head.split_once(',')?;
        let (product, order_id) = rest.rsplit_once(',')?;
        let (vendor, product, order_id) = (vendor.trim(), product.trim(), order_id.trim());
        [vendor, product, order_id, hardware, firmware]
            .iter()
            .all(|f| !f.is_empty())
            .then_some(StationDescription {
                vendor,
                product,
                order_id,
                hardware,
                firmware,
            })
    }
}

/// The word after the first `prefix`, ending at a comma or blank.
fn word_after<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    let at = s.find(prefix)? + prefix.len();
    let rest = s.get(at..)?;
    let end = rest
        .find(|c: char| c == ',' || c.is_whitespace())
        .unwrap_or(rest.len());
    let w = rest.get(..end)?;
    (!w.is_empty()).then_some(w)
}

/// An address-family-prefixed address (IANA 1 IPv4, 2 IPv6).
fn network_address(v: &[u8]) -> Option<IpAddr> {
    match v {
        [1, a, b, c, d] => Some(IpAddr::V4(Ipv4Addr::new(*a, *b, *c, *d))),
        [2, rest @ ..] => <[u8; 16]>::try_from(rest)
            .ok()
            .map(|a| IpAddr::V6(Ipv6Addr::from(a))),
        _ => None,
    }
}

/// Bytes as lossy UTF-8, trailing NULs and blanks trimmed.
pub(crate) fn text(b: &[u8]) -> String {
    let end = b
        .iter()
        .rposition(|&c| c != 0 && !c.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(b.get(..end).unwrap_or_default()).into_owned()
}

/// `aa:bb:cc:dd:ee:ff`.
fn mac_text(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Lowercase hex.
pub(crate) fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}
