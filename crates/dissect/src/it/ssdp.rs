//! SSDP (UPnP Device Architecture 2.0 §1), HTTP over UDP on port 1900.
//!
//! Three message kinds, each one datagram with an HTTP head and no body:
//!
//! ```text
//! M-SEARCH * HTTP/1.1     search (multicast to 239.255.255.250 / ff02::c, or unicast)
//!   HOST, MAN: "ssdp:discover", MX, ST (search target), USER-AGENT
//! NOTIFY * HTTP/1.1       advertisement: NT (type), NTS (ssdp:alive / byebye / update),
//!   USN (unique service name), LOCATION (URL of the description), SERVER
//! HTTP/1.1 200 OK         search response (unicast): ST, USN, LOCATION, SERVER
//! ```
//!
//! [`Parser`] reuses the HTTP head parser ([`crate::it::http::parse_head`]) on the
//! whole datagram (a missing final empty line is tolerated, as devices omit it).
//! [`identity`] turns what the sender said about itself into facts: `SERVER` (the
//! device's OS and UPnP stack, `Linux/3.14 UPnP/1.0 Portable SDK/1.6`) is
//! [`IdentityKind::Software`], `USER-AGENT` [`IdentityKind::UserAgent`], and
//! `LOCATION` (where its description document lives) [`IdentityKind::Description`].
//! SSDP is connectionless: there is no session; [`SsdpRecord`] is one message.

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::it::http::{self, StartLine};
use crate::record::{IdentityFact, IdentityKind, Subject};

#[cfg(test)]
mod tests;

/// The identity facts' protocol name.
pub const PROTOCOL: &str = "ssdp";
/// The SSDP port.
pub const PORT: u16 = 1900;
/// Largest datagram taken.
const MAX_DATAGRAM: usize = 65_507;

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind<'a> {
    /// `M-SEARCH`.
    Search,
    /// `NOTIFY`.
    Notify,
    /// A response with this status code.
    Response(u16),
    /// Another method (`SUBSCRIBE` and friends are GENA over TCP, but some stacks
    /// send them over UDP too).
    Other(&'a [u8]),
}

/// One SSDP message, borrowing the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// Which message.
    pub kind: Kind<'a>,
    /// `ST`: search target.
    pub st: Option<&'a [u8]>,
    /// `NT`: notification type.
    pub nt: Option<&'a [u8]>,
    /// `NTS`: notification sub-type.
    pub nts: Option<&'a [u8]>,
    /// `USN`: unique service name.
    pub usn: Option<&'a [u8]>,
    /// `SERVER`.
    pub server: Option<&'a [u8]>,
    /// `USER-AGENT`.
    pub user_agent: Option<&'a [u8]>,
    /// `LOCATION`.
    pub location: Option<&'a [u8]>,
    /// `HOST`.
    pub host: Option<&'a [u8]>,
    /// `MAN`.
    pub man: Option<&'a [u8]>,
    /// Violations: the head's (see [`http::Head::flags`]), and `UNKNOWN_FUNCTION` for a
    /// method other than M-SEARCH and NOTIFY.
    pub flags: Flags,
}

impl<'a> Message<'a> {
    /// Parses a datagram; `None` if it does not start with an HTTP request or status
    /// line.
    pub fn parse(datagram: &'a [u8]) -> Option<Message<'a>> {
        if datagram.len() > MAX_DATAGRAM {
            return None;
        }
        let head = http::parse_head(datagram)?;
        let mut flags = head.flags;
        let kind = match head.start {
            StartLine::Request {
                method: b"M-SEARCH",
                ..
            } => Kind::Search,
            StartLine::Request {
                method: b"NOTIFY", ..
            } => Kind::Notify,
            StartLine::Request { method, .. } => {
                flags.set(Flags::UNKNOWN_FUNCTION);
                Kind::Other(method)
            }
            StartLine::Response { code, .. } => Kind::Response(code),
        };
        let mut m = Message {
            kind,
            st: None,
            nt: None,
            nts: None,
            usn: None,
            server: head.server,
            user_agent: head.user_agent,
            location: head.location,
            host: head.host,
            man: None,
            flags,
        };
        for (name, value) in head.headers() {
            let is = |n: &[u8]| name.eq_ignore_ascii_case(n);
            let slot = if is(b"ST") {
                &mut m.st
            } else if is(b"NT") {
                &mut m.nt
            } else if is(b"NTS") {
                &mut m.nts
            } else if is(b"USN") {
                &mut m.usn
            } else if is(b"MAN") {
                &mut m.man
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        Some(m)
    }
}

/// SSDP datagrams (one message each).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Message<'a>;
    const MAX_PDU: usize = MAX_DATAGRAM;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Message<'a>> {
        match Message::parse(input) {
            Some(pdu) if !input.is_empty() => Parsed::Pdu {
                pdu,
                consumed: input.len(),
            },
            _ => Parsed::NotThisProtocol,
        }
    }
}

/// What a message tells about its sender (whoever sent in `dir`): `SERVER` as
/// software, `USER-AGENT` as a user agent, `LOCATION` as a description URL. A
/// `ssdp:byebye` says nothing new.
pub fn identity(dir: Direction, m: &Message<'_>, facts: &mut Vec<IdentityFact>) {
    let byebye = m
        .nts
        .is_some_and(|v| v.eq_ignore_ascii_case(b"ssdp:byebye"));
    let pairs = [
        (IdentityKind::Software, m.server),
        (IdentityKind::UserAgent, m.user_agent),
        (
            IdentityKind::Description,
            if byebye { None } else { m.location },
        ),
    ];
    for (kind, value) in pairs {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            facts.push(IdentityFact {
                about: Subject::Side(dir),
                kind,
                value: String::from_utf8_lossy(v).into_owned(),
                protocol: PROTOCOL,
            });
        }
    }
}

/// One SSDP message as a log row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SsdpRecord {
    /// Nanoseconds since the epoch.
    pub ts: i64,
    /// `M-SEARCH`, `NOTIFY`, another method, or `response`.
    pub kind: String,
    /// Status code of a response.
    pub status_code: Option<u16>,
    /// `ST` or `NT` (whichever the message has).
    pub target: Option<String>,
    /// `NTS`.
    pub nts: Option<String>,
    /// `USN`.
    pub usn: Option<String>,
    /// `SERVER`.
    pub server: Option<String>,
    /// `USER-AGENT`.
    pub user_agent: Option<String>,
    /// `LOCATION`.
    pub location: Option<String>,
    /// Violations.
    pub flags: Flags,
}

impl SsdpRecord {
    /// The row for `m`, received at `ts`.
    pub fn new(ts: i64, m: &Message<'_>) -> SsdpRecord {
        let text = |v: Option<&[u8]>| v.map(|v| String::from_utf8_lossy(v).into_owned());
        let (kind, status_code) = match m.kind {
            Kind::Search => ("M-SEARCH".to_string(), None),
            Kind::Notify => ("NOTIFY".to_string(), None),
            Kind::Other(method) => (String::from_utf8_lossy(method).into_owned(), None),
            Kind::Response(code) => ("response".to_string(), Some(code)),
        };
        SsdpRecord {
            ts,
            kind,
            status_code,
            target: text(m.st.or(m.nt)),
            nts: text(m.nts),
            usn: text(m.usn),
            server: text(m.server),
            user_agent: text(m.user_agent),
            location: text(m.location),
            flags: m.flags,
        }
    }
}
