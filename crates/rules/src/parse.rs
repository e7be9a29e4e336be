//! The rule grammar: a hand-written recursive-descent parser for Suricata rules.
//!
//! A rule file is lines. Blank lines and lines starting with `#` are skipped (in
//! Emerging Threats files the latter are mostly rules switched off); a line ending in
//! a backslash continues on the next. One logical rule is
//!
//! ```text
//! rule    := action proto addr ports dir addr ports '(' option* ')'
//! dir     := '->' | '<>'
//! option  := name [':' value] ';'
//! value   := text up to the first ';' not escaped by a backslash
//! ```
//!
//! Addresses and ports are parsed by [`crate::net`], content strings by
//! [`crate::content`], `pcre` values by [`crate::pcre`]. Every error carries the
//! line and column (1-based, in characters) of its cause, across continuation lines.
//!
//! A rule that parses but uses something the matcher does not support is *skipped*
//! with a [`SkipReason`] (the first unsupported thing in the rule), never an error:
//! `pass` rules, protocols we cannot place (`ftp-data`, `pkthdr`, ...), any keyword not
//! in the list below (sticky buffers such as `http.uri` and their old modifier forms
//! such as `http_uri`, `byte_test`, `byte_jump`, `threshold`, `app-layer-event`, ...),
//! and `pcre` constructs [`crate::pcre`] refuses. [`parse_rules`] never stops at a bad
//! rule: it returns the loaded rules, the skipped ones and the errors.
//!
//! Supported keywords: `msg content nocase offset depth distance within rawbytes
//! fast_pattern startswith endswith isdataat pcre flow dsize sid rev gid classtype
//! reference metadata priority flowbits noalert pkt_data target tag prefilter`.
//! `tag` and `prefilter` are accepted and have no effect; `drop` and `reject` rules
//! are loaded as alerts (a passive sensor cannot drop, which is also what Suricata
//! does in IDS mode).
//!
//! Protocols: `tcp udp icmp icmpv4 icmpv6 ip` (and `tcp-pkt`, `tcp-stream`), and
//! application-layer names, which become their transport plus a hint on the server
//! port (see [`app_protocol`]): we match payloads, not parsed application layers, so
//! `alert modbus` means "TCP with server port 502".

use std::fmt;

use crate::content;
use crate::net::{AddrExpr, Cidr, PortExpr, PortRange, parse_expr};
use crate::pcre;

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `alert`.
    Alert,
    /// `drop` (loaded as an alert).
    Drop,
    /// `reject`, `rejectsrc`, `rejectdst`, `rejectboth` (loaded as an alert).
    Reject,
}

/// Transport protocol bits of a rule.
pub(crate) const TCP: u8 = 1;
pub(crate) const UDP: u8 = 2;
pub(crate) const ICMP: u8 = 4;
pub(crate) const OTHER: u8 = 8;
pub(crate) const ALL: u8 = TCP | UDP | ICMP | OTHER;

/// The header protocol, resolved: which transports and, for an application protocol,
/// the server ports it is expected on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProtoSpec {
    pub(crate) transports: u8,
    pub(crate) server_ports: Option<&'static [PortRange]>,
    /// `tcp-pkt` (false) or `tcp-stream` (true).
    pub(crate) stream: Option<bool>,
}

/// One content match.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Content {
    pub(crate) bytes: Vec<u8>,
    pub(crate) negated: bool,
    pub(crate) nocase: bool,
    pub(crate) offset: Option<u32>,
    pub(crate) depth: Option<u32>,
    pub(crate) distance: Option<i32>,
    pub(crate) within: Option<u32>,
    pub(crate) fast_pattern: bool,
    pub(crate) startswith: bool,
    pub(crate) endswith: bool,
}

impl Content {
    pub(crate) fn relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// A `pcre` option, translated.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pcre {
    pub(crate) pattern: String,
    pub(crate) relative: bool,
    pub(crate) negated: bool,
}

/// `isdataat:[!]N[,relative]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IsDataAt {
    pub(crate) pos: u32,
    pub(crate) relative: bool,
    pub(crate) negated: bool,
}

/// One payload inspection step, in rule order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    Content(Content),
    Pcre(Pcre),
    IsDataAt(IsDataAt),
}

/// The `flow` option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flow {
    pub(crate) to_server: Option<bool>,
    pub(crate) established: Option<bool>,
    /// `only_stream` (true) or `no_stream` (false).
    pub(crate) stream: Option<bool>,
}

/// The `dsize` option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dsize {
    Eq(u32),
    Ne(u32),
    Lt(u32),
    Le(u32),
    Gt(u32),
    Ge(u32),
    /// Strictly between.
    Between(u32, u32),
}

impl Dsize {
    pub(crate) fn matches(self, n: usize) -> bool {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        match self {
            Dsize::Eq(v) => n == v,
            Dsize::Ne(v) => n != v,
            Dsize::Lt(v) => n < v,
            Dsize::Le(v) => n <= v,
            Dsize::Gt(v) => n > v,
            Dsize::Ge(v) => n >= v,
            Dsize::Between(a, b) => a < n && n < b,
        }
    }
}

/// A `flowbits` operation; names are interned when the rule set is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Flowbit {
    Set(String),
    Unset(String),
    Toggle(String),
    /// Condition: the names joined by `|` (any) or `&` (all).
    IsSet(Vec<String>, bool),
    IsNotSet(Vec<String>, bool),
}

/// A parsed rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// First line of the rule in its file (1-based).
    pub line: usize,
    /// The action.
    pub action: Action,
    /// The protocol as written in the header.
    pub protocol: String,
    /// Signature id.
    pub sid: u32,
    /// Revision (default 0).
    pub rev: u32,
    /// Generator id (default 1).
    pub gid: u32,
    /// The `msg` text, unescaped.
    pub msg: String,
    /// The `classtype`, if any.
    pub classtype: Option<String>,
    /// An explicit `priority`, if any.
    pub priority: Option<u8>,
    /// `reference` values as written (`url,example.com/x`, `cve,2010-1234`).
    pub references: Vec<String>,
    /// `metadata` values as written.
    pub metadata: Vec<String>,
    pub(crate) proto: ProtoSpec,
    pub(crate) src: AddrExpr,
    pub(crate) src_ports: PortExpr,
    pub(crate) bidirectional: bool,
    pub(crate) dst: AddrExpr,
    pub(crate) dst_ports: PortExpr,
    pub(crate) steps: Vec<Step>,
    pub(crate) flow: Flow,
    pub(crate) dsize: Option<Dsize>,
    pub(crate) flowbits: Vec<Flowbit>,
    pub(crate) noalert: bool,
}

/// A malformed rule: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Line (1-based).
    pub line: usize,
    /// Column (1-based, in characters).
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// Why a well-formed rule is not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// A keyword the matcher does not implement (`byte_test`, `http.uri`, ...).
    Keyword(String),
    /// `pass` (we do not suppress other alerts).
    Action(String),
    /// A protocol we cannot map to a transport.
    Protocol(String),
    /// A `pcre` construct the `regex` crate cannot run.
    Pcre(String),
    /// `$NAME` is not defined.
    UndefinedVariable(String),
    /// `$NAME` does not parse; the message says why.
    BadVariable(String, String),
    /// The translated `pcre` does not compile (or is too large).
    Regex(String),
}

impl SkipReason {
    /// A short key for grouping counts: the reason without per-rule details.
    pub fn key(&self) -> String {
        match self {
            SkipReason::Regex(_) => "pcre does not compile in regex".into(),
            SkipReason::BadVariable(n, _) => format!("bad variable ${n}"),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Keyword(k) => write!(f, "unsupported keyword {k}"),
            SkipReason::Action(a) => write!(f, "unsupported action {a}"),
            SkipReason::Protocol(p) => write!(f, "unsupported protocol {p}"),
            SkipReason::Pcre(why) => write!(f, "unsupported pcre: {why}"),
            SkipReason::UndefinedVariable(n) => write!(f, "undefined variable ${n}"),
            SkipReason::BadVariable(n, why) => write!(f, "bad variable ${n}: {why}"),
            SkipReason::Regex(why) => write!(f, "pcre does not compile in regex: {why}"),
        }
    }
}

/// A rule that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// First line of the rule.
    pub line: usize,
    /// Its sid, when the rule has one.
    pub sid: Option<u32>,
    /// Why.
    pub reason: SkipReason,
}

/// Everything [`parse_rules`] found in a file.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Rules that parsed and are supported.
    pub rules: Vec<Rule>,
    /// Rules that parsed but use something unsupported.
    pub skipped: Vec<Skipped>,
    /// Malformed rules.
    pub errors: Vec<ParseError>,
}

/// What one logical rule turned into.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Loaded.
    Rule(Box<Rule>),
    /// Well-formed but unsupported.
    Skipped(Skipped),
    /// Malformed.
    Error(ParseError),
}

/// Parses a whole rule file. Never stops at a bad rule.
pub fn parse_rules(text: &str) -> Loaded {
    let mut loaded = Loaded::default();
    for_each_logical(text, |logical| match parse_logical(logical) {
        Outcome::Rule(r) => loaded.rules.push(*r),
        Outcome::Skipped(s) => loaded.skipped.push(s),
        Outcome::Error(e) => loaded.errors.push(e),
    });
    loaded
}

/// Parses one rule (a single line, or several joined by trailing backslashes).
pub fn parse_rule(text: &str) -> Outcome {
    let mut out = None;
    for_each_logical(text, |logical| {
        if out.is_none() {
            out = Some(parse_logical(logical));
        }
    });
    out.unwrap_or(Outcome::Error(ParseError {
        line: 1,
        column: 1,
        message: "no rule".into(),
    }))
}

/// A rule joined from its physical lines, with what it takes to map an offset back.
struct Logical<'a> {
    text: String,
    /// (offset in `text`, line number, the physical line) per joined segment.
    segments: Vec<(usize, usize, &'a str)>,
}

impl Logical<'_> {
    fn position(&self, offset: usize) -> (usize, usize) {
        let idx = self
            .segments
            .partition_point(|s| s.0 <= offset)
            .saturating_sub(1);
        let Some(&(start, line, phys)) = self.segments.get(idx) else {
            return (1, 1);
        };
        let within = offset.saturating_sub(start);
        let prefix = phys.get(..within.min(phys.len())).unwrap_or(phys);
        (
            line,
            prefix.chars().count() + 1 + within.saturating_sub(phys.len()),
        )
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let (line, column) = self.position(offset);
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }

    fn first_line(&self) -> usize {
        self.segments.first().map_or(1, |s| s.1)
    }
}

fn for_each_logical<'a>(text: &'a str, mut f: impl FnMut(&Logical<'a>)) {
    let mut cur: Option<Logical<'a>> = None;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim();
        if cur.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        let logical = cur.get_or_insert_with(|| Logical {
            text: String::new(),
            segments: Vec::new(),
        });
        let (body, continues) = match line.trim_end().strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        logical.segments.push((logical.text.len(), i + 1, body));
        logical.text.push_str(body);
        if !continues && let Some(done) = cur.take() {
            f(&done);
        }
    }
    if let Some(done) = cur.take() {
        f(&done);
    }
}

/// The application protocols we place by transport and server port. Order: name,
/// transports, server ports.
const APP_PROTOCOLS: &[(&str, u8, &[PortRange])] = &[
    (
        "http",
        TCP,
        &[
            p(80),
            p(81),
            p(3128),
            p(8000),
            p(8008),
            p(8080),
            p(8081),
            p(8088),
            p(8888),
        ],
    ),
    (
        "http1",
        TCP,
        &[
            p(80),
            p(81),
            p(3128),
            p(8000),
            p(8008),
            p(8080),
            p(8081),
            p(8088),
            p(8888),
        ],
    ),
    (
        "tls",
        TCP,
        &[p(443), p(465), p(636), p(853), p(993), p(995), p(8443)],
    ),
    ("ssh", TCP, &[p(22)]),
    ("ftp", TCP, &[p(21)]),
    ("smtp", TCP, &[p(25), p(465), p(587)]),
    ("imap", TCP, &[p(143), p(993)]),
    ("pop3", TCP, &[p(110), p(995)]),
    ("telnet", TCP, &[p(23)]),
    ("dns", TCP | UDP, &[p(53)]),
    ("smb", TCP, &[p(139), p(445)]),
    ("dcerpc", TCP | UDP, &[p(135)]),
    ("krb5", TCP | UDP, &[p(88)]),
    ("nfs", TCP | UDP, &[p(2049)]),
    ("ntp", UDP, &[p(123)]),
    ("dhcp", UDP, &[p(67), p(68)]),
    ("snmp", UDP, &[p(161), p(162)]),
    ("sip", TCP | UDP, &[p(5060), p(5061)]),
    ("tftp", UDP, &[p(69)]),
    ("ike", UDP, &[p(500), p(4500)]),
    ("rdp", TCP, &[p(3389)]),
    ("rfb", TCP, &[PortRange { lo: 5900, hi: 5910 }]),
    ("mqtt", TCP, &[p(1883), p(8883)]),
    ("irc", TCP, &[p(6667)]),
    ("modbus", TCP, &[p(502)]),
    ("dnp3", TCP | UDP, &[p(20000)]),
    ("enip", TCP | UDP, &[p(2222), p(44818)]),
];

const fn p(port: u16) -> PortRange {
    PortRange { lo: port, hi: port }
}

/// The transports and server ports an application-layer protocol name stands for,
/// or `None` when it is not one we place.
pub fn app_protocol(name: &str) -> Option<(u8, &'static [PortRange])> {
    APP_PROTOCOLS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|&(_, t, ports)| (t, ports))
}

fn protocol(name: &str) -> Option<ProtoSpec> {
    let plain = |transports| {
        Some(ProtoSpec {
            transports,
            server_ports: None,
            stream: None,
        })
    };
    match name {
        "tcp" => plain(TCP),
        "udp" => plain(UDP),
        "icmp" | "icmpv4" | "icmpv6" => plain(ICMP),
        "ip" | "pkthdr" => plain(ALL),
        "tcp-pkt" => Some(ProtoSpec {
            transports: TCP,
            server_ports: None,
            stream: Some(false),
        }),
        "tcp-stream" => Some(ProtoSpec {
            transports: TCP,
            server_ports: None,
            stream: Some(true),
        }),
        _ => app_protocol(name).map(|(t, ports)| ProtoSpec {
            transports: t,
            server_ports: Some(ports),
            stream: None,
        }),
    }
}

/// Cursor over the logical rule text.
struct Cursor<'l, 'a> {
    l: &'l Logical<'a>,
    pos: usize,
}

impl Cursor<'_, '_> {
    fn rest(&self) -> &str {
        self.l.text.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    /// A header token: up to whitespace or `(` outside brackets. Returns (start, text).
    fn token(&mut self, what: &str) -> Result<(usize, String), ParseError> {
        self.skip_ws();
        let start = self.pos;
        let mut depth = 0i32;
        let mut len = 0;
        for (i, c) in self.rest().char_indices() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                '(' if depth <= 0 => break,
                c if c.is_whitespace() && depth <= 0 => break,
                _ => {}
            }
            len = i + c.len_utf8();
        }
        if len == 0 {
            return Err(self.l.error(start, format!("expected {what}")));
        }
        let tok = self.rest()[..len].to_string();
        self.pos += len;
        Ok((start, tok))
    }
}

/// One option as written: name, value, and their offsets in the logical text.
struct RawOption<'t> {
    name: &'t str,
    name_at: usize,
    value: Option<&'t str>,
    value_at: usize,
}

fn parse_logical(l: &Logical<'_>) -> Outcome {
    match parse_checked(l) {
        Ok(o) => o,
        Err(e) => Outcome::Error(e),
    }
}

fn parse_checked(l: &Logical<'_>) -> Result<Outcome, ParseError> {
    let mut c = Cursor { l, pos: 0 };
    let line = l.first_line();
    let (at, action) = c.token("an action")?;
    let action = match action.as_str() {
        "alert" => Ok(Action::Alert),
        "drop" => Ok(Action::Drop),
        "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => Ok(Action::Reject),
        "pass" | "config" => Err(SkipReason::Action(action.clone())),
        other => return Err(l.error(at, format!("unknown action `{other}`"))),
    };
    let (_, proto_name) = c.token("a protocol")?;
    let proto = protocol(&proto_name).ok_or_else(|| SkipReason::Protocol(proto_name.clone()));
    let src = addr(&mut c, "a source address")?;
    let src_ports = ports(&mut c, "source ports")?;
    let (at, dir) = c.token("a direction")?;
    let bidirectional = match dir.as_str() {
        "->" => false,
        "<>" => true,
        other => return Err(l.error(at, format!("expected `->` or `<>`, found `{other}`"))),
    };
    let dst = addr(&mut c, "a destination address")?;
    let dst_ports = ports(&mut c, "destination ports")?;
    c.skip_ws();
    if !c.rest().starts_with('(') {
        return Err(l.error(c.pos, "expected `(` to open the options"));
    }
    let open = c.pos;
    let close = l
        .text
        .trim_end()
        .len()
        .checked_sub(1)
        .filter(|&i| i > open && l.text.as_bytes().get(i) == Some(&b')'));
    let Some(close) = close else {
        return Err(l.error(l.text.trim_end().len(), "expected `)` to close the options"));
    };
    let options = split_options(l, open + 1, close)?;

    let mut b = Builder::default();
    // The first unsupported thing decides the skip reason; errors after it are ignored.
    let mut skip: Option<SkipReason> = action.clone().err().or_else(|| proto.clone().err());
    for opt in &options {
        match b.option(l, opt) {
            Ok(()) => {}
            Err(OptError::Skip(r)) => {
                skip.get_or_insert(r);
            }
            Err(OptError::Parse(e)) => {
                if skip.is_none() || opt.name == "sid" {
                    return Err(e);
                }
            }
        }
    }
    let (action, proto) = match (action, proto, skip) {
        (Ok(a), Ok(p), None) => (a, p),
        (_, _, Some(reason)) | (Err(reason), _, None) | (_, Err(reason), None) => {
            return Ok(Outcome::Skipped(Skipped {
                line,
                sid: b.sid,
                reason,
            }));
        }
    };
    let Some(sid) = b.sid else {
        return Err(l.error(open, "rule has no sid"));
    };
    Ok(Outcome::Rule(Box::new(Rule {
        line,
        action,
        protocol: proto_name,
        sid,
        rev: b.rev.unwrap_or(0),
        gid: b.gid.unwrap_or(1),
        msg: b.msg.unwrap_or_default(),
        classtype: b.classtype,
        priority: b.priority,
        references: b.references,
        metadata: b.metadata,
        proto,
        src,
        src_ports,
        bidirectional,
        dst,
        dst_ports,
        steps: b.steps,
        flow: b.flow,
        dsize: b.dsize,
        flowbits: b.flowbits,
        noalert: b.noalert,
    })))
}

fn addr(c: &mut Cursor<'_, '_>, what: &str) -> Result<AddrExpr, ParseError> {
    let (at, tok) = c.token(what)?;
    parse_expr::<Cidr>(&tok).map_err(|(off, m)| c.l.error(at + off, m))
}

fn ports(c: &mut Cursor<'_, '_>, what: &str) -> Result<PortExpr, ParseError> {
    let (at, tok) = c.token(what)?;
    parse_expr::<PortRange>(&tok).map_err(|(off, m)| c.l.error(at + off, m))
}

/// Splits `text[from..to]` into options.
fn split_options<'t>(
    l: &'t Logical<'_>,
    from: usize,
    to: usize,
) -> Result<Vec<RawOption<'t>>, ParseError> {
    let text = &l.text;
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = from;
    loop {
        while i < to && bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if i >= to {
            return Ok(out);
        }
        let name_at = i;
        while i < to
            && bytes
                .get(i)
                .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            i += 1;
        }
        let name = text.get(name_at..i).unwrap_or("");
        if name.is_empty() {
            return Err(l.error(name_at, "expected an option name"));
        }
        while i < to && bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        match bytes.get(i) {
            Some(b';') if i < to => {
                out.push(RawOption {
                    name,
                    name_at,
                    value: None,
                    value_at: i,
                });
                i += 1;
            }
            Some(b':') if i < to => {
                i += 1;
                let value_at = i;
                // As in Suricata, a value ends at the first `;` not escaped by a
                // backslash, inside double quotes or not.
                while i < to {
                    match bytes.get(i) {
                        Some(b'\\') => i += 2,
                        Some(b';') => break,
                        _ => i += 1,
                    }
                }
                if i >= to {
                    return Err(l.error(to, format!("missing `;` after option `{name}`")));
                }
                let value = text.get(value_at..i).unwrap_or("").trim();
                let lead = text.get(value_at..i).unwrap_or("").len()
                    - text.get(value_at..i).unwrap_or("").trim_start().len();
                out.push(RawOption {
                    name,
                    name_at,
                    value: Some(value),
                    value_at: value_at + lead,
                });
                i += 1;
            }
            _ if i >= to => return Err(l.error(to, format!("missing `;` after option `{name}`"))),
            _ => return Err(l.error(i, format!("expected `:` or `;` after `{name}`"))),
        }
    }
}

enum OptError {
    Skip(SkipReason),
    Parse(ParseError),
}

impl From<ParseError> for OptError {
    fn from(e: ParseError) -> Self {
        OptError::Parse(e)
    }
}

#[derive(Default)]
struct Builder {
    sid: Option<u32>,
    rev: Option<u32>,
    gid: Option<u32>,
    msg: Option<String>,
    classtype: Option<String>,
    priority: Option<u8>,
    references: Vec<String>,
    metadata: Vec<String>,
    steps: Vec<Step>,
    flow: Flow,
    dsize: Option<Dsize>,
    flowbits: Vec<Flowbit>,
    noalert: bool,
}

/// Removes the surrounding quotes and unescapes `\x` to `x`.
fn unquote(l: &Logical<'_>, at: usize, v: &str) -> Result<String, ParseError> {
    let inner = match v.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .ok_or_else(|| l.error(at, "unterminated string"))?,
        None => v,
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

impl Builder {
    fn option(&mut self, l: &Logical<'_>, o: &RawOption<'_>) -> Result<(), OptError> {
        let need = || -> Result<&str, ParseError> {
            o.value
                .filter(|v| !v.is_empty())
                .ok_or_else(|| l.error(o.name_at, format!("`{}` needs a value", o.name)))
        };
        let num = |what: &str| -> Result<u32, ParseError> {
            let v = need()?;
            v.parse::<u32>()
                .map_err(|_| l.error(o.value_at, format!("`{what}` needs a number, found `{v}`")))
        };
        match o.name {
            "msg" => self.msg = Some(unquote(l, o.value_at, need()?)?),
            "sid" => self.sid = Some(num("sid")?),
            "rev" => self.rev = Some(num("rev")?),
            "gid" => self.gid = Some(num("gid")?),
            "priority" => {
                let v = num("priority")?;
                self.priority = Some(
                    u8::try_from(v)
                        .ok()
                        .filter(|p| (1..=255).contains(p))
                        .ok_or_else(|| l.error(o.value_at, "priority out of range"))?,
                );
            }
            "classtype" => self.classtype = Some(need()?.to_string()),
            "reference" => self.references.push(need()?.to_string()),
            "metadata" => self.metadata.push(need()?.to_string()),
            "content" => self.content(l, o, need()?)?,
            "nocase" | "rawbytes" | "fast_pattern" | "startswith" | "endswith" | "offset"
            | "depth" | "distance" | "within" => self.modifier(l, o)?,
            "pcre" => {
                let v = need()?;
                let (negated, v) = match v.strip_prefix('!') {
                    Some(rest) => (true, rest.trim_start()),
                    None => (false, v),
                };
                let inner = v
                    .strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .ok_or_else(|| l.error(o.value_at, "pcre needs a quoted `/pattern/flags`"))?;
                let t = pcre::translate(inner).map_err(|why| {
                    if why.starts_with("pcre ") || why.starts_with("unknown flag") {
                        OptError::Parse(l.error(o.value_at, why))
                    } else {
                        OptError::Skip(SkipReason::Pcre(why))
                    }
                })?;
                self.steps.push(Step::Pcre(Pcre {
                    pattern: t.pattern,
                    relative: t.relative,
                    negated,
                }));
            }
            "isdataat" => {
                let v = need()?;
                let mut parts = v.split(',').map(str::trim);
                let first = parts.next().unwrap_or("");
                let (negated, n) = match first.strip_prefix('!') {
                    Some(r) => (true, r.trim()),
                    None => (false, first),
                };
                let pos = n.parse::<u32>().map_err(|_| {
                    OptError::Skip(SkipReason::Keyword("isdataat with a variable".into()))
                })?;
                let mut relative = false;
                for p in parts {
                    match p {
                        "relative" => relative = true,
                        "rawbytes" => {}
                        other => {
                            return Err(l
                                .error(o.value_at, format!("unknown isdataat option `{other}`"))
                                .into());
                        }
                    }
                }
                self.steps.push(Step::IsDataAt(IsDataAt {
                    pos,
                    relative,
                    negated,
                }));
            }
            "flow" => {
                for part in need()?.split(',').map(str::trim) {
                    let f = &mut self.flow;
                    match part {
                        "to_server" | "from_client" => f.to_server = Some(true),
                        "to_client" | "from_server" => f.to_server = Some(false),
                        "established" => f.established = Some(true),
                        "not_established" => f.established = Some(false),
                        "only_stream" => f.stream = Some(true),
                        "no_stream" => f.stream = Some(false),
                        "stateless" | "no_frag" | "only_frag" => {}
                        other => {
                            return Err(l
                                .error(o.value_at, format!("unknown flow option `{other}`"))
                                .into());
                        }
                    }
                }
            }
            "dsize" => {
                self.dsize = Some(dsize(need()?).ok_or_else(|| {
                    l.error(o.value_at, format!("bad dsize `{}`", need().unwrap_or("")))
                })?)
            }
            "flowbits" => self.flowbits(l, o)?,
            "noalert" => self.noalert = true,
            "pkt_data" | "target" | "tag" | "prefilter" => {}
            other => return Err(OptError::Skip(SkipReason::Keyword(other.to_string()))),
        }
        Ok(())
    }

    fn content(&mut self, l: &Logical<'_>, o: &RawOption<'_>, v: &str) -> Result<(), OptError> {
        let (negated, rest) = match v.strip_prefix('!') {
            Some(r) => (true, r.trim_start()),
            None => (false, v),
        };
        let quote_at = o.value_at + (v.len() - rest.len());
        let inner = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .filter(|_| rest.len() >= 2)
            .ok_or_else(|| l.error(quote_at, "content needs a quoted string"))?;
        let bytes = content::decode(inner).map_err(|(off, m)| l.error(quote_at + 1 + off, m))?;
        if bytes.is_empty() {
            return Err(l.error(quote_at, "empty content").into());
        }
        self.steps.push(Step::Content(Content {
            bytes,
            negated,
            nocase: false,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            fast_pattern: false,
            startswith: false,
            endswith: false,
        }));
        Ok(())
    }

    fn modifier(&mut self, l: &Logical<'_>, o: &RawOption<'_>) -> Result<(), OptError> {
        // As in Suricata, a modifier applies to the last content, even with an
        // `isdataat` or `pcre` in between.
        let last = self.steps.iter_mut().rev().find_map(|s| match s {
            Step::Content(c) => Some(c),
            _ => None,
        });
        let Some(c) = last else {
            return Err(l
                .error(o.name_at, format!("`{}` needs a preceding content", o.name))
                .into());
        };
        let value = o.value.unwrap_or("");
        let int = |what: &str| -> Result<i64, OptError> {
            match value.parse::<i64>() {
                Ok(n) if n.abs() <= 65535 => Ok(n),
                Ok(_) => Err(l.error(o.value_at, format!("`{what}` out of range")).into()),
                // A byte_extract variable: byte_extract itself is unsupported.
                Err(_)
                    if value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
                        && !value.is_empty() =>
                {
                    Err(OptError::Skip(SkipReason::Keyword(format!(
                        "{what} with a variable"
                    ))))
                }
                Err(_) => Err(l
                    .error(
                        o.value_at,
                        format!("`{what}` needs a number, found `{value}`"),
                    )
                    .into()),
            }
        };
        let unsigned = |what: &str| -> Result<u32, OptError> {
            let n = int(what)?;
            u32::try_from(n).map_err(|_| {
                OptError::Parse(l.error(o.value_at, format!("`{what}` cannot be negative")))
            })
        };
        let len = c.bytes.len() as u32;
        let mixed = |c: &Content, relative: bool| -> Result<(), OptError> {
            if (relative && (c.offset.is_some() || c.depth.is_some()))
                || (!relative && c.relative())
            {
                return Err(l
                    .error(
                        o.name_at,
                        format!("`{}` mixes absolute and relative modifiers", o.name),
                    )
                    .into());
            }
            Ok(())
        };
        match o.name {
            "nocase" => c.nocase = true,
            "rawbytes" => {}
            "fast_pattern" => c.fast_pattern = true,
            "startswith" => {
                mixed(c, false)?;
                c.startswith = true;
            }
            "endswith" => c.endswith = true,
            "offset" => {
                mixed(c, false)?;
                c.offset = Some(unsigned("offset")?);
            }
            "depth" => {
                mixed(c, false)?;
                let d = unsigned("depth")?;
                if d < len {
                    return Err(l
                        .error(
                            o.value_at,
                            format!("depth {d} is shorter than the content ({len} bytes)"),
                        )
                        .into());
                }
                c.depth = Some(d);
            }
            "distance" => {
                mixed(c, true)?;
                c.distance = Some(int("distance")? as i32);
            }
            _ => {
                mixed(c, true)?;
                let w = unsigned("within")?;
                if w < len {
                    return Err(l
                        .error(
                            o.value_at,
                            format!("within {w} is shorter than the content ({len} bytes)"),
                        )
                        .into());
                }
                c.within = Some(w);
            }
        }
        Ok(())
    }

    fn flowbits(&mut self, l: &Logical<'_>, o: &RawOption<'_>) -> Result<(), OptError> {
        let v = o.value.unwrap_or("").trim();
        let (cmd, names) = match v.split_once(',') {
            Some((c, n)) => (c.trim(), n.trim()),
            None => (v, ""),
        };
        let valid = |n: &str| {
            !n.is_empty()
                && n.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b',' && b != b';')
        };
        let bad = || OptError::Parse(l.error(o.value_at, format!("bad flowbits `{v}`")));
        let single = || -> Result<String, OptError> {
            if valid(names) && !names.contains(['|', '&']) {
                Ok(names.to_string())
            } else {
                Err(bad())
            }
        };
        let group = || -> Result<(Vec<String>, bool), OptError> {
            let all = names.contains('&');
            if all && names.contains('|') {
                return Err(bad());
            }
            let list: Vec<String> = names
                .split(['|', '&'])
                .map(|n| n.trim().to_string())
                .collect();
            if list.iter().all(|n| valid(n)) {
                Ok((list, all))
            } else {
                Err(bad())
            }
        };
        match cmd {
            "noalert" if names.is_empty() => self.noalert = true,
            "set" => self.flowbits.push(Flowbit::Set(single()?)),
            "unset" => self.flowbits.push(Flowbit::Unset(single()?)),
            "toggle" => self.flowbits.push(Flowbit::Toggle(single()?)),
            "isset" => {
                let (n, all) = group()?;
                self.flowbits.push(Flowbit::IsSet(n, all));
            }
            "isnotset" => {
                let (n, all) = group()?;
                self.flowbits.push(Flowbit::IsNotSet(n, all));
            }
            _ => return Err(bad()),
        }
        Ok(())
    }
}

fn dsize(v: &str) -> Option<Dsize> {
    let v = v.trim();
    let n = |s: &str| s.trim().parse::<u32>().ok();
    if let Some((a, b)) = v.split_once("<>") {
        let (a, b) = (n(a)?, n(b)?);
        return (a < b).then_some(Dsize::Between(a, b));
    }
    if let Some(r) = v.strip_prefix("<=") {
        return n(r).map(Dsize::Le);
    }
    if let Some(r) = v.strip_prefix(">=") {
        return n(r).map(Dsize::Ge);
    }
    if let Some(r) = v.strip_prefix('<') {
        return n(r).map(Dsize::Lt);
    }
    if let Some(r) = v.strip_prefix('>') {
        return n(r).map(Dsize::Gt);
    }
    if let Some(r) = v.strip_prefix('!') {
        return n(r).map(Dsize::Ne);
    }
    if let Some(r) = v.strip_prefix('=') {
        return n(r).map(Dsize::Eq);
    }
    if let Some((a, b)) = v.split_once('-') {
        let (a, b) = (n(a)?, n(b)?);
        return (a < b).then_some(Dsize::Between(a, b));
    }
    n(v).map(Dsize::Eq)
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
