//! IEC 60870-5-104 (telecontrol over TCP port 2404): APCI frames and their ASDUs.
//!
//! Wire format (IEC 60870-5-104 §5, IEC 60870-5-101 §7):
//!
//! ```text
//! APCI: start 0x68 | length u8 (4..=253, control field + ASDU) | control field 4 bytes
//!   I-format: send seq u15 (bit 0 of byte 1 clear) | receive seq u15
//!   S-format: 0x01 0x00 | receive seq u15
//!   U-format: 0b__xxxx11 (STARTDT/STOPDT/TESTFR act/con, one bit) 0 0 0
//! ASDU (I-format only): type id u8 | SQ(1 bit) + count(7) | cause u8 (T, P/N, cause 6 bits)
//!   | originator address u8 | common address u16 LE | objects: IOA u24 LE + element
//! ```
//!
//! [`Session`] turns ASDUs into [`OtOperation`]s. The *command direction* is towards
//! the server (port 2404, the controlled station); callers orient the flow so that
//! [`Direction::Orig`] is that direction.
//!
//! - An **operation** is every ASDU in the command direction whose type is a
//!   control-direction type (45..=69 commands, 100..=109 system commands, 110..=119
//!   parameters, 120..=127 file transfer; undefined types above 44 too, flagged
//!   `unknown_function`), whatever its cause (activation, deactivation, request).
//!   `function` is the type id (`pdu` is empty: type ids do not overlap).
//! - A **confirmation** (monitor direction, same type id, common address and first
//!   IOA) completes the oldest matching outstanding operation: `exception:<cause>`
//!   when its P/N bit is set or its cause is 44..=47 (unknown type, cause, common
//!   address, IOA), with the cause of transmission (6 bits) as the code; `ok`
//!   otherwise. A positive activation confirmation completes the operation; an
//!   activation termination (10) completes one that had no confirmation.
//! - **Monitor ASDUs** (types 1..=44 and 70) are periodic or spontaneous reports, not
//!   requests: they are counted per type id in [`Session::reports`], not logged. So are
//!   ASDUs of monitor types sent in the command direction, in [`Session::misdirected`].
//! - **U-frames and S-frames** are link housekeeping, counted in [`Session::u_frames`]
//!   and [`Session::s_frames`], not logged.
//!
//! The target is the common address and the first object's address: `ca 1 ioa 4001`,
//! with `objects N` appended when the ASDU carries more than one.

use std::collections::{BTreeMap, VecDeque};

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, OtOperation, Status};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "iec104";
/// The registered port.
pub const PORT: u16 = 2404;
/// Operations remembered per flow while waiting for their confirmations.
pub const MAX_OUTSTANDING: usize = 64;

/// Start byte, length byte and the largest APDU length (253).
const MAX_APDU: usize = 255;
/// Start octet of every APCI.
const START: u8 = 0x68;

/// The U-format functions (control field's first octet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UFunction {
    /// STARTDT act (0x07).
    StartDtAct,
    /// STARTDT con (0x0B).
    StartDtCon,
    /// STOPDT act (0x13).
    StopDtAct,
    /// STOPDT con (0x23).
    StopDtCon,
    /// TESTFR act (0x43).
    TestFrAct,
    /// TESTFR con (0x83).
    TestFrCon,
    /// Any other bit pattern (flagged `unknown_function`).
    Unknown(u8),
}

impl UFunction {
    fn from_octet(b: u8) -> Self {
        match b {
            0x07 => Self::StartDtAct,
            0x0B => Self::StartDtCon,
            0x13 => Self::StopDtAct,
            0x23 => Self::StopDtCon,
            0x43 => Self::TestFrAct,
            0x83 => Self::TestFrCon,
            other => Self::Unknown(other),
        }
    }

    /// Index into [`Session::u_frames`] (unknown patterns last).
    pub fn index(self) -> usize {
        match self {
            Self::StartDtAct => 0,
            Self::StartDtCon => 1,
            Self::StopDtAct => 2,
            Self::StopDtCon => 3,
            Self::TestFrAct => 4,
            Self::TestFrCon => 5,
            Self::Unknown(_) => 6,
        }
    }
}

/// The APCI's control field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Information transfer: sequence numbers, and an ASDU follows.
    I {
        /// Send sequence number.
        send: u16,
        /// Receive sequence number.
        recv: u16,
    },
    /// Supervisory: acknowledges up to `recv`.
    S {
        /// Receive sequence number.
        recv: u16,
    },
    /// Unnumbered: link control.
    U(UFunction),
}

/// An ASDU's data unit identifier and object region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asdu<'a> {
    /// Type identification.
    pub type_id: u8,
    /// SQ bit: the objects are one sequence from one IOA.
    pub sequence: bool,
    /// Number of objects (or elements).
    pub count: u8,
    /// Cause of transmission (6 bits).
    pub cause: u8,
    /// The P/N bit: negative confirmation.
    pub negative: bool,
    /// The T bit: test.
    pub test: bool,
    /// Originator address.
    pub originator: u8,
    /// Common address of the ASDU.
    pub common_address: u16,
    /// The first information object address, if there is an object.
    pub ioa: Option<u32>,
    /// The bytes after the common address.
    pub objects: &'a [u8],
}

/// One APDU: the APCI and, for I-frames, its ASDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// The control field.
    pub control: Control,
    /// The ASDU (I-frames whose ASDU has at least its 6-byte header).
    pub asdu: Option<Asdu<'a>>,
    /// Violations seen.
    pub flags: Flags,
}

/// Parses IEC 104 APDUs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Apdu<'a>;
    const MAX_PDU: usize = MAX_APDU;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Apdu<'a>> {
        match input.first() {
            None => return Parsed::Incomplete { needed: 6 },
            Some(&START) => {}
            Some(_) => return Parsed::NotThisProtocol,
        }
        let Some(&length) = input.get(1) else {
            return Parsed::Incomplete { needed: 6 };
        };
        if !(4..=253).contains(&length) {
            return Parsed::NotThisProtocol;
        }
        let total = 2 + usize::from(length);
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        let c = &input[2..6];
        let body = &input[6..total];
        let mut flags = Flags::default();
        let control = if c[0] & 1 == 0 {
            if c[2] & 1 != 0 {
                flags.set(Flags::RESERVED_SET);
            }
            Control::I {
                send: u16::from_le_bytes([c[0], c[1]]) >> 1,
                recv: u16::from_le_bytes([c[2], c[3]]) >> 1,
            }
        } else if c[0] & 3 == 1 {
            if c[0] != 1 || c[1] != 0 || c[2] & 1 != 0 {
                flags.set(Flags::RESERVED_SET);
            }
            Control::S {
                recv: u16::from_le_bytes([c[2], c[3]]) >> 1,
            }
        } else {
            let f = UFunction::from_octet(c[0]);
            if matches!(f, UFunction::Unknown(_)) {
                flags.set(Flags::UNKNOWN_FUNCTION);
            }
            if c[1..] != [0, 0, 0] {
                flags.set(Flags::RESERVED_SET);
            }
            Control::U(f)
        };
        let asdu = match control {
            Control::I { .. } => {
                let asdu = parse_asdu(body, &mut flags);
                if asdu.is_none() {
                    flags.set(Flags::BAD_LENGTH);
                }
                asdu
            }
            Control::S { .. } | Control::U(_) => {
                if !body.is_empty() {
                    flags.set(Flags::BAD_LENGTH);
                }
                None
            }
        };
        Parsed::Pdu {
            pdu: Apdu {
                control,
                asdu,
                flags,
            },
            consumed: total,
        }
    }
}

/// Reads an ASDU's header; `None` when it is shorter than its 6-byte header.
fn parse_asdu<'a>(body: &'a [u8], flags: &mut Flags) -> Option<Asdu<'a>> {
    let [type_id, vsq, cot, originator, ca0, ca1, objects @ ..] = body else {
        return None;
    };
    let sequence = vsq & 0x80 != 0;
    let count = vsq & 0x7f;
    let ioa = match objects {
        [a, b, c, ..] => Some(u32::from_le_bytes([*a, *b, *c, 0])),
        _ => None,
    };
    if *type_id == 0 || describe(*type_id).name == "unknown" {
        flags.set(Flags::UNKNOWN_FUNCTION);
    }
    if let Some(size) = element_size(*type_id) {
        let n = usize::from(count);
        let expected = if n == 0 {
            0
        } else if sequence {
            3 + n * size
        } else {
            n * (3 + size)
        };
        if n == 0 || objects.len() != expected {
            flags.set(Flags::BAD_LENGTH);
        }
    }
    Some(Asdu {
        type_id: *type_id,
        sequence,
        count,
        cause: cot & 0x3f,
        negative: cot & 0x40 != 0,
        test: cot & 0x80 != 0,
        originator: *originator,
        common_address: u16::from_le_bytes([*ca0, *ca1]),
        ioa,
        objects,
    })
}

/// The size of one information element (without its IOA) of the types whose size is
/// fixed (IEC 60870-5-101 §7.3; CP56Time2a is 7 bytes, CP24Time2a 3).
fn element_size(type_id: u8) -> Option<usize> {
    Some(match type_id {
        1 | 3 | 45 | 46 | 47 | 70 | 100 | 101 | 105 | 113 => 1,
        5 | 21 | 104 | 106 => 2,
        9 | 11 | 48 | 49 | 110 | 111 => 3,
        51 => 4,
        7 | 13 | 15 | 20 | 50 | 112 => 5,
        102 => 0,
        103 => 7,
        30 | 31 | 58 | 59 | 60 => 8,
        32 | 107 => 9,
        34 | 35 | 38 | 61 | 62 => 10,
        39 | 40 | 64 => 11,
        33 | 36 | 37 | 63 => 12,
        _ => return None,
    })
}

/// Whether a type id is sent in the monitor direction (process information).
pub fn is_monitor_type(type_id: u8) -> bool {
    matches!(type_id, 1..=44 | 70)
}

/// The name and category of a type id (IEC 60870-5-101 §7.2.1.1, -104 §8).
///
/// Commands that switch or step equipment are `control`; setpoints and bitstrings
/// `write`; (counter) interrogation and read `read`; the test commands `diagnostic`;
/// reset process `control`; clock synchronisation and delay acquisition `other`
/// (they set the station's clock, not the plant); parameter loading `write`; file
/// transfer `other`; monitor types `cyclic`.
pub fn describe(type_id: u8) -> Function {
    use Category::*;
    let (name, category) = tables::iec104::type_id(type_id).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(type_id),
        name,
        category,
    }
}

/// What an ASDU addresses.
fn target(asdu: &Asdu<'_>) -> String {
    let mut t = format!("ca {}", asdu.common_address);
    if let Some(ioa) = asdu.ioa {
        t.push_str(&format!(" ioa {ioa}"));
    }
    if asdu.count > 1 {
        t.push_str(&format!(" objects {}", asdu.count));
    }
    t
}

/// An operation waiting for its confirmation.
#[derive(Debug)]
struct Pending {
    key: (u8, u16, Option<u32>),
    op: OtOperation,
}

/// Per-flow IEC 104 state: operations waiting for confirmations (bounded), and counts
/// of what is not logged.
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Monitor-direction ASDUs of monitor types (reports), per type id.
    pub reports: BTreeMap<u8, u64>,
    /// Command-direction ASDUs of monitor types (not operations).
    pub misdirected: u64,
    /// Monitor-direction ASDUs of control types that confirmed nothing.
    pub unsolicited: u64,
    /// Activation terminations of operations already confirmed.
    pub terminations: u64,
    /// U-frames seen, by [`UFunction::index`].
    pub u_frames: [u64; 7],
    /// S-frames seen.
    pub s_frames: u64,
    /// I-frames too short to hold an ASDU header.
    pub short_i_frames: u64,
}

impl Session {
    /// Takes one APDU travelling in `dir` (`Orig` = towards port 2404) at `ts`
    /// (nanoseconds); finished operations go to `ops`. IEC 104 says nothing about
    /// identity, so `facts` is untouched.
    pub fn on_apdu(
        &mut self,
        dir: Direction,
        ts: i64,
        apdu: &Apdu<'_>,
        ops: &mut Vec<OtOperation>,
        _facts: &mut Vec<IdentityFact>,
    ) {
        match apdu.control {
            Control::U(f) => self.u_frames[f.index()] += 1,
            Control::S { .. } => self.s_frames += 1,
            Control::I { .. } => match &apdu.asdu {
                None => self.short_i_frames += 1,
                Some(asdu) => self.on_asdu(dir, ts, asdu, apdu.flags, ops),
            },
        }
    }

    fn on_asdu(
        &mut self,
        dir: Direction,
        ts: i64,
        asdu: &Asdu<'_>,
        flags: Flags,
        ops: &mut Vec<OtOperation>,
    ) {
        let monitor = is_monitor_type(asdu.type_id);
        let key = (asdu.type_id, asdu.common_address, asdu.ioa);
        match (dir, monitor) {
            (Direction::Orig, true) => self.misdirected += 1,
            (Direction::Resp, true) => {
                if self.reports.len() < 256 || self.reports.contains_key(&asdu.type_id) {
                    *self.reports.entry(asdu.type_id).or_insert(0) += 1;
                }
            }
            (Direction::Orig, false) => {
                if self.outstanding.len() >= MAX_OUTSTANDING
                    && let Some(old) = self.outstanding.pop_front()
                {
                    ops.push(old.op.unanswered(Flags::TOO_MANY_OUTSTANDING));
                }
                let op = OtOperation {
                    protocol: PROTOCOL,
                    pdu: None,
                    function: describe(asdu.type_id),
                    target: target(asdu),
                    status: Status::NoResponse,
                    flags,
                    ts,
                };
                self.outstanding.push_back(Pending { key, op });
            }
            (Direction::Resp, false) => {
                let Some(i) = self.outstanding.iter().position(|p| p.key == key) else {
                    if asdu.cause == 10 {
                        self.terminations += 1;
                    } else {
                        self.unsolicited += 1;
                    }
                    return;
                };
                let Some(mut done) = self.outstanding.remove(i) else {
                    return;
                };
                done.op.status = if asdu.negative || (44..=47).contains(&asdu.cause) {
                    Status::Exception(u32::from(asdu.cause))
                } else {
                    Status::Ok
                };
                done.op.flags.0 |= flags.0;
                ops.push(done.op);
            }
        }
    }

    /// The flow ended: operations still waiting are reported unanswered.
    pub fn finish(&mut self, ops: &mut Vec<OtOperation>) {
        ops.extend(
            self.outstanding
                .drain(..)
                .map(|p| p.op.unanswered(Flags::NO_RESPONSE)),
        );
    }
}

#[cfg(test)]
mod tests;
