//! PROFINET DCP (Discovery and Configuration Protocol, IEC 61158-6-10), carried in
//! PROFINET acyclic real-time frames (EtherType 0x8892).
//!
//! ```text
//! FrameID u16: 0xFEFC hello | 0xFEFD get/set | 0xFEFE identify request | 0xFEFF identify response
//! ServiceID u8 (3 get, 4 set, 5 identify, 6 hello) | ServiceType u8 (0 request,
//!   1 response success, 5 response "request not supported") | Xid u32
//!   | ResponseDelay u16 (requests; reserved in responses) | DCPDataLength u16 | blocks
//! block: option u8 | suboption u8 | DCPBlockLength u16 | data, padded to an even length
//! ```
//!
//! What a block's data holds depends on the frame: in identify requests a block is a
//! filter (the value to match, e.g. a name of station); a get request lists
//! option/suboption pairs alone, without lengths; in set requests the data starts with a
//! BlockQualifier u16 (bit 0: keep permanently; for reset-to-factory bits 1-15 the mode),
//! in responses and hellos with a BlockInfo u16. A Control/Response block (5/4) answers a
//! get or set option by option: option, suboption, BlockError u8.
//!
//! The entry point is [`Session::on_frame`], with the payload after the EtherType
//! (starting at the FrameID), the frame's source and destination MACs and its time. A
//! frame whose FrameID is not one of DCP's four is not DCP (PROFINET cyclic I/O and
//! alarms share the EtherType) and is left alone. Ethernet padding after
//! DCPDataLength is ignored.
//!
//! Operations (`function` = the ServiceID, `pdu` unset):
//! - identify → `identify` (`identify`), target the filter (`all`, `name_of_station
//!   plc-1`, ...); `ok` once any device answered within the window;
//! - get → `get` (`read`), target the options asked for;
//! - set → by what it sets: `set_ip`, `set_name_of_station` or `set` (`write`, several
//!   or other options), `factory_reset` / `reset_to_factory` (`control`), `signal`
//!   (`diagnostic`: flash the LED) when that is all it does; target lists the blocks
//!   (`ip 192.168.0.10/255.255.255.0 gw 192.168.0.1 permanent`). Setting the IP address
//!   or the name of station is what an attacker does to take a device off its
//!   controller;
//! - hello → `hello` (`identify`), `ok` when seen (no answer is expected).
//!
//! Get, set and identify requests wait for their responses in a queue keyed by
//! (client MAC, server MAC, xid) — an identify request sent to the multicast group
//! matches a response from any device — at most [`MAX_OUTSTANDING`] requests for at
//! most [`WINDOW_NS`]. Status: `ok`; `exception:<BlockError>` from the first failing
//! Control/Response block (1 option not supported, 2 suboption not supported or no
//! data set, 3 suboption not set, 4 resource error, 5 set not possible by local
//! reasons, 6 in operation, set not possible); `exception:256` when the response's
//! ServiceType says the request is not supported; `no_response`. A get or set is
//! reported when its response comes; an identify when its window closes (more than
//! one device may answer), which [`Session::tick`] or the next DCP frame notices.
//!
//! Identity facts (identify responses, get responses and hellos), about
//! [`Subject::Mac`] of the sender: name of station ([`IdentityKind::Hostname`]), type of
//! station ([`IdentityKind::Vendor`]), vendor and device id ([`IdentityKind::DeviceId`],
//! `vendor 0x002a device 0x0105`), device role ([`IdentityKind::DeviceType`]) and the IP
//! address ([`IdentityKind::ManagementAddress`], when not 0.0.0.0).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use mamori_flow::Direction;
use mamori_wire::decode::MacAddr;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::l2::{L2Operation, Pending};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "profinet-dcp";
/// The PROFINET EtherType.
pub const ETHERTYPE: u16 = 0x8892;
/// Requests remembered while waiting for responses.
pub const MAX_OUTSTANDING: usize = 64;
/// How long a request waits for responses (15 s: an identify's response delay is at
/// most a few seconds in practice; get and set time out sooner).
pub const WINDOW_NS: i64 = 15_000_000_000;
/// `exception` status of a response whose ServiceType says "request not supported".
pub const NOT_SUPPORTED: u32 = 256;

/// FrameID of a hello.
pub const FRAME_HELLO: u16 = 0xfefc;
/// FrameID of get and set requests and responses.
pub const FRAME_GET_SET: u16 = 0xfefd;
/// FrameID of an identify request.
pub const FRAME_IDENTIFY_REQ: u16 = 0xfefe;
/// FrameID of an identify response.
pub const FRAME_IDENTIFY_RSP: u16 = 0xfeff;

/// ServiceID of get.
pub const SERVICE_GET: u8 = 3;
/// ServiceID of set.
pub const SERVICE_SET: u8 = 4;
/// ServiceID of identify.
pub const SERVICE_IDENTIFY: u8 = 5;
/// ServiceID of hello.
pub const SERVICE_HELLO: u8 = 6;

/// DCP header length from the FrameID to the first block.
const HEADER: usize = 12;

/// One DCP frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// FrameID (0xFEFC..=0xFEFF).
    pub frame_id: u16,
    /// ServiceID.
    pub service_id: u8,
    /// ServiceType (bit 0: response; 5: request not supported).
    pub service_type: u8,
    /// Transaction id, echoed by responses.
    pub xid: u32,
    /// Response delay factor of a request (reserved in responses).
    pub response_delay: u16,
    /// DCPDataLength as the frame states it.
    pub data_length: u16,
    /// The block bytes (at most `data_length`, fewer when the frame is short).
    pub blocks: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// One block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// Option.
    pub option: u8,
    /// Suboption.
    pub suboption: u8,
    /// The block's data (empty in a get request's list).
    pub data: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Whether this is a response (ServiceType bit 0).
    pub fn is_response(&self) -> bool {
        self.service_type & 1 == 1
    }

    /// Whether its blocks carry a BlockInfo or BlockQualifier before their value:
    /// set requests, hellos and responses do; identify filters and get lists do not.
    fn blocks_have_info(&self) -> bool {
        self.is_response() || matches!(self.service_id, SERVICE_SET | SERVICE_HELLO)
    }

    /// The blocks, in order. A block that overruns the data ends the walk (and
    /// [`Frame::blocks_truncated`] says so).
    pub fn blocks(&self) -> Blocks<'a> {
        Blocks {
            rest: self.blocks,
            list: !self.is_response() && self.service_id == SERVICE_GET,
            truncated: false,
        }
    }

    /// Whether a block claims more bytes than the frame holds.
    pub fn blocks_truncated(&self) -> bool {
        let mut b = self.blocks();
        for _ in b.by_ref() {}
        b.truncated
    }

    /// A block's value: its data without the BlockInfo or BlockQualifier where the
    /// frame has one (Control/Response blocks have none), and that u16.
    pub fn value(&self, block: &Block<'a>) -> (Option<u16>, &'a [u8]) {
        let control_response = block.option == 5 && block.suboption == 4;
        if self.blocks_have_info() && !control_response {
            match block.data {
                [a, b, rest @ ..] => (Some(u16::from_be_bytes([*a, *b])), rest),
                _ => (None, &[]),
            }
        } else {
            (None, block.data)
        }
    }

    /// The name of station a block of this frame carries (identify filter, set value
    /// or response), if any.
    pub fn name_of_station(&self) -> Option<String> {
        self.blocks()
            .find(|b| (b.option, b.suboption) == (2, 2))
            .map(|b| text(self.value(&b).1))
    }

    /// The IP parameter (address, mask, gateway) a block of this frame carries.
    pub fn ip_parameter(&self) -> Option<[Ipv4Addr; 3]> {
        self.blocks()
            .find(|b| (b.option, b.suboption) == (1, 2))
            .and_then(|b| ip_parameter(self.value(&b).1))
    }
}

/// Iterator over a frame's blocks.
#[derive(Debug, Clone)]
pub struct Blocks<'a> {
    rest: &'a [u8],
    /// A get request: option/suboption pairs without lengths.
    list: bool,
    truncated: bool,
}

impl<'a> Iterator for Blocks<'a> {
    type Item = Block<'a>;

    fn next(&mut self) -> Option<Block<'a>> {
        if self.list {
            let [option, suboption, rest @ ..] = self.rest else {
                self.truncated |= !self.rest.is_empty();
                self.rest = &[];
                return None;
            };
            self.rest = rest;
            return Some(Block {
                option: *option,
                suboption: *suboption,
                data: &[],
            });
        }
        let [option, suboption, l0, l1, rest @ ..] = self.rest else {
            self.truncated |= !self.rest.is_empty();
            self.rest = &[];
            return None;
        };
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let Some(data) = rest.get(..len) else {
            self.truncated = true;
            self.rest = &[];
            return None;
        };
        // Blocks start on even offsets: an odd length is followed by one pad byte
        // (which the last block of a frame may omit).
        let next = (len + (len & 1)).min(rest.len());
        self.rest = &rest[next..];
        Some(Block {
            option: *option,
            suboption: *suboption,
            data,
        })
    }
}

/// Parses a DCP frame from the bytes after the EtherType; `None` when the FrameID is
/// not DCP's or the header is cut. A DCPDataLength beyond the frame is flagged
/// `bad_length` and the blocks present are read.
pub fn parse_frame(payload: &[u8]) -> Option<Frame<'_>> {
    let header: &[u8; HEADER] = payload.get(..HEADER)?.try_into().ok()?;
    let frame_id = u16::from_be_bytes([header[0], header[1]]);
    if !(FRAME_HELLO..=FRAME_IDENTIFY_RSP).contains(&frame_id) {
        return None;
    }
    let [
        _,
        _,
        service_id,
        service_type,
        x0,
        x1,
        x2,
        x3,
        d0,
        d1,
        l0,
        l1,
    ] = *header;
    let data_length = u16::from_be_bytes([l0, l1]);
    let mut flags = Flags::default();
    let body = &payload[HEADER..];
    let blocks = match body.get(..usize::from(data_length)) {
        Some(b) => b,
        None => {
            flags.set(Flags::BAD_LENGTH);
            body
        }
    };
    let frame = Frame {
        frame_id,
        service_id,
        service_type,
        xid: u32::from_be_bytes([x0, x1, x2, x3]),
        response_delay: u16::from_be_bytes([d0, d1]),
        data_length,
        blocks,
        flags,
    };
    let mut frame = frame;
    let expected = match (frame_id, frame.is_response()) {
        (FRAME_HELLO, _) => service_id == SERVICE_HELLO,
        (FRAME_GET_SET, _) => matches!(service_id, SERVICE_GET | SERVICE_SET),
        (FRAME_IDENTIFY_REQ, false) | (FRAME_IDENTIFY_RSP, true) => service_id == SERVICE_IDENTIFY,
        _ => false,
    };
    if !matches!(service_id, SERVICE_GET..=SERVICE_HELLO) {
        frame.flags.set(Flags::UNKNOWN_FUNCTION);
    } else if !expected || !matches!(service_type, 0 | 1 | 5) {
        frame.flags.set(Flags::RESERVED_SET);
    }
    if frame.blocks_truncated() {
        frame.flags.set(Flags::BAD_LENGTH);
    }
    Some(frame)
}

/// Parses DCP frames (one per Ethernet frame: `consumed` is the header and
/// DCPDataLength, padding excluded).
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Frame<'a>;
    const MAX_PDU: usize = 1500;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Frame<'a>> {
        if input.len() >= 2 {
            let id = u16::from_be_bytes([input[0], input[1]]);
            if !(FRAME_HELLO..=FRAME_IDENTIFY_RSP).contains(&id) {
                return Parsed::NotThisProtocol;
            }
        }
        if input.len() < HEADER {
            return Parsed::Incomplete { needed: HEADER };
        }
        let total = HEADER + usize::from(u16::from_be_bytes([input[10], input[11]]));
        if total > Self::MAX_PDU {
            return Parsed::NotThisProtocol;
        }
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        match parse_frame(&input[..total]) {
            Some(pdu) => Parsed::Pdu {
                pdu,
                consumed: total,
            },
            None => Parsed::NotThisProtocol,
        }
    }
}

/// The name of a block's option and suboption.
pub fn block_name(option: u8, suboption: u8) -> &'static str {
    match (option, suboption) {
        (1, 1) => "mac_address",
        (1, 2) => "ip",
        (1, 3) => "ip_suite",
        (1, _) => "ip_other",
        (2, 1) => "type_of_station",
        (2, 2) => "name_of_station",
        (2, 3) => "device_id",
        (2, 4) => "device_role",
        (2, 5) => "device_options",
        (2, 6) => "alias_name",
        (2, 7) => "device_instance",
        (2, 8) => "oem_device_id",
        (2, _) => "device_other",
        (3, _) => "dhcp",
        (5, 1) => "start_transaction",
        (5, 2) => "end_transaction",
        (5, 3) => "signal",
        (5, 4) => "response",
        (5, 5) => "factory_reset",
        (5, 6) => "reset_to_factory",
        (5, _) => "control_other",
        (6, 1) => "device_initiative",
        (255, 255) => "all",
        _ => "unknown",
    }
}

/// A service as an operation (for set, by the blocks it carries; see the module docs).
pub fn describe(frame: &Frame<'_>) -> Function {
    use Category::*;
    let (name, category) = match frame.service_id {
        SERVICE_SET => {
            let (mut reset, mut ip, mut name, mut other, mut signal) =
                (None, false, false, false, false);
            for b in frame.blocks() {
                match (b.option, b.suboption) {
                    (5, 5) => reset = Some("factory_reset"),
                    (5, 6) => reset = reset.or(Some("reset_to_factory")),
                    (5, 3) => signal = true,
                    (5, _) => {}
                    (1, 2 | 3) => ip = true,
                    (2, 2) => name = true,
                    _ => other = true,
                }
            }
            match (reset, ip, name, other) {
                (Some(r), ..) => (r, Control),
                (None, true, false, false) => ("set_ip", Write),
                (None, false, true, false) => ("set_name_of_station", Write),
                (None, false, false, false) if signal => ("signal", Diagnostic),
                _ => tables::pn_dcp::service(SERVICE_SET).unwrap_or(("set", Write)),
            }
        }
        id => tables::pn_dcp::service(id).unwrap_or(("unknown", Other)),
    };
    Function {
        code: u32::from(frame.service_id),
        name,
        category,
    }
}

/// Bytes as text: lossy UTF-8 without NULs and surrounding blanks.
fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string()
}

fn ip_parameter(v: &[u8]) -> Option<[Ipv4Addr; 3]> {
    let v: &[u8; 12] = v.get(..12)?.try_into().ok()?;
    let ip = |i: usize| Ipv4Addr::new(v[i], v[i + 1], v[i + 2], v[i + 3]);
    Some([ip(0), ip(4), ip(8)])
}

/// A device role byte as names joined with `+`.
fn device_role(role: u8) -> String {
    const ROLES: [&str; 4] = [
        "io-device",
        "io-controller",
        "io-multidevice",
        "pn-supervisor",
    ];
    let names: Vec<&str> = ROLES
        .iter()
        .enumerate()
        .filter(|(i, _)| role & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        format!("role 0x{role:02x}")
    } else {
        names.join("+")
    }
}

/// What a request addresses: the blocks it carries, described.
fn target(frame: &Frame<'_>) -> String {
    let mut t = String::new();
    for b in frame.blocks() {
        let (info, v) = frame.value(&b);
        let name = block_name(b.option, b.suboption);
        if frame.service_id == SERVICE_SET && b.option == 5 && matches!(b.suboption, 1 | 2) {
            continue; // transaction brackets say nothing about what is set
        }
        if !t.is_empty() {
            t.push_str(", ");
        }
        t.push_str(name);
        if frame.service_id == SERVICE_GET {
            continue;
        }
        match (b.option, b.suboption) {
            (1, 2 | 3) => {
                if let Some([ip, mask, gw]) = ip_parameter(v) {
                    let _ = write!(t, " {ip}/{mask} gw {gw}");
                }
            }
            (2, 1 | 2 | 6) => {
                let _ = write!(t, " {}", text(v));
            }
            (2, 3) => {
                if let [a, b, c, d, ..] = *v {
                    let _ = write!(
                        t,
                        " vendor 0x{:04x} device 0x{:04x}",
                        u16::from_be_bytes([a, b]),
                        u16::from_be_bytes([c, d])
                    );
                }
            }
            (5, 3) => {
                if let [a, b, ..] = *v {
                    let _ = write!(t, " 0x{:04x}", u16::from_be_bytes([a, b]));
                }
            }
            _ => {}
        }
        if frame.service_id == SERVICE_SET
            && let Some(q) = info
        {
            match (b.option, b.suboption) {
                (5, 6) => {
                    let _ = write!(t, " mode {}", q >> 1);
                }
                (5, _) => {}
                _ => t.push_str(if q & 1 == 1 {
                    " permanent"
                } else {
                    " temporary"
                }),
            }
        }
    }
    t
}

/// A response's status: see the module docs.
fn status(frame: &Frame<'_>) -> Status {
    if frame.service_type & 0x04 != 0 {
        return Status::Exception(NOT_SUPPORTED);
    }
    frame
        .blocks()
        .filter(|b| (b.option, b.suboption) == (5, 4))
        .find_map(|b| match *b.data {
            [_, _, error, ..] if error != 0 => Some(Status::Exception(u32::from(error))),
            _ => None,
        })
        .unwrap_or(Status::Ok)
}

/// What a response is matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    client: MacAddr,
    server: MacAddr,
    xid: u32,
    service: u8,
}

/// DCP state for one capture interface: requests waiting for responses (bounded by
/// count and age), and counters.
#[derive(Debug)]
pub struct Session {
    pending: Pending<Key>,
    /// Responses that matched no request.
    pub unsolicited: u64,
    /// Responses that matched a request.
    pub responses: u64,
    /// Frames on the PROFINET EtherType that were not DCP (cyclic I/O, alarms) or too
    /// short.
    pub not_dcp: u64,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            pending: Pending::new(MAX_OUTSTANDING, WINDOW_NS),
            unsolicited: 0,
            responses: 0,
            not_dcp: 0,
        }
    }
}

impl Session {
    /// Takes one frame: `payload` is what follows the EtherType 0x8892 (starting at
    /// the FrameID), `src` and `dst` the Ethernet addresses, `ts` nanoseconds since the
    /// epoch. Returns false (and only counts it) when it is not DCP.
    pub fn on_frame(
        &mut self,
        src: MacAddr,
        dst: MacAddr,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<L2Operation>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        self.pending.expire(ts, ops);
        let Some(frame) = parse_frame(payload) else {
            self.not_dcp += 1;
            return false;
        };
        if frame.is_response() {
            self.on_response(src, dst, &frame, ops);
            identity(src, &frame, facts);
            return true;
        }
        let mut flags = frame.flags;
        let function = describe(&frame);
        if function.name == "unknown" {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        let hello = frame.service_id == SERVICE_HELLO;
        let op = L2Operation {
            orig: src,
            resp: dst,
            op: OtOperation {
                protocol: PROTOCOL,
                pdu: None,
                function,
                target: target(&frame),
                status: if hello {
                    Status::Ok
                } else {
                    Status::NoResponse
                },
                flags,
                ts,
            },
        };
        if hello {
            identity(src, &frame, facts);
            ops.push(op);
            return true;
        }
        let key = Key {
            client: src,
            server: dst,
            xid: frame.xid,
            service: frame.service_id,
        };
        self.pending.push(key, op, ops);
        true
    }

    fn on_response(
        &mut self,
        src: MacAddr,
        dst: MacAddr,
        frame: &Frame<'_>,
        ops: &mut Vec<L2Operation>,
    ) {
        let matches = |k: &Key| {
            k.client == dst
                && k.xid == frame.xid
                && k.service == frame.service_id
                && (k.server == src
                    || (frame.service_id == SERVICE_IDENTIFY && k.server.is_multicast()))
        };
        let status = status(frame);
        if frame.service_id == SERVICE_IDENTIFY {
            // More devices may answer: the request stays until its window closes.
            let Some(waiting) = self.pending.find_mut(matches) else {
                self.unsolicited += 1;
                return;
            };
            if waiting.op.status == Status::NoResponse {
                waiting.op.status = status;
            }
            waiting.op.flags.0 |= frame.flags.0;
            self.responses += 1;
            return;
        }
        let Some(mut done) = self.pending.take(matches) else {
            self.unsolicited += 1;
            return;
        };
        done.op.status = status;
        done.op.flags.0 |= frame.flags.0;
        self.responses += 1;
        ops.push(done);
    }

    /// Reports requests whose window closed before `now` (call it now and then when
    /// DCP frames are rare).
    pub fn tick(&mut self, now: i64, ops: &mut Vec<L2Operation>) {
        self.pending.expire(now, ops);
    }

    /// The capture ended: every waiting request is reported.
    pub fn finish(&mut self, ops: &mut Vec<L2Operation>) {
        self.pending.drain(ops);
    }
}

/// What a response or hello tells about its sender.
fn identity(src: MacAddr, frame: &Frame<'_>, facts: &mut Vec<IdentityFact>) {
    let mut push = |kind: IdentityKind, value: String| {
        if !value.is_empty() {
            facts.push(IdentityFact {
                about: Subject::Mac(src),
                kind,
                value,
                protocol: PROTOCOL,
            });
        }
    };
    for b in frame.blocks() {
        let (_, v) = frame.value(&b);
        match (b.option, b.suboption) {
            (2, 1) => push(IdentityKind::Vendor, text(v)),
            (2, 2) => push(IdentityKind::Hostname, text(v)),
            (2, 3) => {
                if let [a, b, c, d, ..] = *v {
                    push(
                        IdentityKind::DeviceId,
                        format!(
                            "vendor 0x{:04x} device 0x{:04x}",
                            u16::from_be_bytes([a, b]),
                            u16::from_be_bytes([c, d])
                        ),
                    );
                }
            }
            (2, 4) => {
                if let Some(&role) = v.first() {
                    push(IdentityKind::DeviceType, device_role(role));
                }
            }
            (1, 2 | 3) => {
                if let Some([ip, _, _]) = ip_parameter(v)
                    && !ip.is_unspecified()
                {
                    push(IdentityKind::ManagementAddress, ip.to_string());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
