//! EtherNet/IP encapsulation and the CIP messages it carries.
//!
//! Wire format (ODVA, The CIP Networks Library Vol. 2, EtherNet/IP Adaptation of CIP,
//! ch. 2; all fields little-endian):
//!
//! ```text
//! command u16 | length u16 (bytes after the header) | session handle u32 | status u32
//!   | sender context [u8; 8] | options u32 | data[length]
//! ```
//!
//! SendRRData (0x6F) and SendUnitData (0x70) carry a Common Packet Format: interface
//! handle u32, timeout u16, item count u16, then items (type u16, length u16, data).
//! The CIP message is in the unconnected data item (0xB2) or, after a 2-byte sequence
//! count, in the connected data item (0xB1). A CIP request is `service u8 | path size
//! in words u8 | EPATH | data`; a response is `service | 0x80, reserved u8, general
//! status u8, additional status size in words u8, additional status, data`.
//!
//! Records: one `enip` operation per encapsulation request (function = command,
//! status = the reply's encapsulation status) and one `cip` operation per CIP request
//! (function = service, target = the path, status = the general status). Requests
//! wrapped by Multiple_Service_Packet (0x0A) and by Unconnected_Send (0x52 on the
//! Connection Manager, class 6) are emitted too, each after its wrapper.
//!
//! Matching: SendUnitData requests and responses by connection and the CIP sequence
//! count of the connected data item, which the target echoes. The two directions use
//! different connection ids (O→T, T→O); the Forward_Open reply on the same TCP session
//! pairs them. Where it was not seen (the capture started later, or the connection
//! was opened elsewhere), by the sequence count alone. Other commands by the sender
//! context, which the target echoes. Failing both, the oldest outstanding request
//! with the same command.
//! UnRegisterSession and Cancel have no reply and are emitted at once, status `ok`.
//!
//! Identity: ListIdentity replies (TCP or UDP) and replies to Get_Attributes_All of
//! the Identity object (class 1, instance 1) sent to the device itself give identity
//! facts about the replier (vendor, `device type N (name) product code M` as the
//! model, revision as firmware, serial in hex, product name). Requests routed through
//! Unconnected_Send describe a module behind the target, so they give none.
//!
//! Not classified: Logix program download/upload and mode changes. They use the
//! controller object (class 0xAC) and other Rockwell classes whose services are not
//! public; `emreekin_ControlLogix_Logix5000_download_upload_run.pcap` shows
//! Set_Attribute_List and service 0x4D to class 0xAC instance 1, which tshark 4.0
//! leaves unnamed. They are logged with their codes (0x4D on 0xAC as
//! `class_specific`, `other`); a public reference or a labelled capture is
//! needed to call them `program` or `control`. Stop (0x07), Start (0x06) and Reset
//! (0x05) to any class are `control`.
//!
//! Content check: a known command, a defined status, options 0 and a length of at
//! most 65511 (else `NotThisProtocol`).
//!
//! Requests travel towards TCP port 44818. [`parse_datagram`] classifies UDP
//! datagrams: encapsulation (ListIdentity on 44818/UDP) or implicit (class 0/1) I/O
//! on 2222/UDP, which the pipeline aggregates as `cyclic`.

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name for encapsulation commands.
pub const PROTOCOL_ENIP: &str = "enip";
/// `ot.jsonl`'s protocol name for CIP services.
pub const PROTOCOL_CIP: &str = "cip";
/// The registered port for explicit messaging (TCP and UDP).
pub const PORT: u16 = 44818;
/// The registered port for implicit I/O (UDP).
pub const IO_PORT: u16 = 2222;
/// Requests remembered per flow while waiting for their responses.
pub const MAX_OUTSTANDING: usize = 64;
/// Connection id pairs remembered per flow (from Forward_Open replies).
pub const MAX_CONNECTIONS: usize = 32;

/// Encapsulation header length.
const HEADER: usize = 24;
/// The largest data length the encapsulation allows (65535 − 24).
const MAX_DATA: usize = 65511;
/// Depth of nested CIP wrappers (Unconnected_Send, Multiple_Service_Packet) opened.
const MAX_NESTING: u8 = 4;

/// One encapsulation packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encap<'a> {
    /// Command.
    pub command: u16,
    /// Session handle.
    pub session: u32,
    /// Status (0 = success).
    pub status: u32,
    /// Sender context, echoed by the target.
    pub context: [u8; 8],
    /// The bytes after the header.
    pub data: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Parses EtherNet/IP encapsulation packets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

fn u16_at(b: &[u8], i: usize) -> Option<u16> {
    b.get(i..i + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    b.get(i..i + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl PduParser for Parser {
    type Pdu<'a> = Encap<'a>;
    const MAX_PDU: usize = HEADER + MAX_DATA;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Encap<'a>> {
        // The command is the first sign this is EtherNet/IP at all.
        if let Some(command) = u16_at(input, 0)
            && command_name(command).is_none()
        {
            return Parsed::NotThisProtocol;
        }
        // The status is one of the few the specification defines.
        if let Some(status) = u32_at(input, 8)
            && !known_status(status)
        {
            return Parsed::NotThisProtocol;
        }
        if input.len() < HEADER {
            return Parsed::Incomplete { needed: HEADER };
        }
        let (Some(command), Some(length), Some(session), Some(status), Some(options)) = (
            u16_at(input, 0),
            u16_at(input, 2),
            u32_at(input, 4),
            u32_at(input, 8),
            u32_at(input, 20),
        ) else {
            return Parsed::Incomplete { needed: HEADER };
        };
        let length = usize::from(length);
        if length > MAX_DATA || options != 0 {
            return Parsed::NotThisProtocol;
        }
        let total = HEADER + length;
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        let mut context = [0; 8];
        context.copy_from_slice(&input[12..20]);
        let mut flags = Flags::default();
        if command == 0x0001 {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        if matches!(command, 0x006F | 0x0070) {
            // Interface handle (0 = CIP), timeout, item count at least.
            match u32_at(&input[HEADER..total], 0) {
                None => flags.set(Flags::BAD_LENGTH),
                Some(0) => {}
                Some(_) => flags.set(Flags::RESERVED_SET),
            }
            if length < 8 {
                flags.set(Flags::BAD_LENGTH);
            }
        }
        Parsed::Pdu {
            pdu: Encap {
                command,
                session,
                status,
                context,
                data: &input[HEADER..total],
                flags,
            },
            consumed: total,
        }
    }
}

/// Whether `status` is an encapsulation status the specification defines (success,
/// invalid or unsupported command, no resources, incorrect data, invalid session
/// handle, invalid length, unsupported protocol revision).
fn known_status(status: u32) -> bool {
    matches!(status, 0x0000..=0x0003 | 0x0064 | 0x0065 | 0x0069)
}

/// The name of an encapsulation command, `None` when the specification has none.
/// 0x0001 is reserved but sent by Rockwell tools (tshark: "Unknown Command"). NOP
/// (0x0000) is left out on purpose: 24 zero bytes would be a valid NOP, so zero
/// padding or process data would pass for packets while resynchronising; a real NOP
/// (it has no reply, and is rare) is skipped instead.
pub fn command_name(command: u16) -> Option<&'static str> {
    tables::enip::command(command).map(|(name, _)| name)
}

/// The `enip` function of a command.
pub fn describe_command(command: u16) -> Function {
    let (name, category) = tables::enip::command(command).unwrap_or(("unknown", Category::Other));
    Function {
        code: u32::from(command),
        name,
        category,
    }
}

/// One Common Packet Format item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    /// Type id (0x0000 null address, 0x00A1 connected address, 0x00B1 connected data,
    /// 0x00B2 unconnected data, 0x000C ListIdentity, 0x8000/0x8001 sockaddr info,
    /// 0x8002 sequenced address).
    pub kind: u16,
    /// Its data.
    pub data: &'a [u8],
}

/// Iterates over Common Packet Format items (`count u16 | items`); stops at the first
/// item whose length runs past the data and sets `BAD_LENGTH` in `flags`.
fn items<'a>(cpf: &'a [u8], flags: &mut Flags) -> Vec<Item<'a>> {
    let Some(count) = u16_at(cpf, 0) else {
        flags.set(Flags::BAD_LENGTH);
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut at = 2;
    for _ in 0..count {
        let (Some(kind), Some(len)) = (u16_at(cpf, at), u16_at(cpf, at + 2)) else {
            flags.set(Flags::BAD_LENGTH);
            return out;
        };
        let Some(data) = cpf.get(at + 4..at + 4 + usize::from(len)) else {
            flags.set(Flags::BAD_LENGTH);
            return out;
        };
        out.push(Item { kind, data });
        at += 4 + usize::from(len);
    }
    if at != cpf.len() {
        flags.set(Flags::BAD_LENGTH);
    }
    out
}

/// The CIP message of a SendRRData / SendUnitData, with the connected data item's
/// sequence count when it was connected.
fn cip_message<'a>(encap: &Encap<'a>, flags: &mut Flags) -> Option<Message<'a>> {
    // interface handle u32, timeout u16, then the CPF.
    let cpf = encap.data.get(6..)?;
    let mut conn = None;
    for item in items(cpf, flags) {
        match item.kind {
            0x00A1 => conn = u32_at(item.data, 0),
            0x00B2 => {
                return Some(Message {
                    conn: None,
                    seq: None,
                    cip: item.data,
                });
            }
            0x00B1 => {
                let seq = u16_at(item.data, 0)?;
                return Some(Message {
                    conn,
                    seq: Some(seq),
                    cip: &item.data[2..],
                });
            }
            _ => {}
        }
    }
    None
}

/// Where a CIP message travelled.
#[derive(Debug, Clone, Copy)]
struct Message<'a> {
    /// Connection id of the connected address item (each direction has its own).
    conn: Option<u32>,
    /// CIP sequence count of connected data.
    seq: Option<u16>,
    /// The CIP message.
    cip: &'a [u8],
}

/// What a CIP request's EPATH addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CipPath {
    /// Class id.
    pub class: Option<u32>,
    /// Instance id.
    pub instance: Option<u32>,
    /// Attribute id.
    pub attribute: Option<u32>,
    /// Member id.
    pub member: Option<u32>,
    /// Symbolic (ANSI extended) segments and element indices, as a tag name
    /// (`Program:Main.Tag[3]`).
    pub tag: String,
    /// Whether a segment was not understood (the rest of the path was skipped).
    pub unparsed: bool,
}

impl CipPath {
    /// Parses an EPATH.
    pub fn parse(path: &[u8]) -> CipPath {
        let mut p = CipPath::default();
        let mut at = 0;
        while at < path.len() {
            let seg = path[at];
            // Logical segments: 001 type(3) format(2); 8-bit value, or pad + 16/32-bit.
            let logical = |at: usize| -> Option<(u32, usize)> {
                match seg & 0x03 {
                    0 => path.get(at + 1).map(|&v| (u32::from(v), 2)),
                    1 => u16_at(path, at + 2).map(|v| (u32::from(v), 4)),
                    2 => u32_at(path, at + 2).map(|v| (v, 6)),
                    _ => None,
                }
            };
            let step = match seg {
                0x20..=0x3F if seg & 0x1C == 0x14 => {
                    // Special logical (electronic key): format byte + 8 bytes.
                    if seg == 0x34 && path.len() >= at + 10 {
                        Some(10)
                    } else {
                        None
                    }
                }
                0x20..=0x3F => logical(at).map(|(v, n)| {
                    match seg & 0x1C {
                        0x00 => p.class = Some(v),
                        0x04 => p.instance = Some(v),
                        0x08 => {
                            p.member = Some(v);
                            if !p.tag.is_empty() {
                                p.tag.push_str(&format!("[{v}]"));
                            }
                        }
                        0x0C => p.instance = p.instance.or(Some(v)), // connection point
                        0x10 => p.attribute = Some(v),
                        _ => {}
                    }
                    n
                }),
                0x91 => path.get(at + 1).and_then(|&len| {
                    let len = usize::from(len);
                    let name = path.get(at + 2..at + 2 + len)?;
                    if !p.tag.is_empty() {
                        p.tag.push('.');
                    }
                    p.tag.push_str(&String::from_utf8_lossy(name));
                    Some(2 + len + (len & 1))
                }),
                _ => None,
            };
            match step {
                Some(n) => at += n,
                None => {
                    p.unparsed = true;
                    break;
                }
            }
        }
        p
    }

    /// The target string of `ot.jsonl`: the tag name, or `class 0x.. instance ..
    /// attribute ..` with what the path names.
    pub fn target(&self) -> String {
        if !self.tag.is_empty() {
            return self.tag.clone();
        }
        let mut t = String::new();
        if let Some(c) = self.class {
            t.push_str(&format!("class 0x{c:02x}"));
        }
        for (name, v) in [
            ("instance", self.instance),
            ("attribute", self.attribute),
            ("member", self.member),
        ] {
            if let Some(v) = v {
                if !t.is_empty() {
                    t.push(' ');
                }
                t.push_str(&format!("{name} {v}"));
            }
        }
        t
    }
}

/// A CIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CipRequest<'a> {
    /// Service code (response bit clear).
    pub service: u8,
    /// The path.
    pub path: CipPath,
    /// Request data after the path.
    pub data: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Parses a CIP request; `None` for a response or a message too short to be one.
pub fn parse_cip_request(msg: &[u8]) -> Option<CipRequest<'_>> {
    let [service, words, rest @ ..] = msg else {
        return None;
    };
    if service & 0x80 != 0 {
        return None;
    }
    let mut flags = Flags::default();
    let plen = usize::from(*words) * 2;
    let (path, data) = if plen <= rest.len() {
        rest.split_at(plen)
    } else {
        flags.set(Flags::BAD_LENGTH);
        (rest, &rest[rest.len()..])
    };
    Some(CipRequest {
        service: *service,
        path: CipPath::parse(path),
        data,
        flags,
    })
}

/// A CIP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipResponse<'a> {
    /// Service code (response bit clear).
    pub service: u8,
    /// General status (0 = success).
    pub general: u8,
    /// Additional status words.
    pub additional: &'a [u8],
    /// Response data.
    pub data: &'a [u8],
}

/// Parses a CIP response; `None` for a request or a message too short to be one.
pub fn parse_cip_response(msg: &[u8]) -> Option<CipResponse<'_>> {
    let [service, _reserved, general, words, rest @ ..] = msg else {
        return None;
    };
    if service & 0x80 == 0 {
        return None;
    }
    let alen = (usize::from(*words) * 2).min(rest.len());
    let (additional, data) = rest.split_at(alen);
    Some(CipResponse {
        service: service & 0x7f,
        general: *general,
        additional,
        data,
    })
}

/// The name and category of a CIP service on `class` (class-specific codes 0x4B..=0x63
/// depend on it: on the Connection Manager, class 6, 0x4E is Forward_Close and 0x52
/// Unconnected_Send; addressed to a tag, by name (no class in the path) or as a
/// Symbol object instance (class 0x6B), they are the Logix tag services; on other
/// classes they are not public and stay `class_specific`, `other`).
pub fn describe_service(service: u8, class: Option<u32>) -> (Function, bool) {
    use Category::*;
    let found = tables::enip::common_service(service).or_else(|| match class {
        Some(6) => tables::enip::connection_manager_service(service),
        None | Some(0x6B) => tables::enip::tag_service(service),
        // Other classes' own services are not public (Logix uses 0x4C and 0x4E on
        // class 0xB2 for read lists, 0x4D on the controller object 0xAC, ...).
        Some(_) => None,
    });
    let (name, category) = match found {
        Some((name, _)) if class == Some(1) && matches!(service, 0x01 | 0x0E) => (name, Identify),
        Some(found) => found,
        None if (0x4B..=0x63).contains(&service) => ("class_specific", Other),
        None => ("unknown", Other),
    };
    let known = name != "unknown";
    (
        Function {
            code: u32::from(service),
            name,
            category,
        },
        known,
    )
}

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    command: u16,
    context: [u8; 8],
    seq: Option<u16>,
    conn: Option<u32>,
    enip: OtOperation,
    /// The CIP operation and what it wraps.
    cip: Option<CipOp>,
}

/// A CIP operation and the requests it wraps.
#[derive(Debug)]
struct CipOp {
    op: OtOperation,
    service: u8,
    class: Option<u32>,
    /// Get_Attributes_All of the Identity object, instance 1, not routed: its reply
    /// describes the device that answered.
    identity: bool,
    inner: Vec<CipOp>,
}

impl CipOp {
    /// Builds the operation for `msg` (a CIP request), opening wrappers up to `depth`;
    /// `routed`: inside an Unconnected_Send (addressed to a module behind the target).
    fn new(msg: &[u8], ts: i64, depth: u8, routed: bool) -> Option<CipOp> {
        let req = parse_cip_request(msg)?;
        let (function, known) = describe_service(req.service, req.path.class);
        let mut flags = req.flags;
        if !known {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        let mut inner = Vec::new();
        if depth < MAX_NESTING {
            match (req.service, req.path.class) {
                (0x0A, _) => {
                    // count u16, offsets u16 from the start of the data, services.
                    let count = u16_at(req.data, 0).unwrap_or(0);
                    let offsets: Vec<usize> = (0..usize::from(count))
                        .map_while(|i| u16_at(req.data, 2 + 2 * i).map(usize::from))
                        .collect();
                    if offsets.len() != usize::from(count) {
                        flags.set(Flags::BAD_LENGTH);
                    }
                    for (i, &start) in offsets.iter().enumerate() {
                        let end = offsets.get(i + 1).copied().unwrap_or(req.data.len());
                        match req
                            .data
                            .get(start..end)
                            .and_then(|m| CipOp::new(m, ts, depth + 1, routed))
                        {
                            Some(op) => inner.push(op),
                            None => flags.set(Flags::BAD_LENGTH),
                        }
                    }
                }
                (0x52, Some(6)) => {
                    // priority/tick u8, timeout ticks u8, size u16, message, pad, route path.
                    let size = u16_at(req.data, 2).map(usize::from);
                    match size
                        .and_then(|n| req.data.get(4..4 + n))
                        .and_then(|m| CipOp::new(m, ts, depth + 1, true))
                    {
                        Some(op) => inner.push(op),
                        None => flags.set(Flags::BAD_LENGTH),
                    }
                }
                _ => {}
            }
        }
        Some(CipOp {
            op: OtOperation {
                protocol: PROTOCOL_CIP,
                pdu: Some("cip"),
                function,
                target: req.path.target(),
                status: Status::NoResponse,
                flags,
                ts,
            },
            service: req.service,
            class: req.path.class,
            identity: !routed
                && req.service == 0x01
                && req.path.class == Some(1)
                && req.path.instance == Some(1),
            inner,
        })
    }

    /// Merges a response message (`None`: no CIP reply) into this operation.
    fn answer(&mut self, msg: Option<&[u8]>, facts: &mut Vec<IdentityFact>) {
        let Some(rsp) = msg.and_then(parse_cip_response) else {
            return;
        };
        self.op.status = match rsp.general {
            0 => Status::Ok,
            g => Status::Exception(u32::from(g)),
        };
        if self.identity && rsp.general == 0 && rsp.service == 0x01 {
            identity_attributes(rsp.data, Direction::Resp, facts);
        }
        match (self.service, self.class) {
            (0x0A, _) => {
                let count = u16_at(rsp.data, 0).map_or(0, usize::from);
                let offsets: Vec<usize> = (0..count)
                    .map_while(|i| u16_at(rsp.data, 2 + 2 * i).map(usize::from))
                    .collect();
                for (i, inner) in self.inner.iter_mut().enumerate() {
                    let Some(&start) = offsets.get(i) else { break };
                    let end = offsets.get(i + 1).copied().unwrap_or(rsp.data.len());
                    inner.answer(rsp.data.get(start..end), facts);
                }
            }
            (0x52, Some(6)) => {
                // The target answers the embedded request itself; a router error
                // answers Unconnected_Send (0xD2) and the embedded request shares it.
                let status = self.op.status;
                for inner in &mut self.inner {
                    if rsp.service == 0x52 {
                        inner.op.status = status;
                    } else {
                        inner.answer(msg, facts);
                    }
                }
            }
            _ => {}
        }
    }

    fn emit(self, ops: &mut Vec<OtOperation>, no_response: bool) {
        let mut op = self.op;
        if no_response {
            op.flags.set(Flags::NO_RESPONSE);
        }
        ops.push(op);
        for inner in self.inner {
            inner.emit(ops, no_response);
        }
    }
}

impl Pending {
    fn emit(mut self, ops: &mut Vec<OtOperation>, no_response: bool) {
        if no_response {
            self.enip.flags.set(Flags::NO_RESPONSE);
        }
        ops.push(self.enip);
        if let Some(cip) = self.cip {
            cip.emit(ops, no_response);
        }
    }
}

/// Per-flow EtherNet/IP state: requests waiting for responses (bounded).
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// (O→T, T→O) connection ids from Forward_Open replies, newest last (bounded).
    connections: VecDeque<(u32, u32)>,
    /// Responses that matched no request.
    pub unsolicited: u64,
}

impl Session {
    /// Takes one encapsulation packet travelling in `dir` (`Orig` = towards port
    /// 44818) at `ts` (nanoseconds); finished operations go to `ops`, device identity
    /// to `facts`.
    pub fn on_encap(
        &mut self,
        dir: Direction,
        ts: i64,
        encap: &Encap<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        let mut flags = encap.flags;
        let cip = if matches!(encap.command, 0x006F | 0x0070) {
            cip_message(encap, &mut flags)
        } else {
            None
        };
        match dir {
            Direction::Orig => {
                let enip = OtOperation {
                    protocol: PROTOCOL_ENIP,
                    pdu: Some("enip"),
                    function: describe_command(encap.command),
                    target: format!("session 0x{:08x}", encap.session),
                    status: Status::NoResponse,
                    flags,
                    ts,
                };
                let pending = Pending {
                    command: encap.command,
                    context: encap.context,
                    seq: cip.and_then(|m| m.seq),
                    conn: cip.and_then(|m| m.conn),
                    enip,
                    cip: cip.and_then(|m| CipOp::new(m.cip, ts, 0, false)),
                };
                if matches!(encap.command, 0x0066 | 0x0073) {
                    // No reply is defined for these.
                    let mut p = pending;
                    p.enip.status = Status::Ok;
                    p.emit(ops, false);
                    return;
                }
                if self.outstanding.len() >= MAX_OUTSTANDING
                    && let Some(mut old) = self.outstanding.pop_front()
                {
                    old.enip.flags.set(Flags::TOO_MANY_OUTSTANDING);
                    old.emit(ops, false);
                }
                self.outstanding.push_back(pending);
            }
            Direction::Resp => {
                let seq = cip.and_then(|m| m.seq);
                // The request's connection id, when a Forward_Open reply paired it
                // with the one this reply carries.
                let o2t = cip.and_then(|m| m.conn).and_then(|t2o| {
                    self.connections
                        .iter()
                        .rev()
                        .find(|c| c.1 == t2o)
                        .map(|c| c.0)
                });
                let same = |p: &Pending| p.command == encap.command;
                let found = if seq.is_some() {
                    o2t.and_then(|o2t| {
                        self.outstanding
                            .iter()
                            .position(|p| same(p) && p.seq == seq && p.conn == Some(o2t))
                    })
                    .or_else(|| {
                        self.outstanding
                            .iter()
                            .position(|p| same(p) && p.seq == seq)
                    })
                } else {
                    self.outstanding
                        .iter()
                        .position(|p| same(p) && p.context == encap.context)
                }
                .or_else(|| self.outstanding.iter().position(same));
                if encap.command == 0x0063 && encap.status == 0 {
                    list_identity(encap.data, Direction::Resp, facts);
                }
                let Some(mut done) = found.and_then(|i| self.outstanding.remove(i)) else {
                    self.unsolicited += 1;
                    return;
                };
                done.enip.status = match encap.status {
                    0 => Status::Ok,
                    s => Status::Exception(s),
                };
                done.enip.flags.0 |= flags.0;
                if let Some(c) = &mut done.cip {
                    let msg = cip.map(|m| m.cip);
                    c.answer(msg, facts);
                    if matches!((c.service, c.class), (0x54 | 0x5B, Some(6)))
                        && c.op.status == Status::Ok
                        && let Some(rsp) = msg.and_then(parse_cip_response)
                        && let (Some(o2t), Some(t2o)) = (u32_at(rsp.data, 0), u32_at(rsp.data, 4))
                    {
                        if self.connections.len() >= MAX_CONNECTIONS {
                            self.connections.pop_front();
                        }
                        self.connections.push_back((o2t, t2o));
                    }
                }
                done.emit(ops, false);
            }
        }
    }

    /// The flow ended: requests still waiting are reported unanswered.
    pub fn finish(&mut self, ops: &mut Vec<OtOperation>) {
        for p in self.outstanding.drain(..) {
            p.emit(ops, true);
        }
    }
}

/// The name of a CIP vendor id, for the vendors seen in the shared captures and the
/// common ones in plants; `None` otherwise (the fact then keeps the number).
pub fn vendor_name(id: u16) -> Option<&'static str> {
    Some(match id {
        1 => "Rockwell Automation/Allen-Bradley",
        2 => "Namco Controls Corp.",
        5 => "Rockwell Automation/Reliance Electric",
        40 => "WAGO Corporation",
        44 => "Parker Hannifin Corporation",
        47 => "OMRON Corporation",
        48 => "Schneider Electric",
        50 => "Hilscher GmbH",
        90 => "HMS Industrial Networks AB",
        243 => "Schneider Automation, Inc.",
        283 => "Hilscher GmbH",
        674 => "Siemens AG",
        1105 => "Beckhoff Automation GmbH",
        _ => return None,
    })
}

/// The name of a CIP device type (Vol. 1, ch. 6), `None` when not listed here.
pub fn device_type_name(id: u16) -> Option<&'static str> {
    Some(match id {
        0x00 => "generic device",
        0x02 => "AC drive",
        0x0C => "communications adapter",
        0x0E => "programmable logic controller",
        0x18 => "human-machine interface",
        0x2B => "generic device (keyable)",
        _ => return None,
    })
}

/// Reads a ListIdentity reply's data (CPF with item 0x000C) into identity facts
/// about `about` (the side that replied).
pub fn list_identity(data: &[u8], about: Direction, facts: &mut Vec<IdentityFact>) {
    let mut flags = Flags::default();
    for item in items(data, &mut flags) {
        if item.kind != 0x000C {
            continue;
        }
        // version u16, sockaddr 16 (big-endian), then the identity attributes.
        if let Some(attrs) = item.data.get(18..) {
            identity_attributes(attrs, about, facts);
        }
    }
}

/// Reads the Identity object's attributes 1 to 7 as ListIdentity and
/// Get_Attributes_All carry them (vendor u16, device type u16, product code u16,
/// revision u8.u8, status u16, serial u32, product name as a short string) into
/// identity facts about `about`.
pub fn identity_attributes(d: &[u8], about: Direction, facts: &mut Vec<IdentityFact>) {
    let (Some(vendor), Some(dtype), Some(code), Some(&major), Some(&minor), Some(serial)) = (
        u16_at(d, 0),
        u16_at(d, 2),
        u16_at(d, 4),
        d.get(6),
        d.get(7),
        u32_at(d, 10),
    ) else {
        return;
    };
    let mut push = |kind, value: String| {
        facts.push(IdentityFact {
            about: Subject::Side(about),
            kind,
            value,
            protocol: PROTOCOL_ENIP,
        })
    };
    push(
        IdentityKind::Vendor,
        vendor_name(vendor).map_or_else(|| format!("vendor {vendor}"), str::to_string),
    );
    let dname = device_type_name(dtype).map_or(String::new(), |n| format!(" ({n})"));
    push(
        IdentityKind::Model,
        format!("device type {dtype}{dname} product code {code}"),
    );
    push(IdentityKind::Firmware, format!("{major}.{minor:02}"));
    push(IdentityKind::Serial, format!("0x{serial:08x}"));
    if let Some(&len) = d.get(14)
        && let Some(name) = d.get(15..15 + usize::from(len))
    {
        let name = String::from_utf8_lossy(name).trim().to_string();
        if !name.is_empty() {
            push(IdentityKind::Product, name);
        }
    }
}

/// What a UDP datagram holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Datagram<'a> {
    /// One encapsulation packet filling the datagram (ListIdentity and the like on
    /// 44818/UDP).
    Encapsulation(Encap<'a>),
    /// Implicit I/O: a sequenced address item (0x8002) and a connected data item.
    ImplicitIo {
        /// Connection id.
        connection: u32,
        /// Encapsulation sequence number.
        sequence: u32,
        /// The I/O data (starting with the CIP sequence count for class 1).
        data: &'a [u8],
    },
    /// Neither.
    NotThisProtocol,
}

/// Classifies a UDP datagram by its content (the port only hints): an encapsulation
/// packet whose length is the datagram's, or a Common Packet Format with a sequenced
/// address and connected data that fills it exactly (implicit I/O, `cyclic`).
pub fn parse_datagram(bytes: &[u8]) -> Datagram<'_> {
    if let Parsed::Pdu { pdu, consumed } = Parser.parse(Direction::Orig, bytes)
        && consumed == bytes.len()
    {
        return Datagram::Encapsulation(pdu);
    }
    let mut flags = Flags::default();
    let found = items(bytes, &mut flags);
    if flags.0 != 0 {
        return Datagram::NotThisProtocol;
    }
    match found.as_slice() {
        [a, d, ..] if a.kind == 0x8002 && a.data.len() == 8 && d.kind == 0x00B1 => {
            match (u32_at(a.data, 0), u32_at(a.data, 4)) {
                (Some(connection), Some(sequence)) => Datagram::ImplicitIo {
                    connection,
                    sequence,
                    data: d.data,
                },
                _ => Datagram::NotThisProtocol,
            }
        }
        _ => Datagram::NotThisProtocol,
    }
}

#[cfg(test)]
mod tests;
