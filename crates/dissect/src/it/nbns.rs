//! NetBIOS name service (RFC 1001/1002), UDP 137.
//!
//! The DNS message format with NetBIOS names: each name is a 16-byte NetBIOS name
//! (15 characters, space-padded, and a suffix byte saying what it names: `<00>`
//! workstation, `<20>` file server, `<1D>` master browser, ...) in *first-level
//! encoding*: every byte as two letters `A`..`P` (its high and low nibble), one
//! 32-byte label, followed by the scope's labels. Names may be compressed as in DNS
//! (registrations point back to the question), so [`dns::skip_name`] checks them.
//!
//! [`Message::parse`] validates a datagram without allocating; [`record`] makes it a
//! row of `dns.jsonl` (protocol `nbns`); [`identity`] turns
//! registrations, positive query responses and node status (NBSTAT) responses into
//! hostname facts about the sender.
//!
//! Caveat: a positive name query response normally comes from the name's owner
//! (broadcast resolution), but a WINS server answers for other hosts too. The NB
//! record carries the owner's address, and a fact can only name a side of the flow
//! ([`IdentityFact::about`]), not an address; so the caller should keep the fact only
//! when [`Resource::addresses`] holds the sender's IP (the contract cannot say this).

use std::fmt;
use std::net::Ipv4Addr;

use mamori_flow::Direction;

use super::dns::{self, DnsRecord, Header, Name};
use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

#[cfg(test)]
mod tests;

/// NetBIOS name service port.
pub const PORT: u16 = 137;
/// Resource type NB (name to address).
pub const TYPE_NB: u16 = 0x20;
/// Resource type NBSTAT (node status).
pub const TYPE_NBSTAT: u16 = 0x21;
/// Records a message may claim before it is not NBNS.
const MAX_COUNT: u16 = 64;
/// Names shown from a node status table, at most (its count byte allows 255).
pub const MAX_STATUS_NAMES: usize = 64;

/// A decoded NetBIOS name: 15 characters and the suffix byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct NbName(pub [u8; 16]);

impl NbName {
    /// The name without its padding (trailing spaces and NULs).
    pub fn name(&self) -> &[u8] {
        let n = &self.0[..15];
        let end = n
            .iter()
            .rposition(|&b| b != b' ' && b != 0)
            .map_or(0, |i| i + 1);
        &n[..end]
    }

    /// The suffix (16th byte): what the name stands for.
    pub fn suffix(&self) -> u8 {
        self.0[15]
    }

    /// The name as text, if it is printable ASCII (host names are).
    pub fn text(&self) -> Option<&str> {
        let n = self.name();
        (!n.is_empty() && n.iter().all(|b| b.is_ascii_graphic() || *b == b' '))
            .then(|| std::str::from_utf8(n).ok())
            .flatten()
    }

    /// Reverses first-level encoding of a 32-byte label.
    pub fn decode(label: &[u8]) -> Option<NbName> {
        if label.len() != 32 {
            return None;
        }
        let mut out = [0u8; 16];
        for (o, pair) in out.iter_mut().zip(label.chunks_exact(2)) {
            let hi = pair[0].wrapping_sub(b'A');
            let lo = pair[1].wrapping_sub(b'A');
            if hi > 15 || lo > 15 {
                return None;
            }
            *o = (hi << 4) | lo;
        }
        Some(NbName(out))
    }

    /// The first label of `name`, decoded.
    pub fn of(name: Name<'_>) -> Option<NbName> {
        NbName::decode(name.labels().next()?)
    }
}

impl fmt::Display for NbName {
    /// `NAME<xx>`, non-printable bytes as `\xNN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.name() {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        write!(f, "<{:02x}>", self.suffix())
    }
}

impl fmt::Debug for NbName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NbName({self})")
    }
}

/// What a suffix byte says the name stands for (for unique names; `<00>` of a group
/// is the domain or workgroup name).
pub fn suffix_name(suffix: u8) -> &'static str {
    match suffix {
        0x00 => "workstation",
        0x01 => "messenger_or_msbrowse",
        0x03 => "messenger",
        0x06 => "ras_server",
        0x1B => "domain_master_browser",
        0x1C => "domain_controllers",
        0x1D => "master_browser",
        0x1E => "browser_election",
        0x1F => "netdde",
        0x20 => "server",
        0x21 => "ras_client",
        _ => "unknown",
    }
}

/// Name of an opcode.
pub fn opcode_name(op: u8) -> &'static str {
    match op {
        0 => "query",
        5 => "registration",
        6 => "release",
        7 => "wack",
        8 | 9 => "refresh",
        15 => "multihomed_registration",
        _ => "unknown",
    }
}

/// A resource record of an NBNS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource<'a> {
    /// Owner name (`None` if it is not a NetBIOS name).
    pub name: Option<NbName>,
    /// Type (NB 0x20, NBSTAT 0x21, NULL, NS, A).
    pub rtype: u16,
    /// Class.
    pub rclass: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Data.
    pub rdata: &'a [u8],
}

impl<'a> Resource<'a> {
    /// NB data: (NB_FLAGS, address) entries; NB_FLAGS 0x8000 is a group name.
    pub fn addresses(&self) -> impl Iterator<Item = (u16, Ipv4Addr)> + 'a {
        let data: &'a [u8] = if self.rtype == TYPE_NB {
            self.rdata
        } else {
            &[]
        };
        data.chunks_exact(6).map(|c| {
            (
                u16::from_be_bytes([c[0], c[1]]),
                Ipv4Addr::new(c[2], c[3], c[4], c[5]),
            )
        })
    }

    /// NBSTAT data: the node's name table, (name, NAME_FLAGS) entries; NAME_FLAGS
    /// 0x8000 is a group name (at most [`MAX_STATUS_NAMES`]).
    pub fn status_names(&self) -> impl Iterator<Item = (NbName, u16)> + 'a {
        let (n, table): (usize, &'a [u8]) = match (self.rtype, self.rdata.split_first()) {
            (TYPE_NBSTAT, Some((&n, rest))) => (n as usize, rest),
            _ => (0, &[]),
        };
        table
            .chunks_exact(18)
            .take(n.min(MAX_STATUS_NAMES))
            .map(|c| {
                let mut name = [0u8; 16];
                name.copy_from_slice(&c[..16]);
                (NbName(name), u16::from_be_bytes([c[16], c[17]]))
            })
    }

    /// NBSTAT data: the unit id after the name table (the MAC address, or zeros).
    pub fn status_mac(&self) -> Option<[u8; 6]> {
        if self.rtype != TYPE_NBSTAT {
            return None;
        }
        let (&n, rest) = self.rdata.split_first()?;
        let at = n as usize * 18;
        rest.get(at..at + 6)?.try_into().ok()
    }
}

/// One NBNS message, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The datagram.
    pub bytes: &'a [u8],
    /// Header (opcode, NM flags and rcode as in DNS; 0x0010 is the broadcast flag).
    pub header: Header,
    /// The question (name and type), if there is one.
    pub question: Option<(NbName, u16)>,
    /// Resource records that parsed.
    pub records: usize,
    /// Violations.
    pub flags: Flags,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The resource record at `at` and where the next starts.
fn resource(msg: &[u8], at: usize) -> Option<(Resource<'_>, usize)> {
    let end = dns::skip_name(msg, at).ok()?;
    let fixed = msg.get(end..end + 10)?;
    let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
    let rdata = msg.get(end + 10..end + 10 + rdlen)?;
    Some((
        Resource {
            name: NbName::of(Name::at(msg, at)),
            rtype: u16::from_be_bytes([fixed[0], fixed[1]]),
            rclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            ttl: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            rdata,
        },
        end + 10 + rdlen,
    ))
}

impl<'a> Message<'a> {
    /// Validates a datagram.
    ///
    /// Not NBNS: shorter than the header, an opcode RFC 1002 does not use, more than
    /// one question or 64 records, a question whose name is not a first-level encoded
    /// NetBIOS name, or nothing at all (no question and no record). A truncated or
    /// malformed record stops the walk with `BAD_LENGTH`; so do bytes after the last
    /// record and NB data that is not a whole number of entries.
    pub fn parse(bytes: &'a [u8]) -> Option<Message<'a>> {
        let h = bytes.get(..12)?;
        let word = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let header = Header {
            id: word(0),
            flags: word(2),
            qdcount: word(4),
            ancount: word(6),
            nscount: word(8),
            arcount: word(10),
        };
        if !matches!(header.opcode(), 0 | 5..=9 | 15)
            || header.qdcount > 1
            || [header.ancount, header.nscount, header.arcount]
                .iter()
                .any(|&c| c > MAX_COUNT)
        {
            return None;
        }
        let mut flags = Flags::default();
        if header.flags & 0x0060 != 0 {
            flags.set(Flags::RESERVED_SET);
        }
        let mut at = 12;
        let mut question = None;
        if header.qdcount == 1 {
            let end = dns::skip_name(bytes, at).ok()?;
            let name = NbName::of(Name::at(bytes, at))?;
            let qtype = u16_at(bytes, end)?;
            u16_at(bytes, end + 2)?;
            question = Some((name, qtype));
            at = end + 4;
        }
        let total =
            usize::from(header.ancount) + usize::from(header.nscount) + usize::from(header.arcount);
        if question.is_none() && total == 0 {
            return None;
        }
        let mut records = 0;
        while records < total {
            let Some((r, next)) = resource(bytes, at) else {
                flags.set(Flags::BAD_LENGTH);
                break;
            };
            let nbstat_short = r.rtype == TYPE_NBSTAT
                && r.rdata
                    .first()
                    .is_none_or(|&n| r.rdata.len() < 1 + 18 * n as usize + 6);
            if (r.rtype == TYPE_NB && r.rdata.len() % 6 != 0) || nbstat_short {
                flags.set(Flags::BAD_LENGTH);
            }
            records += 1;
            at = next;
        }
        if records == total && at != bytes.len() {
            flags.set(Flags::BAD_LENGTH);
        }
        let m = Message {
            bytes,
            header,
            question,
            records,
            flags,
        };
        // Neither a NetBIOS question nor a NetBIOS-named record: not NBNS.
        (question.is_some() || m.resources().any(|r| r.name.is_some())).then_some(m)
    }

    /// The resource records that parsed (answers, authority, additional in order).
    pub fn resources(&self) -> impl Iterator<Item = Resource<'a>> + 'a {
        let msg = self.bytes;
        let mut at = 12;
        if self.header.qdcount == 1 {
            at = dns::skip_name(msg, at).map_or(msg.len(), |e| e + 4);
        }
        (0..self.records).map_while(move |_| {
            let (r, next) = resource(msg, at)?;
            at = next;
            Some(r)
        })
    }

    /// Whether the broadcast flag is set.
    pub fn broadcast(&self) -> bool {
        self.header.flags & 0x0010 != 0
    }
}

/// One NBNS message per UDP datagram.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Message<'a>;
    const MAX_PDU: usize = 65535;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Message<'a>> {
        match Message::parse(input) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: input.len(),
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// Whether a name with this suffix and group bit is a host's own name.
fn host_name(name: &NbName, nb_flags: u16) -> Option<&str> {
    let unique = nb_flags & 0x8000 == 0;
    (unique && matches!(name.suffix(), 0x00 | 0x20))
        .then(|| name.text())
        .flatten()
        .filter(|t| !t.starts_with('*') && !t.starts_with("__"))
}

/// Hostnames a message tells about its sender (travelling in `dir`):
///
/// - registrations and refreshes (requests, opcode 5, 8, 9, 15): the question's name
///   when the additional NB record says it is a unique name;
/// - positive name query responses (opcode 0, rcode 0): the answer's unique names
///   (a WINS server answers for other hosts too; see the module's caveat);
/// - node status responses: the unique `<00>`/`<20>` names of the node's table.
///
/// Only `<00>` (workstation) and `<20>` (server) names count, once per message.
pub fn identity(dir: Direction, m: &Message<'_>, facts: &mut Vec<IdentityFact>) {
    let h = m.header;
    let start = facts.len();
    let add = |name: &str, facts: &mut Vec<IdentityFact>| {
        if !facts[start..].iter().any(|f| f.value == name) {
            facts.push(IdentityFact {
                about: Subject::Side(dir),
                kind: IdentityKind::Hostname,
                value: name.to_string(),
                protocol: "nbns",
            });
        }
    };
    if !h.qr() {
        if matches!(h.opcode(), 5 | 8 | 9 | 15)
            && let Some((q, TYPE_NB)) = m.question
        {
            for r in m.resources().filter(|r| r.name == Some(q)) {
                for (nb_flags, _) in r.addresses() {
                    if let Some(n) = host_name(&q, nb_flags) {
                        add(n, facts);
                    }
                }
            }
        }
        return;
    }
    if h.rcode() != 0 || h.opcode() != 0 {
        return;
    }
    for r in m.resources() {
        if let Some(name) = r.name {
            for (nb_flags, _) in r.addresses() {
                if let Some(n) = host_name(&name, nb_flags) {
                    add(n, facts);
                }
            }
        }
        for (name, name_flags) in r.status_names() {
            if let Some(n) = host_name(&name, name_flags) {
                add(n, facts);
            }
        }
    }
}

/// Name of a question or record type.
pub fn type_name(t: u16) -> &'static str {
    match t {
        TYPE_NB => "NB",
        TYPE_NBSTAT => "NBSTAT",
        1 => "A",
        2 => "NS",
        10 => "NULL",
        _ => "unknown",
    }
}

/// One message as a row of `dns.jsonl` (protocol `nbns`), each message on its own:
/// queries are broadcast and answered by the owner (or a WINS server), so there is
/// nothing to match per flow. `query` is the question's name as `NAME<xx>`; `answers`
/// hold NB addresses and node status names (and `mac <unit id>`), with their TTLs;
/// `opcode` is NBNS's (5 registration, 6 release, 8 refresh, ...).
pub fn record(dir: Direction, ts: i64, m: &Message<'_>) -> DnsRecord {
    let h = m.header;
    let mut answers = Vec::new();
    let mut ttls = Vec::new();
    if h.qr() {
        for r in m.resources() {
            let mut push = |a: String| {
                if answers.len() < dns::MAX_ANSWERS {
                    answers.push(a);
                    ttls.push(r.ttl);
                }
            };
            r.addresses().for_each(|(_, a)| push(a.to_string()));
            r.status_names().for_each(|(n, _)| push(n.to_string()));
            if let Some(mac) = r.status_mac() {
                let hex: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
                push(format!("mac {}", hex.join(":")));
            }
        }
    }
    DnsRecord {
        protocol: "nbns",
        ts,
        dir,
        trans_id: h.id,
        opcode: h.opcode(),
        rtt: None,
        query: m.question.map(|(n, _)| n.to_string()),
        qclass: m.question.map(|_| 1),
        qclass_name: m.question.map(|_| "C_INTERNET"),
        qtype: m.question.map(|(_, t)| t),
        qtype_name: m.question.map(|(_, t)| type_name(t)),
        unicast_response: false,
        rcode: h.qr().then_some(h.rcode()),
        rcode_name: h.qr().then_some(dns::rcode_name(h.rcode())),
        aa: h.aa(),
        tc: h.tc(),
        rd: h.rd(),
        ra: h.ra(),
        answers,
        ttls,
        rejected: h.qr() && h.rcode() != 0,
        saw_response: h.qr(),
        saw_query: !h.qr(),
        flags: m.flags,
    }
}
