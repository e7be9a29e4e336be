//! Addresses as detection sees them: CIDR blocks, the internal/external split and
//! zones.
//!
//! An address is *internal* when it falls in one of the configured internal ranges
//! (by default RFC 1918, CGNAT 100.64/10, loopback, link-local and multicast, for
//! IPv4 and IPv6) and in none of the *external* ranges, which take precedence (by
//! default the documentation ranges 192.0.2/24, 198.51.100/24 and 203.0.113/24, so
//! simulated and textbook internet hosts count as internet). Zones group internal
//! addresses by subnet, VLAN or an explicit asset list; [`Zones::zone_of`] picks the
//! first zone that claims an address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use mamori_wire::decode::MacAddr;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IPv4 or IPv6 network, `addr/prefix` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// A network; `None` when the prefix is too long for the address family.
    pub fn new(addr: IpAddr, prefix: u8) -> Option<Cidr> {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { addr, prefix })
    }

    /// Whether `ip` lies inside (never across address families).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("`{s}` is not an IP network (expected e.g. 10.0.0.0/8)"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: prefix must be 0..={max}"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Cidr {
    Cidr {
        addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
        prefix,
    }
}

fn v6(addr: Ipv6Addr, prefix: u8) -> Cidr {
    Cidr {
        addr: IpAddr::V6(addr),
        prefix,
    }
}

/// The default internal ranges: RFC 1918, CGNAT, loopback, link-local, multicast,
/// the limited broadcast and "this network" (DHCP clients), IPv6 ULA, link-local,
/// loopback and multicast.
pub fn default_internal() -> Vec<Cidr> {
    vec![
        v4(10, 0, 0, 0, 8),
        v4(172, 16, 0, 0, 12),
        v4(192, 168, 0, 0, 16),
        v4(100, 64, 0, 0, 10),
        v4(127, 0, 0, 0, 8),
        v4(169, 254, 0, 0, 16),
        v4(224, 0, 0, 0, 4),
        v4(255, 255, 255, 255, 32),
        v4(0, 0, 0, 0, 32),
        v6(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7),
        v6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10),
        v6(Ipv6Addr::LOCALHOST, 128),
        v6(Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8),
    ]
}

/// The default ranges that always count as external: the IPv4 documentation
/// networks (RFC 5737) and IPv6's 2001:db8::/32.
pub fn default_external() -> Vec<Cidr> {
    vec![
        v4(192, 0, 2, 0, 24),
        v4(198, 51, 100, 0, 24),
        v4(203, 0, 113, 0, 24),
        v6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32),
    ]
}

/// The internal/external split.
#[derive(Debug, Clone)]
pub struct Ranges {
    internal: Vec<Cidr>,
    external: Vec<Cidr>,
}

impl Ranges {
    /// From the configured lists.
    pub fn new(internal: &[Cidr], external: &[Cidr]) -> Self {
        Ranges {
            internal: internal.to_vec(),
            external: external.to_vec(),
        }
    }

    /// Whether `ip` is inside the site (internal and not forced external).
    pub fn is_internal(&self, ip: IpAddr) -> bool {
        !self.external.iter().any(|c| c.contains(ip))
            && self.internal.iter().any(|c| c.contains(ip))
    }
}

/// Whether an address is a group address: multicast, the limited broadcast, or an
/// IPv4 address ending in .255 (the broadcast of a /24 or shorter prefix; a host
/// ending in .255 inside a shorter prefix is taken for one too).
pub fn is_group(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast() || a.is_broadcast() || a.octets()[3] == 255,
        IpAddr::V6(a) => a.is_multicast(),
    }
}

/// One asset selector of a zone or watch-list entry: an IP network, a MAC, or (in
/// watch lists) a zone name written `zone:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Addresses in a network.
    Net(Cidr),
    /// A MAC address.
    Mac(MacAddr),
    /// Every address of a zone.
    Zone(String),
}

impl FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if let Some(z) = s.strip_prefix("zone:") {
            return Ok(Selector::Zone(z.to_string()));
        }
        if let Some(m) = parse_mac(s) {
            return Ok(Selector::Mac(m));
        }
        s.parse::<Cidr>()
            .map(Selector::Net)
            .map_err(|_| format!("`{s}` is neither an IP, a network, a MAC nor `zone:NAME`"))
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for Selector {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Selector::Net(c) => s.collect_str(c),
            Selector::Mac(m) => s.collect_str(m),
            Selector::Zone(z) => s.collect_str(&format_args!("zone:{z}")),
        }
    }
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with dashes).
pub fn parse_mac(s: &str) -> Option<MacAddr> {
    let mut out = [0u8; 6];
    let mut n = 0;
    for part in s.split([':', '-']) {
        if n == 6 || part.len() != 2 {
            return None;
        }
        out[n] = u8::from_str_radix(part, 16).ok()?;
        n += 1;
    }
    (n == 6).then_some(MacAddr(out))
}

/// A zone as detection uses it.
#[derive(Debug, Clone)]
pub struct ZoneDef {
    /// Its name.
    pub name: String,
    /// Subnets.
    pub subnets: Vec<Cidr>,
    /// VLAN ids.
    pub vlans: Vec<u16>,
    /// Explicit members (IPs, networks or MACs).
    pub assets: Vec<Selector>,
}

/// All zones, in configuration order.
#[derive(Debug, Clone, Default)]
pub struct Zones {
    zones: Vec<ZoneDef>,
}

impl Zones {
    /// From definitions.
    pub fn new(zones: Vec<ZoneDef>) -> Self {
        Zones { zones }
    }

    /// Whether no zone is defined.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The first zone that claims a host (asset lists first, then subnets, then VLANs).
    pub fn zone_of(
        &self,
        ip: Option<IpAddr>,
        mac: Option<MacAddr>,
        vlan: Option<u16>,
    ) -> Option<&str> {
        let by_asset = self.zones.iter().find(|z| {
            z.assets.iter().any(|s| match s {
                Selector::Net(c) => ip.is_some_and(|ip| c.contains(ip)),
                Selector::Mac(m) => mac == Some(*m),
                Selector::Zone(_) => false,
            })
        });
        by_asset
            .or_else(|| {
                self.zones
                    .iter()
                    .find(|z| ip.is_some_and(|ip| z.subnets.iter().any(|c| c.contains(ip))))
            })
            .or_else(|| {
                self.zones
                    .iter()
                    .find(|z| vlan.is_some_and(|v| z.vlans.contains(&v)))
            })
            .map(|z| z.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parse_and_contains() {
        let c: Cidr = "10.20.1.0/24".parse().unwrap();
        assert!(c.contains("10.20.1.200".parse().unwrap()));
        assert!(!c.contains("10.20.2.1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!(!all.contains("::1".parse().unwrap()));
        let host: Cidr = "fd00::1".parse().unwrap();
        assert!(host.contains("fd00::1".parse().unwrap()));
        assert!(!host.contains("fd00::2".parse().unwrap()));
    }

    #[test]
    fn documentation_ranges_are_external() {
        let r = Ranges::new(&default_internal(), &default_external());
        assert!(r.is_internal("10.1.2.3".parse().unwrap()));
        assert!(r.is_internal("100.64.1.1".parse().unwrap()));
        assert!(r.is_internal("239.1.1.1".parse().unwrap()));
        assert!(!r.is_internal("203.0.113.77".parse().unwrap()));
        assert!(!r.is_internal("8.8.8.8".parse().unwrap()));
        assert!(r.is_internal("fe80::1".parse().unwrap()));
        assert!(!r.is_internal("2001:db8::1".parse().unwrap()));
    }

    #[test]
    fn selectors_and_zones() {
        assert_eq!(
            "zone:office".parse::<Selector>(),
            Ok(Selector::Zone("office".into()))
        );
        assert!(matches!(
            "00:1b:1b:01:02:03".parse::<Selector>(),
            Ok(Selector::Mac(_))
        ));
        assert!(matches!(
            "10.0.0.1".parse::<Selector>(),
            Ok(Selector::Net(_))
        ));
        assert!("zz:1b".parse::<Selector>().is_err());
        let z = Zones::new(vec![
            ZoneDef {
                name: "a".into(),
                subnets: vec!["10.0.0.0/24".parse().unwrap()],
                vlans: vec![],
                assets: vec![],
            },
            ZoneDef {
                name: "b".into(),
                subnets: vec![],
                vlans: vec![7],
                assets: vec!["10.0.0.9".parse().unwrap()],
            },
        ]);
        let ip = |s: &str| Some(s.parse().unwrap());
        assert_eq!(z.zone_of(ip("10.0.0.1"), None, None), Some("a"));
        assert_eq!(z.zone_of(ip("10.0.0.9"), None, None), Some("b"));
        assert_eq!(z.zone_of(ip("10.9.0.1"), None, Some(7)), Some("b"));
        assert_eq!(z.zone_of(ip("10.9.0.1"), None, None), None);
    }
}
