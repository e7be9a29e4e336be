//! CC-Link IE Field and CC-Link IE Control, directly over Ethernet (EtherType 0x890F).
//!
//! The specifications are CLPA members' only; this module follows the frame layout
//! that NTT Com's public Zeek analyzer describes (nttcom/zeek-parser-CCLinkField-
//! CCLinkControl, BSD-2-Clause), checked against its capture
//! `nttcom-cclinkief_cc_link_ief.pcap`. tshark 4.0 has no dissector for it. Every frame
//! opens with a 14-byte header whose first byte is the frame type; the rest depends
//! on the layout (all multi-byte fields big-endian):
//!
//! ```text
//! Field layout (frame types 0x10-0x15, 0x1C, 0x20, 0x22-0x23, 0x25-0x26, 0x28-0x29,
//! 0x40-0x43, 0x82-0x85):
//!   frame type u8 | data type u8 | node id u16 (or priority / reserved)
//!   | connection info u8 (transient) or sync flag | node type u8 (or reserved)
//!   | source node number u16 | protocol version type u8 (1 Field, 0 Control) | reserved u8
//!   | HEC u32
//! Control layout (frame types 0x00-0x06, 0x24, 0x2F, 0x80-0x81, 0x8C-0x8F):
//!   frame type u8 | priority u8 | scan number u24 | reserved u8 | source node number u16
//!   | reserved u16 | HEC u32
//! Transient 1 (0x22), after the header: a 16-byte message header, then by data type:
//!   0x05 common: 22 bytes, then CT u8 (0x30 SLMP transmit request, 0xB0 its response)
//!   0x07 IE Field: command u8 | subcommand u8 (0x00 request, 0x80 response)
//!   0x08 IE Field motion: command u8 | subcommand u8
//! Transient 2 (0x25), after the header: 22 bytes, then CT u8 (0x04 get memory access
//!   information, 0x08 run, 0x09 stop, 0x10 read memory, 0x12 write memory, 0x20 message
//!   transfer)
//! ```
//!
//! Frame types: transmission control (0x10 persuasion, 0x11/0x12 test data and its
//! ack, 0x13/0x14 setup and its ack, 0x15 token, 0x1C timer, 0x20 my-status),
//! synchronisation (0x40 measure, 0x41 its ack, 0x42 offset, 0x43 update), cyclic data
//! (0x82 RWw, 0x83 RY, 0x84 RWr, 0x85 RX; Control: 0x80 W, 0x81 B, 0x8C/0x8D out,
//! 0x8E/0x8F in), transient (0x22 transient 1, 0x23 transient ack, 0x25 transient 2,
//! 0x26 IP transient, 0x28 parameter check, 0x29 parameter); Control's own network
//! management (0x00 connect, 0x01 connect ack, 0x02 scan, 0x03 collect, 0x04 select,
//! 0x05 launch, 0x06 token, 0x24 dummy, 0x2F node-to-node test).
//!
//! Entry point: [`Session::on_frame`] with the payload after the EtherType, the source
//! and destination MACs and the time. Transient 1 and 2 frames that carry a command
//! are operations ([`L2Operation`], `function` = frame type × 65536 + data type × 256 +
//! command or CT, `pdu` `field` or `control`): run and stop are `control`, memory and
//! object reads `read`, writes and cycle settings `write`, node and statistics queries
//! `identify` / `diagnostic`; a request waits (bounded) for the response travelling
//! back with the same frame type, data type and command with its response bit (0x80)
//! set. Every other frame — cyclic data, token passing, synchronisation, parameter
//! distribution (0x29, `write`), transient acks, commandless transients — is counted per
//! MAC pair, frame type and node per minute ([`MinuteAggregator`], `function` the frame
//! type). Not known from public sources, and so not decoded: the HEC (header check),
//! the network and station numbers inside the transient message header, and the SLMP
//! command inside an SLMP-transmit transient.

use std::fmt::Write as _;

use mamori_wire::decode::MacAddr;

use crate::contract::Flags;
use crate::ot::cyclic::{Aggregate, MinuteAggregator};
use crate::ot::l2::{L2Operation, Pending};
use crate::ot::tables;
use crate::record::{Category, Function, OtOperation, Status};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "cclink-ie";
/// The CC-Link IE EtherType.
pub const ETHERTYPE: u16 = 0x890f;
/// Transient requests remembered while waiting for responses.
pub const MAX_OUTSTANDING: usize = 64;
/// How long a transient request waits for its response.
pub const WINDOW_NS: i64 = 10_000_000_000;

/// Per-minute records open at once (MAC pairs × frame types × nodes of a network).
pub const MAX_OPEN_RECORDS: usize = 4096;
/// Header bytes common to every frame.
pub const HEADER: usize = 14;

/// Transient 1.
pub const TRANSIENT1: u8 = 0x22;
/// Transient 2.
pub const TRANSIENT2: u8 = 0x25;

/// Which network the frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// CC-Link IE Field.
    Field,
    /// CC-Link IE Control.
    Control,
}

impl Family {
    /// `field` or `control` (the `pdu` of `ot.jsonl`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Field => "field",
            Family::Control => "control",
        }
    }
}

/// A command carried by a transient frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    /// The command (data types 7 and 8) or CT (data type 5, transient 2), without
    /// the response bit.
    pub code: u8,
    /// Whether this is the response (subcommand 0x80, or CT bit 7).
    pub response: bool,
}

/// One frame's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Frame type.
    pub frame_type: u8,
    /// Field or Control.
    pub family: Family,
    /// Data type (Field layout).
    pub data_type: Option<u8>,
    /// Node id (Field layout frames that carry one).
    pub node_id: Option<u16>,
    /// Connection info (transient frames).
    pub connection: Option<u8>,
    /// Node type (persuasion, test data, my-status).
    pub node_type: Option<u8>,
    /// Source node number.
    pub src_node: u16,
    /// The command of a transient 1 or 2 frame, where its data type has one.
    pub command: Option<Command>,
    /// The bytes after the header.
    pub body: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

/// Whether a frame type uses the Field layout (`Some(true)`), the Control layout
/// (`Some(false)`), or is unknown.
fn field_layout(t: u8) -> Option<bool> {
    match t {
        0x10..=0x15
        | 0x1c
        | 0x20
        | 0x22
        | 0x23
        | 0x25
        | 0x26
        | 0x28
        | 0x29
        | 0x40..=0x43
        | 0x82..=0x85 => Some(true),
        0x00..=0x06 | 0x24 | 0x2f | 0x80 | 0x81 | 0x8c..=0x8f => Some(false),
        _ => None,
    }
}

/// Parses the header (and a transient frame's command); `None` for an empty payload.
/// A frame shorter than the header is flagged `bad_length`; an unknown frame type
/// `unknown_function`.
pub fn parse_frame(b: &[u8]) -> Option<Frame<'_>> {
    let frame_type = *b.first()?;
    let mut flags = Flags::default();
    let layout = field_layout(frame_type);
    if layout.is_none() {
        flags.set(Flags::UNKNOWN_FUNCTION);
    }
    let field = layout.unwrap_or(true);
    let Some(h) = b.get(..HEADER) else {
        flags.set(Flags::BAD_LENGTH);
        return Some(Frame {
            frame_type,
            family: if field {
                Family::Field
            } else {
                Family::Control
            },
            data_type: None,
            node_id: None,
            connection: None,
            node_type: None,
            src_node: 0,
            command: None,
            body: &[],
            flags,
        });
    };
    let src_node = u16::from_be_bytes([h[6], h[7]]);
    let body = &b[HEADER..];
    if !field {
        return Some(Frame {
            frame_type,
            family: Family::Control,
            data_type: None,
            node_id: None,
            connection: None,
            node_type: None,
            src_node,
            command: None,
            body,
            flags,
        });
    }
    let family = match h[8] {
        0 => Family::Control,
        1 => Family::Field,
        _ => {
            flags.set(Flags::RESERVED_SET);
            Family::Field
        }
    };
    let data_type = h[1];
    let node_id = match frame_type {
        0x10..=0x12 | 0x14 | 0x1c => None,
        _ => Some(u16::from_be_bytes([h[2], h[3]])),
    };
    let connection = matches!(frame_type, 0x22 | 0x23 | 0x25 | 0x26 | 0x28 | 0x29).then_some(h[4]);
    let node_type = matches!(frame_type, 0x10..=0x12 | 0x20).then_some(h[5]);
    let command = match (frame_type, data_type) {
        (TRANSIENT1, 0x05) => body.get(16 + 22).map(|&ct| ct_command(ct)),
        (TRANSIENT1, 0x07 | 0x08) => match body.get(16..18) {
            Some(&[command, sub]) => Some(Command {
                code: command,
                response: sub & 0x80 != 0,
            }),
            _ => None,
        },
        (TRANSIENT2, _) => body.get(22).map(|&ct| ct_command(ct)),
        _ => None,
    };
    if matches!(frame_type, TRANSIENT1 | TRANSIENT2) && command.is_none() && body.len() < 16 {
        flags.set(Flags::BAD_LENGTH);
    }
    Some(Frame {
        frame_type,
        family,
        data_type: Some(data_type),
        node_id,
        connection,
        node_type,
        src_node,
        command,
        body,
        flags,
    })
}

fn ct_command(ct: u8) -> Command {
    Command {
        code: ct & 0x7f,
        response: ct & 0x80 != 0,
    }
}

/// A frame type's name and category (for the frames counted per minute).
pub fn describe_frame_type(t: u8) -> Function {
    use Category::*;
    let (name, category) = tables::cclink_ie::frame_type(t).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(t),
        name,
        category,
    }
}

/// A transient command's name and category; `None` when the frame's data type has no
/// command this module knows of.
pub fn describe_command(frame_type: u8, data_type: u8, code: u8) -> Option<Function> {
    let (name, category) = tables::cclink_ie::command((frame_type, data_type, code))?;
    Some(Function {
        code: (u32::from(frame_type) << 16) | (u32::from(data_type) << 8) | u32::from(code),
        name,
        category,
    })
}

/// What frames counted in one per-minute record have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CountKey {
    /// Source MAC (`orig_l2_addr`).
    pub orig: MacAddr,
    /// Destination MAC (`resp_l2_addr`).
    pub resp: MacAddr,
    /// Field or Control.
    pub family: Family,
    /// Frame type.
    pub frame_type: u8,
    /// Source node number.
    pub src_node: u16,
    /// Node id, where the frame has one.
    pub node_id: Option<u16>,
}

/// What a transient response is matched on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Key {
    client: MacAddr,
    server: MacAddr,
    frame_type: u8,
    data_type: u8,
    code: u8,
}

/// CC-Link IE state for one capture interface: per-minute counts, transient requests
/// waiting for responses (bounded), counters.
#[derive(Debug)]
pub struct Session {
    counts: MinuteAggregator<CountKey>,
    pending: Pending<Key>,
    /// Frames per frame type seen (index = frame type).
    pub frame_types: [u64; 256],
    /// Transient responses that matched no request.
    pub unsolicited: u64,
}

impl Default for Session {
    fn default() -> Self {
        Session {
            counts: MinuteAggregator::with_max_open(MAX_OPEN_RECORDS),
            pending: Pending::new(MAX_OUTSTANDING, WINDOW_NS),
            frame_types: [0; 256],
            unsolicited: 0,
        }
    }
}

fn target(f: &Frame<'_>) -> String {
    let mut t = format!("src_node {}", f.src_node);
    if let Some(id) = f.node_id {
        let _ = write!(t, " node_id {id}");
    }
    if let Some(c) = f.connection {
        let _ = write!(t, " connection 0x{c:02x}");
    }
    if let Some(n) = f.node_type {
        let _ = write!(t, " node_type 0x{n:02x}");
    }
    t
}

impl Session {
    /// Takes one frame: `payload` is what follows the EtherType 0x890F, `src` and
    /// `dst` the Ethernet addresses, `ts` nanoseconds since the epoch. Transient
    /// operations go to `ops`, closed per-minute records to `counts`. Returns false
    /// for an empty payload.
    pub fn on_frame(
        &mut self,
        src: MacAddr,
        dst: MacAddr,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<L2Operation>,
        counts: &mut Vec<Aggregate<CountKey>>,
    ) -> bool {
        self.pending.expire(ts, ops);
        let Some(f) = parse_frame(payload) else {
            return false;
        };
        self.frame_types[usize::from(f.frame_type)] += 1;
        if let (Some(cmd), Some(dt)) = (f.command, f.data_type)
            && let Some(function) = describe_command(f.frame_type, dt, cmd.code)
        {
            self.on_transient(src, dst, ts, &f, cmd, dt, function, ops);
            return true;
        }
        let key = CountKey {
            orig: src,
            resp: dst,
            family: f.family,
            frame_type: f.frame_type,
            src_node: f.src_node,
            node_id: f.node_id,
        };
        let make = || {
            let mut function = describe_frame_type(f.frame_type);
            if f.command.is_some() {
                // A transient command this module does not know.
                function.name = "unknown_command";
            }
            OtOperation {
                protocol: PROTOCOL,
                pdu: Some(f.family.as_str()),
                function,
                target: target(&f),
                status: Status::Ok,
                flags: Flags::default(),
                ts,
            }
        };
        self.counts.add(ts, key, f.flags, make, counts);
        true
    }

    #[allow(clippy::too_many_arguments)]
    fn on_transient(
        &mut self,
        src: MacAddr,
        dst: MacAddr,
        ts: i64,
        f: &Frame<'_>,
        cmd: Command,
        data_type: u8,
        function: Function,
        ops: &mut Vec<L2Operation>,
    ) {
        if cmd.response {
            let matches = |k: &Key| {
                k.client == dst
                    && k.server == src
                    && k.frame_type == f.frame_type
                    && k.data_type == data_type
                    && k.code == cmd.code
            };
            match self.pending.take(matches) {
                Some(mut done) => {
                    done.op.status = Status::Ok;
                    done.op.flags.0 |= f.flags.0;
                    ops.push(done);
                }
                None => self.unsolicited += 1,
            }
            return;
        }
        let op = L2Operation {
            orig: src,
            resp: dst,
            op: OtOperation {
                protocol: PROTOCOL,
                pdu: Some(f.family.as_str()),
                function,
                target: target(f),
                status: Status::NoResponse,
                flags: f.flags,
                ts,
            },
        };
        let key = Key {
            client: src,
            server: dst,
            frame_type: f.frame_type,
            data_type,
            code: cmd.code,
        };
        self.pending.push(key, op, ops);
    }

    /// Reports transient requests whose window closed before `now`.
    pub fn tick(&mut self, now: i64, ops: &mut Vec<L2Operation>) {
        self.pending.expire(now, ops);
    }

    /// The capture ended: open records close, waiting requests are unanswered.
    pub fn finish(&mut self, ops: &mut Vec<L2Operation>, counts: &mut Vec<Aggregate<CountKey>>) {
        self.counts.flush(counts);
        self.pending.drain(ops);
    }
}

#[cfg(test)]
mod tests;
