//! Omron FINS (Factory Interface Network Service) over UDP and over FINS/TCP.
//!
//! Wire format (Omron *FINS Commands Reference Manual*, W227, and the FINS/TCP
//! chapter of the Ethernet unit manuals, W421; all fields big-endian):
//!
//! ```text
//! FINS frame: ICF u8 | RSV u8 (0) | GCT u8 | DNA DA1 DA2 | SNA SA1 SA2 | SID u8
//!   | MRC u8 SRC u8 | command data            (command: ICF bit 6 clear)
//!   | MRC u8 SRC u8 | MRES u8 SRES u8 | data   (response: ICF bit 6 set)
//! FINS/TCP: "FINS" | length u32 (bytes after this field) | command u32 | error u32
//!   | data: client node u32 (command 0), client and server node u32 (1),
//!     a FINS frame (2)
//! ```
//!
//! ICF bit 7 is the gateway bit and bit 0 "response not required"; bits 1 to 5 and
//! RSV are zero (`reserved_set` otherwise). A UDP datagram (port 9600) is one frame,
//! fed whole to [`Session::on_datagram`]; a TCP stream (port 9600) is framed by
//! [`TcpParser`] and each message goes to [`Session::on_tcp`].
//!
//! Records: one `fins` operation per command frame, `function` = MRC × 256 + SRC
//! (`0x0101` memory area read ... `0x0401` run, `0x0402` stop). A response (ICF bit 6)
//! travelling the other way completes the command with the same SID and code; when
//! no SID matches (a gateway may rewrite it: the icsnpp capture answers SID 0x05 with
//! 0x7A), the oldest outstanding command with the same code. The end code is MRES ×
//! 256 + SRES with the relay-error bit (MRES bit 7) and the PLC-error bits (SRES bits
//! 6 and 7, which report the controller's state rather than the command's result)
//! masked off: `0` is `ok`, anything else `exception:<code>`. FINS/TCP node-address
//! handshakes (commands 0 and 1) are counted in [`Session::node_address`], not logged.
//!
//! Targets: memory area commands name the area (CS/CJ area codes: `DM`, `CIO`, `WR`,
//! `HR`, `AR`, `TIM`, `EM0`..., `.bit` areas with the bit) with the address and count
//! (`DM 100+10`, `CIO 10.03+1`); multiple read lists up to four items; run names the
//! mode; every target starts with the destination node (`node 0.0.0`).
//!
//! Identity: a successful response to Controller Data Read (0x0501) that starts
//! with the controller model (20 bytes, `CJ2M-CPU31` style) and version (20 bytes),
//! both printable ASCII padded with spaces or NULs, names the responder. The request's
//! parameter (0 model and version, 1 area data only) is not trusted: the icsnpp
//! capture answers parameter 1 with everything once.

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "fins";
/// The registered port, UDP and TCP.
pub const PORT: u16 = 9600;
/// Commands remembered per flow while waiting for their responses.
pub const MAX_OUTSTANDING: usize = 64;

/// FINS/TCP header: magic, length, command, error code.
const TCP_HEADER: usize = 16;
/// The largest FINS/TCP message: a FINS frame carries at most 2012 bytes of data
/// after its 14 header bytes; rounded up generously.
const MAX_TCP: usize = TCP_HEADER + 4096;

/// One FINS frame (command or response).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Information control field.
    pub icf: u8,
    /// Gateway count.
    pub gct: u8,
    /// Destination network, node and unit.
    pub dst: [u8; 3],
    /// Source network, node and unit.
    pub src: [u8; 3],
    /// Service id, echoed by the response.
    pub sid: u8,
    /// MRC × 256 + SRC.
    pub command: u16,
    /// MRES × 256 + SRES, in a response.
    pub end_code: Option<u16>,
    /// The bytes after the command code (commands) or end code (responses).
    pub data: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

impl Frame<'_> {
    /// Whether this is a response (ICF bit 6).
    pub fn is_response(&self) -> bool {
        self.icf & 0x40 != 0
    }
}

/// Parses one FINS frame (a UDP payload or a FINS/TCP frame-send payload). `None`
/// when the bytes are not FINS: too short, a reserved ICF bit or RSV set, a gateway
/// count above 7, or a main request code FINS does not define.
pub fn parse_frame(b: &[u8]) -> Option<Frame<'_>> {
    let [
        icf,
        rsv,
        gct,
        dna,
        da1,
        da2,
        sna,
        sa1,
        sa2,
        sid,
        mrc,
        src,
        rest @ ..,
    ] = b
    else {
        return None;
    };
    if icf & 0x3e != 0 || *rsv != 0 || *gct > 7 || !known_mrc(*mrc) {
        return None;
    }
    let command = u16::from_be_bytes([*mrc, *src]);
    let mut flags = Flags::default();
    if describe(command).name == "unknown" {
        flags.set(Flags::UNKNOWN_FUNCTION);
    }
    let (end_code, data) = if icf & 0x40 != 0 {
        match rest {
            [mres, sres, data @ ..] => (Some(u16::from_be_bytes([*mres, *sres])), data),
            // Some devices answer a failed command with the codes alone.
            _ => {
                flags.set(Flags::BAD_LENGTH);
                (Some(0), rest)
            }
        }
    } else {
        (None, rest)
    };
    Some(Frame {
        icf: *icf,
        gct: *gct,
        dst: [*dna, *da1, *da2],
        src: [*sna, *sa1, *sa2],
        sid: *sid,
        command,
        end_code,
        data,
        flags,
    })
}

/// Main request codes of the FINS command set.
fn known_mrc(mrc: u8) -> bool {
    matches!(
        mrc,
        0x01..=0x09 | 0x0c | 0x21 | 0x22 | 0x23 | 0x26 | 0x27 | 0x28
    )
}

/// One FINS/TCP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpMessage<'a> {
    /// FINS/TCP command: 0 client node address, 1 server node address, 2 frame
    /// send, 3 frame send error, 6 connection confirmation.
    pub command: u32,
    /// FINS/TCP error code.
    pub error: u32,
    /// The FINS frame (command 2), when it parsed.
    pub frame: Option<Frame<'a>>,
    /// The bytes after the header.
    pub data: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Parses FINS/TCP messages.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpParser;

impl PduParser for TcpParser {
    type Pdu<'a> = TcpMessage<'a>;
    const MAX_PDU: usize = MAX_TCP;

    fn parse<'a>(&self, _dir: Direction, input: &'a [u8]) -> Parsed<TcpMessage<'a>> {
        let magic = &input[..input.len().min(4)];
        if magic != &b"FINS"[..magic.len()] {
            return Parsed::NotThisProtocol;
        }
        let u32_at = |i: usize| {
            input
                .get(i..i + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let Some(length) = u32_at(4) else {
            return Parsed::Incomplete { needed: 8 };
        };
        // The length counts the command and error code at least; cap it before adding.
        if length < 8 || length > (MAX_TCP - 8) as u32 {
            return Parsed::NotThisProtocol;
        }
        let total = 8 + length as usize;
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        let (Some(command), Some(error)) = (u32_at(8), u32_at(12)) else {
            return Parsed::Incomplete { needed: total };
        };
        let data = &input[TCP_HEADER..total];
        let mut flags = Flags::default();
        let frame = if command == 2 {
            let frame = parse_frame(data);
            if frame.is_none() {
                flags.set(Flags::BAD_LENGTH);
            }
            frame
        } else {
            if command > 6 {
                flags.set(Flags::UNKNOWN_FUNCTION);
            }
            None
        };
        Parsed::Pdu {
            pdu: TcpMessage {
                command,
                error,
                frame,
                data,
                flags,
            },
            consumed: total,
        }
    }
}

/// The name and category of a FINS command (MRC × 256 + SRC), per W227 §5.
pub fn describe(code: u16) -> Function {
    use Category::*;
    let (name, category) = tables::fins::command(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// The name of a CS/CJ-series memory area code (W227 §5-2-2), and whether it
/// addresses bits.
fn area_name(code: u8) -> Option<(&'static str, bool)> {
    Some(match code {
        0x30 => ("CIO", true),
        0x31 => ("WR", true),
        0x32 => ("HR", true),
        0x33 => ("AR", true),
        0x02 => ("DM", true),
        0x06 => ("TK", true),
        0x09 => ("TIM/CNT flag", true),
        0x70 => ("CIO forced", true),
        0xb0 => ("CIO", false),
        0xb1 => ("WR", false),
        0xb2 => ("HR", false),
        0xb3 => ("AR", false),
        0x82 => ("DM", false),
        0x89 => ("TIM/CNT", false),
        0x98 => ("EM current", false),
        0xbc => ("DR", false),
        0xdc => ("IR", false),
        0x20..=0x2c => (EM_BANKS[usize::from(code - 0x20)], true),
        0xa0..=0xac => (EM_BANKS[usize::from(code - 0xa0)], false),
        _ => return None,
    })
}

/// Extended memory banks 0 to C.
const EM_BANKS: [&str; 13] = [
    "EM0", "EM1", "EM2", "EM3", "EM4", "EM5", "EM6", "EM7", "EM8", "EM9", "EMA", "EMB", "EMC",
];

/// `DM 100` or `CIO 10.03` for an area code and its three address bytes.
fn address(area: u8, addr: &[u8]) -> String {
    let [hi, lo, bit] = addr else {
        return format!("area 0x{area:02x}");
    };
    let word = u16::from_be_bytes([*hi, *lo]);
    match area_name(area) {
        Some((name, true)) => format!("{name} {word}.{bit:02}"),
        Some((name, false)) => format!("{name} {word}"),
        None => format!("area 0x{area:02x} {word}.{bit:02}"),
    }
}

/// What a command addresses.
fn target(frame: &Frame<'_>) -> String {
    let [net, node, unit] = frame.dst;
    let mut t = format!("node {net}.{node}.{unit}");
    let d = frame.data;
    let u16_at = |i: usize| d.get(i..i + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    match frame.command {
        0x0101..=0x0103 => {
            if let (Some(area), Some(addr), Some(count)) = (d.first(), d.get(1..4), u16_at(4)) {
                t.push(' ');
                t.push_str(&address(*area, addr));
                t.push_str(&format!("+{count}"));
            }
        }
        0x0104 => {
            let items = d.chunks_exact(4);
            let n = items.len();
            for item in items.take(4) {
                t.push(' ');
                t.push_str(&address(item[0], &item[1..]));
            }
            if n > 4 {
                t.push_str(&format!(" (+{} more)", n - 4));
            }
        }
        0x0105 => {
            if let (Some(a), Some(from), Some(b), Some(to), Some(count)) =
                (d.first(), d.get(1..4), d.get(4), d.get(5..8), u16_at(8))
            {
                t.push_str(&format!(
                    " {} to {}+{count}",
                    address(*a, from),
                    address(*b, to)
                ));
            }
        }
        0x0401 => match (u16_at(0), d.get(2)) {
            (Some(program), Some(mode)) => {
                let mode = match mode {
                    2 => "monitor",
                    4 => "run",
                    _ => "mode ?",
                };
                t.push_str(&format!(" program {program} {mode}"));
            }
            (Some(program), None) => t.push_str(&format!(" program {program}")),
            _ => {}
        },
        0x0501 => {
            if let Some(p) = d.first() {
                t.push_str(&format!(" parameter {p}"));
            }
        }
        0x0306 | 0x0307 => {
            if let (Some(program), Some(word)) = (u16_at(0), d.get(2..6)) {
                let word = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
                t.push_str(&format!(" program {program} word {word}"));
            }
        }
        _ => {}
    }
    t
}

/// A command waiting for its response.
#[derive(Debug)]
struct Pending {
    dir: Direction,
    sid: u8,
    command: u16,
    op: OtOperation,
}

/// Per-flow FINS state (UDP peer pair or TCP connection): commands waiting for
/// responses (bounded) and counters.
#[derive(Debug, Default)]
pub struct Session {
    outstanding: VecDeque<Pending>,
    /// Responses that matched no command.
    pub unsolicited: u64,
    /// FINS/TCP node-address messages (commands 0 and 1).
    pub node_address: u64,
    /// FINS/TCP messages other than frames and node addresses (errors, confirmations).
    pub other_tcp: u64,
    /// UDP datagrams that were not FINS.
    pub not_fins: u64,
}

impl Session {
    /// Takes one UDP payload travelling in `dir` at `ts` (nanoseconds). Returns false
    /// (and does nothing else) when it is not a FINS frame.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        match parse_frame(payload) {
            Some(frame) => {
                self.on_frame(dir, ts, &frame, ops, facts);
                true
            }
            None => {
                self.not_fins += 1;
                false
            }
        }
    }

    /// Takes one FINS/TCP message travelling in `dir` at `ts` (nanoseconds).
    pub fn on_tcp(
        &mut self,
        dir: Direction,
        ts: i64,
        msg: &TcpMessage<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        match (msg.command, msg.frame) {
            (2, Some(mut frame)) => {
                frame.flags.0 |= msg.flags.0;
                self.on_frame(dir, ts, &frame, ops, facts);
            }
            (0 | 1, _) => self.node_address += 1,
            _ => self.other_tcp += 1,
        }
    }

    /// Takes one FINS frame travelling in `dir` at `ts` (nanoseconds).
    pub fn on_frame(
        &mut self,
        dir: Direction,
        ts: i64,
        frame: &Frame<'_>,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        let Some(end) = frame.end_code else {
            if self.outstanding.len() >= MAX_OUTSTANDING
                && let Some(old) = self.outstanding.pop_front()
            {
                ops.push(old.op.unanswered(Flags::TOO_MANY_OUTSTANDING));
            }
            let flags = frame.flags;
            self.outstanding.push_back(Pending {
                dir,
                sid: frame.sid,
                command: frame.command,
                op: OtOperation {
                    protocol: PROTOCOL,
                    pdu: None,
                    function: describe(frame.command),
                    target: target(frame),
                    status: Status::NoResponse,
                    flags,
                    ts,
                },
            });
            return;
        };
        let request_dir = dir.reverse();
        let same = |p: &Pending| p.dir == request_dir && p.command == frame.command;
        let Some(i) = self
            .outstanding
            .iter()
            .position(|p| same(p) && p.sid == frame.sid)
            .or_else(|| self.outstanding.iter().position(same))
        else {
            self.unsolicited += 1;
            return;
        };
        let Some(mut done) = self.outstanding.remove(i) else {
            return;
        };
        let code = end & 0x7f3f;
        done.op.status = if code == 0 {
            Status::Ok
        } else {
            Status::Exception(u32::from(code))
        };
        done.op.flags.0 |= frame.flags.0;
        if frame.command == 0x0501 && code == 0 {
            controller_data(dir, frame.data, facts);
        }
        ops.push(done.op);
    }

    /// The flow ended: commands still waiting are reported unanswered.
    pub fn finish(&mut self, ops: &mut Vec<OtOperation>) {
        ops.extend(
            self.outstanding
                .drain(..)
                .map(|p| p.op.unanswered(Flags::NO_RESPONSE)),
        );
    }
}

/// Model and version from a Controller Data Read response, about its sender. The
/// response to parameter 1 holds area data only, and some controllers answer it with
/// everything, so the bytes decide: two printable ASCII fields of 20 bytes.
fn controller_data(dir: Direction, data: &[u8], facts: &mut Vec<IdentityFact>) {
    for (range, kind) in [
        (0..20, IdentityKind::Model),
        (20..40, IdentityKind::Firmware),
    ] {
        let Some(raw) = data.get(range) else { return };
        let raw = raw[..raw.iter().position(|&b| b == 0).unwrap_or(raw.len())].trim_ascii();
        if raw.is_empty() || !raw.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return;
        }
        facts.push(IdentityFact {
            about: Subject::Side(dir),
            kind,
            value: String::from_utf8_lossy(raw).into_owned(),
            protocol: PROTOCOL,
        });
    }
}

#[cfg(test)]
mod tests;
