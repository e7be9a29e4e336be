//! BACnet/IP (ASHRAE 135 Annex J, clauses 6 and 20), over UDP port 47808: BVLC, NPDU
//! and APDU.
//!
//! ```text
//! BVLC: type 0x81 | function u8 | length u16 (whole BVLL)
//!   [Forwarded-NPDU (0x04): original source B/IP address, 6 bytes]
//! NPDU: version 0x01 | control (bit 7 network message, 5 DNET, 3 SNET, 2 expecting reply)
//!   | [DNET u16 DLEN u8 DADR] | [SNET u16 SLEN u8 SADR] | [hop count, if DNET]
//!   | network message type (+ vendor u16 from 0x80) or APDU
//! APDU: type (high nibble) and flags | ... (clause 20.1)
//! ```
//!
//! A datagram is one BVLL; [`Session::on_datagram`] is the entry point, per UDP flow
//! (peer pair). The datagram's length is authoritative: a BVLC length that disagrees
//! is flagged `bad_length` and the whole datagram is read (the icsnpp captures' replies
//! claim more bytes than they hold). Operations:
//!
//! - A **confirmed request** (APDU type 0, `pdu` `confirmed`, `function` the service
//!   choice) waits for the reply with the same invoke id travelling the other way:
//!   simple or complex ACK → `ok`; Error → `exception:<class × 256 + code>`; Reject →
//!   `exception:<65536 + reason>`; Abort (from either side) → `exception:<131072 +
//!   reason>`. Segment ACKs complete nothing; a segmented request or complex ACK is
//!   one operation or reply at its first segment (sequence 0), later segments are
//!   counted in [`Session::later_segments`]. Invoke ids are matched per flow and
//!   direction, not per routed network address behind a router.
//! - An **unconfirmed request** (type 1, `pdu` `unconfirmed`) expects no reply and is
//!   logged `ok` when seen. I-Am also gives identity facts about its sender.
//! - Network-layer messages and BVLC-only functions (results, BDT/FDT management,
//!   foreign-device registration) are counted in [`Session::network_messages`] and
//!   [`Session::bvlc_only`], not logged.
//!
//! Targets: ReadProperty and WriteProperty name object type, instance and property
//! (`analog-value 3 present-value`, with `[index]` when an array index is given);
//! services that start with an object identifier name the object; ReinitializeDevice
//! names the state (`coldstart`), DeviceCommunicationControl the choice (`disable`);
//! Who-Is its range, I-Am its device, maximum APDU, segmentation and vendor.
//!
//! Identity (I-Am): the vendor as `<name> (<id>)` ([`IdentityKind::Vendor`]; the id
//! alone for vendors not in [`vendor_name`]'s table) and the device instance as
//! `device <n>` under [`IdentityKind::Hostname`] (the contract has no kind for a
//! network-wide device number; it is the closest).

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "bacnet";
/// The registered port.
pub const PORT: u16 = 47808;
/// Confirmed requests remembered per flow while waiting for their replies.
pub const MAX_OUTSTANDING: usize = 64;
/// Reject codes are offset by this in an `exception` status.
pub const REJECT_BASE: u32 = 0x1_0000;
/// Abort codes are offset by this in an `exception` status.
pub const ABORT_BASE: u32 = 0x2_0000;

/// One BVLL with its NPDU and APDU, where present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// BVLC function.
    pub function: u8,
    /// The NPDU, for the functions that carry one.
    pub npdu: Option<Npdu<'a>>,
    /// Violations seen.
    pub flags: Flags,
}

/// The network layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Npdu<'a> {
    /// NPDU control octet.
    pub control: u8,
    /// Destination network, when present.
    pub dnet: Option<u16>,
    /// Source network, when present.
    pub snet: Option<u16>,
    /// Hop count (present with DNET).
    pub hop_count: Option<u8>,
    /// The network-layer message type, when this is not an APDU.
    pub network_message: Option<u8>,
    /// The APDU (empty for network messages).
    pub apdu: &'a [u8],
}

/// An APDU's header (clause 20.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// PDU type, 0..=7.
    pub kind: u8,
    /// Invoke id (every type but unconfirmed requests).
    pub invoke: Option<u8>,
    /// Service choice (requests, ACKs, errors).
    pub service: Option<u8>,
    /// Reject or abort reason.
    pub reason: Option<u8>,
    /// SRV bit of an abort: sent by the server.
    pub from_server: bool,
    /// Sequence number of a segmented request or complex ACK.
    pub sequence: Option<u8>,
    /// The service's parameters.
    pub data: &'a [u8],
}

/// Parses BVLLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Frame<'a>;
    const MAX_PDU: usize = 0xffff;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Frame<'a>> {
        match input {
            [] => return Parsed::Incomplete { needed: 4 },
            [0x81, ..] => {}
            _ => return Parsed::NotThisProtocol,
        }
        if input.get(1).is_some_and(|&f| f > 0x0c) {
            return Parsed::NotThisProtocol;
        }
        let [_, function, l0, l1, ..] = *input else {
            return Parsed::Incomplete { needed: 4 };
        };
        let length = usize::from(u16::from_be_bytes([l0, l1]));
        if length < 4 {
            return Parsed::NotThisProtocol;
        }
        if input.len() < length {
            return Parsed::Incomplete { needed: length };
        }
        Parsed::Pdu {
            pdu: frame(function, &input[4..length], Flags::default()),
            consumed: length,
        }
    }
}

/// A BVLL's NPDU (for the functions that carry one) from the bytes after the header.
fn frame(function: u8, body: &[u8], mut flags: Flags) -> Frame<'_> {
    let npdu = match function {
        0x04 => match body.get(6..) {
            Some(rest) => parse_npdu(rest, &mut flags),
            None => {
                flags.set(Flags::BAD_LENGTH);
                None
            }
        },
        0x09..=0x0b => parse_npdu(body, &mut flags),
        _ => None,
    };
    Frame {
        function,
        npdu,
        flags,
    }
}

fn parse_npdu<'a>(b: &'a [u8], flags: &mut Flags) -> Option<Npdu<'a>> {
    let bad = |flags: &mut Flags| {
        flags.set(Flags::BAD_LENGTH);
        None
    };
    let [version, control, ..] = *b else {
        return bad(flags);
    };
    if version != 1 || control & 0x50 != 0 {
        flags.set(Flags::RESERVED_SET);
    }
    let mut at = 2;
    let net = |at: &mut usize| -> Option<u16> {
        let n = b.get(*at..*at + 2)?;
        let len = usize::from(*b.get(*at + 2)?);
        *at += 3 + len;
        (*at <= b.len()).then(|| u16::from_be_bytes([n[0], n[1]]))
    };
    let dnet = if control & 0x20 != 0 {
        match net(&mut at) {
            Some(n) => Some(n),
            None => return bad(flags),
        }
    } else {
        None
    };
    let snet = if control & 0x08 != 0 {
        match net(&mut at) {
            Some(n) => Some(n),
            None => return bad(flags),
        }
    } else {
        None
    };
    let hop_count = if dnet.is_some() {
        let Some(&h) = b.get(at) else {
            return bad(flags);
        };
        at += 1;
        Some(h)
    } else {
        None
    };
    let network_message = if control & 0x80 != 0 {
        let Some(&t) = b.get(at) else {
            return bad(flags);
        };
        Some(t)
    } else {
        None
    };
    let apdu = if network_message.is_some() {
        &[][..]
    } else {
        &b[at..]
    };
    Some(Npdu {
        control,
        dnet,
        snet,
        hop_count,
        network_message,
        apdu,
    })
}

/// Reads an APDU header; `None` when it is too short for its type.
pub fn parse_apdu(b: &[u8]) -> Option<Apdu<'_>> {
    let first = *b.first()?;
    let kind = first >> 4;
    let segmented = first & 0x08 != 0;
    let mut apdu = Apdu {
        kind,
        invoke: None,
        service: None,
        reason: None,
        from_server: first & 0x01 != 0,
        sequence: None,
        data: &[],
    };
    let (service_at, header) = match kind {
        0 => (if segmented { 5 } else { 3 }, true),
        1 => (1, false),
        2 | 5 => (2, true),
        3 => (if segmented { 4 } else { 2 }, true),
        4 => {
            apdu.invoke = Some(*b.get(1)?);
            b.get(3)?;
            return Some(apdu);
        }
        6 | 7 => {
            apdu.invoke = Some(*b.get(1)?);
            apdu.reason = Some(*b.get(2)?);
            return Some(apdu);
        }
        _ => return None,
    };
    if header {
        apdu.invoke = Some(*b.get(if kind == 0 { 2 } else { 1 })?);
    }
    if segmented && matches!(kind, 0 | 3) {
        apdu.sequence = Some(*b.get(service_at - 2)?);
    }
    apdu.service = Some(*b.get(service_at)?);
    apdu.data = &b[service_at + 1..];
    Some(apdu)
}

/// One tag (clause 20.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag<'a> {
    Open(u8),
    Close(u8),
    /// Number, context class, value bytes (a boolean's value is in `lvt`, no bytes).
    Value(u8, bool, &'a [u8]),
}

/// Reads the tag at the front of `b`; returns it and the bytes after it.
fn tag(b: &[u8]) -> Option<(Tag<'_>, &[u8])> {
    let first = *b.first()?;
    let mut at = 1;
    let mut number = first >> 4;
    if number == 15 {
        number = *b.get(at)?;
        at += 1;
    }
    let context = first & 0x08 != 0;
    let lvt = first & 0x07;
    if context && lvt == 6 {
        return Some((Tag::Open(number), &b[at..]));
    }
    if context && lvt == 7 {
        return Some((Tag::Close(number), &b[at..]));
    }
    let len = if !context && number == 1 {
        0
    } else if lvt == 5 {
        let l = *b.get(at)?;
        at += 1;
        match l {
            254 => {
                let v = b.get(at..at + 2)?;
                at += 2;
                usize::from(u16::from_be_bytes([v[0], v[1]]))
            }
            255 => {
                let v = b.get(at..at + 4)?;
                at += 4;
                usize::try_from(u32::from_be_bytes([v[0], v[1], v[2], v[3]])).ok()?
            }
            l => usize::from(l),
        }
    } else {
        usize::from(lvt)
    };
    let value = b.get(at..at.checked_add(len)?)?;
    Some((Tag::Value(number, context, value), &b[at + len..]))
}

fn unsigned(v: &[u8]) -> Option<u32> {
    if v.is_empty() || v.len() > 4 {
        return None;
    }
    Some(v.iter().fold(0, |a, &x| (a << 8) | u32::from(x)))
}

/// The first `n` tags at the top level of `b` (values only, constructed ones skipped).
fn top_values(mut b: &[u8], n: usize) -> Vec<(u8, bool, &[u8])> {
    let mut out = Vec::new();
    let mut depth = 0u32;
    while out.len() < n {
        let Some((t, rest)) = tag(b) else { break };
        b = rest;
        match t {
            Tag::Open(_) => depth += 1,
            Tag::Close(_) => depth = depth.saturating_sub(1),
            Tag::Value(num, ctx, v) if depth == 0 => out.push((num, ctx, v)),
            Tag::Value(..) => {}
        }
    }
    out
}

/// An object identifier as `type instance`.
fn object(v: &[u8]) -> Option<String> {
    let id = unsigned(v).filter(|_| v.len() == 4)?;
    let (t, instance) = (id >> 22, id & 0x3f_ffff);
    Some(match object_type_name(t) {
        Some(name) => format!("{name} {instance}"),
        None => format!("object-type-{t} {instance}"),
    })
}

fn object_type_name(t: u32) -> Option<&'static str> {
    Some(match t {
        0 => "analog-input",
        1 => "analog-output",
        2 => "analog-value",
        3 => "binary-input",
        4 => "binary-output",
        5 => "binary-value",
        6 => "calendar",
        7 => "command",
        8 => "device",
        9 => "event-enrollment",
        10 => "file",
        11 => "group",
        12 => "loop",
        13 => "multi-state-input",
        14 => "multi-state-output",
        15 => "notification-class",
        16 => "program",
        17 => "schedule",
        18 => "averaging",
        19 => "multi-state-value",
        20 => "trend-log",
        _ => return None,
    })
}

fn property_name(p: u32) -> String {
    let name = match p {
        8 => "all",
        12 => "application-software-version",
        28 => "description",
        36 => "event-state",
        44 => "firmware-revision",
        70 => "model-name",
        75 => "object-identifier",
        76 => "object-list",
        77 => "object-name",
        79 => "object-type",
        81 => "out-of-service",
        85 => "present-value",
        87 => "priority-array",
        103 => "reliability",
        104 => "relinquish-default",
        111 => "status-flags",
        112 => "system-status",
        117 => "units",
        120 => "vendor-identifier",
        121 => "vendor-name",
        _ => return format!("property-{p}"),
    };
    name.to_string()
}

/// Names of the vendors seen in the shared captures (BACnet vendor id registry).
pub fn vendor_name(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "ASHRAE",
        15 => "Cornell University",
        18 => "Alerton / Honeywell",
        22 => "Siemens Schweiz AG (Formerly: Cerberus AG)",
        24 => "Automated Logic Corporation",
        26 => "Phoenix Controls Corporation",
        42 => "Acuity Brands Lighting, Inc.",
        46 => "ESS Engineering",
        51 => "SAMSON AG",
        53 => "DAIKIN Industries Ltd.",
        65 => "Reliance Electric",
        85 => "Yamatake Building Systems Co., Ltd.",
        86 => "The Watt Stopper, Inc.",
        100 => "Custom Mechanical Equipment, LLC",
        103 => "D-Tek Controls",
        107 => "JCI Systems Integration Services",
        116 => "M&M Systems, Inc.",
        123 => "Scada Engine",
        130 => "Shenzhen Junzhi Hi-Tech Co., Ltd.",
        133 => "Veris Industries",
        134 => "Centaurus Prime",
        138 => "PowerCold Comfort Air Solutions, Inc.",
        139 => "I Controls",
        162 => "ASI Controls",
        165 => "Smart Temp Australia Pty. Ltd.",
        167 => "Duksan Mecasys Co., Ltd.",
        173 => "Mitsubishi Electric Building Techno-Service Co., Ltd.",
        181 => "Micro Control Systems, Inc.",
        206 => "Onicon Incorporated",
        212 => "TSC21 Association of Japan",
        215 => "Lighting Control & Design, Inc.",
        221 => "OpenGeneral Pty., Ltd.",
        230 => "Integrated Control Technology Limited",
        240 => "Aricent Ltd.",
        251 => "WILO SE",
        260 => "BACnet Stack at SourceForge",
        1337 => "Xxter bv",
        _ => return None,
    })
}

/// A confirmed service (clause 21, BACnetConfirmedServiceChoice).
///
/// AtomicWriteFile is `program` (file objects are how BACnet devices take programs,
/// databases and firmware); CreateObject and DeleteObject `other`; confirmed COV
/// notifications `cyclic`; subscriptions, alarms, private transfer and VT `other`.
pub fn describe_confirmed(code: u8) -> Function {
    use Category::*;
    let (name, category) = tables::bacnet::confirmed_service(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// An unconfirmed service (BACnetUnconfirmedServiceChoice).
pub fn describe_unconfirmed(code: u8) -> Function {
    use Category::*;
    let (name, category) = tables::bacnet::unconfirmed_service(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// What a request addresses.
fn target(confirmed: bool, service: u8, data: &[u8]) -> String {
    let values = top_values(data, 4);
    let first_object = || {
        values
            .first()
            .filter(|(n, ctx, _)| (*ctx && *n == 0) || (!*ctx && *n == 12))
            .and_then(|(_, _, v)| object(v))
    };
    let ctx = |num: u8| {
        values
            .iter()
            .find(|(n, c, _)| *c && *n == num)
            .and_then(|(_, _, v)| unsigned(v))
    };
    match (confirmed, service) {
        (true, 12 | 15) => {
            let mut t = first_object().unwrap_or_default();
            if let Some(p) = ctx(1) {
                t.push(' ');
                t.push_str(&property_name(p));
            }
            if let Some(i) = ctx(2) {
                t.push_str(&format!(" [{i}]"));
            }
            t
        }
        (true, 20) => match ctx(0) {
            Some(s) => match s {
                0 => "coldstart".into(),
                1 => "warmstart".into(),
                2 => "start-backup".into(),
                3 => "end-backup".into(),
                4 => "start-restore".into(),
                5 => "end-restore".into(),
                6 => "abort-restore".into(),
                7 => "activate-changes".into(),
                s => format!("state {s}"),
            },
            None => String::new(),
        },
        (true, 17) => match ctx(1) {
            Some(0) => "enable".into(),
            Some(1) => "disable".into(),
            Some(2) => "disable-initiation".into(),
            Some(s) => format!("choice {s}"),
            None => String::new(),
        },
        (true, _) => first_object().unwrap_or_default(),
        (false, 8) => match (ctx(0), ctx(1)) {
            (Some(lo), Some(hi)) => format!("device {lo}-{hi}"),
            _ => "all".into(),
        },
        (false, 0) => match i_am(data) {
            Some(i) => format!(
                "device {} max_apdu {} segmentation {} vendor {}",
                i.device, i.max_apdu, i.segmentation, i.vendor
            ),
            None => String::new(),
        },
        _ => String::new(),
    }
}

/// An I-Am's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IAm {
    /// Device object instance.
    pub device: u32,
    /// Maximum APDU length accepted.
    pub max_apdu: u32,
    /// Segmentation supported (0 both, 1 transmit, 2 receive, 3 none).
    pub segmentation: u32,
    /// Vendor identifier.
    pub vendor: u32,
}

/// Reads an I-Am's four application-tagged parameters.
pub fn i_am(data: &[u8]) -> Option<IAm> {
    let v = top_values(data, 4);
    match v.as_slice() {
        [
            (12, false, id),
            (2, false, apdu),
            (9, false, seg),
            (2, false, vendor),
        ] => Some(IAm {
            device: unsigned(id).filter(|_| id.len() == 4)? & 0x3f_ffff,
            max_apdu: unsigned(apdu)?,
            segmentation: unsigned(seg)?,
            vendor: unsigned(vendor)?,
        }),
        _ => None,
    }
}

/// The error class and code of an Error PDU: the first two enumerated values.
fn error_code(data: &[u8]) -> Option<u32> {
    let mut b = data;
    let mut found = Vec::new();
    while found.len() < 2 {
        let (t, rest) = tag(b)?;
        b = rest;
        if let Tag::Value(9, false, v) = t {
            found.push(unsigned(v)?);
        }
    }
    Some(found[0].saturating_mul(256).saturating_add(found[1]))
}

/// A confirmed request waiting for its reply.
#[derive(Debug)]
struct Pending {
    dir: Direction,
    invoke: u8,
    op: OtOperation,
}

/// Per-flow BACnet state: confirmed requests waiting for replies (bounded), counters.
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Replies that matched no request.
    pub unsolicited: u64,
    /// Network-layer messages.
    pub network_messages: u64,
    /// BVLC functions without an NPDU (results, table management, registration).
    pub bvlc_only: u64,
    /// Segment ACKs.
    pub segment_acks: u64,
    /// Segments after the first of segmented requests and complex ACKs.
    pub later_segments: u64,
    /// Datagrams that were not BACnet/IP, or whose APDU was too short.
    pub not_bacnet: u64,
}

impl Session {
    /// Takes one UDP payload travelling in `dir` at `ts` (nanoseconds). Returns false
    /// (and does nothing) when it is not a whole BVLL.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        let pdu = match Parser.parse(dir, payload) {
            Parsed::Pdu { pdu, consumed } if consumed == payload.len() => pdu,
            // The datagram's length is authoritative: a BVLC length that disagrees
            // with it is flagged, and the whole datagram is read.
            Parsed::Pdu { .. } | Parsed::Incomplete { .. } if payload.len() >= 4 => {
                let mut flags = Flags::default();
                flags.set(Flags::BAD_LENGTH);
                frame(payload[1], &payload[4..], flags)
            }
            _ => {
                self.not_bacnet += 1;
                return false;
            }
        };
        self.on_frame(dir, ts, &pdu, pdu.flags, ops, facts);
        true
    }

    fn on_frame(
        &mut self,
        dir: Direction,
        ts: i64,
        frame: &Frame<'_>,
        flags: Flags,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        let Some(npdu) = frame.npdu else {
            self.bvlc_only += 1;
            return;
        };
        if npdu.network_message.is_some() {
            self.network_messages += 1;
            return;
        }
        let Some(apdu) = parse_apdu(npdu.apdu) else {
            self.not_bacnet += 1;
            return;
        };
        if apdu.sequence.is_some_and(|n| n != 0) {
            self.later_segments += 1;
            return;
        }
        match apdu.kind {
            0 | 1 => {
                let confirmed = apdu.kind == 0;
                let service = apdu.service.unwrap_or(0);
                let function = if confirmed {
                    describe_confirmed(service)
                } else {
                    describe_unconfirmed(service)
                };
                let mut flags = flags;
                if function.name == "unknown" {
                    flags.set(Flags::UNKNOWN_FUNCTION);
                }
                let op = OtOperation {
                    protocol: PROTOCOL,
                    pdu: Some(if confirmed {
                        "confirmed"
                    } else {
                        "unconfirmed"
                    }),
                    function,
                    target: target(confirmed, service, apdu.data),
                    status: if confirmed {
                        Status::NoResponse
                    } else {
                        Status::Ok
                    },
                    flags,
                    ts,
                };
                if !confirmed {
                    if service == 0 {
                        identity(dir, apdu.data, facts);
                    }
                    ops.push(op);
                    return;
                }
                if self.outstanding.len() >= MAX_OUTSTANDING
                    && let Some(mut old) = self.outstanding.pop_front()
                {
                    old.op.flags.set(Flags::TOO_MANY_OUTSTANDING);
                    ops.push(old.op);
                }
                self.outstanding.push_back(Pending {
                    dir,
                    invoke: apdu.invoke.unwrap_or(0),
                    op,
                });
            }
            4 => self.segment_acks += 1,
            _ => {
                // Replies travel back to the requester; a client's abort travels with it.
                let request_dir = if apdu.kind == 7 && !apdu.from_server {
                    dir
                } else {
                    dir.reverse()
                };
                let invoke = apdu.invoke.unwrap_or(0);
                let Some(i) = self
                    .outstanding
                    .iter()
                    .position(|p| p.dir == request_dir && p.invoke == invoke)
                else {
                    self.unsolicited += 1;
                    return;
                };
                let Some(mut done) = self.outstanding.remove(i) else {
                    return;
                };
                let reason = u32::from(apdu.reason.unwrap_or(0));
                done.op.status = match apdu.kind {
                    5 => Status::Exception(error_code(apdu.data).unwrap_or(0)),
                    6 => Status::Exception(REJECT_BASE + reason),
                    7 => Status::Exception(ABORT_BASE + reason),
                    _ => Status::Ok,
                };
                done.op.flags.0 |= flags.0;
                ops.push(done.op);
            }
        }
    }

    /// The flow ended: requests still waiting are reported unanswered.
    pub fn finish(&mut self, ops: &mut Vec<OtOperation>) {
        ops.extend(
            self.outstanding
                .drain(..)
                .map(|p| p.op.unanswered(Flags::NO_RESPONSE)),
        );
    }
}

/// An I-Am's vendor and device, about its sender.
fn identity(dir: Direction, data: &[u8], facts: &mut Vec<IdentityFact>) {
    let Some(i) = i_am(data) else { return };
    let vendor = match vendor_name(i.vendor) {
        Some(name) => format!("{name} ({})", i.vendor),
        None => i.vendor.to_string(),
    };
    facts.push(IdentityFact {
        about: Subject::Side(dir),
        kind: IdentityKind::Vendor,
        value: vendor,
        protocol: PROTOCOL,
    });
    facts.push(IdentityFact {
        about: Subject::Side(dir),
        kind: IdentityKind::Hostname,
        value: format!("device {}", i.device),
        protocol: PROTOCOL,
    });
}

#[cfg(test)]
mod tests;
