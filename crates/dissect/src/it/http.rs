//! HTTP/1.x over TCP (RFC 9110, message syntax RFC 9112): request and status lines,
//! the headers that name software and hosts, and body framing.
//!
//! A message is a *head* (start line, header lines, an empty line) and a body whose
//! length the head decides: `Transfer-Encoding: chunked`, else `Content-Length`, else
//! none for a request and "until the connection closes" for a response; responses to
//! `HEAD`, `1xx`, `204` and `304` have none, and `101` or a `2xx` to `CONNECT` turn the
//! connection into a tunnel that is no longer HTTP.
//!
//! - [`HeadParser`] is the [`PduParser`]: it takes one head (at most [`MAX_HEAD`]
//!   bytes) from the front of its input and never looks at the body. The first bytes
//!   decide whether a stream is HTTP at all: a request line (an upper-case method, a
//!   space, ..., `HTTP/1.x`) or a status line (`HTTP/1.x nnn`), else `NotThisProtocol`.
//!   [`parse_head`] is the same parser for a whole datagram (SSDP).
//! - [`Session`] does the framing itself rather than through
//!   [`crate::stream::StreamBuffer`], because a body must be *skipped*, not buffered: per
//!   direction it holds at most one incomplete head ([`MAX_HEAD`]) and otherwise only a
//!   count of body bytes still to skip (or a small state machine walking the chunk
//!   sizes of a chunked body), so a gigabyte download costs no memory. A gap inside a
//!   body of known length is just skipped; any other gap drops the direction into a
//!   resync that looks for the next line starting like a request or status line
//!   (bounded by [`crate::stream::MAX_RESYNC_BYTES`]).
//! - The session pairs responses with requests in order (pipelining; at most
//!   [`MAX_OUTSTANDING`] waiting) and yields one [`HttpRecord`] per transaction, Zeek
//!   `http.log`'s fields, once the response body ended (or at [`Session::finish`]).
//!   Identity facts: a request's `User-Agent` is about its sender, a response's
//!   `Server` about its sender.

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};
use crate::stream::MAX_RESYNC_BYTES;

#[cfg(test)]
mod tests;

/// `http.jsonl`'s and the identity facts' protocol name.
pub const PROTOCOL: &str = "http";
/// Ports where HTTP is usual (a hint: the content decides).
pub const PORTS: [u16; 4] = [80, 8000, 8080, 8888];
/// The longest head (start line and headers) taken; a longer one is a violation.
pub const MAX_HEAD: usize = 16 * 1024;
/// Requests waiting for their responses per connection, at most.
pub const MAX_OUTSTANDING: usize = 32;
/// Longest method token recognised.
const MAX_METHOD: usize = 24;
/// Longest chunk-size line (with extensions) or trailer section tolerated.
const MAX_CHUNK_LINE: usize = 4096;

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `METHOD URI HTTP/1.x`.
    Request {
        /// The method (`GET`, `M-SEARCH`, ...).
        method: &'a [u8],
        /// The request target as sent.
        uri: &'a [u8],
        /// The version (`HTTP/1.1`).
        version: &'a [u8],
    },
    /// `HTTP/1.x CODE REASON`.
    Response {
        /// The version.
        version: &'a [u8],
        /// The status code.
        code: u16,
        /// The reason phrase (may be empty).
        reason: &'a [u8],
    },
}

/// A parsed head: the start line and the headers the dissectors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head<'a> {
    /// The start line.
    pub start: StartLine<'a>,
    /// `Host`.
    pub host: Option<&'a [u8]>,
    /// `User-Agent`.
    pub user_agent: Option<&'a [u8]>,
    /// `Server`.
    pub server: Option<&'a [u8]>,
    /// `Content-Type`.
    pub content_type: Option<&'a [u8]>,
    /// `Content-Length`, when present and valid.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` as sent.
    pub transfer_encoding: Option<&'a [u8]>,
    /// Whether the last transfer coding is `chunked`.
    pub chunked: bool,
    /// `Location`.
    pub location: Option<&'a [u8]>,
    /// Header lines (without the start line), as sent; see [`Head::headers`].
    pub header_block: &'a [u8],
    /// Violations: `BAD_LENGTH` (an invalid or conflicting `Content-Length`, or both it
    /// and `Transfer-Encoding`), `RESERVED_SET` (a header line without a colon, or a
    /// folded line).
    pub flags: Flags,
}

impl<'a> Head<'a> {
    /// Whether this is a request.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// Every header as (name, value), value trimmed, in order (lines without a colon
    /// are left out).
    pub fn headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        self.header_block
            .split(|&b| b == b'\n')
            .filter_map(|line| header_line(strip_cr(line)))
    }

    /// The first header called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Splits `name: value`; `None` for a line without a colon or with an empty name.
fn header_line(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = trim(&line[..colon]);
    (!name.is_empty()).then(|| (name, trim(&line[colon + 1..])))
}

/// Whether the bytes could start a request or status line: `Some(true)` yes,
/// `Some(false)` no, `None` too few bytes to say.
pub fn plausible_start(input: &[u8]) -> Option<bool> {
    const HTTP: &[u8] = b"HTTP/";
    if input.first() == Some(&b'H') && input.len() >= 2 && input[1] == b'T' {
        // HTTP/... (a method may also start with HT, but none registered does).
        let n = input.len().min(HTTP.len());
        return if input[..n] == HTTP[..n] {
            (input.len() >= HTTP.len()).then_some(true)
        } else {
            Some(false)
        };
    }
    for (i, &b) in input.iter().enumerate().take(MAX_METHOD + 1) {
        match b {
            b'A'..=b'Z' | b'-' | b'_' => {}
            b' ' if i > 0 => return Some(true),
            _ => return Some(false),
        }
    }
    if input.len() > MAX_METHOD {
        Some(false)
    } else {
        None
    }
}

/// Finds the end of a head: the index just past its empty line, if within `input`.
fn head_end(input: &[u8]) -> Option<usize> {
    let mut at = 0;
    while let Some(nl) = input.get(at..)?.iter().position(|&b| b == b'\n') {
        let line_end = at + nl;
        let next = line_end + 1;
        match input.get(next..) {
            Some([b'\n', ..]) => return Some(next + 1),
            Some([b'\r', b'\n', ..]) => return Some(next + 2),
            _ => at = next,
        }
    }
    None
}

/// Parses the start line (without its line end).
fn start_line(line: &[u8]) -> Option<StartLine<'_>> {
    let version_ok = |v: &[u8]| {
        matches!(
            v,
            [b'H', b'T', b'T', b'P', b'/', b'0'..=b'9', b'.', b'0'..=b'9']
        )
    };
    if line.starts_with(b"HTTP/") {
        let mut parts = line.splitn(3, |&b| b == b' ');
        let version = parts.next()?;
        let code = parts.next()?;
        let reason = parts.next().unwrap_or(&[]);
        if !version_ok(version) {
            return None;
        }
        let [a, b, c] = code else { return None };
        if ![a, b, c].iter().all(|d| d.is_ascii_digit()) {
            return None;
        }
        let code = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
        return Some(StartLine::Response {
            version,
            code,
            reason: trim(reason),
        });
    }
    let sp1 = line.iter().position(|&b| b == b' ')?;
    let sp2 = line.iter().rposition(|&b| b == b' ')?;
    let method = &line[..sp1];
    let version = &line[sp2 + 1..];
    if sp2 <= sp1
        || method.is_empty()
        || method.len() > MAX_METHOD
        || !method
            .iter()
            .all(|b| b.is_ascii_uppercase() || *b == b'-' || *b == b'_')
        || !version_ok(version)
    {
        return None;
    }
    Some(StartLine::Request {
        method,
        uri: trim(&line[sp1 + 1..sp2]),
        version,
    })
}

/// Parses the head in `bytes` (start line, then header lines; the empty line may be
/// missing). `None` if the start line is not HTTP.
pub fn parse_head(bytes: &[u8]) -> Option<Head<'_>> {
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let start = start_line(strip_cr(&bytes[..nl]))?;
    let header_block = bytes.get(nl + 1..).unwrap_or(&[]);
    let mut head = Head {
        start,
        host: None,
        user_agent: None,
        server: None,
        content_type: None,
        content_length: None,
        transfer_encoding: None,
        chunked: false,
        location: None,
        header_block,
        flags: Flags::default(),
    };
    for raw in header_block.split(|&b| b == b'\n') {
        let line = strip_cr(raw);
        if line.is_empty() {
            continue;
        }
        if matches!(line[0], b' ' | b'\t') {
            head.flags.set(Flags::RESERVED_SET); // obsolete line folding
            continue;
        }
        let Some((name, value)) = header_line(line) else {
            head.flags.set(Flags::RESERVED_SET);
            continue;
        };
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        let slot = if is("host") {
            Some(&mut head.host)
        } else if is("user-agent") {
            Some(&mut head.user_agent)
        } else if is("server") {
            Some(&mut head.server)
        } else if is("content-type") {
            Some(&mut head.content_type)
        } else if is("location") {
            Some(&mut head.location)
        } else {
            None
        };
        if let Some(slot) = slot {
            slot.get_or_insert(value);
        } else if is("transfer-encoding") {
            head.transfer_encoding = Some(value);
            head.chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|c| trim(c).eq_ignore_ascii_case(b"chunked"));
        } else if is("content-length") {
            match parse_decimal(value) {
                Some(n) if head.content_length.is_none_or(|m| m == n) => {
                    head.content_length = Some(n)
                }
                _ => head.flags.set(Flags::BAD_LENGTH),
            }
        }
    }
    if head.transfer_encoding.is_some() && head.content_length.is_some() {
        head.flags.set(Flags::BAD_LENGTH);
    }
    Some(head)
}

/// A decimal `u64` of 1 to 19 digits.
fn parse_decimal(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// Parses one head from the front of a byte stream (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadParser;

impl PduParser for HeadParser {
    type Pdu<'a> = Head<'a>;
    const MAX_PDU: usize = MAX_HEAD;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Head<'a>> {
        match plausible_start(input) {
            Some(false) => return Parsed::NotThisProtocol,
            None => {
                return Parsed::Incomplete {
                    needed: input.len() + 1,
                };
            }
            Some(true) => {}
        }
        let window = &input[..input.len().min(MAX_HEAD)];
        let Some(end) = head_end(window) else {
            // A complete first line must already be HTTP.
            if let Some(nl) = window.iter().position(|&b| b == b'\n')
                && start_line(strip_cr(&window[..nl])).is_none()
            {
                return Parsed::NotThisProtocol;
            }
            return if input.len() >= MAX_HEAD {
                Parsed::NotThisProtocol
            } else {
                Parsed::Incomplete {
                    needed: input.len() + 1,
                }
            };
        };
        match parse_head(&input[..end]) {
            Some(head) => Parsed::Pdu {
                pdu: head,
                consumed: end,
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// One HTTP transaction: a row of `http.jsonl` with Zeek `http.log`'s fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRecord {
    /// Nanoseconds since the epoch of the request (or of a lone response).
    pub ts: i64,
    /// The direction the request travelled (client to server).
    pub dir: Option<Direction>,
    /// Position of the transaction in its connection, from 1.
    pub trans_depth: u32,
    /// Request method.
    pub method: Option<String>,
    /// `Host` header.
    pub host: Option<String>,
    /// Request target.
    pub uri: Option<String>,
    /// Request version (`1.1`).
    pub version: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// Request `Content-Type`.
    pub request_content_type: Option<String>,
    /// Request body bytes (decoded length for chunked bodies).
    pub request_body_len: u64,
    /// Status code of the final response.
    pub status_code: Option<u16>,
    /// Its reason phrase.
    pub status_msg: Option<String>,
    /// Interim (`1xx`) responses seen before it.
    pub info_code: Option<u16>,
    /// `Server`.
    pub server: Option<String>,
    /// Response `Content-Type`.
    pub response_content_type: Option<String>,
    /// Response `Location`.
    pub location: Option<String>,
    /// Response body bytes.
    pub response_body_len: u64,
    /// The connection became a tunnel (`101`, `CONNECT`): nothing after it is HTTP.
    pub tunnel: bool,
    /// Violations in either head or the exchange (`NO_RESPONSE`,
    /// `UNSOLICITED_RESPONSE`, `TOO_MANY_OUTSTANDING`, `BAD_LENGTH`, `RESYNC`).
    pub flags: Flags,
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Framing counters of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HttpStats {
    /// Heads parsed.
    pub heads: u64,
    /// Bytes skipped while resynchronising.
    pub skipped: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Heads longer than [`MAX_HEAD`] (given up on).
    pub oversized_heads: u64,
}

/// Where one direction's byte stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Body {
    /// At a head.
    #[default]
    Head,
    /// Skipping this many body bytes.
    Length(u64),
    /// Walking a chunked body.
    Chunked(Chunk),
    /// Counting body bytes until the connection ends.
    UntilClose,
    /// Not HTTP any more (a tunnel, or given up).
    Done,
}

/// The chunked-body state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// In a chunk-size line: the size so far, whether hex digits ended (an extension
    /// follows), bytes of the line so far.
    Size {
        size: u64,
        digits: u8,
        ext: bool,
        line: usize,
    },
    /// Skipping chunk data.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd { cr: bool },
    /// In the trailer section: bytes of the current line, bytes in all.
    Trailer { line: usize, total: usize },
}

const CHUNK_START: Chunk = Chunk::Size {
    size: 0,
    digits: 0,
    ext: false,
    line: 0,
};

#[derive(Debug, Default)]
struct Side {
    held: Vec<u8>,
    body: Body,
    /// The transaction the body being skipped belongs to.
    body_for: u32,
    resyncing: bool,
    resync_skipped: usize,
    recognised: bool,
}

/// Per-connection HTTP state: framing of both directions and the transactions.
#[derive(Debug, Default)]
pub struct Session {
    sides: [Side; 2],
    /// Requests waiting for responses, oldest first.
    pending: VecDeque<HttpRecord>,
    /// Responses whose body is being skipped, by direction of the response.
    active: [Option<HttpRecord>; 2],
    /// Records finished while no output was at hand (a body that ended in a gap).
    ready: Vec<HttpRecord>,
    depth: u32,
    not_http: bool,
    /// Counters.
    pub stats: HttpStats,
}

/// What to do with a body's bytes once counted.
enum Step {
    /// Continue with the rest of the input.
    More,
    /// The body ended; continue.
    Ended,
}

impl Session {
    /// A fresh session.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the connection was found not to be HTTP (its first bytes were not a
    /// request or status line): nothing more will be parsed.
    pub fn not_http(&self) -> bool {
        self.not_http
    }

    /// Whether at least one head was parsed.
    pub fn recognised(&self) -> bool {
        self.sides.iter().any(|s| s.recognised)
    }

    /// Takes in-order bytes travelling in `dir` at `ts` (nanoseconds): finished
    /// transactions go to `records`, software names to `facts`.
    pub fn on_data(
        &mut self,
        dir: Direction,
        ts: i64,
        bytes: &[u8],
        records: &mut Vec<HttpRecord>,
        facts: &mut Vec<IdentityFact>,
    ) {
        records.append(&mut self.ready);
        let mut input = bytes;
        // Every pass consumes at least one byte or returns.
        while !input.is_empty() && !self.not_http {
            let side = &mut self.sides[dir.index()];
            match side.body {
                Body::Done => return,
                Body::UntilClose => {
                    self.count_body(dir, input.len() as u64);
                    return;
                }
                Body::Length(n) => {
                    let k = n.min(input.len() as u64);
                    let rest = n - k;
                    side.body = if rest == 0 {
                        Body::Head
                    } else {
                        Body::Length(rest)
                    };
                    self.count_body(dir, k);
                    // k <= input.len(), so this fits in usize.
                    input = &input[k as usize..];
                    if rest == 0 {
                        self.body_ended(dir, records);
                    }
                }
                Body::Chunked(mut state) => {
                    let (used, data, step) = chunk_step(&mut state, input);
                    self.sides[dir.index()].body = Body::Chunked(state);
                    self.count_body(dir, data);
                    input = &input[used..];
                    match step {
                        Step::More => {}
                        Step::Ended => {
                            self.sides[dir.index()].body = Body::Head;
                            self.body_ended(dir, records);
                        }
                    }
                }
                Body::Head => {
                    let used = self.heads(dir, ts, input, records, facts);
                    input = &input[used..];
                }
            }
        }
    }

    /// Reassembly skipped `len` bytes in `dir`. Inside a body of known length the gap is
    /// skipped like body bytes; anywhere else the direction resynchronises.
    pub fn on_gap(&mut self, dir: Direction, len: u64) {
        self.stats.gaps += 1;
        let side = &mut self.sides[dir.index()];
        let lost_response = side.held.starts_with(b"HTTP/");
        side.held.clear();
        if lost_response
            && let Some(i) = self.pending.iter().position(|r| r.dir != Some(dir))
            && let Some(mut r) = self.pending.remove(i)
        {
            // The response being read was cut: its request will get no other.
            r.flags.set(Flags::NO_RESPONSE | Flags::RESYNC);
            self.ready.push(r);
        }
        let side = &mut self.sides[dir.index()];
        match side.body {
            Body::Length(n) if len <= n => {
                side.body = if n == len {
                    Body::Head
                } else {
                    Body::Length(n - len)
                };
                self.count_body(dir, len);
                if n == len {
                    // The body ended inside the gap: the record goes out with the next
                    // bytes or at `finish`.
                    if let Some(r) = self.active[dir.index()].take() {
                        self.ready.push(r);
                    }
                }
            }
            Body::UntilClose | Body::Done => {}
            _ if len == 0 => {}
            _ => {
                self.mark_resync(dir);
                let side = &mut self.sides[dir.index()];
                side.body = Body::Head;
                side.resyncing = true;
                side.resync_skipped = 0;
            }
        }
    }

    /// The connection ended: open transactions are emitted (without a response:
    /// `NO_RESPONSE`).
    pub fn finish(&mut self, records: &mut Vec<HttpRecord>) {
        records.append(&mut self.ready);
        for r in self.active.iter_mut().filter_map(Option::take) {
            records.push(r);
        }
        for mut r in self.pending.drain(..) {
            r.flags.set(Flags::NO_RESPONSE);
            records.push(r);
        }
    }

    /// Flags the transaction affected by a lost sync in `dir`.
    fn mark_resync(&mut self, dir: Direction) {
        let depth = self.sides[dir.index()].body_for;
        if let Some(r) = self.record_mut(dir, depth) {
            r.flags.set(Flags::RESYNC);
        }
    }

    /// The open record `depth` whose body travels in `dir`.
    fn record_mut(&mut self, dir: Direction, depth: u32) -> Option<&mut HttpRecord> {
        if let Some(r) = self.active[dir.index()]
            .as_mut()
            .filter(|r| r.trans_depth == depth)
        {
            return Some(r);
        }
        self.pending
            .iter_mut()
            .rev()
            .find(|r| r.trans_depth == depth)
    }

    fn count_body(&mut self, dir: Direction, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(r) = self.active[dir.index()].as_mut() {
            r.response_body_len = r.response_body_len.saturating_add(n);
            return;
        }
        let depth = self.sides[dir.index()].body_for;
        if let Some(r) = self
            .pending
            .iter_mut()
            .rev()
            .find(|r| r.trans_depth == depth)
        {
            r.request_body_len = r.request_body_len.saturating_add(n);
        }
    }

    fn body_ended(&mut self, dir: Direction, records: &mut Vec<HttpRecord>) {
        if let Some(r) = self.active[dir.index()].take() {
            records.push(r);
        }
    }

    /// Parses heads from `input` in `dir` (held bytes first); returns the bytes used
    /// (at least 1 when input is not empty).
    fn heads(
        &mut self,
        dir: Direction,
        ts: i64,
        input: &[u8],
        records: &mut Vec<HttpRecord>,
        facts: &mut Vec<IdentityFact>,
    ) -> usize {
        let side = &mut self.sides[dir.index()];
        if side.resyncing && side.held.is_empty() {
            // Look for the next line that starts like a head.
            let mut at = 0;
            loop {
                let from = &input[at..];
                match plausible_start(from) {
                    Some(true) => break,
                    None => {
                        side.held.extend_from_slice(from);
                        return input.len();
                    }
                    Some(false) => {}
                }
                let skip = from
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(from.len(), |p| p + 1);
                at += skip;
                side.resync_skipped = side.resync_skipped.saturating_add(skip);
                self.stats.skipped += skip as u64;
                if side.resync_skipped > MAX_RESYNC_BYTES {
                    side.body = Body::Done;
                    return input.len();
                }
                if at >= input.len() {
                    return input.len();
                }
            }
            if at > 0 {
                return at;
            }
        }
        let old = side.held.len();
        let mut held = std::mem::take(&mut side.held);
        if old > 0 {
            let room = MAX_HEAD.saturating_sub(old).min(input.len());
            held.extend_from_slice(&input[..room]);
        }
        let parsed = if old == 0 {
            HeadParser.parse(dir, input)
        } else {
            HeadParser.parse(dir, &held)
        };
        let used = match parsed {
            Parsed::Pdu { pdu, consumed } => {
                let side = &mut self.sides[dir.index()];
                side.recognised = true;
                side.resyncing = false;
                side.resync_skipped = 0;
                self.stats.heads += 1;
                self.on_head(dir, ts, &pdu, records, facts);
                // From held bytes: the head ended after the old held part.
                consumed.saturating_sub(old).clamp(1, input.len())
            }
            Parsed::Incomplete { .. } => {
                if old == 0 {
                    held.extend_from_slice(input);
                }
                self.sides[dir.index()].held = held;
                return input.len();
            }
            Parsed::NotThisProtocol => {
                if !self.recognised() && !self.sides[dir.index()].resyncing {
                    self.not_http = true;
                    return input.len();
                }
                if held.len() >= MAX_HEAD || input.len() >= MAX_HEAD {
                    self.stats.oversized_heads += 1;
                }
                self.mark_resync(dir);
                let side = &mut self.sides[dir.index()];
                side.resyncing = true;
                side.body = Body::Head;
                // Skip the line that failed (from the input's side).
                let skip = input
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(input.len(), |p| p + 1);
                side.resync_skipped = side.resync_skipped.saturating_add(skip);
                self.stats.skipped += skip as u64;
                skip
            }
        };
        // Keep the allocation for the next incomplete head.
        held.clear();
        self.sides[dir.index()].held = held;
        used
    }

    fn on_head(
        &mut self,
        dir: Direction,
        ts: i64,
        head: &Head<'_>,
        records: &mut Vec<HttpRecord>,
        facts: &mut Vec<IdentityFact>,
    ) {
        match head.start {
            StartLine::Request {
                method,
                uri,
                version,
            } => {
                if let Some(ua) = head.user_agent.filter(|v| !v.is_empty()) {
                    facts.push(IdentityFact {
                        about: Subject::Side(dir),
                        kind: IdentityKind::UserAgent,
                        value: text(ua),
                        protocol: PROTOCOL,
                    });
                }
                self.depth = self.depth.saturating_add(1);
                let record = HttpRecord {
                    ts,
                    dir: Some(dir),
                    trans_depth: self.depth,
                    method: Some(text(method)),
                    host: head.host.map(text),
                    uri: Some(text(uri)),
                    version: Some(text(version.get(5..).unwrap_or_default())),
                    user_agent: head.user_agent.map(text),
                    request_content_type: head.content_type.map(text),
                    flags: head.flags,
                    ..HttpRecord::default()
                };
                if self.pending.len() >= MAX_OUTSTANDING
                    && let Some(mut old) = self.pending.pop_front()
                {
                    old.flags
                        .set(Flags::NO_RESPONSE | Flags::TOO_MANY_OUTSTANDING);
                    records.push(old);
                }
                self.pending.push_back(record);
                if method == b"PRI" && version == b"HTTP/2.0" {
                    // The HTTP/2 connection preface: binary frames follow both ways.
                    for side in &mut self.sides {
                        side.body = Body::Done;
                    }
                    return;
                }
                let side = &mut self.sides[dir.index()];
                side.body_for = self.depth;
                side.body = if head.chunked {
                    Body::Chunked(CHUNK_START)
                } else {
                    match head.content_length {
                        Some(n) if n > 0 => Body::Length(n),
                        _ => Body::Head,
                    }
                };
            }
            StartLine::Response { code, reason, .. } => {
                if let Some(server) = head.server.filter(|v| !v.is_empty()) {
                    facts.push(IdentityFact {
                        about: Subject::Side(dir),
                        kind: IdentityKind::Software,
                        value: text(server),
                        protocol: PROTOCOL,
                    });
                }
                let interim = (100..200).contains(&code) && code != 101;
                let found = self.pending.iter().position(|r| r.dir != Some(dir));
                if interim {
                    if let Some(r) = found.and_then(|i| self.pending.get_mut(i)) {
                        r.info_code = Some(code);
                    }
                    self.sides[dir.index()].body = Body::Head;
                    return;
                }
                let mut record = match found.and_then(|i| self.pending.remove(i)) {
                    Some(r) => r,
                    None => {
                        self.depth = self.depth.saturating_add(1);
                        let mut r = HttpRecord {
                            ts,
                            dir: None,
                            trans_depth: self.depth,
                            ..HttpRecord::default()
                        };
                        r.flags.set(Flags::UNSOLICITED_RESPONSE);
                        r
                    }
                };
                record.status_code = Some(code);
                record.status_msg = Some(text(reason));
                record.server = head.server.map(text);
                record.response_content_type = head.content_type.map(text);
                record.location = head.location.map(text);
                record.flags.0 |= head.flags.0;
                let method = record.method.as_deref().unwrap_or("");
                let tunnel = code == 101 || (method == "CONNECT" && (200..300).contains(&code));
                let body = if tunnel {
                    Body::Done
                } else if method == "HEAD" || code == 204 || code == 304 {
                    Body::Head
                } else if head.chunked {
                    Body::Chunked(CHUNK_START)
                } else {
                    match head.content_length {
                        Some(0) => Body::Head,
                        Some(n) => Body::Length(n),
                        None => Body::UntilClose,
                    }
                };
                let side = &mut self.sides[dir.index()];
                side.body = body;
                side.body_for = record.trans_depth;
                if let Some(old) = self.active[dir.index()].take() {
                    records.push(old);
                }
                if tunnel {
                    record.tunnel = true;
                    self.sides[dir.reverse().index()].body = Body::Done;
                    records.push(record);
                } else if body == Body::Head {
                    records.push(record);
                } else {
                    self.active[dir.index()] = Some(record);
                }
            }
        }
    }
}

/// Walks a chunked body: returns the bytes used, how many were chunk data, and
/// whether the body ended.
fn chunk_step(state: &mut Chunk, input: &[u8]) -> (usize, u64, Step) {
    let mut at = 0;
    let mut data = 0u64;
    while at < input.len() {
        match state {
            Chunk::Data(n) => {
                let k = (*n).min((input.len() - at) as u64);
                data += k;
                at += k as usize;
                *n -= k;
                if *n == 0 {
                    *state = Chunk::DataEnd { cr: false };
                }
            }
            Chunk::DataEnd { cr } => {
                let b = input[at];
                at += 1;
                match (b, *cr) {
                    (b'\r', false) => *cr = true,
                    (b'\n', _) => *state = CHUNK_START,
                    // Not CRLF: take the byte as the start of the next size line.
                    _ => {
                        *state = CHUNK_START;
                        at -= 1;
                    }
                }
            }
            Chunk::Size {
                size,
                digits,
                ext,
                line,
            } => {
                let b = input[at];
                at += 1;
                *line += 1;
                if *line > MAX_CHUNK_LINE {
                    // Not a chunk-size line: give the body up as ended here.
                    return (at, data, Step::Ended);
                }
                match (b, *ext) {
                    (b'\n', _) => {
                        *state = if *size == 0 {
                            Chunk::Trailer { line: 0, total: 0 }
                        } else {
                            Chunk::Data(*size)
                        };
                    }
                    (b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F', false) if *digits < 16 => {
                        let v = (b as char).to_digit(16).unwrap_or(0);
                        *size = (*size << 4) | u64::from(v);
                        *digits += 1;
                    }
                    (_, _) => *ext = true,
                }
            }
            Chunk::Trailer { line, total } => {
                let b = input[at];
                at += 1;
                *total += 1;
                match b {
                    b'\n' if *line == 0 => return (at, data, Step::Ended),
                    b'\n' => *line = 0,
                    b'\r' => {}
                    _ => *line += 1,
                }
                if *total > MAX_HEAD {
                    return (at, data, Step::Ended);
                }
            }
        }
    }
    (at, data, Step::More)
}
