//! DNS (RFC 1035), mDNS (RFC 6762) and LLMNR (RFC 4795): one wire format.
//!
//! Hand-written rather than `simple-dns`: the dissector needs a parser that never
//! allocates, never panics, validates a whole message once (so violations become
//! [`Flags`] rather than errors) and keeps raw codes; all that is ~300 lines here, and
//! the crate would be one more dependency whose behaviour on hostile input we would
//! have to prove anyway.
//!
//! [`Message::parse`] validates the header and every section of a message in one pass
//! without allocating; [`Message::questions`] and [`Message::records`] then walk the
//! sections again. Names stay where they are in the message ([`Name`]) and are only
//! turned into text when printed. Name decompression follows at most [`MAX_HOPS`]
//! pointers, each of which must point before the previous label (so loops are
//! impossible), and a name may not exceed 255 bytes.
//!
//! - [`Parser`] takes one message per UDP datagram; [`TcpParser`] frames TCP's 2-byte
//!   length prefix for [`crate::stream::StreamBuffer`].
//! - [`Session`] turns messages into [`DnsRecord`]s (rows of `dns.jsonl`, Zeek `dns.log`
//!   fields), matching DNS responses to queries by transaction id, and emits hostname
//!   facts from mDNS and LLMNR answers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

#[cfg(test)]
mod tests;

/// DNS over UDP and TCP.
pub const PORT: u16 = 53;
/// Multicast DNS.
pub const MDNS_PORT: u16 = 5353;
/// Link-local multicast name resolution.
pub const LLMNR_PORT: u16 = 5355;

/// Compression pointers followed in one name, at most.
pub const MAX_HOPS: usize = 16;
/// Longest name in wire form (RFC 1035 §2.3.4).
pub const MAX_NAME: usize = 255;
/// Largest message (TCP's length prefix allows no more).
pub const MAX_MESSAGE: usize = 65535;
/// Questions, records and strings a message may claim before it is not DNS.
const MAX_COUNT: u16 = 4096;

/// Which of the three protocols sharing the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Variant {
    /// Unicast DNS.
    #[default]
    Dns,
    /// Multicast DNS.
    Mdns,
    /// LLMNR.
    Llmnr,
}

impl Variant {
    /// The `protocol` tag of `dns.jsonl` (and the identity facts).
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Dns => "dns",
            Variant::Mdns => "mdns",
            Variant::Llmnr => "llmnr",
        }
    }

    /// The variant a UDP port pair suggests (mDNS and LLMNR by either port, else DNS).
    pub fn from_ports(a: u16, b: u16) -> Option<Variant> {
        match (a, b) {
            (MDNS_PORT, _) | (_, MDNS_PORT) => Some(Variant::Mdns),
            (LLMNR_PORT, _) | (_, LLMNR_PORT) => Some(Variant::Llmnr),
            (PORT, _) | (_, PORT) => Some(Variant::Dns),
            _ => None,
        }
    }
}

/// The fixed 12-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Transaction id.
    pub id: u16,
    /// The flags word as sent.
    pub flags: u16,
    /// Question count.
    pub qdcount: u16,
    /// Answer count.
    pub ancount: u16,
    /// Authority count.
    pub nscount: u16,
    /// Additional count.
    pub arcount: u16,
}

impl Header {
    /// A response (QR).
    pub fn qr(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    /// Operation code (0 query, 1 inverse, 2 status, 4 notify, 5 update).
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xF) as u8
    }
    /// Authoritative answer (LLMNR: conflict, C).
    pub fn aa(&self) -> bool {
        self.flags & 0x0400 != 0
    }
    /// Truncated.
    pub fn tc(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    /// Recursion desired (LLMNR: tentative, T).
    pub fn rd(&self) -> bool {
        self.flags & 0x0100 != 0
    }
    /// Recursion available.
    pub fn ra(&self) -> bool {
        self.flags & 0x0080 != 0
    }
    /// The Z bit (reserved; bits 0x20/0x10 are AD/CD of DNSSEC).
    pub fn z(&self) -> bool {
        self.flags & 0x0040 != 0
    }
    /// Response code (low 4 bits; EDNS extends it, not decoded here).
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xF) as u8
    }
}

/// A domain name inside a message: where it starts; decompressed when read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name<'a> {
    msg: &'a [u8],
    at: usize,
}

impl<'a> Name<'a> {
    /// The name starting at `at` in `msg` (checked when read: see [`Labels`]).
    pub fn at(msg: &'a [u8], at: usize) -> Self {
        Name { msg, at }
    }

    /// The labels, in order, decompressed (the root gives none).
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            at: self.at,
            hops: 0,
            total: 0,
        }
    }

    /// Whether the name has exactly one label (LLMNR's hostnames).
    pub fn single_label(&self) -> bool {
        self.labels().count() == 1
    }

    /// Whether the last label is `suffix` (ASCII case-insensitive).
    pub fn ends_with_label(&self, suffix: &str) -> bool {
        self.labels()
            .last()
            .is_some_and(|l| l.eq_ignore_ascii_case(suffix.as_bytes()))
    }
}

impl fmt::Display for Name<'_> {
    /// Dotted, without the root's trailing dot; the root is `.`; bytes outside
    /// printable ASCII (and `.` or `\` inside a label) as `\DDD` escapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for label in self.labels() {
            if !first {
                f.write_str(".")?;
            }
            first = false;
            for &b in label {
                if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                    write!(f, "{}", b as char)?;
                } else {
                    write!(f, "\\{b:03}")?;
                }
            }
        }
        if first {
            f.write_str(".")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// The labels of a [`Name`]. Stops (early) on anything [`Message::parse`] would have
/// rejected, so it terminates on any input.
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    msg: &'a [u8],
    at: usize,
    hops: usize,
    total: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let len = *self.msg.get(self.at)? as usize;
            match len & 0xC0 {
                0x00 if len == 0 => return None,
                0x00 => {
                    let label = self.msg.get(self.at + 1..self.at + 1 + len)?;
                    self.total += len + 1;
                    if self.total + 1 > MAX_NAME {
                        return None;
                    }
                    self.at += 1 + len;
                    return Some(label);
                }
                0xC0 => {
                    let low = *self.msg.get(self.at + 1)? as usize;
                    let to = ((len & 0x3F) << 8) | low;
                    self.hops += 1;
                    if to >= self.at || self.hops > MAX_HOPS {
                        return None;
                    }
                    self.at = to;
                }
                _ => return None,
            }
        }
    }
}

/// Why a name did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameError {
    /// The message ended inside the name.
    Truncated,
    /// A pointer forward (or to itself), or more than [`MAX_HOPS`] pointers.
    Loop,
    /// Longer than [`MAX_NAME`].
    TooLong,
    /// A label type other than length or pointer (0x40, 0x80).
    BadLabel,
}

/// Checks the name at `at`; returns where the name ends in place (after its first
/// pointer or its root label).
pub fn skip_name(msg: &[u8], at: usize) -> Result<usize, NameError> {
    let mut pos = at;
    let mut end = None;
    let (mut hops, mut total) = (0, 0);
    loop {
        let len = *msg.get(pos).ok_or(NameError::Truncated)? as usize;
        match len & 0xC0 {
            0x00 if len == 0 => return Ok(end.unwrap_or(pos + 1)),
            0x00 => {
                if pos + 1 + len > msg.len() {
                    return Err(NameError::Truncated);
                }
                total += len + 1;
                if total + 1 > MAX_NAME {
                    return Err(NameError::TooLong);
                }
                pos += 1 + len;
            }
            0xC0 => {
                let low = *msg.get(pos + 1).ok_or(NameError::Truncated)? as usize;
                let to = ((len & 0x3F) << 8) | low;
                hops += 1;
                if to >= pos || hops > MAX_HOPS {
                    return Err(NameError::Loop);
                }
                end.get_or_insert(pos + 2);
                pos = to;
            }
            _ => return Err(NameError::BadLabel),
        }
    }
}

/// A question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question<'a> {
    /// The name asked about.
    pub name: Name<'a>,
    /// Query type.
    pub qtype: u16,
    /// Query class as sent (for mDNS, bit 15 asks for a unicast response).
    pub qclass: u16,
}

impl Question<'_> {
    /// The class without mDNS's unicast-response bit.
    pub fn class(&self) -> u16 {
        self.qclass & 0x7FFF
    }
    /// mDNS: the querier asks for a unicast response (QU).
    pub fn unicast_response(&self) -> bool {
        self.qclass & 0x8000 != 0
    }
}

/// Which section a resource record is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Answers.
    Answer,
    /// Authority.
    Authority,
    /// Additional.
    Additional,
}

/// Decoded resource data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RData<'a> {
    /// IPv4 address.
    A(Ipv4Addr),
    /// IPv6 address.
    Aaaa(Ipv6Addr),
    /// Name server.
    Ns(Name<'a>),
    /// Canonical name.
    Cname(Name<'a>),
    /// Pointer (reverse lookups, DNS-SD).
    Ptr(Name<'a>),
    /// Host information: CPU and OS strings.
    Hinfo {
        /// CPU.
        cpu: &'a [u8],
        /// Operating system.
        os: &'a [u8],
    },
    /// Text: character-strings, each a length byte and that many bytes.
    Txt(&'a [u8]),
    /// Service location.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: Name<'a>,
    },
    /// Any other type, or a known type whose data did not decode: its bytes.
    Other(&'a [u8]),
}

impl<'a> RData<'a> {
    /// TXT strings (at most [`MAX_TXT_STRINGS`]), for a `Txt`.
    pub fn txt_strings(&self) -> impl Iterator<Item = &'a [u8]> {
        let mut rest: &'a [u8] = match self {
            RData::Txt(b) => b,
            _ => &[],
        };
        std::iter::from_fn(move || {
            let (&len, tail) = rest.split_first()?;
            let s = tail.get(..len as usize)?;
            rest = &tail[len as usize..];
            Some(s)
        })
        .take(MAX_TXT_STRINGS)
    }
}

/// TXT strings shown per record, at most.
pub const MAX_TXT_STRINGS: usize = 16;
/// Bytes of a TXT string shown, at most.
const MAX_TXT_SHOWN: usize = 128;

fn text(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        if b.is_ascii_graphic() || b == b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
}

impl fmt::Display for RData<'_> {
    /// As Zeek's `answers` shows it: addresses, names, `TXT <n> <strings>`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RData::A(a) => write!(f, "{a}"),
            RData::Aaaa(a) => write!(f, "{a}"),
            RData::Ns(n) | RData::Cname(n) | RData::Ptr(n) => write!(f, "{n}"),
            RData::Hinfo { cpu, os } => {
                let mut s = String::from("HINFO ");
                text(cpu, &mut s);
                s.push(' ');
                text(os, &mut s);
                f.write_str(&s)
            }
            RData::Txt(_) => {
                let mut s = String::from("TXT");
                for t in self.txt_strings() {
                    s.push(' ');
                    text(&t[..t.len().min(MAX_TXT_SHOWN)], &mut s);
                }
                f.write_str(&s)
            }
            RData::Srv {
                priority,
                weight,
                port,
                target,
            } => write!(f, "SRV {priority} {weight} {port} {target}"),
            RData::Other(b) => write!(f, "<{} bytes>", b.len()),
        }
    }
}

/// A resource record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource<'a> {
    /// Its section.
    pub section: Section,
    /// Owner name.
    pub name: Name<'a>,
    /// Type.
    pub rtype: u16,
    /// Class as sent (for mDNS, bit 15 is cache-flush; for OPT, the UDP size).
    pub rclass: u16,
    /// Time to live, seconds.
    pub ttl: u32,
    /// Data.
    pub rdata: RData<'a>,
}

impl Resource<'_> {
    /// The class without mDNS's cache-flush bit.
    pub fn class(&self) -> u16 {
        self.rclass & 0x7FFF
    }
    /// mDNS: the record replaces cached ones (cache-flush).
    pub fn cache_flush(&self) -> bool {
        self.rclass & 0x8000 != 0
    }
}

/// One DNS message, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The message (without TCP's length prefix).
    pub bytes: &'a [u8],
    /// Header.
    pub header: Header,
    /// Resource records that parsed (fewer than the counts when the message is
    /// truncated or a record is malformed; then `flags` has `BAD_LENGTH`).
    pub records: usize,
    /// Violations.
    pub flags: Flags,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// One character-string at the front of `b`: it and the rest.
fn char_string(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&len, tail) = b.split_first()?;
    Some((tail.get(..len as usize)?, &tail[len as usize..]))
}

/// Reads the question at `at`: it and where the next item starts.
fn question(msg: &[u8], at: usize) -> Result<(Question<'_>, usize), NameError> {
    let end = skip_name(msg, at)?;
    let qtype = u16_at(msg, end).ok_or(NameError::Truncated)?;
    let qclass = u16_at(msg, end + 2).ok_or(NameError::Truncated)?;
    let name = Name { msg, at };
    Ok((
        Question {
            name,
            qtype,
            qclass,
        },
        end + 4,
    ))
}

/// Reads the resource record at `at`: it, where the next one starts, and whether its
/// data disagreed with its type (then shown as `Other`).
fn resource(
    msg: &[u8],
    at: usize,
    section: Section,
) -> Result<(Resource<'_>, usize, bool), NameError> {
    let end = skip_name(msg, at)?;
    let fixed = msg.get(end..end + 10).ok_or(NameError::Truncated)?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let rclass = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let rdlen = u16::from_be_bytes([fixed[8], fixed[9]]) as usize;
    let start = end + 10;
    let data = msg.get(start..start + rdlen).ok_or(NameError::Truncated)?;
    // Names inside the data may point anywhere before them, so they are read in the
    // whole message but must end within the data.
    let name_in_data = |from: usize| -> Option<Name<'_>> {
        let e = skip_name(msg, start + from).ok()?;
        (e <= start + rdlen).then_some(Name {
            msg,
            at: start + from,
        })
    };
    let name_exact = |from: usize| {
        name_in_data(from).filter(|_| skip_name(msg, start + from) == Ok(start + rdlen))
    };
    let decoded = match rtype {
        1 => <[u8; 4]>::try_from(data).ok().map(|a| RData::A(a.into())),
        28 => <[u8; 16]>::try_from(data)
            .ok()
            .map(|a| RData::Aaaa(a.into())),
        2 => name_exact(0).map(RData::Ns),
        5 => name_exact(0).map(RData::Cname),
        12 => name_exact(0).map(RData::Ptr),
        13 => char_string(data).and_then(|(cpu, rest)| {
            let (os, rest) = char_string(rest)?;
            rest.is_empty().then_some(RData::Hinfo { cpu, os })
        }),
        16 => {
            let mut rest = data;
            while let Some((_, tail)) = char_string(rest) {
                rest = tail;
            }
            rest.is_empty().then_some(RData::Txt(data))
        }
        33 => (rdlen >= 7)
            .then(|| name_exact(6))
            .flatten()
            .map(|target| RData::Srv {
                priority: u16::from_be_bytes([data[0], data[1]]),
                weight: u16::from_be_bytes([data[2], data[3]]),
                port: u16::from_be_bytes([data[4], data[5]]),
                target,
            }),
        _ => Some(RData::Other(data)),
    };
    let bad = decoded.is_none();
    let rdata = decoded.unwrap_or(RData::Other(data));
    let name = Name { msg, at };
    Ok((
        Resource {
            section,
            name,
            rtype,
            rclass,
            ttl,
            rdata,
        },
        start + rdlen,
        bad,
    ))
}

impl<'a> Message<'a> {
    /// Validates a whole message (`bytes` is exactly the message).
    ///
    /// Not DNS: shorter than the header, an opcode above 6, more than 4096 items
    /// claimed, no question in a query, or a question that does not parse. A
    /// malformed or truncated resource record stops the walk there with `BAD_LENGTH`;
    /// data that disagrees with its type, bytes after the last record, or an RCODE
    /// or opcode the RFCs do not define set flags on a message that still parsed.
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
        let counts = [
            header.qdcount,
            header.ancount,
            header.nscount,
            header.arcount,
        ];
        if header.opcode() > 6 || counts.iter().any(|&c| c > MAX_COUNT) {
            return None;
        }
        if !header.qr() && header.qdcount == 0 && header.opcode() == 0 {
            return None;
        }
        let mut flags = Flags::default();
        if header.opcode() == 3 {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        if header.z() || (!header.qr() && header.rcode() != 0) {
            flags.set(Flags::RESERVED_SET);
        }
        let mut at = 12;
        for _ in 0..header.qdcount {
            at = question(bytes, at).ok()?.1;
        }
        let mut records = 0;
        let sections = [
            (Section::Answer, header.ancount),
            (Section::Authority, header.nscount),
            (Section::Additional, header.arcount),
        ];
        'walk: for (section, count) in sections {
            for _ in 0..count {
                match resource(bytes, at, section) {
                    Ok((_, next, bad)) => {
                        if bad {
                            flags.set(Flags::BAD_LENGTH);
                        }
                        records += 1;
                        at = next;
                    }
                    Err(_) => {
                        flags.set(Flags::BAD_LENGTH);
                        break 'walk;
                    }
                }
            }
        }
        let total =
            usize::from(header.ancount) + usize::from(header.nscount) + usize::from(header.arcount);
        if records == total && at != bytes.len() {
            flags.set(Flags::BAD_LENGTH);
        }
        Some(Message {
            bytes,
            header,
            records,
            flags,
        })
    }

    /// The questions.
    pub fn questions(&self) -> impl Iterator<Item = Question<'a>> + 'a {
        let msg = self.bytes;
        let mut at = 12;
        (0..self.header.qdcount).map_while(move |_| {
            let (q, next) = question(msg, at).ok()?;
            at = next;
            Some(q)
        })
    }

    /// The first question, if any.
    pub fn question(&self) -> Option<Question<'a>> {
        self.questions().next()
    }

    /// The resource records that parsed, answers first.
    pub fn records(&self) -> impl Iterator<Item = Resource<'a>> + 'a {
        let msg = self.bytes;
        let h = self.header;
        let mut at = 12;
        for _ in 0..h.qdcount {
            at = question(msg, at).map_or(msg.len(), |(_, n)| n);
        }
        let sections = [
            (Section::Answer, h.ancount),
            (Section::Authority, h.nscount),
            (Section::Additional, h.arcount),
        ];
        sections
            .into_iter()
            .flat_map(|(s, n)| std::iter::repeat_n(s, n.into()))
            .take(self.records)
            .map_while(move |section| {
                let (r, next, _) = resource(msg, at, section).ok()?;
                at = next;
                Some(r)
            })
    }
}

/// One DNS message per UDP datagram (trailing bytes are `BAD_LENGTH`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Message<'a>;
    const MAX_PDU: usize = MAX_MESSAGE;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Message<'a>> {
        if input.len() < 12 {
            return Parsed::NotThisProtocol;
        }
        match Message::parse(input) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: input.len(),
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// DNS over TCP: each message behind a 2-byte length (RFC 1035 §4.2.2).
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpParser;

impl PduParser for TcpParser {
    type Pdu<'a> = Message<'a>;
    const MAX_PDU: usize = MAX_MESSAGE + 2;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Message<'a>> {
        let Some(len) = u16_at(input, 0) else {
            return Parsed::Incomplete { needed: 2 };
        };
        let len = usize::from(len);
        if len < 12 {
            return Parsed::NotThisProtocol;
        }
        // Judge the header as soon as it is there, before waiting for the rest.
        if input.len() < 2 + len {
            if input.len() >= 14 {
                let h = &input[2..14];
                let opcode = (h[2] >> 3) & 0xF;
                let too_many = (4..12)
                    .step_by(2)
                    .any(|i| u16::from_be_bytes([h[i], h[i + 1]]) > MAX_COUNT);
                if opcode > 6 || too_many {
                    return Parsed::NotThisProtocol;
                }
            }
            return Parsed::Incomplete { needed: 2 + len };
        }
        match Message::parse(&input[2..2 + len]) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: 2 + len,
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// Name of a record or query type.
pub fn type_name(t: u16) -> &'static str {
    match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        64 => "SVCB",
        65 => "HTTPS",
        252 => "AXFR",
        251 => "IXFR",
        255 => "*",
        _ => "unknown",
    }
}

/// Name of a class (without mDNS's top bit).
pub fn class_name(c: u16) -> &'static str {
    match c & 0x7FFF {
        1 => "C_INTERNET",
        3 => "C_CHAOS",
        4 => "C_HESIOD",
        254 => "C_NONE",
        255 => "C_ANY",
        _ => "unknown",
    }
}

/// Name of a response code (Zeek's spelling).
pub fn rcode_name(r: u8) -> &'static str {
    match r {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "unknown",
    }
}

/// Answers kept per record, at most.
pub const MAX_ANSWERS: usize = 32;
/// Queries awaiting a response per session, at most.
pub const MAX_OUTSTANDING: usize = 64;

/// One DNS exchange (a query and its response), or a lone message: a row of
/// `dns.jsonl` with Zeek `dns.log`'s fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    /// `dns`, `mdns` or `llmnr`.
    pub protocol: &'static str,
    /// Nanoseconds since the epoch of the first message (query, or lone response).
    pub ts: i64,
    /// Direction the query (or lone response) travelled.
    pub dir: Direction,
    /// Transaction id.
    pub trans_id: u16,
    /// Opcode.
    pub opcode: u8,
    /// Round trip in nanoseconds, when a response answered a query.
    pub rtt: Option<i64>,
    /// First question's name (`None` when there was none).
    pub query: Option<String>,
    /// Its class (without the mDNS unicast-response bit).
    pub qclass: Option<u16>,
    /// Class name.
    pub qclass_name: Option<&'static str>,
    /// Its type.
    pub qtype: Option<u16>,
    /// Type name.
    pub qtype_name: Option<&'static str>,
    /// mDNS: the question asked for a unicast response.
    pub unicast_response: bool,
    /// Response code, when there was a response.
    pub rcode: Option<u8>,
    /// Its name.
    pub rcode_name: Option<&'static str>,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated (either message).
    pub tc: bool,
    /// Recursion desired.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Answer section data, as text (at most [`MAX_ANSWERS`]).
    pub answers: Vec<String>,
    /// Their TTLs, seconds.
    pub ttls: Vec<u32>,
    /// The response refused the query: an RCODE other than NOERROR.
    pub rejected: bool,
    /// Whether a response was seen.
    pub saw_response: bool,
    /// Whether a query was seen.
    pub saw_query: bool,
    /// Violations seen in either message or in the exchange.
    pub flags: Flags,
}

impl DnsRecord {
    fn from_message(variant: Variant, dir: Direction, ts: i64, m: &Message<'_>) -> DnsRecord {
        let h = m.header;
        let q = m.question();
        let mut r = DnsRecord {
            protocol: variant.as_str(),
            ts,
            dir,
            trans_id: h.id,
            opcode: h.opcode(),
            rtt: None,
            query: q.map(|q| q.name.to_string()),
            qclass: q.map(|q| q.class()),
            qclass_name: q.map(|q| class_name(q.qclass)),
            qtype: q.map(|q| q.qtype),
            qtype_name: q.map(|q| type_name(q.qtype)),
            unicast_response: variant == Variant::Mdns && q.is_some_and(|q| q.unicast_response()),
            rcode: None,
            rcode_name: None,
            aa: false,
            tc: h.tc(),
            rd: h.rd(),
            ra: false,
            answers: Vec::new(),
            ttls: Vec::new(),
            rejected: false,
            saw_response: false,
            saw_query: !h.qr(),
            flags: m.flags,
        };
        if h.qr() {
            r.merge_response(ts, m);
            r.rtt = None;
        }
        r
    }

    fn merge_response(&mut self, ts: i64, m: &Message<'_>) {
        let h = m.header;
        self.saw_response = true;
        self.rtt = Some(ts - self.ts);
        self.rcode = Some(h.rcode());
        self.rcode_name = Some(rcode_name(h.rcode()));
        self.rejected = h.rcode() != 0;
        self.aa = h.aa();
        self.tc |= h.tc();
        self.ra = h.ra();
        self.flags.0 |= m.flags.0;
        for r in m.records().filter(|r| r.section == Section::Answer) {
            if self.answers.len() == MAX_ANSWERS {
                break;
            }
            self.answers.push(r.rdata.to_string());
            self.ttls.push(r.ttl);
        }
    }
}

/// Per-flow DNS state: outstanding queries (unicast DNS only).
///
/// DNS responses are matched to queries by transaction id and first question. mDNS
/// and LLMNR queries go to a multicast group and are answered by whichever host owns
/// the name (over a different flow), so each of their messages is a record of its
/// own at once.
#[derive(Debug, Default)]
pub struct Session {
    variant: Variant,
    outstanding: Vec<DnsRecord>,
}

impl Session {
    /// A session for `variant`.
    pub fn new(variant: Variant) -> Self {
        Session {
            variant,
            outstanding: Vec::new(),
        }
    }

    /// Takes one message travelling in `dir` at `ts`: completed records go to
    /// `records`, hostnames learned to `facts`.
    pub fn on_message(
        &mut self,
        dir: Direction,
        ts: i64,
        m: &Message<'_>,
        records: &mut Vec<DnsRecord>,
        facts: &mut Vec<IdentityFact>,
    ) {
        identity(self.variant, dir, m, facts);
        if self.variant != Variant::Dns {
            records.push(DnsRecord::from_message(self.variant, dir, ts, m));
            return;
        }
        if !m.header.qr() {
            if self.outstanding.len() == MAX_OUTSTANDING {
                let mut oldest = self.outstanding.remove(0);
                oldest
                    .flags
                    .set(Flags::NO_RESPONSE | Flags::TOO_MANY_OUTSTANDING);
                records.push(oldest);
            }
            self.outstanding
                .push(DnsRecord::from_message(self.variant, dir, ts, m));
            return;
        }
        let q = m.question();
        let (qname, qtype) = (q.map(|q| q.name.to_string()), q.map(|q| q.qtype));
        let found = self.outstanding.iter().position(|r| {
            r.trans_id == m.header.id
                && r.dir != dir
                && (q.is_none()
                    || (r.qtype == qtype
                        && r.query.as_deref().map(str::to_ascii_lowercase)
                            == qname.as_deref().map(str::to_ascii_lowercase)))
        });
        match found {
            Some(i) => {
                let mut r = self.outstanding.remove(i);
                r.merge_response(ts, m);
                records.push(r);
            }
            None => {
                let mut r = DnsRecord::from_message(self.variant, dir, ts, m);
                r.flags.set(Flags::UNSOLICITED_RESPONSE);
                records.push(r);
            }
        }
    }

    /// The flow ended: queries still waiting are records with `NO_RESPONSE`.
    pub fn finish(&mut self, records: &mut Vec<DnsRecord>) {
        for mut r in self.outstanding.drain(..) {
            r.flags.set(Flags::NO_RESPONSE);
            records.push(r);
        }
    }
}

/// Hostnames a message tells about its sender.
///
/// mDNS and LLMNR responses that carry an A or AAAA record for a `.local` name (mDNS)
/// or a single-label name (LLMNR) announce the sender's own name (RFC 6762 §6,
/// RFC 4795 §2.1). Each name once per message, as sent (no trailing dot).
pub fn identity(variant: Variant, dir: Direction, m: &Message<'_>, facts: &mut Vec<IdentityFact>) {
    if variant == Variant::Dns || !m.header.qr() || m.header.rcode() != 0 {
        return;
    }
    let start = facts.len();
    for r in m.records() {
        if !matches!(r.rdata, RData::A(_) | RData::Aaaa(_)) {
            continue;
        }
        let fits = match variant {
            Variant::Mdns => r.name.ends_with_label("local"),
            Variant::Llmnr => r.name.single_label(),
            Variant::Dns => false,
        };
        let value = r.name.to_string();
        if fits && !facts[start..].iter().any(|f| f.value == value) {
            facts.push(IdentityFact {
                about: Subject::Side(dir),
                kind: IdentityKind::Hostname,
                value,
                protocol: variant.as_str(),
            });
        }
    }
}

/// The address a reverse-lookup name stands for: `4.3.2.1.in-addr.arpa` is 1.2.3.4,
/// and 32 nibbles under `ip6.arpa` an IPv6 address; `None` for anything else
/// (including partial names such as `2.1.in-addr.arpa`).
pub fn reverse_address(name: &Name<'_>) -> Option<IpAddr> {
    let mut labels: [&[u8]; 34] = [&[]; 34];
    let mut n = 0;
    for l in name.labels() {
        *labels.get_mut(n)? = l;
        n += 1;
    }
    let labels = &labels[..n];
    let is = |l: &[u8], s: &str| l.eq_ignore_ascii_case(s.as_bytes());
    match labels {
        [a, b, c, d, x, y] if is(x, "in-addr") && is(y, "arpa") => {
            let mut o = [0u8; 4];
            for (o, l) in o.iter_mut().zip([d, c, b, a]) {
                let t = std::str::from_utf8(l).ok()?;
                if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                *o = t.parse().ok()?;
            }
            Some(IpAddr::V4(o.into()))
        }
        [nibbles @ .., x, y] if nibbles.len() == 32 && is(x, "ip6") && is(y, "arpa") => {
            let mut o = [0u8; 16];
            for (i, l) in nibbles.iter().rev().enumerate() {
                let [c] = l else { return None };
                let v = (*c as char).to_digit(16)? as u8;
                o[i / 2] |= if i % 2 == 0 { v << 4 } else { v };
            }
            Some(IpAddr::V6(o.into()))
        }
        _ => None,
    }
}

/// Host names a response gives for addresses: each PTR answer whose owner is a
/// reverse-lookup name, as (address, name). These are facts about the address in
/// the question, not about either side of the flow, so they are not
/// [`IdentityFact`]s (whose `about` can only name a side); the pipeline can attach
/// them to the asset with that address.
pub fn reverse_names<'a>(m: &Message<'a>) -> impl Iterator<Item = (IpAddr, Name<'a>)> + 'a {
    let ok = m.header.qr() && m.header.rcode() == 0;
    m.records()
        .filter(move |r| ok && r.section == Section::Answer)
        .filter_map(|r| match r.rdata {
            RData::Ptr(target) => Some((reverse_address(&r.name)?, target)),
            _ => None,
        })
}

/// Operating system hints: each HINFO record of a response as (owner, CPU, OS).
/// In mDNS the owner is the sender's own `.local` name; `IdentityKind` has no OS kind
/// yet, so these are not [`IdentityFact`]s.
pub fn host_info<'a>(m: &Message<'a>) -> impl Iterator<Item = (Name<'a>, &'a [u8], &'a [u8])> + 'a {
    let ok = m.header.qr();
    m.records().filter_map(move |r| match r.rdata {
        RData::Hinfo { cpu, os } if ok => Some((r.name, cpu, os)),
        _ => None,
    })
}
