//! Addresses, ports and the variables that name them.
//!
//! A rule header names its ends with small expressions: `any`, an address or CIDR
//! (`10.0.0.0/8`, `192.168.1.0/255.255.255.0`, `2001:db8::/32`), a port or port range
//! (`502`, `1024:`, `:1023`, `8000:8080`), a variable (`$HOME_NET`, `$HTTP_PORTS`), a
//! negation (`!x`) or a list (`[a, !b, [c, d]]`). The parser keeps them as written
//! ([`Expr`]); [`Vars`] resolves the variables when a rule set is compiled, giving a
//! [`Set`] that answers "does this address (port) belong?".
//!
//! A list means what Suricata means by it: the union of its positive members (or
//! everything when it has none) minus the union of its negated members. Expressions
//! nest at most [`MAX_DEPTH`] deep and variables refer to variables at most
//! [`MAX_DEPTH`] times, so a hostile rule file cannot recurse without bound.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Deepest nesting of lists, negations and variable references.
pub const MAX_DEPTH: usize = 16;

/// An IPv4 or IPv6 network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Whether `ip` is inside this network (an IPv4 network never holds an IPv6 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let shift = 32 - u32::from(self.prefix);
                shift >= 32 || (u32::from(net) ^ u32::from(ip)) >> shift == 0
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let shift = 128 - u32::from(self.prefix);
                shift >= 128 || (u128::from(net) ^ u128::from(ip)) >> shift == 0
            }
            _ => false,
        }
    }
}

/// One address or port item of an expression.
pub trait Item: Sized + Clone + fmt::Debug {
    /// What the item is tested against (an address or a port).
    type Value: Copy;
    /// Parses one item (no `!`, `[`, `$` or `any`); the error says what is wrong.
    fn parse(text: &str) -> Result<Self, String>;
    /// Whether the item holds `v`.
    fn holds(&self, v: Self::Value) -> bool;
}

impl Item for Cidr {
    type Value = IpAddr;

    fn parse(text: &str) -> Result<Self, String> {
        let (addr, mask) = match text.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("bad address `{text}`"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match mask {
            None => max,
            Some(m) => {
                if let Ok(n) = m.parse::<u8>() {
                    if n > max {
                        return Err(format!("prefix /{n} too long in `{text}`"));
                    }
                    n
                } else if let (true, Ok(mask)) = (addr.is_ipv4(), m.parse::<Ipv4Addr>()) {
                    let bits = u32::from(mask);
                    if bits.leading_ones() + bits.trailing_zeros() != 32 {
                        return Err(format!("netmask not contiguous in `{text}`"));
                    }
                    bits.leading_ones() as u8
                } else {
                    return Err(format!("bad prefix in `{text}`"));
                }
            }
        };
        Ok(Cidr { addr, prefix })
    }

    fn holds(&self, v: IpAddr) -> bool {
        self.contains(v)
    }
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// Lowest port.
    pub lo: u16,
    /// Highest port.
    pub hi: u16,
}

impl Item for PortRange {
    type Value = u16;

    fn parse(text: &str) -> Result<Self, String> {
        let num = |s: &str, default: u16| -> Result<u16, String> {
            let s = s.trim();
            if s.is_empty() {
                Ok(default)
            } else {
                s.parse::<u16>().map_err(|_| format!("bad port `{text}`"))
            }
        };
        let (lo, hi) = match text.split_once(':') {
            Some((a, b)) => (num(a, 0)?, num(b, u16::MAX)?),
            None => {
                let p = num(text, 0)?;
                if text.trim().is_empty() {
                    return Err("empty port".into());
                }
                (p, p)
            }
        };
        if lo > hi {
            return Err(format!("port range `{text}` runs backwards"));
        }
        Ok(PortRange { lo, hi })
    }

    fn holds(&self, v: u16) -> bool {
        (self.lo..=self.hi).contains(&v)
    }
}

/// An address or port expression as written in a rule, variables unresolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr<T> {
    /// `any`.
    Any,
    /// One address, network, port or range.
    Item(T),
    /// `$NAME`.
    Var(String),
    /// `!x`.
    Not(Box<Expr<T>>),
    /// `[a, b, ...]`.
    List(Vec<Expr<T>>),
}

/// Address expression.
pub type AddrExpr = Expr<Cidr>;
/// Port expression.
pub type PortExpr = Expr<PortRange>;

/// A resolved expression: no variables left.
#[derive(Debug, Clone, PartialEq)]
pub enum Set<T> {
    /// Everything.
    Any,
    /// One item.
    Item(T),
    /// Everything but the inner set.
    Not(Box<Set<T>>),
    /// Positive members (all when none) minus negated members.
    List(Vec<Set<T>>),
}

impl<T: Item> Set<T> {
    /// Whether `v` belongs to the set.
    pub fn contains(&self, v: T::Value) -> bool {
        match self {
            Set::Any => true,
            Set::Item(t) => t.holds(v),
            Set::Not(inner) => !inner.contains(v),
            Set::List(items) => {
                let mut any_positive = false;
                let mut in_positive = false;
                for it in items {
                    match it {
                        Set::Not(neg) => {
                            if neg.contains(v) {
                                return false;
                            }
                        }
                        other => {
                            any_positive = true;
                            in_positive = in_positive || other.contains(v);
                        }
                    }
                }
                in_positive || !any_positive
            }
        }
    }

    /// Whether the set is everything (written `any` or a list of `any`).
    pub fn is_any(&self) -> bool {
        match self {
            Set::Any => true,
            Set::List(items) => {
                items.iter().any(|i| matches!(i, Set::Any))
                    && items.iter().all(|i| !matches!(i, Set::Not(_)))
            }
            _ => false,
        }
    }
}

impl Set<PortRange> {
    /// The ports of a positive set of at most `max` ports, or `None` (negations, any,
    /// or too many): the rule set groups rules by such short port lists.
    pub fn few_ports(&self, max: usize) -> Option<Vec<u16>> {
        let mut out = Vec::new();
        fn walk(s: &Set<PortRange>, out: &mut Vec<u16>, max: usize) -> bool {
            match s {
                Set::Item(r) => {
                    if usize::from(r.hi - r.lo) + out.len() >= max {
                        return false;
                    }
                    out.extend(r.lo..=r.hi);
                    true
                }
                Set::List(items) => items.iter().all(|i| walk(i, out, max)),
                Set::Any | Set::Not(_) => false,
            }
        }
        if walk(self, &mut out, max) && !out.is_empty() {
            out.sort_unstable();
            out.dedup();
            Some(out)
        } else {
            None
        }
    }
}

/// Resolved address set.
pub type AddrSet = Set<Cidr>;
/// Resolved port set.
pub type PortSet = Set<PortRange>;

/// Parses an address or port expression. `Err` holds the byte offset of the problem
/// inside `text` and a message.
pub fn parse_expr<T: Item>(text: &str) -> Result<Expr<T>, (usize, String)> {
    let mut p = ExprParser { text, pos: 0 };
    let mut e = p.expr(0)?;
    p.skip_ws();
    // A list without brackets (`!5800,!445`), which Suricata accepts.
    if p.rest().starts_with(',') {
        let mut items = vec![e];
        while p.rest().starts_with(',') {
            p.pos += 1;
            items.push(p.expr(1)?);
            p.skip_ws();
        }
        e = Expr::List(items);
    }
    if p.pos < text.len() {
        return Err((p.pos, format!("unexpected `{}`", &text[p.pos..])));
    }
    Ok(e)
}

struct ExprParser<'a> {
    text: &'a str,
    pos: usize,
}

impl ExprParser<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn expr<T: Item>(&mut self, depth: usize) -> Result<Expr<T>, (usize, String)> {
        if depth > MAX_DEPTH {
            return Err((self.pos, "expression nested too deep".into()));
        }
        self.skip_ws();
        let start = self.pos;
        match self.rest().as_bytes().first() {
            None => Err((start, "expected an address or port".into())),
            Some(b'!') => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.expr(depth + 1)?)))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    items.push(self.expr(depth + 1)?);
                    self.skip_ws();
                    match self.rest().as_bytes().first() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Expr::List(items));
                        }
                        _ => return Err((self.pos, "expected `,` or `]` in list".into())),
                    }
                }
            }
            Some(_) => {
                let len = self
                    .rest()
                    .find([',', ']', '[', '!', ' ', '\t'])
                    .unwrap_or(self.rest().len());
                let word = self.rest()[..len].to_string();
                self.pos += len;
                if word.is_empty() {
                    return Err((start, "expected an address or port".into()));
                }
                let word = word.as_str();
                if let Some(name) = word.strip_prefix('$') {
                    if name.is_empty()
                        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    {
                        return Err((start, format!("bad variable name `{word}`")));
                    }
                    return Ok(Expr::Var(name.to_string()));
                }
                if word.eq_ignore_ascii_case("any") {
                    return Ok(Expr::Any);
                }
                T::parse(word).map(Expr::Item).map_err(|m| (start, m))
            }
        }
    }
}

/// Why a variable could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarError {
    /// No such variable.
    Undefined(String),
    /// The variable's value does not parse, or it refers to itself too deeply.
    Bad(String, String),
}

/// Address and port variables (`$HOME_NET`, `$HTTP_PORTS`, ...), with Suricata's defaults.
///
/// Defaults: `HOME_NET` is the RFC 1918 ranges, `EXTERNAL_NET` is `!$HOME_NET`, every
/// server group (`HTTP_SERVERS`, `SMTP_SERVERS`, `SQL_SERVERS`, `DNS_SERVERS`,
/// `TELNET_SERVERS`, `AIM_SERVERS`, `DC_SERVERS`, `DNP3_SERVER`, `DNP3_CLIENT`,
/// `MODBUS_CLIENT`, `MODBUS_SERVER`, `ENIP_CLIENT`, `ENIP_SERVER`) is `$HOME_NET`; ports as
/// in Suricata's default configuration (`HTTP_PORTS` 80, `SHELLCODE_PORTS` !80,
/// `ORACLE_PORTS` 1521, `SSH_PORTS` 22, `DNP3_PORTS` 20000, `MODBUS_PORTS` 502,
/// `FILE_DATA_PORTS` [$HTTP_PORTS,110,143], `FTP_PORTS` 21, `GENEVE_PORTS` 6081,
/// `VXLAN_PORTS` 4789, `TEREDO_PORTS` 3544) plus `ENIP_PORTS` 44818, `S7_PORTS` 102 and
/// `IEC104_PORTS` 2404 for the OT rules.
#[derive(Debug, Clone)]
pub struct Vars {
    addr: HashMap<String, String>,
    port: HashMap<String, String>,
}

impl Default for Vars {
    fn default() -> Self {
        let mut v = Vars {
            addr: HashMap::new(),
            port: HashMap::new(),
        };
        v.set_address("HOME_NET", "[10.0.0.0/8,172.16.0.0/12,192.168.0.0/16]");
        v.set_address("EXTERNAL_NET", "!$HOME_NET");
        for name in [
            "HTTP_SERVERS",
            "SMTP_SERVERS",
            "SQL_SERVERS",
            "DNS_SERVERS",
            "TELNET_SERVERS",
            "AIM_SERVERS",
            "DC_SERVERS",
            "DNP3_SERVER",
            "DNP3_CLIENT",
            "MODBUS_CLIENT",
            "MODBUS_SERVER",
            "ENIP_CLIENT",
            "ENIP_SERVER",
        ] {
            v.set_address(name, "$HOME_NET");
        }
        for (name, value) in [
            ("HTTP_PORTS", "80"),
            ("SHELLCODE_PORTS", "!80"),
            ("ORACLE_PORTS", "1521"),
            ("SSH_PORTS", "22"),
            ("DNP3_PORTS", "20000"),
            ("MODBUS_PORTS", "502"),
            ("FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"),
            ("FTP_PORTS", "21"),
            ("GENEVE_PORTS", "6081"),
            ("VXLAN_PORTS", "4789"),
            ("TEREDO_PORTS", "3544"),
            ("ENIP_PORTS", "44818"),
            ("S7_PORTS", "102"),
            ("IEC104_PORTS", "2404"),
        ] {
            v.set_port(name, value);
        }
        v
    }
}

impl Vars {
    /// No variables at all (every `$X` is then undefined).
    pub fn empty() -> Self {
        Vars {
            addr: HashMap::new(),
            port: HashMap::new(),
        }
    }

    /// Sets an address variable (`name` without `$`), e.g. `("HOME_NET", "[10.1.0.0/16]")`.
    pub fn set_address(&mut self, name: &str, value: &str) {
        self.addr.insert(name.to_string(), value.to_string());
    }

    /// Sets a port variable (`name` without `$`), e.g. `("HTTP_PORTS", "[80,8080]")`.
    pub fn set_port(&mut self, name: &str, value: &str) {
        self.port.insert(name.to_string(), value.to_string());
    }

    /// Checks that every variable parses and resolves; the first problem is returned.
    pub fn validate(&self) -> Result<(), VarError> {
        let mut r = Resolver::new(self);
        for name in self.addr.keys() {
            r.resolve_addr(&Expr::Var(name.clone()))?;
        }
        for name in self.port.keys() {
            r.resolve_port(&Expr::Var(name.clone()))?;
        }
        Ok(())
    }
}

/// Resolves expressions against [`Vars`], caching each variable's resolved set.
pub(crate) struct Resolver<'v> {
    vars: &'v Vars,
    addr_cache: HashMap<String, Result<AddrSet, VarError>>,
    port_cache: HashMap<String, Result<PortSet, VarError>>,
}

impl<'v> Resolver<'v> {
    pub(crate) fn new(vars: &'v Vars) -> Self {
        Resolver {
            vars,
            addr_cache: HashMap::new(),
            port_cache: HashMap::new(),
        }
    }

    pub(crate) fn resolve_addr(&mut self, e: &AddrExpr) -> Result<AddrSet, VarError> {
        resolve(e, 0, &mut |name, depth| {
            if let Some(hit) = self.addr_cache.get(name) {
                return hit.clone();
            }
            let r = lookup(&self.vars.addr, name, depth, &mut |e, d| {
                self_resolve_addr(self.vars, e, d)
            });
            self.addr_cache.insert(name.to_string(), r.clone());
            r
        })
    }

    pub(crate) fn resolve_port(&mut self, e: &PortExpr) -> Result<PortSet, VarError> {
        resolve(e, 0, &mut |name, depth| {
            if let Some(hit) = self.port_cache.get(name) {
                return hit.clone();
            }
            let r = lookup(&self.vars.port, name, depth, &mut |e, d| {
                self_resolve_port(self.vars, e, d)
            });
            self.port_cache.insert(name.to_string(), r.clone());
            r
        })
    }
}

fn self_resolve_addr(vars: &Vars, e: &AddrExpr, depth: usize) -> Result<AddrSet, VarError> {
    resolve(e, depth, &mut |name, d| {
        lookup(&vars.addr, name, d, &mut |e, d2| {
            self_resolve_addr(vars, e, d2)
        })
    })
}

fn self_resolve_port(vars: &Vars, e: &PortExpr, depth: usize) -> Result<PortSet, VarError> {
    resolve(e, depth, &mut |name, d| {
        lookup(&vars.port, name, d, &mut |e, d2| {
            self_resolve_port(vars, e, d2)
        })
    })
}

type Lookup<'a, T> = dyn FnMut(&str, usize) -> Result<Set<T>, VarError> + 'a;
type ResolveInner<'a, T> = dyn FnMut(&Expr<T>, usize) -> Result<Set<T>, VarError> + 'a;

fn lookup<T: Item>(
    map: &HashMap<String, String>,
    name: &str,
    depth: usize,
    resolve_inner: &mut ResolveInner<'_, T>,
) -> Result<Set<T>, VarError> {
    let Some(text) = map.get(name) else {
        return Err(VarError::Undefined(name.to_string()));
    };
    if depth > MAX_DEPTH {
        return Err(VarError::Bad(
            name.to_string(),
            "variables refer to each other too deeply".into(),
        ));
    }
    let e = parse_expr::<T>(text).map_err(|(_, m)| VarError::Bad(name.to_string(), m))?;
    resolve_inner(&e, depth + 1)
}

fn resolve<T: Item>(
    e: &Expr<T>,
    depth: usize,
    var: &mut Lookup<'_, T>,
) -> Result<Set<T>, VarError> {
    Ok(match e {
        Expr::Any => Set::Any,
        Expr::Item(t) => Set::Item(t.clone()),
        Expr::Var(name) => var(name, depth)?,
        Expr::Not(inner) => Set::Not(Box::new(resolve(inner, depth, var)?)),
        Expr::List(items) => Set::List(
            items
                .iter()
                .map(|i| resolve(i, depth, var))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// Parses an IPv4 address literal for tests and callers (a convenience).
pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// An IPv6 address from its eight groups (a convenience for tests).
pub fn v6(g: [u16; 8]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(
        g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> AddrSet {
        let e = parse_expr::<Cidr>(text).unwrap();
        Resolver::new(&Vars::default()).resolve_addr(&e).unwrap()
    }

    fn ports(text: &str) -> PortSet {
        let e = parse_expr::<PortRange>(text).unwrap();
        Resolver::new(&Vars::default()).resolve_port(&e).unwrap()
    }

    #[test]
    fn cidr_and_netmask() {
        let s = addr("192.168.0.0/16");
        assert!(s.contains(v4(192, 168, 3, 4)));
        assert!(!s.contains(v4(192, 169, 0, 1)));
        let s = addr("10.1.0.0/255.255.0.0");
        assert!(s.contains(v4(10, 1, 200, 1)));
        assert!(!s.contains(v4(10, 2, 0, 1)));
        assert!(addr("0.0.0.0/0").contains(v4(8, 8, 8, 8)));
        assert!(!addr("0.0.0.0/0").contains(v6([0, 0, 0, 0, 0, 0, 0, 1])));
        let s = addr("2001:db8::/32");
        assert!(s.contains(v6([0x2001, 0xdb8, 1, 0, 0, 0, 0, 1])));
        assert!(!s.contains(v6([0x2001, 0xdb9, 0, 0, 0, 0, 0, 1])));
    }

    #[test]
    fn home_and_external_net() {
        let home = addr("$HOME_NET");
        let ext = addr("$EXTERNAL_NET");
        for ip in [v4(10, 0, 0, 1), v4(172, 20, 1, 1), v4(192, 168, 1, 1)] {
            assert!(home.contains(ip) && !ext.contains(ip));
        }
        assert!(!home.contains(v4(8, 8, 8, 8)) && ext.contains(v4(8, 8, 8, 8)));
    }

    #[test]
    fn lists_with_negation() {
        let s = addr("[10.0.0.0/8, !10.1.0.0/16, ![10.2.0.1,10.2.0.2]]");
        assert!(s.contains(v4(10, 3, 0, 1)));
        assert!(!s.contains(v4(10, 1, 0, 1)));
        assert!(!s.contains(v4(10, 2, 0, 2)));
        assert!(s.contains(v4(10, 2, 0, 3)));
        assert!(!s.contains(v4(11, 0, 0, 1)));
        // Only negations: everything else.
        let s = addr("[!192.168.1.1]");
        assert!(s.contains(v4(1, 2, 3, 4)) && !s.contains(v4(192, 168, 1, 1)));
        let s = addr("!$HOME_NET");
        assert!(s.contains(v4(1, 2, 3, 4)));
        // A list without brackets.
        let e = parse_expr::<PortRange>("!5800,!445").unwrap();
        let s = Resolver::new(&Vars::default()).resolve_port(&e).unwrap();
        assert!(s.contains(80) && !s.contains(445) && !s.contains(5800));
    }

    #[test]
    fn port_forms() {
        assert!(ports("80").contains(80) && !ports("80").contains(81));
        assert!(ports("1024:").contains(65535) && !ports("1024:").contains(1023));
        assert!(ports(":1023").contains(0) && !ports(":1023").contains(1024));
        let s = ports("[80,443,8000:8010,!8005]");
        assert!(s.contains(443) && s.contains(8004) && !s.contains(8005) && !s.contains(22));
        assert!(!ports("!80").contains(80) && ports("!80").contains(8080));
        assert!(ports("$HTTP_PORTS").contains(80));
        assert!(ports("$FILE_DATA_PORTS").contains(143));
        assert_eq!(
            ports("[80,443,8080:8081]").few_ports(16),
            Some(vec![80, 443, 8080, 8081])
        );
        assert_eq!(ports("1024:").few_ports(16), None);
        assert_eq!(ports("!80").few_ports(16), None);
    }

    #[test]
    fn errors_have_positions() {
        assert_eq!(parse_expr::<PortRange>("[80,90").unwrap_err().0, 6);
        assert_eq!(parse_expr::<PortRange>("[80,x]").unwrap_err().0, 4);
        assert!(parse_expr::<PortRange>("90:80").is_err());
        assert!(parse_expr::<PortRange>("70000").is_err());
        assert!(parse_expr::<Cidr>("10.0.0.0/33").is_err());
        assert!(parse_expr::<Cidr>("10.0.0.0/255.0.255.0").is_err());
        assert!(parse_expr::<Cidr>("$").is_err());
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert!(parse_expr::<Cidr>(&deep).is_err());
    }

    #[test]
    fn variables_undefined_and_cyclic() {
        let mut vars = Vars::empty();
        vars.set_address("A", "$B");
        vars.set_address("B", "$A");
        let mut r = Resolver::new(&vars);
        assert!(matches!(
            r.resolve_addr(&Expr::Var("A".into())),
            Err(VarError::Bad(..))
        ));
        assert_eq!(
            r.resolve_addr(&Expr::Var("C".into())),
            Err(VarError::Undefined("C".into()))
        );
        assert!(Vars::default().validate().is_ok());
    }
}
