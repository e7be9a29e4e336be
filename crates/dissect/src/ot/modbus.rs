//! Modbus/TCP (MBAP header + Modbus PDU), the reference implementation of the
//! dissector contract.
//!
//! Wire format (Modbus Messaging on TCP/IP Implementation Guide V1.0b, §3.1.3):
//!
//! ```text
//! transaction id u16 | protocol id u16 (= 0) | length u16 (unit id + PDU) | unit id u8 | function u8 | data
//! ```
//!
//! A response echoes the request's transaction id; an exception response sets the
//! function code's high bit and carries one exception code. Requests travel from the
//! flow's originator (the client) to its responder (port 502).

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "modbus";
/// The registered port.
pub const PORT: u16 = 502;
/// Requests remembered per flow while waiting for their responses.
pub const MAX_OUTSTANDING: usize = 64;

/// MBAP header (7 bytes) plus the largest PDU (253 bytes).
const MAX_ADU: usize = 260;

/// One Modbus/TCP application data unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adu<'a> {
    /// Transaction identifier.
    pub transaction: u16,
    /// Unit identifier (the serial slave behind a gateway; often 0, 1 or 255).
    pub unit: u8,
    /// Function code without the exception bit.
    pub function: u8,
    /// The exception code, when this is an exception response.
    pub exception: Option<u8>,
    /// The bytes after the function code.
    pub data: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Parses Modbus/TCP ADUs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Adu<'a>;
    const MAX_PDU: usize = MAX_ADU;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Adu<'a>> {
        // The protocol identifier is the strongest sign this is Modbus at all.
        if input.len() >= 4 && (input[2], input[3]) != (0, 0) {
            return Parsed::NotThisProtocol;
        }
        if input.len() < 8 {
            return Parsed::Incomplete { needed: 8 };
        }
        let length = usize::from(u16::from_be_bytes([input[4], input[5]]));
        // Unit id + function code at least; a PDU is at most 253 bytes.
        if !(2..=254).contains(&length) {
            return Parsed::NotThisProtocol;
        }
        let total = 6 + length;
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        let raw_function = input[7];
        if raw_function == 0 {
            return Parsed::NotThisProtocol;
        }
        let mut flags = Flags::default();
        let function = raw_function & 0x7f;
        let data = &input[8..total];
        let exception = if raw_function & 0x80 != 0 {
            if data.len() != 1 {
                flags.set(Flags::BAD_LENGTH);
            }
            Some(data.first().copied().unwrap_or(0))
        } else {
            None
        };
        if describe(function).name == "unknown" {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        let adu = Adu {
            transaction: u16::from_be_bytes([input[0], input[1]]),
            unit: input[6],
            function,
            exception,
            data,
            flags,
        };
        Parsed::Pdu {
            pdu: adu,
            consumed: total,
        }
    }
}

/// The name and category of a public function code (Modbus Application Protocol
/// Specification V1.1b3, §6).
pub fn describe(code: u8) -> Function {
    use Category::*;
    let (name, category) = tables::modbus::function(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// The function, refined where a sub-code changes its meaning (the `subfunction`
/// table): diagnostics sub-function 1 restarts the device (control); MEI type 13 is
/// CANopen (other).
fn classify(adu: &Adu<'_>) -> Function {
    let mut f = describe(adu.function);
    let sub = match (adu.function, adu.data) {
        (8, [hi, lo, ..]) => u16::from_be_bytes([*hi, *lo]),
        (43, [mei, ..]) => u16::from(*mei),
        _ => return f,
    };
    if let Some((name, category)) = tables::modbus::subfunction((adu.function, sub)) {
        f.name = name;
        f.category = category;
    }
    f
}

/// What a request addresses, in Modbus terms.
fn target(adu: &Adu<'_>) -> String {
    let u16_at = |i: usize| {
        adu.data
            .get(i..i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let unit = adu.unit;
    let table = match adu.function {
        1 | 5 | 15 => "coils",
        2 => "discrete_inputs",
        3 | 6 | 16 | 22 | 23 | 24 => "holding_registers",
        4 => "input_registers",
        _ => "",
    };
    match (adu.function, u16_at(0), u16_at(2)) {
        (1..=4 | 15 | 16, Some(start), Some(qty)) => format!("unit {unit} {table} {start}+{qty}"),
        (5 | 6 | 22 | 24, Some(addr), _) => format!("unit {unit} {table} {addr}"),
        (23, Some(rd), Some(rq)) => match (u16_at(4), u16_at(6)) {
            (Some(wr), Some(wq)) => {
                format!("unit {unit} read {table} {rd}+{rq} write {table} {wr}+{wq}")
            }
            _ => format!("unit {unit} read {table} {rd}+{rq}"),
        },
        (8, Some(sub), _) => format!("unit {unit} subfunction {sub}"),
        (43, ..) => match adu.data {
            [mei, code, object, ..] => {
                format!("unit {unit} mei {mei} read_code {code} object {object}")
            }
            [mei, ..] => format!("unit {unit} mei {mei}"),
            [] => format!("unit {unit}"),
        },
        _ => format!("unit {unit}"),
    }
}

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    transaction: u16,
    op: OtOperation,
}

/// Per-flow Modbus state: requests waiting for responses (bounded).
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Responses that matched no request.
    pub unsolicited: u64,
}

impl Session {
    /// Takes one ADU travelling in `dir` at `ts` (nanoseconds); finished operations go
    /// to `ops`, device identity to `facts`.
    pub fn on_adu(
        &mut self,
        dir: Direction,
        ts: i64,
        adu: &Adu<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        match dir {
            Direction::Orig => {
                if self.outstanding.len() >= MAX_OUTSTANDING
                    && let Some(old) = self.outstanding.pop_front()
                {
                    ops.push(old.op.unanswered(Flags::TOO_MANY_OUTSTANDING));
                }
                let op = OtOperation {
                    protocol: PROTOCOL,
                    pdu: None,
                    function: classify(adu),
                    target: target(adu),
                    status: Status::NoResponse,
                    flags: adu.flags,
                    ts,
                };
                self.outstanding.push_back(Pending {
                    transaction: adu.transaction,
                    op,
                });
            }
            Direction::Resp => {
                let Some(i) = self
                    .outstanding
                    .iter()
                    .position(|p| p.transaction == adu.transaction)
                else {
                    self.unsolicited += 1;
                    return;
                };
                let Some(mut done) = self.outstanding.remove(i) else {
                    return;
                };
                done.op.status = match adu.exception {
                    Some(code) => Status::Exception(u32::from(code)),
                    None => Status::Ok,
                };
                done.op.flags.0 |= adu.flags.0;
                if adu.function == 43 && adu.exception.is_none() {
                    device_identification(adu.data, facts);
                }
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

/// Reads a Read Device Identification response (MEI type 14) into identity facts.
fn device_identification(data: &[u8], facts: &mut Vec<IdentityFact>) {
    // mei(14) read_code conformity more_follows next_object count, then objects.
    let [14, _read_code, _conformity, _more, _next, count, rest @ ..] = data else {
        return;
    };
    let mut rest = rest;
    for _ in 0..*count {
        let [id, len, tail @ ..] = rest else { return };
        let Some(value) = tail.get(..usize::from(*len)) else {
            return;
        };
        rest = &tail[usize::from(*len)..];
        let kind = match id {
            0 => IdentityKind::Vendor,
            1 => IdentityKind::Product,
            2 => IdentityKind::Firmware,
            4 => IdentityKind::Product,
            5 => IdentityKind::Model,
            _ => continue,
        };
        let value = String::from_utf8_lossy(value).trim().to_string();
        if !value.is_empty() {
            facts.push(IdentityFact {
                about: Subject::Side(Direction::Resp),
                kind,
                value,
                protocol: PROTOCOL,
            });
        }
    }
}

#[cfg(test)]
mod tests;
