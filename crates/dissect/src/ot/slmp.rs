//! SLMP (Seamless Message Protocol) and the Mitsubishi MELSEC communication (MC)
//! protocol's 3E and 4E frames, binary and ASCII, over TCP or UDP.
//!
//! Wire format (Mitsubishi *SLMP Reference Manual*, SH-080956ENG, ch. 4 and 5):
//!
//! ```text
//! binary 3E request:  50 00 | network u8 | station u8 | module I/O u16 | module station u8
//!                     | length u16 (bytes after it) | monitoring timer u16 | command u16
//!                     | subcommand u16 | data
//! binary 3E response: D0 00 | network | station | module I/O | module station | length
//!                     | end code u16 | data (on error: the failing request's header)
//! binary 4E:          54 00 (D4 00) | serial u16 | 00 00 | then as 3E
//! ASCII:              the same fields as upper-case hexadecimal text, most significant
//!                     digit first ("5000", "00", "FF", "03FF", "00", "0018", ...); 4E
//!                     adds a 4-digit serial and "0000"; the length counts characters
//! ```
//!
//! Binary numbers are little-endian. The subheader decides what a frame is: `5000` /
//! `5400` a request, `D000` / `D400` a response, whichever direction it travels.
//! There is no registered port (the capture's engineering software picks one: 5000
//! to 5010, 1025, 5560...), so the pipeline offers flows by content. [`Parser`] frames
//! a TCP stream; a UDP datagram is one frame, given to [`Session::on_datagram`].
//!
//! Records: one `slmp` operation per request, `function` = the command
//! (`0x0401` batch read, `0x1401` batch write, `0x1001` remote run, `0x1002` remote
//! stop, `0x1006` remote reset, `0x0101` read type name; see [`describe`]). A 4E
//! response completes the request with its serial travelling the other way; a 3E
//! response (no serial) the oldest request from the other side. End code `0` is
//! `ok`, anything else `exception:<end code>`.
//!
//! Targets: the destination (`net 0 st 255 io 03FF`), then for batch read and write
//! the head device and the number of points (`D100+3`, `M0+16 bits`, `X1A0+8 bits`;
//! device numbers of X, Y, B, W, SB, SW, DX and DY in hexadecimal as the manuals
//! write them); random and block access give their counts; remote run its force and
//! clear modes.
//!
//! Identity: a Read Type Name (0x0101) response gives the CPU's model name (16
//! characters, `Q03UDECPU`) and model code, as [`IdentityKind::Model`] about the
//! responder.
//!
//! CC-Link IE Field Basic runs its cyclic exchange as SLMP command 0x0E70 over UDP
//! 61450 (the master broadcasts the request, each slave answers it to the master):
//! such frames parse here as `cclink_ief_basic_cyclic`, category `cyclic`; the
//! pipeline should give UDP 61450/61451 to the CC-Link IE Field Basic dissector
//! first. Apart from those (`nttcom-cclinkiefb_cclink_ief_basic_only.pcap`), the
//! shared captures carry no SLMP (`iti_melsoft_UDP_clean_2.pcap` is MELSOFT, GX
//! Works' own protocol on UDP 5560, with subheaders 0x5701 / 0xD701 / 0x5A00); the
//! tests use frames built from the reference manual's examples.

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "slmp";
/// Ports SLMP and MC protocol commonly use (configured on the PLC; content decides).
pub const COMMON_PORTS: [u16; 5] = [5000, 5001, 5002, 5006, 5007];
/// Requests remembered per flow while waiting for their responses.
pub const MAX_OUTSTANDING: usize = 64;

/// The largest request data length accepted (binary; ASCII doubles it).
const MAX_DATA: usize = 8192;
/// The largest frame: the ASCII 4E header (26 characters) and twice `MAX_DATA`.
const MAX_FRAME: usize = 26 + 2 * MAX_DATA;

/// Binary or ASCII code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Binary code.
    Binary,
    /// ASCII code (hexadecimal text).
    Ascii,
}

/// One 3E or 4E frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Binary or ASCII.
    pub encoding: Encoding,
    /// The 4E serial number (`None` for 3E).
    pub serial: Option<u16>,
    /// Whether this is a response (`D000`, `D400`).
    pub response: bool,
    /// Request destination network number.
    pub network: u8,
    /// Request destination station number.
    pub station: u8,
    /// Request destination module I/O number.
    pub module_io: u16,
    /// Request destination multidrop station number.
    pub module_station: u8,
    /// Command (requests).
    pub command: u16,
    /// Subcommand (requests).
    pub subcommand: u16,
    /// End code (responses).
    pub end_code: u16,
    /// Request data or response data, still encoded (binary bytes or ASCII hex text).
    pub data: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Parses 3E and 4E frames, binary or ASCII.
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

/// Reads fixed-width fields from the front of a frame in either encoding.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
    encoding: Encoding,
}

impl Fields<'_> {
    /// A field of `n` bytes (binary, little-endian) or `2n` hex digits (ASCII,
    /// most significant first). `None` when the bytes run out or are not hex.
    fn take(&mut self, n: usize) -> Option<u32> {
        match self.encoding {
            Encoding::Binary => {
                let b = self.bytes.get(self.at..self.at + n)?;
                self.at += n;
                Some(b.iter().rev().fold(0, |v, &x| v << 8 | u32::from(x)))
            }
            Encoding::Ascii => {
                let b = self.bytes.get(self.at..self.at + 2 * n)?;
                self.at += 2 * n;
                hex(b)
            }
        }
    }
}

/// The value of ASCII hex digits.
fn hex(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |v, &c| {
        let d = char::from(c).to_digit(16)?;
        Some(v << 4 | d)
    })
}

impl PduParser for Parser {
    type Pdu<'a> = Frame<'a>;
    const MAX_PDU: usize = MAX_FRAME;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<Frame<'a>> {
        const STARTS: [&[u8]; 8] = [
            &[0x50, 0x00],
            &[0xd0, 0x00],
            &[0x54, 0x00],
            &[0xd4, 0x00],
            b"5000",
            b"D000",
            b"5400",
            b"D400",
        ];
        let Some(start) = STARTS
            .iter()
            .position(|s| s.starts_with(&input[..input.len().min(s.len())]))
        else {
            return Parsed::NotThisProtocol;
        };
        // A prefix shorter than every subheader it could start: wait for more.
        if input.len() < 4 && !(start < 4 && input.len() >= 2) {
            return Parsed::Incomplete { needed: 4 };
        }
        let (encoding, four_e, response, subheader_len) = match start {
            0..=3 => (Encoding::Binary, start >= 2, start % 2 == 1, 2),
            _ => (Encoding::Ascii, start >= 6, start % 2 == 1, 4),
        };
        let width = if encoding == Encoding::Ascii { 2 } else { 1 };
        // Header length up to and including the data length field.
        let header = subheader_len + width * (if four_e { 4 } else { 0 } + 7);
        if input.len() < header {
            return Parsed::Incomplete { needed: header };
        }
        let mut f = Fields {
            bytes: input,
            at: subheader_len,
            encoding,
        };
        let mut flags = Flags::default();
        let serial = if four_e {
            let (Some(serial), Some(fixed)) = (f.take(2), f.take(2)) else {
                return Parsed::NotThisProtocol;
            };
            if fixed != 0 {
                return Parsed::NotThisProtocol;
            }
            Some(serial as u16)
        } else {
            None
        };
        let (Some(network), Some(station), Some(module_io), Some(module_station), Some(length)) =
            (f.take(1), f.take(1), f.take(2), f.take(1), f.take(2))
        else {
            return Parsed::NotThisProtocol;
        };
        let length = length as usize;
        // Requests carry timer, command and subcommand; responses an end code.
        let least = if response { 2 } else { 6 } * width;
        if length < least || length > MAX_DATA * width {
            return Parsed::NotThisProtocol;
        }
        let total = header + length;
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        let (command, subcommand, end_code) = if response {
            let Some(end) = f.take(2) else {
                return Parsed::NotThisProtocol;
            };
            (0, 0, end as u16)
        } else {
            let (Some(_timer), Some(command), Some(sub)) = (f.take(2), f.take(2), f.take(2)) else {
                return Parsed::NotThisProtocol;
            };
            (command as u16, sub as u16, 0)
        };
        if !response && describe(command).name == "unknown" {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        Parsed::Pdu {
            pdu: Frame {
                encoding,
                serial,
                response,
                network: network as u8,
                station: station as u8,
                module_io: module_io as u16,
                module_station: module_station as u8,
                command,
                subcommand,
                end_code,
                data: input.get(f.at..total).unwrap_or_default(),
                flags,
            },
            consumed: total,
        }
    }
}

/// The name and category of a command (SLMP Reference Manual, command list).
pub fn describe(code: u16) -> Function {
    use Category::*;
    let (name, category) = tables::slmp::command(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// Device names by binary device code, with whether their numbers are hexadecimal.
fn device_name(code: u16) -> Option<(&'static str, bool)> {
    Some(match code {
        0x91 => ("SM", false),
        0xa9 => ("SD", false),
        0x9c => ("X", true),
        0x9d => ("Y", true),
        0x90 => ("M", false),
        0x92 => ("L", false),
        0x93 => ("F", false),
        0x94 => ("V", false),
        0xa0 => ("B", true),
        0xa8 => ("D", false),
        0xb4 => ("W", true),
        0xc1 => ("TS", false),
        0xc0 => ("TC", false),
        0xc2 => ("TN", false),
        0xc7 => ("STS", false),
        0xc6 => ("STC", false),
        0xc8 => ("STN", false),
        0xc4 => ("CS", false),
        0xc3 => ("CC", false),
        0xc5 => ("CN", false),
        0xa1 => ("SB", true),
        0xb5 => ("SW", true),
        0xa2 => ("DX", true),
        0xa3 => ("DY", true),
        0xcc => ("Z", false),
        0xaf => ("R", false),
        0xb0 => ("ZR", false),
        0x51 => ("LTS", false),
        0x50 => ("LTC", false),
        0x52 => ("LTN", false),
        0x59 => ("LSTS", false),
        0x58 => ("LSTC", false),
        0x5a => ("LSTN", false),
        0x55 => ("LCS", false),
        0x54 => ("LCC", false),
        0x56 => ("LCN", false),
        0x62 => ("LZ", false),
        0xab => ("G", false),
        _ => return None,
    })
}

/// `D100+3` or `M0+16 bits` for a batch read or write request's data.
fn batch_target(frame: &Frame<'_>, out: &mut String) {
    use std::fmt::Write as _;
    let long = frame.subcommand & 0x0002 != 0; // iQ-R format: wider number and code
    let bits = if frame.subcommand & 0x0001 != 0 {
        " bits"
    } else {
        ""
    };
    if frame.subcommand & 0xff00 != 0 || frame.subcommand & 0x00fc != 0 {
        // Extended device specification (0x0080 family) or a vendor subcommand.
        let _ = write!(out, " subcommand {:04X}", frame.subcommand);
        return;
    }
    match frame.encoding {
        Encoding::Binary => {
            let mut f = Fields {
                bytes: frame.data,
                at: 0,
                encoding: Encoding::Binary,
            };
            let (number, code) = if long {
                (f.take(4), f.take(2))
            } else {
                (f.take(3), f.take(1))
            };
            let (Some(number), Some(code), Some(points)) = (number, code, f.take(2)) else {
                return;
            };
            match device_name(code as u16) {
                Some((name, true)) => {
                    let _ = write!(out, " {name}{number:X}+{points}{bits}");
                }
                Some((name, false)) => {
                    let _ = write!(out, " {name}{number}+{points}{bits}");
                }
                None => {
                    let _ = write!(out, " device 0x{code:02X} {number}+{points}{bits}");
                }
            }
        }
        Encoding::Ascii => {
            let (code_len, number_len) = if long { (4, 8) } else { (2, 6) };
            let d = frame.data;
            let (Some(code), Some(number), Some(points)) = (
                d.get(..code_len),
                d.get(code_len..code_len + number_len),
                d.get(code_len + number_len..code_len + number_len + 4)
                    .and_then(hex),
            ) else {
                return;
            };
            if !code.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'*')
                || !number.iter().all(u8::is_ascii_hexdigit)
            {
                return;
            }
            let code = String::from_utf8_lossy(code);
            let number = String::from_utf8_lossy(number);
            let number = number.trim_start_matches('0');
            let _ = write!(
                out,
                " {}{}+{points}{bits}",
                code.trim_end_matches('*'),
                if number.is_empty() { "0" } else { number }
            );
        }
    }
}

/// What a request addresses.
fn target(frame: &Frame<'_>) -> String {
    use std::fmt::Write as _;
    let mut t = format!(
        "net {} st {} io {:04X}",
        frame.network, frame.station, frame.module_io
    );
    if frame.module_station != 0 {
        let _ = write!(t, " drop {}", frame.module_station);
    }
    let mut f = Fields {
        bytes: frame.data,
        at: 0,
        encoding: frame.encoding,
    };
    match frame.command {
        0x0401 | 0x1401 => batch_target(frame, &mut t),
        0x0403 | 0x0406 | 0x1406 => {
            if let (Some(a), Some(b)) = (f.take(1), f.take(1)) {
                let (a_name, b_name) = if frame.command == 0x0403 {
                    ("words", "dwords")
                } else {
                    ("word_blocks", "bit_blocks")
                };
                let _ = write!(t, " {a_name} {a} {b_name} {b}");
            }
        }
        0x1402 => {
            if frame.subcommand & 1 != 0 {
                if let Some(n) = f.take(1) {
                    let _ = write!(t, " bits {n}");
                }
            } else if let (Some(a), Some(b)) = (f.take(1), f.take(1)) {
                let _ = write!(t, " words {a} dwords {b}");
            }
        }
        0x1001 => {
            if let (Some(mode), Some(clear)) = (f.take(2), f.take(1)) {
                let force = if mode == 3 { " force" } else { "" };
                let clear = match clear {
                    0 => "no_clear",
                    1 => "clear_except_latch",
                    2 => "clear_all",
                    _ => "clear_?",
                };
                let _ = write!(t, "{force} {clear}");
            }
        }
        _ => {}
    }
    t
}

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    dir: Direction,
    serial: Option<u16>,
    command: u16,
    op: OtOperation,
}

/// Per-flow SLMP state (TCP connection or UDP peer pair): requests waiting for
/// responses (bounded) and counters.
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Responses that matched no request.
    pub unsolicited: u64,
    /// UDP datagrams that were not one whole SLMP frame.
    pub not_slmp: u64,
}

impl Session {
    /// Takes one UDP payload travelling in `dir` at `ts` (nanoseconds). Returns false
    /// (and does nothing else) when it is not one whole SLMP frame; trailing bytes
    /// after a frame are flagged `bad_length`.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        match Parser.parse(dir, payload) {
            Parsed::Pdu { mut pdu, consumed } => {
                if consumed != payload.len() {
                    pdu.flags.set(Flags::BAD_LENGTH);
                }
                self.on_frame(dir, ts, &pdu, ops, facts);
                true
            }
            _ => {
                self.not_slmp += 1;
                false
            }
        }
    }

    /// Takes one frame travelling in `dir` at `ts` (nanoseconds).
    pub fn on_frame(
        &mut self,
        dir: Direction,
        ts: i64,
        frame: &Frame<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        if !frame.response {
            if self.outstanding.len() >= MAX_OUTSTANDING
                && let Some(old) = self.outstanding.pop_front()
            {
                ops.push(old.op.unanswered(Flags::TOO_MANY_OUTSTANDING));
            }
            self.outstanding.push_back(Pending {
                dir,
                serial: frame.serial,
                command: frame.command,
                op: OtOperation {
                    protocol: PROTOCOL,
                    pdu: None,
                    function: describe(frame.command),
                    target: target(frame),
                    status: Status::NoResponse,
                    flags: frame.flags,
                    ts,
                },
            });
            return;
        }
        let request_dir = dir.reverse();
        let Some(mut done) = self
            .outstanding
            .iter()
            .position(|p| p.dir == request_dir && p.serial == frame.serial)
            .and_then(|i| self.outstanding.remove(i))
        else {
            self.unsolicited += 1;
            return;
        };
        done.op.status = match frame.end_code {
            0 => Status::Ok,
            code => Status::Exception(u32::from(code)),
        };
        done.op.flags.0 |= frame.flags.0;
        if done.command == 0x0101 && frame.end_code == 0 {
            type_name(dir, frame, facts);
        }
        ops.push(done.op);
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

/// The model name (and code) of a Read Type Name response, about its sender.
fn type_name(dir: Direction, frame: &Frame<'_>, facts: &mut Vec<IdentityFact>) {
    let Some(name) = frame.data.get(..16) else {
        return;
    };
    let name = name.trim_ascii();
    if name.is_empty() || !name.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return;
    }
    let mut f = Fields {
        bytes: frame.data,
        at: 16,
        encoding: frame.encoding,
    };
    let mut value = String::from_utf8_lossy(name).into_owned();
    if let Some(code) = f.take(2) {
        value.push_str(&format!(" (model code 0x{code:04X})"));
    }
    facts.push(IdentityFact {
        about: Subject::Side(dir),
        kind: IdentityKind::Model,
        value,
        protocol: PROTOCOL,
    });
}

#[cfg(test)]
mod tests;
