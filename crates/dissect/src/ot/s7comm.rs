//! Siemens S7 communication (S7comm) and S7comm-plus recognition, over ISO-on-TCP.
//!
//! Both protocols share the framing (RFC 1006 on port 102):
//!
//! ```text
//! TPKT: version u8 (= 3) | reserved u8 (= 0) | length u16 (whole TPKT)
//! COTP: length indicator u8 (header bytes after it) | type u8 | ...
//!       DT (0xF0): TPDU number u8 (bit 7 = EOT), then user data
//!       CR (0xE0) / CC (0xD0): dst ref u16 | src ref u16 | class u8 | parameters
//!       (code u8, length u8, value; 0xC1 calling TSAP, 0xC2 called TSAP)
//! ```
//!
//! The user data of a DT is an S7comm PDU (protocol id 0x32) or an S7comm-plus PDU
//! (0x72):
//!
//! ```text
//! S7comm: 0x32 | ROSCTR u8 | redundancy id u16 (= 0) | PDU reference u16
//!         | parameter length u16 | data length u16 | [error class u8 | error code u8]
//!         | parameter | data                  (error bytes only in ack and ack-data)
//! S7comm-plus: 0x72 | version u8 | data length u16 | [integrity part, version 3]
//!         | opcode u8 | reserved u16 | function u16 | reserved u16 | sequence u16 | ...
//! ```
//!
//! **Requests** are what the PDU says it is, not the direction: an S7comm job (ROSCTR 1)
//! or a userdata PDU whose parameter says type 4 (request); an S7comm-plus opcode 0x31.
//! (During a download the PLC sends the *download block* jobs to the programming
//! device, so requests travel both ways.) A response (ack, ack-data, userdata type 8;
//! S7comm-plus 0x32) travels the other way and carries the request's PDU reference
//! (S7comm-plus: sequence number). Userdata pushes (type 0: alarms, cyclic data) and
//! S7comm-plus notifications (0x33) are counted, not logged as operations.
//!
//! **Content decides**: a DT whose complete user data starts with neither 0x32 nor 0x72
//! (MMS on port 102, for instance), or with 0x32 and a ROSCTR S7comm does not define,
//! or with 0x72 and a version S7comm-plus does not use (1, 2, 3, 0xFE), is not this
//! protocol. Connection frames (CR, CC, DR,
//! ...) are plain ISO transport and are accepted as such; they carry no operation.
//!
//! **Limits**: COTP fragments (DT without EOT) that carry bytes are counted and dropped,
//! not reassembled (the shared captures only hold empty ones, which S7 stacks send
//! before each PDU); userdata responses split over several PDUs (long SZL lists) give
//! identity facts from their first part only.
//!
//! `status`: an ack or ack-data's error class × 256 + error code; a userdata
//! response's parameter error code, else its data return code when not 0xFF (success).
//!
//! `function` codes: a job's function byte (`pdu` = `job`); for userdata, function
//! group × 256 + subfunction (`pdu` = `userdata`); for S7comm-plus, the 16-bit function
//! code. S7comm-plus categories: set-variable functions → write, get/explore → read,
//! create/delete object, sequences and the rest → other (object creation is how a
//! session opens; it is not plant state).

use std::collections::VecDeque;
use std::fmt::Write as _;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name for S7comm.
pub const PROTOCOL: &str = "s7comm";
/// `ot.jsonl`'s protocol name for S7comm-plus.
pub const PROTOCOL_PLUS: &str = "s7comm-plus";
/// The registered port (ISO-TSAP).
pub const PORT: u16 = 102;
/// Requests remembered per flow while waiting for their responses.
pub const MAX_OUTSTANDING: usize = 64;
/// The largest TPKT accepted. RFC 1006 allows 65 535 bytes; S7 stacks negotiate PDUs
/// of at most a few kilobytes, so a longer claim is taken as not this protocol.
pub const MAX_TPKT: usize = 16 * 1024;
/// Bytes of TSAP kept from a connection request.
const MAX_TSAP: usize = 32;

/// TPKT header (4) + the shortest COTP DT header (3).
const MIN_TPKT: usize = 7;

/// One TPKT and the COTP TPDU inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpdu<'a> {
    /// What the COTP TPDU is.
    pub kind: TpduKind<'a>,
    /// Violations seen.
    pub flags: Flags,
}

/// The COTP TPDU types this dissector tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TpduKind<'a> {
    /// Connection request (`confirm` false) or confirm (true), with the TSAPs.
    Connect {
        /// CC rather than CR.
        confirm: bool,
        /// Calling TSAP (parameter 0xC1), empty if absent.
        calling: &'a [u8],
        /// Called TSAP (parameter 0xC2), empty if absent.
        called: &'a [u8],
    },
    /// Data: user data with its end-of-TSDU mark and what it holds.
    Data {
        /// Last (or only) fragment of the user's PDU.
        eot: bool,
        /// The user data bytes.
        payload: &'a [u8],
        /// The S7comm or S7comm-plus PDU (complete DTs that start with one).
        message: Option<Message<'a>>,
    },
    /// Another COTP type (disconnect, expedited data, ...), by its type code.
    Other(u8),
}

/// The PDU inside a complete COTP DT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    /// S7comm (protocol id 0x32).
    S7(S7Pdu<'a>),
    /// S7comm-plus (protocol id 0x72).
    Plus(PlusPdu),
}

/// An S7comm PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct S7Pdu<'a> {
    /// Message type: 1 job, 2 ack, 3 ack-data, 7 userdata.
    pub rosctr: u8,
    /// PDU reference (a response carries its request's).
    pub pdu_ref: u16,
    /// Error class and code (ack and ack-data only).
    pub error: Option<(u8, u8)>,
    /// Parameter bytes.
    pub param: &'a [u8],
    /// Data bytes.
    pub data: &'a [u8],
}

/// An S7comm-plus PDU header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlusPdu {
    /// Protocol version (1, 2, 3; 0xFE keep-alive).
    pub version: u8,
    /// 0x31 request, 0x32 response, 0x33 notification; `None` when the PDU has none
    /// (keep-alive) or is too short.
    pub opcode: Option<u8>,
    /// Function code (requests and responses).
    pub function: u16,
    /// Sequence number (a response carries its request's).
    pub sequence: u16,
}

/// ROSCTR values.
const JOB: u8 = 1;
const ACK: u8 = 2;
const ACK_DATA: u8 = 3;
const USERDATA: u8 = 7;

/// Parses TPKT + COTP, and the S7comm or S7comm-plus PDU inside complete data TPDUs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Tpdu<'a>;
    const MAX_PDU: usize = MAX_TPKT;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Tpdu<'a>> {
        // TPKT version 3 and reserved 0 are what make this ISO-on-TCP at all.
        if input.first().is_some_and(|&v| v != 3) || input.get(1).is_some_and(|&r| r != 0) {
            return Parsed::NotThisProtocol;
        }
        if input.len() < 4 {
            return Parsed::Incomplete { needed: MIN_TPKT };
        }
        let length = usize::from(u16::from_be_bytes([input[2], input[3]]));
        if !(MIN_TPKT..=MAX_TPKT).contains(&length) {
            return Parsed::NotThisProtocol;
        }
        if input.len() < length {
            return Parsed::Incomplete { needed: length };
        }
        let tpkt = &input[..length];
        // COTP: the length indicator counts the header bytes after itself.
        let li = usize::from(tpkt[4]);
        let header_end = 5 + li; // at most 260: no overflow
        if li < 2 || header_end > length {
            return Parsed::NotThisProtocol;
        }
        let header = &tpkt[5..header_end];
        let mut flags = Flags::default();
        let kind = match header[0] & 0xf0 {
            0xf0 => {
                if li != 2 {
                    flags.set(Flags::BAD_LENGTH);
                }
                let eot = header[1] & 0x80 != 0;
                let payload = &tpkt[header_end..];
                let message = match (payload.first(), eot) {
                    (None, _) => None,
                    (Some(0x32), true) => match parse_s7(payload, &mut flags) {
                        Some(m) => Some(Message::S7(m)),
                        None => return Parsed::NotThisProtocol,
                    },
                    (Some(0x72), true) => match parse_plus(payload, &mut flags) {
                        Some(m) => Some(Message::Plus(m)),
                        None => return Parsed::NotThisProtocol,
                    },
                    (Some(_), true) => return Parsed::NotThisProtocol,
                    (Some(_), false) => None,
                };
                TpduKind::Data {
                    eot,
                    payload,
                    message,
                }
            }
            code @ (0xe0 | 0xd0) => {
                let (calling, called) = tsaps(header, &mut flags);
                TpduKind::Connect {
                    confirm: code == 0xd0,
                    calling,
                    called,
                }
            }
            // DR, DC, ED, AK, EA, RJ, ER.
            code @ (0x80 | 0xc0 | 0x10 | 0x60 | 0x20 | 0x50 | 0x70) => TpduKind::Other(code),
            _ => return Parsed::NotThisProtocol,
        };
        Parsed::Pdu {
            pdu: Tpdu { kind, flags },
            consumed: length,
        }
    }
}

/// The calling and called TSAPs of a CR or CC header (type, dst ref, src ref, class,
/// then parameters).
fn tsaps<'a>(header: &'a [u8], flags: &mut Flags) -> (&'a [u8], &'a [u8]) {
    let (mut calling, mut called): (&[u8], &[u8]) = (&[], &[]);
    let Some(mut rest) = header.get(6..) else {
        flags.set(Flags::BAD_LENGTH);
        return (calling, called);
    };
    while let [code, len, tail @ ..] = rest {
        let Some(value) = tail.get(..usize::from(*len)) else {
            flags.set(Flags::BAD_LENGTH);
            break;
        };
        match code {
            0xc1 => calling = value,
            0xc2 => called = value,
            _ => {}
        }
        rest = &tail[value.len()..];
    }
    (calling, called)
}

/// Parses an S7comm PDU; `None` when the ROSCTR is not one S7comm defines or the header
/// is cut short (then it is not taken for S7comm at all).
fn parse_s7<'a>(p: &'a [u8], flags: &mut Flags) -> Option<S7Pdu<'a>> {
    let rosctr = *p.get(1)?;
    let header_len = match rosctr {
        JOB | USERDATA => 10,
        ACK | ACK_DATA => 12,
        _ => return None,
    };
    let header = p.get(..header_len)?;
    let u16_at = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    if u16_at(2) != 0 {
        flags.set(Flags::RESERVED_SET);
    }
    let (param_len, data_len) = (usize::from(u16_at(6)), usize::from(u16_at(8)));
    let body = &p[header_len..];
    if param_len + data_len != body.len() {
        flags.set(Flags::BAD_LENGTH);
    }
    let param = &body[..param_len.min(body.len())];
    let rest = &body[param.len()..];
    let data = &rest[..data_len.min(rest.len())];
    Some(S7Pdu {
        rosctr,
        pdu_ref: u16_at(4),
        error: (header_len == 12).then(|| (header[10], header[11])),
        param,
        data,
    })
}

/// Parses an S7comm-plus header (the payload starts with 0x72); `None` when the
/// version is not one S7comm-plus uses (then it is not taken for S7comm-plus).
fn parse_plus(p: &[u8], flags: &mut Flags) -> Option<PlusPdu> {
    let version = *p.get(1)?;
    if !matches!(version, 1..=3 | 0xfe) {
        return None;
    }
    // Version 3 adds an integrity part (its length, then a digest) before the opcode.
    let start = match (version, p.get(4)) {
        (3, Some(&digest)) => 5 + usize::from(digest),
        _ => 4,
    };
    let field = |i: usize| {
        p.get(start + i..start + i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let opcode = if version == 0xfe {
        None
    } else {
        p.get(start).copied()
    };
    if opcode.is_some() && (field(3).is_none() || field(7).is_none()) {
        flags.set(Flags::BAD_LENGTH);
    }
    if opcode.is_some_and(|o| !(0x31..=0x33).contains(&o)) {
        flags.set(Flags::UNKNOWN_FUNCTION);
    }
    Some(PlusPdu {
        version,
        opcode,
        function: field(3).unwrap_or(0),
        sequence: field(7).unwrap_or(0),
    })
}

/// What the userdata parameter says: its type (0 push, 4 request, 8 response),
/// function group, subfunction and error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct UserdataParam {
    kind: u8,
    group: u8,
    subfunction: u8,
    error: u16,
}

fn userdata_param(param: &[u8]) -> Option<UserdataParam> {
    // head 00 01 12 | length | method | type<<4 | group | subfunction | sequence
    // | (length 8: data unit ref | last data unit | error code u16)
    let [
        _,
        _,
        _,
        len,
        _method,
        type_group,
        subfunction,
        _seq,
        rest @ ..,
    ] = param
    else {
        return None;
    };
    let error = match rest {
        [_, _, hi, lo, ..] if *len >= 8 => u16::from_be_bytes([*hi, *lo]),
        _ => 0,
    };
    Some(UserdataParam {
        kind: type_group >> 4,
        group: type_group & 0x0f,
        subfunction: *subfunction,
        error,
    })
}

/// The name and category of a job function code.
pub fn describe_job(code: u8) -> Function {
    use Category::*;
    let (name, category) = tables::s7comm::job(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// The name and category of a userdata function (group, subfunction); `code` is
/// group × 256 + subfunction.
pub fn describe_userdata(group: u8, subfunction: u8) -> Function {
    use Category::*;
    let (name, category) =
        tables::s7comm::userdata((group, subfunction)).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(group) * 256 + u32::from(subfunction),
        name,
        category,
    }
}

/// The name and category of an S7comm-plus function code.
pub fn describe_plus(code: u16) -> Function {
    use Category::*;
    let (name, category) = tables::s7comm::plus(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// A PI service (job 0x28) or PLC stop (0x29) service name, e.g. `P_PROGRAM`, `_INSE`.
fn pi_service_name(param: &[u8]) -> Option<&[u8]> {
    match param.first()? {
        // 0x28 | 7 unknown bytes | parameter block length u16 | block | name length | name
        0x28 => {
            let block_len = usize::from(u16::from_be_bytes([*param.get(8)?, *param.get(9)?]));
            let at = 10 + block_len; // block_len <= 65 535: no overflow
            let len = usize::from(*param.get(at)?);
            param.get(at + 1..at + 1 + len)
        }
        // 0x29 | 5 unknown bytes | name length | name
        0x29 => {
            let len = usize::from(*param.get(6)?);
            param.get(7..7 + len)
        }
        _ => None,
    }
}

/// The parameter block of a PI service: block names such as `0800001P`.
fn pi_blocks(param: &[u8]) -> Vec<String> {
    let Some(block_len) = param
        .get(8..10)
        .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
    else {
        return Vec::new();
    };
    let Some(block) = param.get(10..10 + block_len) else {
        return Vec::new();
    };
    // count u8 | reserved u8 | count × 8-character block names
    let [count, _, names @ ..] = block else {
        return Vec::new();
    };
    names
        .chunks_exact(8)
        .take(usize::from(*count).min(8))
        .filter_map(block_name)
        .collect()
}

/// `OB`, `DB`, ... from a block type's two hex characters.
fn block_type(code: &[u8]) -> Option<&'static str> {
    Some(match code {
        b"08" => "OB",
        b"0A" => "DB",
        b"0B" => "SDB",
        b"0C" => "FC",
        b"0D" => "SFC",
        b"0E" => "FB",
        b"0F" => "SFB",
        _ => return None,
    })
}

/// `OB1`, `DB10`, ... from a block name in S7's file form: type (2 hex characters),
/// number (5 digits), file system (1 character): `0800001P`.
fn block_name(file: &[u8]) -> Option<String> {
    let kind = block_type(file.get(..2)?)?;
    let number = std::str::from_utf8(file.get(2..7)?)
        .ok()?
        .parse::<u32>()
        .ok()?;
    Some(format!("{kind}{number}"))
}

/// The function of a job, refined for PI services by the service's name.
fn classify_job(pdu: &S7Pdu<'_>) -> Function {
    let code = pdu.param.first().copied().unwrap_or(0);
    let mut f = describe_job(code);
    if code == 0x28 {
        let (name, category) = match pi_service_name(pdu.param) {
            Some(b"P_PROGRAM") => ("plc_start", Category::Control),
            Some(b"_INSE") => ("insert_block", Category::Program),
            Some(b"_DELE") => ("delete_block", Category::Program),
            Some(b"_GARB") => ("compress_memory", Category::Program),
            Some(b"_MODU") => ("copy_ram_to_rom", Category::Program),
            _ => ("pi_service", Category::Control),
        };
        f.name = name;
        f.category = category;
    }
    f
}

/// Area names of read/write var items (S7ANY addressing).
fn area(code: u8) -> Option<&'static str> {
    Some(match code {
        0x80 => "P",
        0x81 => "I",
        0x82 => "Q",
        0x83 => "M",
        0x84 => "DB",
        0x85 => "DI",
        0x86 => "L",
        0x87 => "V",
        0x1c => "C",
        0x1d => "T",
        _ => return None,
    })
}

/// One read/write var item in S7 notation: `DB1.DBX0.0 x1`, `MW10 x2`, `T3 x1`.
fn var_item(item: &[u8]) -> Option<String> {
    // 0x12 | length | syntax id | transport size | count u16 | DB u16 | area | address u24
    let [
        0x12,
        _,
        syntax,
        size,
        c0,
        c1,
        d0,
        d1,
        area_code,
        a0,
        a1,
        a2,
        ..,
    ] = *item
    else {
        return None;
    };
    if syntax != 0x10 {
        return Some(format!("syntax 0x{syntax:02x}"));
    }
    let count = u16::from_be_bytes([c0, c1]);
    let db = u16::from_be_bytes([d0, d1]);
    let address = u32::from_be_bytes([0, a0, a1, a2]);
    let (byte, bit) = (address >> 3, address & 7);
    let Some(area_name) = area(area_code) else {
        return Some(format!("area 0x{area_code:02x} {byte}.{bit} x{count}"));
    };
    let width = match size {
        1 => "X",
        2 | 3 => "B",
        4 | 5 => "W",
        6..=8 => "D",
        _ => "B",
    };
    Some(match area_name {
        "DB" | "DI" => {
            if width == "X" {
                format!("{area_name}{db}.{area_name}X{byte}.{bit} x{count}")
            } else {
                format!("{area_name}{db}.{area_name}{width}{byte} x{count}")
            }
        }
        "C" | "T" => format!("{area_name}{address} x{count}"),
        _ if width == "X" => format!("{area_name}{byte}.{bit} x{count}"),
        _ => format!("{area_name}{width}{byte} x{count}"),
    })
}

/// Items listed in a target before the rest are summarised.
const MAX_ITEMS_SHOWN: usize = 8;

/// What a job addresses.
fn job_target(pdu: &S7Pdu<'_>) -> String {
    let p = pdu.param;
    match p.first() {
        Some(0x04 | 0x05) => {
            let count = usize::from(p.get(1).copied().unwrap_or(0));
            let mut out = String::new();
            let mut rest = p.get(2..).unwrap_or_default();
            let mut shown = 0;
            while let [_, len, ..] = rest {
                let n = 2 + usize::from(*len);
                let Some(item) = rest.get(..n) else { break };
                rest = &rest[n..];
                if shown == MAX_ITEMS_SHOWN {
                    break;
                }
                if let Some(text) = var_item(item) {
                    if shown > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&text);
                    shown += 1;
                }
            }
            if count > shown {
                let _ = write!(
                    out,
                    "{}(+{} items)",
                    if shown > 0 { " " } else { "" },
                    count - shown
                );
            }
            out
        }
        // func | status | unknown u16 | upload id u32 | file name length | file name
        Some(0x1a..=0x1d) => {
            let name = p
                .get(8)
                .and_then(|&len| p.get(9..9 + usize::from(len)))
                .and_then(|f| f.get(1..))
                .and_then(block_name);
            name.unwrap_or_default()
        }
        // func | reserved | max AmQ calling u16 | max AmQ called u16 | PDU length u16
        Some(0xf0) => match p.get(6..8) {
            Some(&[hi, lo]) => format!("pdu_size {}", u16::from_be_bytes([hi, lo])),
            _ => String::new(),
        },
        Some(0x28 | 0x29) => {
            let mut out = pi_service_name(p)
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .unwrap_or_default();
            if p[0] == 0x28 {
                for b in pi_blocks(p) {
                    out.push(' ');
                    out.push_str(&b);
                }
            }
            out
        }
        _ => String::new(),
    }
}

/// What a userdata request addresses, for block functions: the block type listed
/// (`OB`) or the block asked about (`OB1`).
fn userdata_target(param: UserdataParam, data: &[u8]) -> String {
    // return code | transport size | length u16 | value
    let value = data.get(4..).unwrap_or_default();
    match (param.group, param.subfunction) {
        (3, 2) => value
            .get(..2)
            .and_then(block_type)
            .unwrap_or_default()
            .to_string(),
        (3, 3) => block_name(value).unwrap_or_default(),
        _ => String::new(),
    }
}

/// The SZL id and index of a read-SZL request (`None` for a follow-up request).
fn szl_request(data: &[u8]) -> Option<(u16, u16)> {
    // return code 0xFF | transport size | length u16 | SZL id u16 | index u16
    let [0xff, _, _, _, i0, i1, x0, x1, ..] = *data else {
        return None;
    };
    Some((u16::from_be_bytes([i0, i1]), u16::from_be_bytes([x0, x1])))
}

/// SZL lists that identify a module: module identification (0x?011) and component
/// identification (0x?01C).
fn is_identity_szl(id: u16) -> bool {
    matches!(id & 0x00ff, 0x11 | 0x1c)
}

/// Reads an SZL response's records (module and component identification) into facts.
fn szl_identity(data: &[u8], about: Direction, facts: &mut Vec<IdentityFact>) {
    // return code 0xFF | transport size | length u16 | SZL id | index | record length
    // | record count | records
    let [0xff, _, _, _, i0, i1, _, _, l0, l1, _, _, records @ ..] = data else {
        return;
    };
    let id = u16::from_be_bytes([*i0, *i1]) & 0x00ff;
    let record_len = usize::from(u16::from_be_bytes([*l0, *l1]));
    if record_len < 2 {
        return;
    }
    let text = |b: &[u8]| {
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        String::from_utf8_lossy(&b[..end]).trim().to_string()
    };
    for record in records.chunks_exact(record_len) {
        let index = u16::from_be_bytes([record[0], record[1]]);
        let fact = match (id, index) {
            // index | MLFB (20) | module type u16 | version u16 | version u16
            (0x11, 1) => record.get(2..22).map(|m| (IdentityKind::Model, text(m))),
            (0x11, 7) => match record.get(24..28) {
                Some(&[b'V', major, minor, patch]) => {
                    Some((IdentityKind::Firmware, format!("V{major}.{minor}.{patch}")))
                }
                _ => None,
            },
            // index | name (32 for 1, 2, 3; 24 then reserved for 5, 7)
            (0x1c, 1 | 2) => record.get(2..26).map(|n| (IdentityKind::Hostname, text(n))),
            (0x1c, 5) => record.get(2..26).map(|n| (IdentityKind::Serial, text(n))),
            (0x1c, 7) => record.get(2..26).map(|n| (IdentityKind::Product, text(n))),
            _ => None,
        };
        if let Some((kind, value)) = fact
            && !value.is_empty()
        {
            facts.push(IdentityFact {
                about: Subject::Side(about),
                kind,
                value,
                protocol: PROTOCOL,
            });
        }
    }
}

/// How requests are matched with responses: the request's direction, the protocol and
/// its reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    dir: Direction,
    plus: bool,
    reference: u16,
}

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    key: Key,
    /// The SZL list the request asked for (identity lists only).
    szl: Option<u16>,
    op: OtOperation,
}

/// Per-flow S7 state: the connection's TSAPs and requests waiting for responses
/// (bounded).
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Calling TSAP from the connection request (at most 32 bytes kept).
    pub calling_tsap: Vec<u8>,
    /// Called TSAP from the connection request (at most 32 bytes kept).
    pub called_tsap: Vec<u8>,
    /// Responses that matched no request.
    pub unsolicited: u64,
    /// Userdata pushes and S7comm-plus notifications (not operations).
    pub pushes: u64,
    /// COTP fragments with bytes in them, dropped (not reassembled).
    pub fragments_dropped: u64,
    /// S7comm PDUs seen. ISO transport (TPKT + COTP) also carries MMS on port 102, so
    /// a flow is S7comm once this is non-zero, not when its connection frames parse.
    pub s7_pdus: u64,
    /// S7comm-plus PDUs seen.
    pub plus_pdus: u64,
}

impl Session {
    /// Takes one TPDU travelling in `dir` at `ts` (nanoseconds); finished operations go
    /// to `ops`, device identity to `facts`.
    pub fn on_tpdu(
        &mut self,
        dir: Direction,
        ts: i64,
        tpdu: &Tpdu<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        match tpdu.kind {
            TpduKind::Connect {
                confirm: false,
                calling,
                called,
            } => {
                self.calling_tsap = calling[..calling.len().min(MAX_TSAP)].to_vec();
                self.called_tsap = called[..called.len().min(MAX_TSAP)].to_vec();
            }
            TpduKind::Data {
                eot: false,
                payload,
                ..
            } if !payload.is_empty() => self.fragments_dropped += 1,
            TpduKind::Data {
                message: Some(Message::S7(pdu)),
                ..
            } => {
                self.s7_pdus += 1;
                self.on_s7(dir, ts, &pdu, tpdu.flags, ops, facts);
            }
            TpduKind::Data {
                message: Some(Message::Plus(pdu)),
                ..
            } => {
                self.plus_pdus += 1;
                self.on_plus(dir, ts, &pdu, tpdu.flags, ops);
            }
            _ => {}
        }
    }

    fn on_s7(
        &mut self,
        dir: Direction,
        ts: i64,
        pdu: &S7Pdu<'_>,
        flags: Flags,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        let key = Key {
            dir,
            plus: false,
            reference: pdu.pdu_ref,
        };
        match pdu.rosctr {
            JOB => {
                let function = classify_job(pdu);
                let mut flags = flags;
                if function.name == "unknown" {
                    flags.set(Flags::UNKNOWN_FUNCTION);
                }
                let op = operation(PROTOCOL, Some("job"), function, job_target(pdu), flags, ts);
                self.request(key, None, op, ops);
            }
            ACK | ACK_DATA => {
                let status = match pdu.error {
                    Some((0, 0)) | None => Status::Ok,
                    Some((class, code)) => {
                        Status::Exception(u32::from(class) << 8 | u32::from(code))
                    }
                };
                self.response(key, status, flags, ops);
            }
            USERDATA => {
                let Some(param) = userdata_param(pdu.param) else {
                    let mut flags = flags;
                    flags.set(Flags::BAD_LENGTH);
                    let function = describe_userdata(0, 0);
                    let op = operation(
                        PROTOCOL,
                        Some("userdata"),
                        function,
                        String::new(),
                        flags,
                        ts,
                    );
                    self.request(key, None, op, ops);
                    return;
                };
                match param.kind {
                    4 => {
                        let mut function = describe_userdata(param.group, param.subfunction);
                        let mut flags = flags;
                        if function.name == "unknown" {
                            flags.set(Flags::UNKNOWN_FUNCTION);
                        }
                        let mut target = userdata_target(param, pdu.data);
                        let mut szl = None;
                        if (param.group, param.subfunction) == (4, 1)
                            && let Some((id, index)) = szl_request(pdu.data)
                        {
                            target = format!("SZL 0x{id:04x} index 0x{index:04x}");
                            if is_identity_szl(id) {
                                function.category = Category::Identify;
                                szl = Some(id);
                            }
                        }
                        let op = operation(PROTOCOL, Some("userdata"), function, target, flags, ts);
                        self.request(key, szl, op, ops);
                    }
                    8 => {
                        let status = match (param.error, pdu.data.first()) {
                            (0, None | Some(0xff)) => Status::Ok,
                            (0, Some(&code)) => Status::Exception(u32::from(code)),
                            (code, _) => Status::Exception(u32::from(code)),
                        };
                        // Only responses to identity SZL requests carry facts.
                        if self.response(key, status, flags, ops).is_some() && status == Status::Ok
                        {
                            szl_identity(pdu.data, dir, facts);
                        }
                    }
                    _ => self.pushes += 1,
                }
            }
            _ => {}
        }
    }

    fn on_plus(
        &mut self,
        dir: Direction,
        ts: i64,
        pdu: &PlusPdu,
        flags: Flags,
        ops: &mut Vec<OtOperation>,
    ) {
        let key = Key {
            dir,
            plus: true,
            reference: pdu.sequence,
        };
        match pdu.opcode {
            Some(0x31) => {
                let function = describe_plus(pdu.function);
                let mut flags = flags;
                if function.name == "unknown" {
                    flags.set(Flags::UNKNOWN_FUNCTION);
                }
                // Item addresses are not decoded: no target.
                let op = operation(PROTOCOL_PLUS, None, function, String::new(), flags, ts);
                self.request(key, None, op, ops);
            }
            Some(0x32) => {
                self.response(key, Status::Ok, flags, ops);
            }
            _ => self.pushes += 1,
        }
    }

    /// Remembers a request (dropping the oldest when too many wait).
    fn request(&mut self, key: Key, szl: Option<u16>, op: OtOperation, ops: &mut Vec<OtOperation>) {
        if self.outstanding.len() >= MAX_OUTSTANDING
            && let Some(mut old) = self.outstanding.pop_front()
        {
            old.op.flags.set(Flags::TOO_MANY_OUTSTANDING);
            ops.push(old.op);
        }
        self.outstanding.push_back(Pending { key, szl, op });
    }

    /// Completes the request a response travelling in `key.dir` answers; returns the
    /// SZL list it asked for, if any.
    fn response(
        &mut self,
        key: Key,
        status: Status,
        flags: Flags,
        ops: &mut Vec<OtOperation>,
    ) -> Option<u16> {
        let wanted = Key {
            dir: key.dir.reverse(),
            ..key
        };
        let Some(i) = self.outstanding.iter().position(|p| p.key == wanted) else {
            self.unsolicited += 1;
            return None;
        };
        let mut done = self.outstanding.remove(i)?;
        done.op.status = status;
        done.op.flags.0 |= flags.0;
        ops.push(done.op);
        done.szl
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

/// A request's record, waiting for its status.
fn operation(
    protocol: &'static str,
    pdu: Option<&'static str>,
    function: Function,
    target: String,
    flags: Flags,
    ts: i64,
) -> OtOperation {
    OtOperation {
        protocol,
        pdu,
        function,
        target,
        status: Status::NoResponse,
        flags,
        ts,
    }
}

#[cfg(test)]
mod tests;
