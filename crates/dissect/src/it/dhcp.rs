//! DHCP for IPv4 (RFC 2131, options RFC 2132), UDP 67 (server) and 68 (client).
//!
//! Wire format: a fixed 236-byte BOOTP header, the magic cookie and options.
//!
//! ```text
//! op u8 | htype u8 | hlen u8 | hops u8 | xid u32 | secs u16 | flags u16 (bit 15: broadcast)
//! ciaddr | yiaddr | siaddr | giaddr (4 bytes each) | chaddr [16] | sname [64] | file [128]
//! magic cookie 63 82 53 63 | options: code u8, len u8, data (0 = pad, 255 = end)
//! ```
//!
//! Options may continue in `file` and then `sname` when option 52 (overload) says so,
//! and one option may be split into several that are concatenated (RFC 3396). DHCP is
//! UDP only: [`Parser`] takes a whole datagram payload.
//!
//! [`Session`] aggregates one exchange (DISCOVER, OFFER, REQUEST, ACK sharing a
//! transaction id and client hardware address) into one [`DhcpRecord`], a row of
//! `dhcp.jsonl`, as Zeek's `dhcp.log` does. The messages of one exchange travel on
//! different UDP "flows" (0.0.0.0:68 → 255.255.255.255:67, then server:67 →
//! 255.255.255.255:68), so one session must see every DHCP datagram of a site, not one
//! flow's.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, Subject};

/// `dhcp.jsonl`'s and the identity facts' protocol name.
pub const PROTOCOL: &str = "dhcp";
/// The server port.
pub const SERVER_PORT: u16 = 67;
/// The client port.
pub const CLIENT_PORT: u16 = 68;
/// The magic cookie that starts the options (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
/// Exchanges a session follows at once; beyond it the oldest is emitted.
pub const MAX_EXCHANGES: usize = 256;
/// An exchange with no message for this long (nanoseconds of packet time) is emitted
/// (Zeek's `DHCP::max_txid_watch_time`, 30 s).
pub const EXCHANGE_TIMEOUT: i64 = 30_000_000_000;
/// Message types remembered per exchange (retransmissions beyond it are not listed).
pub const MAX_MSG_TYPES: usize = 16;

/// The BOOTP header up to the options.
const HEADER_LEN: usize = 236;
/// Largest UDP payload over IPv4.
const MAX_DATAGRAM: usize = 65_507;

/// The name of a message type (option 53), as Zeek writes it, or `"UNKNOWN"`.
pub fn message_type_name(code: u8) -> &'static str {
    match code {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        9 => "FORCERENEW",
        10 => "LEASEQUERY",
        11 => "LEASEUNASSIGNED",
        12 => "LEASEUNKNOWN",
        13 => "LEASEACTIVE",
        14 => "BULKLEASEQUERY",
        15 => "LEASEQUERYDONE",
        16 => "ACTIVELEASEQUERY",
        17 => "LEASEQUERYSTATUS",
        18 => "TLS",
        _ => "UNKNOWN",
    }
}

/// Client FQDN (option 81, RFC 4702).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFqdn {
    /// Flags: S (0x01) server updates A, O (0x02) server override, E (0x04) canonical
    /// wire encoding, N (0x08) no updates.
    pub flags: u8,
    /// The name, dotted (decoded from either encoding).
    pub name: String,
}

/// One DHCP (or plain BOOTP) message; options that repeat are concatenated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub op: u8,
    /// Hardware type (1 = Ethernet).
    pub htype: u8,
    /// Hardware address length.
    pub hlen: u8,
    /// Relay hops.
    pub hops: u8,
    /// Transaction id.
    pub xid: u32,
    /// Seconds since the client began.
    pub secs: u16,
    /// The flags field (bit 15: broadcast).
    pub bootp_flags: u16,
    /// Client address (when it has one).
    pub ciaddr: Ipv4Addr,
    /// "Your" address: offered or assigned.
    pub yiaddr: Ipv4Addr,
    /// Next server (boot server).
    pub siaddr: Ipv4Addr,
    /// Relay agent address.
    pub giaddr: Ipv4Addr,
    /// Client hardware address (first `hlen` bytes meaningful).
    pub chaddr: [u8; 16],
    /// Whether the magic cookie was there (else this is plain BOOTP, no options).
    pub cookie: bool,
    /// Option 53.
    pub message_type: Option<u8>,
    /// Option 12.
    pub host_name: Option<Cow<'a, [u8]>>,
    /// Option 50.
    pub requested_addr: Option<Ipv4Addr>,
    /// Option 51, seconds.
    pub lease_time: Option<u32>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 55: the option codes requested, in the client's order.
    pub param_list: Option<Cow<'a, [u8]>>,
    /// Option 57.
    pub max_message_size: Option<u16>,
    /// Option 60.
    pub vendor_class: Option<Cow<'a, [u8]>>,
    /// Option 61: type byte, then the identifier.
    pub client_id: Option<Cow<'a, [u8]>>,
    /// Option 81.
    pub client_fqdn: Option<ClientFqdn>,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain_name: Option<Cow<'a, [u8]>>,
    /// Option 52 (1 = file, 2 = sname, 3 = both hold options).
    pub overload: Option<u8>,
    /// Options read (pad and end not counted).
    pub option_count: usize,
    /// Violations seen.
    pub flags: Flags,
}

impl Message<'_> {
    /// The client's MAC address, when the hardware is Ethernet (htype 1, hlen 6).
    pub fn mac(&self) -> Option<MacAddr> {
        (self.htype == 1 && self.hlen == 6).then(|| {
            let mut m = [0; 6];
            m.copy_from_slice(&self.chaddr[..6]);
            MacAddr(m)
        })
    }

    /// Whether the client asked for broadcast replies.
    pub fn broadcast(&self) -> bool {
        self.bootp_flags & 0x8000 != 0
    }

    /// Whether a client sent it (op 1).
    pub fn from_client(&self) -> bool {
        self.op == 1
    }

    /// Option 55 as a fingerprint string, `"1,15,3,6,44,46,47,31,33,121,249,43"`.
    pub fn param_fingerprint(&self) -> Option<String> {
        self.param_list.as_deref().map(codes_string)
    }
}

/// `"1,3,6"` from codes.
fn codes_string(codes: &[u8]) -> String {
    let mut s = String::with_capacity(codes.len() * 3);
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{c}");
    }
    s
}

/// Colon-separated lower-case hex.
fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Text from the wire: lossy UTF-8 without the trailing NULs some clients send.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Parses DHCP messages (a whole UDP payload each).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Message<'a>;
    const MAX_PDU: usize = MAX_DATAGRAM;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Message<'a>> {
        // op is 1 or 2 and a hardware address fits chaddr: that is BOOTP.
        match input {
            [op, _, hlen, ..] if (*op == 1 || *op == 2) && *hlen <= 16 => {}
            [op] | [op, _] if *op == 1 || *op == 2 => {}
            [] => return Parsed::Incomplete { needed: HEADER_LEN },
            _ => return Parsed::NotThisProtocol,
        }
        if input.len() > MAX_DATAGRAM {
            return Parsed::NotThisProtocol;
        }
        if input.len() < HEADER_LEN {
            return Parsed::Incomplete { needed: HEADER_LEN };
        }
        Parsed::Pdu {
            pdu: parse_message(input),
            consumed: input.len(),
        }
    }
}

/// Parses a whole datagram payload; `None` when it is not DHCP/BOOTP or is cut short.
pub fn parse_datagram(payload: &[u8]) -> Option<Message<'_>> {
    match Parser.parse(Direction::Orig, payload) {
        Parsed::Pdu { pdu, .. } => Some(pdu),
        Parsed::Incomplete { .. } | Parsed::NotThisProtocol => None,
    }
}

fn addr(b: &[u8], at: usize) -> Ipv4Addr {
    Ipv4Addr::new(b[at], b[at + 1], b[at + 2], b[at + 3])
}

/// `input` holds at least the header.
fn parse_message(input: &[u8]) -> Message<'_> {
    let mut flags = Flags::default();
    let mut chaddr = [0; 16];
    chaddr.copy_from_slice(&input[28..44]);
    let bootp_flags = u16::from_be_bytes([input[10], input[11]]);
    if bootp_flags & 0x7fff != 0 {
        flags.set(Flags::RESERVED_SET);
    }
    let hops = input[3];
    if hops > 16 {
        flags.set(Flags::RESERVED_SET);
    }
    let cookie = input.get(HEADER_LEN..HEADER_LEN + 4) == Some(&MAGIC_COOKIE[..]);
    let mut msg = Message {
        op: input[0],
        htype: input[1],
        hlen: input[2],
        hops,
        xid: u32::from_be_bytes([input[4], input[5], input[6], input[7]]),
        secs: u16::from_be_bytes([input[8], input[9]]),
        bootp_flags,
        ciaddr: addr(input, 12),
        yiaddr: addr(input, 16),
        siaddr: addr(input, 20),
        giaddr: addr(input, 24),
        chaddr,
        cookie,
        message_type: None,
        host_name: None,
        requested_addr: None,
        lease_time: None,
        server_id: None,
        param_list: None,
        max_message_size: None,
        vendor_class: None,
        client_id: None,
        client_fqdn: None,
        routers: Vec::new(),
        dns_servers: Vec::new(),
        domain_name: None,
        overload: None,
        option_count: 0,
        flags,
    };
    if !cookie {
        // Plain BOOTP (or not DHCP at all): no options to read.
        msg.flags.set(Flags::RESERVED_SET);
        return msg;
    }
    // Raw option data, concatenated per code (RFC 3396), in area order.
    let mut raw: Vec<(u8, Cow<'_, [u8]>)> = Vec::new();
    walk(&input[HEADER_LEN + 4..], true, &mut msg, &mut raw);
    match msg.overload {
        None => {}
        Some(v @ 1..=3) => {
            // file first, then sname (RFC 3396 §5); option 52 in them is ignored.
            if v & 1 != 0 {
                walk(&input[108..236], false, &mut msg, &mut raw);
            }
            if v & 2 != 0 {
                walk(&input[44..108], false, &mut msg, &mut raw);
            }
        }
        Some(_) => msg.flags.set(Flags::RESERVED_SET),
    }
    for (code, data) in raw {
        decode_option(code, data, &mut msg);
    }
    msg
}

/// Walks one option area; `main` is the options field itself (the only place option
/// 52 counts). Every length is checked; a walk ends at the end option, the area's
/// end, or an option whose length runs past it (flagged).
fn walk<'a>(area: &'a [u8], main: bool, msg: &mut Message<'a>, raw: &mut Vec<(u8, Cow<'a, [u8]>)>) {
    let mut at = 0;
    loop {
        let Some(&code) = area.get(at) else {
            // No end option: the options were cut short or never terminated.
            msg.flags.set(Flags::BAD_LENGTH);
            return;
        };
        match code {
            0 => at += 1,
            255 => return,
            _ => {
                let Some(&len) = area.get(at + 1) else {
                    msg.flags.set(Flags::BAD_LENGTH);
                    return;
                };
                let start = at + 2;
                let Some(data) = area.get(start..start + usize::from(len)) else {
                    msg.flags.set(Flags::BAD_LENGTH);
                    return;
                };
                at = start + usize::from(len);
                msg.option_count += 1;
                if code == 52 {
                    if !main || msg.overload.is_some() {
                        // Overload inside an overloaded area, or twice: ignored.
                        msg.flags.set(Flags::RESERVED_SET);
                    } else if let [v] = data {
                        msg.overload = Some(*v);
                    } else {
                        msg.flags.set(Flags::BAD_LENGTH);
                    }
                    continue;
                }
                match raw.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, v)) => v.to_mut().extend_from_slice(data),
                    None => raw.push((code, Cow::Borrowed(data))),
                }
            }
        }
    }
}

fn decode_option<'a>(code: u8, data: Cow<'a, [u8]>, msg: &mut Message<'a>) {
    let fixed4 = |d: &[u8], flags: &mut Flags| match d {
        [a, b, c, e] => Some([*a, *b, *c, *e]),
        _ => {
            flags.set(Flags::BAD_LENGTH);
            None
        }
    };
    let addrs = |d: &[u8], flags: &mut Flags| {
        if d.is_empty() || !d.len().is_multiple_of(4) {
            flags.set(Flags::BAD_LENGTH);
        }
        d.chunks_exact(4).map(|c| addr(c, 0)).collect::<Vec<_>>()
    };
    let flags = &mut msg.flags;
    match code {
        53 => match *data {
            [t] => {
                if message_type_name(t) == "UNKNOWN" {
                    flags.set(Flags::UNKNOWN_FUNCTION);
                }
                msg.message_type = Some(t);
            }
            _ => flags.set(Flags::BAD_LENGTH),
        },
        12 => msg.host_name = Some(data),
        50 => msg.requested_addr = fixed4(&data, flags).map(Ipv4Addr::from),
        51 => msg.lease_time = fixed4(&data, flags).map(u32::from_be_bytes),
        54 => msg.server_id = fixed4(&data, flags).map(Ipv4Addr::from),
        55 => msg.param_list = Some(data),
        57 => match *data {
            [a, b] => msg.max_message_size = Some(u16::from_be_bytes([a, b])),
            _ => flags.set(Flags::BAD_LENGTH),
        },
        60 => msg.vendor_class = Some(data),
        61 => {
            if data.len() < 2 {
                flags.set(Flags::BAD_LENGTH);
            }
            msg.client_id = Some(data);
        }
        81 => msg.client_fqdn = client_fqdn(&data, flags),
        3 => msg.routers = addrs(&data, flags),
        6 => msg.dns_servers = addrs(&data, flags),
        15 => msg.domain_name = Some(data),
        _ => {}
    }
}

/// Option 81: flags, two obsolete RCODE bytes, then the name in ASCII or (flag E) in
/// DNS wire encoding without compression.
fn client_fqdn(data: &[u8], flags: &mut Flags) -> Option<ClientFqdn> {
    let [f, _rcode1, _rcode2, name @ ..] = data else {
        flags.set(Flags::BAD_LENGTH);
        return None;
    };
    if f & 0xf0 != 0 {
        flags.set(Flags::RESERVED_SET);
    }
    let name = if f & 0x04 != 0 {
        let mut labels = Vec::new();
        let mut rest = name;
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
        labels.join(".")
    } else {
        text(name)
    };
    Some(ClientFqdn { flags: *f, name })
}

/// What an operating system's DHCP client says about it, from its vendor class (60) and
/// parameter request list (55). A hint for the asset ledger, not a verdict:
///
/// - `MSFT 98`: Windows 98 or ME.
/// - `MSFT 5.0` (Windows 2000 and every later Windows): without option 121 (classless
///   static routes, requested since Vista) in the list, Windows 2000, XP or Server 2003;
///   with it, Windows Vista or later.
/// - `dhcpcd-…` dhcpcd (Linux, BSD; Android before 5 used it), `android-dhcp-…`
///   Android, `udhcp …` BusyBox udhcpc (embedded Linux), `PXEClient…` a PXE boot ROM.
pub fn os_hint(vendor_class: &str, param_list: Option<&[u8]>) -> Option<&'static str> {
    let v = vendor_class.trim();
    if v == "MSFT 98" {
        Some("Windows 98/ME")
    } else if v == "MSFT 5.0" {
        match param_list {
            Some(p) if p.contains(&121) => Some("Windows Vista or later"),
            Some(_) => Some("Windows 2000/XP/Server 2003"),
            None => Some("Windows 2000 or later"),
        }
    } else if v.starts_with("MSFT") {
        Some("Windows")
    } else if v.starts_with("android-dhcp") {
        Some("Android")
    } else if v.starts_with("dhcpcd") {
        Some("dhcpcd (Linux/BSD/Android)")
    } else if v.starts_with("udhcp") {
        Some("BusyBox udhcpc (embedded Linux)")
    } else if v.starts_with("PXEClient") {
        Some("PXE boot ROM")
    } else {
        None
    }
}

/// One DHCP exchange, a row of `dhcp.jsonl` (Zeek's `dhcp.log` fields; `uids` are the
/// caller's to add). What the client said comes from client messages, what the server
/// said from server messages. For the asset ledger the client is `mac` (or
/// `client_id`), named by `host_name`/`client_fqdn`, at `assigned_addr`, with
/// `vendor_class`, `param_list` and `os_hint` as OS fingerprint inputs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DhcpRecord {
    /// Nanoseconds since the epoch of the first message.
    pub ts: i64,
    /// Nanoseconds between the first and last message (Zeek's `duration`).
    pub duration: i64,
    /// Transaction id.
    pub xid: u32,
    /// Client MAC (chaddr, Ethernet only).
    pub mac: Option<MacAddr>,
    /// The client's address: the source of a client message that had one, else ciaddr.
    pub client_addr: Option<Ipv4Addr>,
    /// The server: its identifier (option 54) in its replies, else their source.
    pub server_addr: Option<Ipv4Addr>,
    /// The relay agent (giaddr), when relayed.
    pub relay_addr: Option<Ipv4Addr>,
    /// Option 12 from the client.
    pub host_name: Option<String>,
    /// Option 81's name from the client.
    pub client_fqdn: Option<String>,
    /// Option 15 from the server.
    pub domain: Option<String>,
    /// Option 50 from the client.
    pub requested_addr: Option<Ipv4Addr>,
    /// yiaddr of the ACK.
    pub assigned_addr: Option<Ipv4Addr>,
    /// Option 51 of the last server reply, seconds.
    pub lease_time: Option<u32>,
    /// Option 53 codes in order (names: [`message_type_name`]).
    pub msg_types: Vec<u8>,
    /// Option 60 from the client (Zeek: `client_software`).
    pub vendor_class: Option<String>,
    /// Option 55 from the client, `"1,15,3,6,..."` (a Fingerbank-style fingerprint).
    pub param_list: Option<String>,
    /// Option 61 from the client, hex bytes, type first (`01:00:11:22:33:44:55`).
    pub client_id: Option<String>,
    /// Option 3 from the server.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6 from the server.
    pub dns_servers: Vec<Ipv4Addr>,
    /// [`os_hint`] of the vendor class and parameter list.
    pub os_hint: Option<&'static str>,
    /// Violations in its messages; `unsolicited_response` when it began with a server
    /// message, `no_response` when no server answered (DECLINE and RELEASE expect no
    /// answer), `too_many_outstanding` when
    /// pushed out by [`MAX_EXCHANGES`].
    pub flags: Flags,
}

impl DhcpRecord {
    /// The message type names, `DISCOVER`, `OFFER`, ...
    pub fn msg_type_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.msg_types.iter().map(|&t| message_type_name(t))
    }
}

/// An exchange in progress.
#[derive(Debug)]
struct Exchange {
    xid: u32,
    chaddr: [u8; 16],
    last: i64,
    server_seen: bool,
    record: DhcpRecord,
}

/// Aggregates messages into exchanges (bounded by [`MAX_EXCHANGES`]).
///
/// An exchange is the messages with one transaction id and client hardware address.
/// It ends (and its record is emitted) at an ACK or NAK, at a client's DECLINE or
/// RELEASE (nothing answers those), after [`EXCHANGE_TIMEOUT`] without a message
/// ([`Session::expire`]), or at [`Session::finish`]. A message after the end starts a
/// new exchange.
#[derive(Debug, Default)]
pub struct Session {
    exchanges: VecDeque<Exchange>,
    /// Datagrams that were not DHCP/BOOTP.
    pub not_dhcp: u64,
}

impl Session {
    /// Takes one UDP payload on port 67 or 68 that travelled in `dir` from `src` at
    /// `ts`. Returns whether it was DHCP/BOOTP.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        src: Ipv4Addr,
        payload: &[u8],
        records: &mut Vec<DhcpRecord>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        match parse_datagram(payload) {
            Some(msg) => {
                self.on_message(dir, ts, src, &msg, records, facts);
                true
            }
            None => {
                self.not_dhcp += 1;
                false
            }
        }
    }

    /// Takes one parsed message (see [`Session::on_datagram`]). Identity facts (host
    /// names) are emitted from client messages when first seen in the exchange,
    /// `about` the sender (`dir`'s side).
    pub fn on_message(
        &mut self,
        dir: Direction,
        ts: i64,
        src: Ipv4Addr,
        msg: &Message<'_>,
        records: &mut Vec<DhcpRecord>,
        facts: &mut Vec<IdentityFact>,
    ) {
        self.expire(ts, records);
        let found = self
            .exchanges
            .iter()
            .position(|e| e.xid == msg.xid && e.chaddr == msg.chaddr);
        let i = match found {
            Some(i) => i,
            None => {
                if self.exchanges.len() >= MAX_EXCHANGES
                    && let Some(mut old) = self.exchanges.pop_front()
                {
                    old.record.flags.set(Flags::TOO_MANY_OUTSTANDING);
                    records.push(close(old));
                }
                let mut record = DhcpRecord {
                    ts,
                    xid: msg.xid,
                    mac: msg.mac(),
                    ..DhcpRecord::default()
                };
                if !msg.from_client() {
                    record.flags.set(Flags::UNSOLICITED_RESPONSE);
                }
                self.exchanges.push_back(Exchange {
                    xid: msg.xid,
                    chaddr: msg.chaddr,
                    last: ts,
                    server_seen: false,
                    record,
                });
                self.exchanges.len() - 1
            }
        };
        let ex = &mut self.exchanges[i];
        ex.last = ts;
        merge(ex, dir, src, msg, facts);
        let done = matches!(
            (msg.from_client(), msg.message_type),
            (false, Some(5 | 6)) | (true, Some(4 | 7))
        );
        if done && let Some(mut ex) = self.exchanges.remove(i) {
            // Nothing answers a DECLINE or RELEASE.
            ex.server_seen |= msg.from_client();
            records.push(close(ex));
        }
    }

    /// Emits exchanges idle for [`EXCHANGE_TIMEOUT`] at packet time `now`.
    pub fn expire(&mut self, now: i64, records: &mut Vec<DhcpRecord>) {
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

    /// Emits every exchange still open (end of input).
    pub fn finish(&mut self, records: &mut Vec<DhcpRecord>) {
        records.extend(self.exchanges.drain(..).map(close));
    }
}

fn close(ex: Exchange) -> DhcpRecord {
    let mut r = ex.record;
    r.duration = ex.last - r.ts;
    if !ex.server_seen {
        r.flags.set(Flags::NO_RESPONSE);
    }
    r
}

fn merge(
    ex: &mut Exchange,
    dir: Direction,
    src: Ipv4Addr,
    msg: &Message<'_>,
    facts: &mut Vec<IdentityFact>,
) {
    let r = &mut ex.record;
    r.flags.0 |= msg.flags.0;
    if let Some(t) = msg.message_type
        && r.msg_types.len() < MAX_MSG_TYPES
    {
        r.msg_types.push(t);
    }
    if !msg.giaddr.is_unspecified() {
        r.relay_addr = Some(msg.giaddr);
    }
    if msg.from_client() {
        if !src.is_unspecified() && !src.is_broadcast() && msg.giaddr != src {
            r.client_addr = Some(src);
        } else if r.client_addr.is_none() && !msg.ciaddr.is_unspecified() {
            r.client_addr = Some(msg.ciaddr);
        }
        let mut fact = |kind, value: &str, old: &Option<String>| {
            if !value.is_empty() && old.as_deref() != Some(value) {
                facts.push(IdentityFact {
                    about: Subject::Side(dir),
                    kind,
                    value: value.to_string(),
                    protocol: PROTOCOL,
                });
            }
        };
        if let Some(h) = &msg.host_name {
            let h = text(h);
            fact(IdentityKind::Hostname, &h, &r.host_name);
            r.host_name = Some(h);
        }
        if let Some(f) = &msg.client_fqdn {
            fact(IdentityKind::Hostname, &f.name, &r.client_fqdn);
            r.client_fqdn = Some(f.name.clone());
        }
        if let Some(a) = msg.requested_addr {
            r.requested_addr = Some(a);
        }
        if let Some(v) = &msg.vendor_class {
            r.vendor_class = Some(text(v));
        }
        if let Some(p) = msg.param_fingerprint() {
            r.param_list = Some(p);
        }
        if let Some(id) = &msg.client_id {
            r.client_id = Some(hex(id));
            if r.mac.is_none()
                && let [1, m @ ..] = &id[..]
                && let Ok(m) = <[u8; 6]>::try_from(m)
            {
                r.mac = Some(MacAddr(m));
            }
        }
        // A later message without option 55 keeps the hint its list refined.
        if let Some(v) = &r.vendor_class
            && (msg.param_list.is_some() || r.os_hint.is_none())
        {
            r.os_hint = os_hint(v, msg.param_list.as_deref());
        }
    } else {
        ex.server_seen = true;
        match msg.server_id {
            Some(s) => r.server_addr = Some(s),
            None if r.server_addr.is_none() && !src.is_unspecified() && msg.giaddr != src => {
                r.server_addr = Some(src);
            }
            None => {}
        }
        if msg.message_type == Some(5) && !msg.yiaddr.is_unspecified() {
            r.assigned_addr = Some(msg.yiaddr);
        }
        if let Some(l) = msg.lease_time {
            r.lease_time = Some(l);
        }
        if let Some(d) = &msg.domain_name {
            r.domain = Some(text(d));
        }
        if !msg.routers.is_empty() {
            r.routers.clone_from(&msg.routers);
        }
        if !msg.dns_servers.is_empty() {
            r.dns_servers.clone_from(&msg.dns_servers);
        }
    }
}

#[cfg(test)]
mod tests;
