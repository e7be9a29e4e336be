//! DHCPv6 (RFC 8415), UDP 546 (client) and 547 (server, relay).
//!
//! Wire format:
//!
//! ```text
//! client/server: msg-type u8 | transaction-id u24 | options
//! relay:         msg-type u8 (12 RELAY-FORW, 13 RELAY-REPL) | hop-count u8
//!                | link-address [16] | peer-address [16] | options (9 = the relayed message)
//! option:        code u16 | length u16 | data
//! ```
//!
//! [`Parser`] takes a whole UDP payload; a relay message is unwrapped (at most
//! [`MAX_RELAY_DEPTH`] levels) down to the client's or server's message, and the hops
//! are kept. Decoded options: client and server identifiers (DUIDs), the option request
//! list (ORO), elapsed time, IA_NA addresses, vendor class and the client FQDN.

use std::fmt::Write as _;
use std::net::Ipv6Addr;

use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

/// The identity facts' protocol name.
pub const PROTOCOL: &str = "dhcpv6";
/// The client port.
pub const CLIENT_PORT: u16 = 546;
/// The server and relay port.
pub const SERVER_PORT: u16 = 547;
/// Relay levels unwrapped (RFC 8415's HOP_COUNT_LIMIT is 8); deeper is flagged.
pub const MAX_RELAY_DEPTH: usize = 8;
/// Addresses kept per message (IA_NA/IAADDR), Option codes kept in the ORO.
pub const MAX_LIST: usize = 64;

const MAX_DATAGRAM: usize = 65_527;

/// The name of a message type, or `"UNKNOWN"`.
pub fn message_type_name(code: u8) -> &'static str {
    match code {
        1 => "SOLICIT",
        2 => "ADVERTISE",
        3 => "REQUEST",
        4 => "CONFIRM",
        5 => "RENEW",
        6 => "REBIND",
        7 => "REPLY",
        8 => "RELEASE",
        9 => "DECLINE",
        10 => "RECONFIGURE",
        11 => "INFORMATION-REQUEST",
        12 => "RELAY-FORW",
        13 => "RELAY-REPL",
        _ => "UNKNOWN",
    }
}

/// A DHCP unique identifier (RFC 8415 §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duid {
    /// 1 LLT (link-layer + time), 2 EN (enterprise number), 3 LL (link-layer), 4 UUID.
    pub kind: u16,
    /// The link-layer address of an LLT or LL DUID with hardware type 1 (Ethernet).
    pub mac: Option<MacAddr>,
    /// The enterprise number of an EN DUID.
    pub enterprise: Option<u32>,
    /// The whole DUID, colon-separated hex (the ledger's key when there is no MAC).
    pub hex: String,
}

/// A relay agent a message passed through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayHop {
    /// 12 RELAY-FORW or 13 RELAY-REPL.
    pub msg_type: u8,
    /// Hop count.
    pub hop_count: u8,
    /// The link the client is on.
    pub link_address: Ipv6Addr,
    /// The client or the previous relay.
    pub peer_address: Ipv6Addr,
}

/// Vendor class (option 16): the enterprise number and its class strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorClass {
    /// IANA enterprise number (311 is Microsoft).
    pub enterprise: u32,
    /// The vendor-class-data strings (Windows sends `MSFT 5.0`).
    pub data: Vec<String>,
}

/// One DHCPv6 client or server message (relays unwrapped into `relays`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// Message type of the innermost message.
    pub msg_type: u8,
    /// Its transaction id (24 bits).
    pub transaction_id: u32,
    /// The relays, outermost first.
    pub relays: Vec<RelayHop>,
    /// Option 1.
    pub client_id: Option<Duid>,
    /// Option 2.
    pub server_id: Option<Duid>,
    /// Option 6: option codes requested, in order.
    pub oro: Vec<u16>,
    /// Option 8, hundredths of a second.
    pub elapsed_time: Option<u16>,
    /// IA_NA (option 3) addresses (IAADDR, option 5).
    pub addresses: Vec<Ipv6Addr>,
    /// Option 16.
    pub vendor_class: Option<VendorClass>,
    /// Option 39: flags (S 0x01, O 0x02, N 0x04) and the dotted name.
    pub fqdn: Option<(u8, String)>,
    /// Violations seen.
    pub flags: Flags,
}

impl Message {
    /// Whether a client sent it.
    pub fn from_client(&self) -> bool {
        matches!(self.msg_type, 1 | 3 | 4 | 5 | 6 | 8 | 9 | 11)
    }

    /// The ORO as a fingerprint string, `"23,24,39"`.
    pub fn oro_fingerprint(&self) -> String {
        let mut s = String::new();
        for (i, c) in self.oro.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let _ = write!(s, "{c}");
        }
        s
    }

    /// Identity facts from a client message: its FQDN as a host name, about the sender
    /// (`dir`'s side). The client's own key is `client_id` (its MAC when the DUID has one).
    pub fn identity_facts(&self, dir: Direction, facts: &mut Vec<IdentityFact>) {
        if !self.from_client() {
            return;
        }
        if let Some((_, name)) = &self.fqdn
            && !name.is_empty()
        {
            facts.push(IdentityFact {
                about: Subject::Side(dir),
                kind: IdentityKind::Hostname,
                value: name.clone(),
                protocol: PROTOCOL,
            });
        }
    }
}

/// Parses DHCPv6 messages (a whole UDP payload each).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Message;
    const MAX_PDU: usize = MAX_DATAGRAM;

    fn parse(&self, _dir: Direction, input: &[u8]) -> Parsed<Message> {
        let Some(&t) = input.first() else {
            return Parsed::Incomplete { needed: 4 };
        };
        if !(1..=13).contains(&t) || input.len() > MAX_DATAGRAM {
            return Parsed::NotThisProtocol;
        }
        let needed = if t >= 12 { 34 } else { 4 };
        if input.len() < needed {
            return Parsed::Incomplete { needed };
        }
        let mut msg = Message::default();
        parse_into(input, 0, &mut msg);
        Parsed::Pdu {
            pdu: msg,
            consumed: input.len(),
        }
    }
}

/// Parses a whole datagram payload; `None` when it is not DHCPv6 or is cut short.
pub fn parse_datagram(payload: &[u8]) -> Option<Message> {
    match Parser.parse(Direction::Orig, payload) {
        Parsed::Pdu { pdu, .. } => Some(pdu),
        Parsed::Incomplete { .. } | Parsed::NotThisProtocol => None,
    }
}

fn v6(b: &[u8]) -> Ipv6Addr {
    let mut a = [0; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

/// Walks options, calling `f(code, data)`; flags a length past the end.
fn options<'a>(
    mut rest: &'a [u8],
    flags: &mut Flags,
    mut f: impl FnMut(u16, &'a [u8], &mut Flags),
) {
    while !rest.is_empty() {
        let [a, b, c, d, tail @ ..] = rest else {
            flags.set(Flags::BAD_LENGTH);
            return;
        };
        let code = u16::from_be_bytes([*a, *b]);
        let len = usize::from(u16::from_be_bytes([*c, *d]));
        let Some(data) = tail.get(..len) else {
            flags.set(Flags::BAD_LENGTH);
            return;
        };
        f(code, data, flags);
        rest = &tail[len..];
    }
}

/// `input` is one message at relay depth `depth`.
fn parse_into(input: &[u8], depth: usize, msg: &mut Message) {
    let Some(&t) = input.first() else {
        msg.flags.set(Flags::BAD_LENGTH);
        return;
    };
    msg.msg_type = t;
    if message_type_name(t) == "UNKNOWN" {
        msg.flags.set(Flags::UNKNOWN_FUNCTION);
    }
    if t == 12 || t == 13 {
        if input.len() < 34 {
            msg.flags.set(Flags::BAD_LENGTH);
            return;
        }
        if depth >= MAX_RELAY_DEPTH {
            msg.flags.set(Flags::RESERVED_SET);
            return;
        }
        msg.relays.push(RelayHop {
            msg_type: t,
            hop_count: input[1],
            link_address: v6(&input[2..18]),
            peer_address: v6(&input[18..34]),
        });
        let mut inner = None;
        options(&input[34..], &mut msg.flags, |code, data, _| {
            if code == 9 && inner.is_none() {
                inner = Some(data);
            }
        });
        match inner {
            Some(inner) => parse_into(inner, depth + 1, msg),
            None => msg.flags.set(Flags::BAD_LENGTH),
        }
        return;
    }
    let [_, a, b, c, rest @ ..] = input else {
        msg.flags.set(Flags::BAD_LENGTH);
        return;
    };
    msg.transaction_id = u32::from_be_bytes([0, *a, *b, *c]);
    let mut flags = msg.flags;
    options(rest, &mut flags, |code, data, flags| {
        decode_option(code, data, msg, flags)
    });
    msg.flags = flags;
}

fn decode_option(code: u16, data: &[u8], msg: &mut Message, flags: &mut Flags) {
    match code {
        1 => msg.client_id = duid(data, flags),
        2 => msg.server_id = duid(data, flags),
        3 => {
            // IAID, T1, T2, then IA options.
            let Some(ia_options) = data.get(12..) else {
                flags.set(Flags::BAD_LENGTH);
                return;
            };
            options(ia_options, flags, |code, d, flags| {
                if code == 5 {
                    if d.len() < 24 {
                        flags.set(Flags::BAD_LENGTH);
                    } else if msg.addresses.len() < MAX_LIST {
                        msg.addresses.push(v6(d));
                    }
                }
            });
        }
        6 => {
            if !data.len().is_multiple_of(2) {
                flags.set(Flags::BAD_LENGTH);
            }
            msg.oro = data
                .chunks_exact(2)
                .take(MAX_LIST)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
        }
        8 => match *data {
            [a, b] => msg.elapsed_time = Some(u16::from_be_bytes([a, b])),
            _ => flags.set(Flags::BAD_LENGTH),
        },
        16 => {
            let [a, b, c, d, rest @ ..] = data else {
                flags.set(Flags::BAD_LENGTH);
                return;
            };
            let mut rest = rest;
            let mut strings = Vec::new();
            while !rest.is_empty() && strings.len() < MAX_LIST {
                let [h, l, tail @ ..] = rest else {
                    flags.set(Flags::BAD_LENGTH);
                    break;
                };
                let len = usize::from(u16::from_be_bytes([*h, *l]));
                let Some(s) = tail.get(..len) else {
                    flags.set(Flags::BAD_LENGTH);
                    break;
                };
                strings.push(String::from_utf8_lossy(s).into_owned());
                rest = &tail[len..];
            }
            msg.vendor_class = Some(VendorClass {
                enterprise: u32::from_be_bytes([*a, *b, *c, *d]),
                data: strings,
            });
        }
        39 => {
            let [f, rest @ ..] = data else {
                flags.set(Flags::BAD_LENGTH);
                return;
            };
            let mut rest = rest;
            if f & 0xf8 != 0 {
                flags.set(Flags::RESERVED_SET);
            }
            let mut labels = Vec::new();
            loop {
                match rest {
                    [] | [0, ..] => break,
                    [len, tail @ ..] if *len <= 63 && usize::from(*len) <= tail.len() => {
                        let (label, after) = tail.split_at(usize::from(*len));
                        labels.push(String::from_utf8_lossy(label).into_owned());
                        rest = after;
                    }
                    _ => {
                        flags.set(Flags::BAD_LENGTH);
                        break;
                    }
                }
            }
            msg.fqdn = Some((*f, labels.join(".")));
        }
        _ => {}
    }
}

fn duid(data: &[u8], flags: &mut Flags) -> Option<Duid> {
    let [h, l, rest @ ..] = data else {
        flags.set(Flags::BAD_LENGTH);
        return None;
    };
    let kind = u16::from_be_bytes([*h, *l]);
    let ethernet = |hw: &[u8], addr: &[u8]| {
        (hw == [0, 1])
            .then(|| <[u8; 6]>::try_from(addr).ok().map(MacAddr))
            .flatten()
    };
    let (mac, enterprise) = match (kind, rest) {
        (1, [a, b, _, _, _, _, addr @ ..]) => (ethernet(&[*a, *b], addr), None),
        (2, [a, b, c, d, ..]) => (None, Some(u32::from_be_bytes([*a, *b, *c, *d]))),
        (3, [a, b, addr @ ..]) => (ethernet(&[*a, *b], addr), None),
        (4, r) if r.len() == 16 => (None, None),
        (1..=4, _) => {
            flags.set(Flags::BAD_LENGTH);
            (None, None)
        }
        _ => (None, None),
    };
    let mut hex = String::with_capacity(data.len() * 3);
    for (i, b) in data.iter().enumerate() {
        if i > 0 {
            hex.push(':');
        }
        let _ = write!(hex, "{b:02x}");
    }
    Some(Duid {
        kind,
        mac,
        enterprise,
        hex,
    })
}

/// Exchanges a session follows at once; beyond it the oldest is emitted.
pub const MAX_EXCHANGES: usize = 256;
/// An exchange with no message for this long (nanoseconds of packet time) is emitted.
pub const EXCHANGE_TIMEOUT: i64 = 30_000_000_000;

/// One DHCPv6 transaction (a client message, its retransmissions and the server's
/// answers), a row of `dhcpv6.jsonl`. For the asset ledger the client is
/// `client_mac` (from its DUID) or `client_duid`, named by `fqdn`, with `vendor_class`
/// and `oro` as OS fingerprint inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dhcpv6Record {
    /// Nanoseconds since the epoch of the first message.
    pub ts: i64,
    /// Nanoseconds between the first and last message.
    pub duration: i64,
    /// Transaction id.
    pub transaction_id: u32,
    /// Message types in order (names: [`message_type_name`]).
    pub msg_types: Vec<u8>,
    /// The client's DUID, hex.
    pub client_duid: Option<String>,
    /// The MAC in the client's DUID (LLT or LL over Ethernet).
    pub client_mac: Option<MacAddr>,
    /// The server's DUID, hex.
    pub server_duid: Option<String>,
    /// Option 39 from the client.
    pub fqdn: Option<String>,
    /// Option 16 from the client: `"311 MSFT 5.0"` (enterprise number, class data).
    pub vendor_class: Option<String>,
    /// Option 6 from the client, `"17,23,24,39"`.
    pub oro: Option<String>,
    /// IA_NA addresses the server assigned.
    pub assigned_addrs: Vec<Ipv6Addr>,
    /// Violations; `no_response` when no server answered.
    pub flags: Flags,
}

#[derive(Debug)]
struct Exchange {
    key: (u32, Option<String>),
    last: i64,
    answered: bool,
    record: Dhcpv6Record,
}

/// Aggregates messages into transactions by (transaction id, client DUID), bounded
/// by [`MAX_EXCHANGES`]; a REPLY ends one, otherwise [`Session::expire`] or
/// [`Session::finish`] does.
#[derive(Debug, Default)]
pub struct Session {
    exchanges: std::collections::VecDeque<Exchange>,
    /// Datagrams that were not DHCPv6.
    pub not_dhcpv6: u64,
}

impl Session {
    /// Takes one UDP payload on port 546 or 547 that travelled in `dir` at `ts`.
    /// Returns whether it was DHCPv6.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        records: &mut Vec<Dhcpv6Record>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        let Some(msg) = parse_datagram(payload) else {
            self.not_dhcpv6 += 1;
            return false;
        };
        self.expire(ts, records);
        let key = (
            msg.transaction_id,
            msg.client_id.as_ref().map(|d| d.hex.clone()),
        );
        let i = match self.exchanges.iter().position(|e| e.key == key) {
            Some(i) => i,
            None => {
                if self.exchanges.len() >= MAX_EXCHANGES
                    && let Some(mut old) = self.exchanges.pop_front()
                {
                    old.record.flags.set(Flags::TOO_MANY_OUTSTANDING);
                    records.push(close(old));
                }
                let record = Dhcpv6Record {
                    ts,
                    transaction_id: msg.transaction_id,
                    ..Dhcpv6Record::default()
                };
                self.exchanges.push_back(Exchange {
                    key,
                    last: ts,
                    answered: false,
                    record,
                });
                self.exchanges.len() - 1
            }
        };
        let ex = &mut self.exchanges[i];
        ex.last = ts;
        let r = &mut ex.record;
        r.flags.0 |= msg.flags.0;
        if r.msg_types.len() < 16 {
            r.msg_types.push(msg.msg_type);
        }
        if let Some(id) = &msg.client_id {
            r.client_duid = Some(id.hex.clone());
            r.client_mac = id.mac.or(r.client_mac);
        }
        if msg.from_client() {
            if let Some((_, name)) = &msg.fqdn
                && r.fqdn.as_deref() != Some(name)
            {
                msg.identity_facts(dir, facts);
                r.fqdn = Some(name.clone());
            }
            if let Some(v) = &msg.vendor_class {
                r.vendor_class = Some(format!("{} {}", v.enterprise, v.data.join(" ")));
            }
            if !msg.oro.is_empty() {
                r.oro = Some(msg.oro_fingerprint());
            }
        } else {
            ex.answered = true;
            if let Some(id) = &msg.server_id {
                r.server_duid = Some(id.hex.clone());
            }
            if msg.msg_type == 7 && !msg.addresses.is_empty() {
                r.assigned_addrs.clone_from(&msg.addresses);
            }
        }
        if msg.msg_type == 7
            && let Some(ex) = self.exchanges.remove(i)
        {
            records.push(close(ex));
        }
        true
    }

    /// Emits transactions idle for [`EXCHANGE_TIMEOUT`] at packet time `now`.
    pub fn expire(&mut self, now: i64, records: &mut Vec<Dhcpv6Record>) {
        while let Some(i) = self
            .exchanges
            .iter()
            .position(|e| now.saturating_sub(e.last) >= EXCHANGE_TIMEOUT)
        {
            if let Some(ex) = self.exchanges.remove(i) {
                records.push(close(ex));
            }
        }
    }

    /// Emits every transaction still open (end of input).
    pub fn finish(&mut self, records: &mut Vec<Dhcpv6Record>) {
        records.extend(self.exchanges.drain(..).map(close));
    }
}

fn close(ex: Exchange) -> Dhcpv6Record {
    let mut r = ex.record;
    r.duration = ex.last - r.ts;
    if !ex.answered {
        r.flags.set(Flags::NO_RESPONSE);
    }
    r
}

#[cfg(test)]
mod tests;
