//! CC-Link IE Field Basic (CCIEFB), over UDP: cyclic link scans on port 61450, slave
//! discovery and IP setting on 61451.
//!
//! CCIEFB frames are binary SLMP frames (all fields little-endian) whose command is
//! CCIEFB's own. The master broadcasts one cyclic request per group of slaves to its
//! subnet's directed broadcast address; every slave of the group answers by unicast.
//! Layout (CLPA BAP-C2010ENG-004, as public implementations describe it, checked
//! against `nttcom-cclinkiefb_cclink_ief_basic_only.pcap`):
//!
//! ```text
//! request:  0x50 0x00 | network 0x00 | station 0xFF | I/O 0x03FF (LE) | multidrop 0x00
//!           | data length u16 (bytes after it) | reserved u16 | command u16 | subcommand u16
//!   cyclic (command 0x0E70), from byte 15:
//!           protocol version u16 | reserved u16 | cyclic info offset u16 (from byte 11) | 14 reserved
//!           master notification: unit info u16 (0 stopped, 1 running, 2 stopped by user)
//!             | reserved u16 | clock u64 (Unix ms; the NTT capture's master sends local time)
//!           data header: master id (IPv4, LE) u32 | group u8 | reserved u8 | frame sequence u16
//!             | timeout ms u16 | parallel-off timeout count u16 | parameter no u16
//!             | occupied stations u16 | cyclic transmission state u16 | reserved u16
//!           slave ids (IPv4, LE) u32 × stations | RWw 64 bytes × stations | RY 8 bytes × stations
//! response: 0xD0 0x00 | network | station | I/O | multidrop | data length u16 | end code u16
//!   cyclic, from byte 11:
//!           protocol version u16 | end code u16 | cyclic info offset u16 | 14 reserved
//!           slave notification: vendor code u16 | reserved u16 | model code u32
//!             | equipment version u16 | reserved u16 | unit info u16 (bit 0 running)
//!             | slave error code u16 | local management info u32
//!           data header: slave id (IPv4, LE) u32 | group u8 | reserved u8 | frame sequence u16
//!           RWr 64 bytes × stations | RX 8 bytes × stations
//! ```
//!
//! Entry point: [`Session::on_datagram`], one session per UDP flow. A request and its
//! responses travel in different flows (broadcast out, unicast back), so cyclic
//! frames are not paired: each flow's cyclic requests and responses are counted per
//! minute ([`MinuteAggregator`], `category` `cyclic`, `function` 0x0E70, `pdu`
//! `request` or `response`). A record closes when the minute ends or when what it
//! describes changes: the group, the number of stations, the master's or slave's run
//! state (a master that stops shows as a new record `master stopped`), the parameter
//! number, or a response's end code (`exception:<end code>`: 0xCFE0 master
//! duplication, 0xCFE1 wrong number of occupied stations, 0xCFF0 slave error, 0xCFFF
//! the slave disconnects).
//!
//! Node search (0x0E30, `identify`) and IP address set (0x0E31, `write`) requests are
//! operations of their own, answered by the next response travelling back on the same
//! flow (their status the SLMP end code). Other SLMP commands are not this module's
//! (`on_datagram` returns false; the SLMP dissector takes them).
//!
//! Identity (cyclic responses): a slave's vendor code, model code and equipment version
//! about the responding side, each time they change.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use mamori_flow::Direction;

use crate::contract::Flags;
use crate::ot::cyclic::{Aggregate, MinuteAggregator};
use crate::ot::tables;
use crate::record::{Category, Function, IdentityFact, IdentityKind, OtOperation, Status, Subject};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "cclink-ief-basic";
/// Cyclic data port.
pub const PORT_CYCLIC: u16 = 61450;
/// Slave discovery (node search, IP address set) port.
pub const PORT_DISCOVERY: u16 = 61451;
/// The cyclic data command.
pub const COMMAND_CYCLIC: u16 = 0x0e70;
/// Node search.
pub const COMMAND_NODE_SEARCH: u16 = 0x0e30;
/// IP address set.
pub const COMMAND_IP_SET: u16 = 0x0e31;
/// Node search and IP set requests remembered per flow.
pub const MAX_OUTSTANDING: usize = 16;

/// Request header bytes (through the subcommand).
const REQ_HEADER: usize = 15;
/// Response header bytes (through the end code).
const RSP_HEADER: usize = 11;
/// Bytes of one station's RWw or RWr words.
const RW_BYTES: usize = 64;
/// Bytes of one station's RX or RY bits.
const RXY_BYTES: usize = 8;

/// A CCIEFB frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// A cyclic data request from the master.
    CyclicRequest(CyclicRequest),
    /// A cyclic data response from a slave.
    CyclicResponse(CyclicResponse),
    /// Another CCIEFB command (node search, IP address set).
    Request {
        /// Command.
        command: u16,
        /// Subcommand.
        subcommand: u16,
        /// Violations seen.
        flags: Flags,
    },
    /// A response that is not cyclic data (its command is the request's).
    Response {
        /// SLMP end code.
        end_code: u16,
        /// Violations seen.
        flags: Flags,
    },
}

/// A cyclic data request's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicRequest {
    /// Protocol version (1 or 2).
    pub version: u16,
    /// Master application state (0 stopped, 1 running, 2 stopped by user).
    pub master_state: u16,
    /// Master clock, Unix milliseconds.
    pub clock_ms: u64,
    /// Master id: its IP address.
    pub master: Ipv4Addr,
    /// Group number (1..=64).
    pub group: u8,
    /// Frame sequence number.
    pub sequence: u16,
    /// Response timeout, milliseconds.
    pub timeout_ms: u16,
    /// Parameter number (changes when the master's configuration does).
    pub parameter_no: u16,
    /// Stations occupied in the group.
    pub stations: u16,
    /// Cyclic transmission state, one bit per station.
    pub transmission_state: u16,
    /// RWw bytes carried (64 per station).
    pub rww_bytes: usize,
    /// RY bytes carried (8 per station).
    pub ry_bytes: usize,
    /// Violations seen.
    pub flags: Flags,
}

/// A cyclic data response's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CyclicResponse {
    /// Protocol version.
    pub version: u16,
    /// End code (0 no error).
    pub end_code: u16,
    /// Slave vendor code.
    pub vendor: u16,
    /// Slave model code.
    pub model: u32,
    /// Slave equipment version.
    pub equipment_version: u16,
    /// Slave application state (bit 0: running).
    pub slave_state: u16,
    /// Slave's own error code.
    pub slave_error: u16,
    /// Slave id: its IP address.
    pub slave: Ipv4Addr,
    /// Group number.
    pub group: u8,
    /// Frame sequence number (the request's).
    pub sequence: u16,
    /// Stations the data covers (RWr and RX sizes say).
    pub stations: usize,
    /// Violations seen.
    pub flags: Flags,
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Checks the fixed SLMP routing fields and the data length; `None` when the bytes are
/// not a binary SLMP frame of this shape.
fn header(b: &[u8], subheader: u8, flags: &mut Flags) -> Option<()> {
    let [s0, s1, network, station, io0, io1, drop, l0, l1, ..] = *b else {
        return None;
    };
    if (s0, s1) != (subheader, 0) {
        return None;
    }
    if (network, station, io0, io1, drop) != (0, 0xff, 0xff, 0x03, 0) {
        flags.set(Flags::RESERVED_SET);
    }
    if usize::from(u16::from_le_bytes([l0, l1])) != b.len() - 9 {
        flags.set(Flags::BAD_LENGTH);
    }
    Some(())
}

/// Parses one UDP payload; `None` when it is not CCIEFB.
pub fn parse(b: &[u8]) -> Option<Message> {
    let mut flags = Flags::default();
    match b.first()? {
        0x50 => {
            header(b, 0x50, &mut flags)?;
            if u16_at(b, 9)? != 0 {
                flags.set(Flags::RESERVED_SET);
            }
            let command = u16_at(b, 11)?;
            let subcommand = u16_at(b, 13)?;
            match command {
                COMMAND_CYCLIC => cyclic_request(b, flags).map(Message::CyclicRequest),
                COMMAND_NODE_SEARCH | COMMAND_IP_SET => Some(Message::Request {
                    command,
                    subcommand,
                    flags,
                }),
                _ => None,
            }
        }
        0xd0 => {
            header(b, 0xd0, &mut flags)?;
            let end_code = u16_at(b, 9)?;
            // A cyclic response: protocol version 1 or 2 and the data header where the
            // offset says, or another response.
            let version = u16_at(b, RSP_HEADER);
            let offset = u16_at(b, RSP_HEADER + 4);
            if matches!(version, Some(1 | 2)) && offset == Some(40) {
                cyclic_response(b, end_code, flags).map(Message::CyclicResponse)
            } else {
                Some(Message::Response { end_code, flags })
            }
        }
        _ => None,
    }
}

fn cyclic_request(b: &[u8], mut flags: Flags) -> Option<CyclicRequest> {
    let version = u16_at(b, REQ_HEADER)?;
    if !matches!(version, 1 | 2) {
        flags.set(Flags::RESERVED_SET);
    }
    // The offset counts from byte 11 (the command) to the data header.
    let data = 11 + usize::from(u16_at(b, REQ_HEADER + 4)?);
    if data != 47 {
        flags.set(Flags::BAD_LENGTH);
    }
    let notification = REQ_HEADER + 20;
    let stations = u16_at(b, data + 14)?;
    let n = usize::from(stations);
    // Slave ids, then RWw and RY for each station. (n ≤ 65535: no overflow.)
    let need = data + 20 + n * (4 + RW_BYTES + RXY_BYTES);
    if b.len() != need || !(1..=16).contains(&stations) {
        flags.set(Flags::BAD_LENGTH);
    }
    let present = b.len().saturating_sub(data + 20 + n * 4);
    Some(CyclicRequest {
        version,
        master_state: u16_at(b, notification)?,
        clock_ms: u64_at(b, notification + 4)?,
        master: Ipv4Addr::from(u32_at(b, data)?),
        group: *b.get(data + 4)?,
        sequence: u16_at(b, data + 6)?,
        timeout_ms: u16_at(b, data + 8)?,
        parameter_no: u16_at(b, data + 12)?,
        stations,
        transmission_state: u16_at(b, data + 16)?,
        rww_bytes: present.min(n * RW_BYTES),
        ry_bytes: present.saturating_sub(n * RW_BYTES).min(n * RXY_BYTES),
        flags,
    })
}

fn cyclic_response(b: &[u8], end_code: u16, mut flags: Flags) -> Option<CyclicResponse> {
    let version = u16_at(b, RSP_HEADER)?;
    let cyclic_end = u16_at(b, RSP_HEADER + 2)?;
    let notification = RSP_HEADER + 20;
    let data = RSP_HEADER + 40;
    let payload = b.len().checked_sub(data + 8)?;
    if payload % (RW_BYTES + RXY_BYTES) != 0 {
        flags.set(Flags::BAD_LENGTH);
    }
    Some(CyclicResponse {
        version,
        end_code: if cyclic_end != 0 {
            cyclic_end
        } else {
            end_code
        },
        vendor: u16_at(b, notification)?,
        model: u32_at(b, notification + 4)?,
        equipment_version: u16_at(b, notification + 8)?,
        slave_state: u16_at(b, notification + 12)?,
        slave_error: u16_at(b, notification + 14)?,
        slave: Ipv4Addr::from(u32_at(b, data)?),
        group: *b.get(data + 4)?,
        sequence: u16_at(b, data + 6)?,
        stations: payload / (RW_BYTES + RXY_BYTES),
        flags,
    })
}

/// A command as an operation.
pub fn describe(command: u16) -> Function {
    let (name, category) =
        tables::cclink_iefb::command(command).unwrap_or(("unknown", Category::Other));
    Function {
        code: u32::from(command),
        name,
        category,
    }
}

/// What a cyclic record has in common: a change of any field closes the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CyclicKey {
    /// Master's requests.
    Request {
        /// Group.
        group: u8,
        /// Occupied stations.
        stations: u16,
        /// Master state.
        master_state: u16,
        /// Parameter number.
        parameter_no: u16,
    },
    /// A slave's responses.
    Response {
        /// Group.
        group: u8,
        /// Slave state.
        slave_state: u16,
        /// Slave error code.
        slave_error: u16,
        /// End code.
        end_code: u16,
    },
}

fn master_state(s: u16) -> String {
    match s {
        0 => "stopped".into(),
        1 => "running".into(),
        2 => "stopped_by_user".into(),
        s => format!("state 0x{s:04x}"),
    }
}

/// Per-flow CCIEFB state: the minute's cyclic records, node search and IP set
/// requests waiting for an answer (bounded), the last identity reported.
#[derive(Debug, Default)]
pub struct Session {
    cyclic: MinuteAggregator<CyclicKey>,
    outstanding: VecDeque<(Direction, OtOperation)>,
    identity: Option<(u16, u32, u16)>,
    /// Cyclic requests seen.
    pub cyclic_requests: u64,
    /// Cyclic responses seen.
    pub cyclic_responses: u64,
    /// Responses that answered no request on this flow.
    pub unsolicited: u64,
}

impl Session {
    /// Takes one UDP payload travelling in `dir` at `ts` (nanoseconds). Operations go
    /// to `ops`, closed cyclic records to `cyclic`. Returns false (doing nothing) when
    /// it is not CCIEFB.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<OtOperation>,
        cyclic: &mut Vec<Aggregate<CyclicKey>>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        let Some(msg) = parse(payload) else {
            return false;
        };
        match msg {
            Message::CyclicRequest(r) => {
                self.cyclic_requests += 1;
                let key = CyclicKey::Request {
                    group: r.group,
                    stations: r.stations,
                    master_state: r.master_state,
                    parameter_no: r.parameter_no,
                };
                let make = || OtOperation {
                    protocol: PROTOCOL,
                    pdu: Some("request"),
                    function: describe(COMMAND_CYCLIC),
                    target: format!(
                        "group {} stations {} master {} {} parameter {}",
                        r.group,
                        r.stations,
                        r.master,
                        master_state(r.master_state),
                        r.parameter_no
                    ),
                    status: Status::Ok,
                    flags: Flags::default(),
                    ts,
                };
                self.cyclic.add(ts, key, r.flags, make, cyclic);
            }
            Message::CyclicResponse(r) => {
                self.cyclic_responses += 1;
                let key = CyclicKey::Response {
                    group: r.group,
                    slave_state: r.slave_state,
                    slave_error: r.slave_error,
                    end_code: r.end_code,
                };
                let make = || {
                    let mut target = format!(
                        "group {} slave {} {}",
                        r.group,
                        r.slave,
                        if r.slave_state & 1 == 1 {
                            "running"
                        } else {
                            "stopped"
                        }
                    );
                    if r.slave_error != 0 {
                        let _ = write!(target, " error 0x{:04x}", r.slave_error);
                    }
                    OtOperation {
                        protocol: PROTOCOL,
                        pdu: Some("response"),
                        function: describe(COMMAND_CYCLIC),
                        target,
                        status: match r.end_code {
                            0 => Status::Ok,
                            e => Status::Exception(u32::from(e)),
                        },
                        flags: Flags::default(),
                        ts,
                    }
                };
                self.cyclic.add(ts, key, r.flags, make, cyclic);
                self.identity(dir, &r, facts);
            }
            Message::Request { command, flags, .. } => {
                if self.outstanding.len() >= MAX_OUTSTANDING
                    && let Some((_, old)) = self.outstanding.pop_front()
                {
                    ops.push(old.unanswered(Flags::TOO_MANY_OUTSTANDING));
                }
                let target = match command {
                    COMMAND_IP_SET => "ip address".to_string(),
                    _ => String::new(),
                };
                self.outstanding.push_back((
                    dir,
                    OtOperation {
                        protocol: PROTOCOL,
                        pdu: Some("request"),
                        function: describe(command),
                        target,
                        status: Status::NoResponse,
                        flags,
                        ts,
                    },
                ));
            }
            Message::Response { end_code, flags } => {
                let Some(i) = self.outstanding.iter().position(|(d, _)| *d != dir) else {
                    self.unsolicited += 1;
                    return true;
                };
                if let Some((_, mut op)) = self.outstanding.remove(i) {
                    op.status = match end_code {
                        0 => Status::Ok,
                        e => Status::Exception(u32::from(e)),
                    };
                    op.flags.0 |= flags.0;
                    ops.push(op);
                }
            }
        }
        true
    }

    fn identity(&mut self, dir: Direction, r: &CyclicResponse, facts: &mut Vec<IdentityFact>) {
        let now = (r.vendor, r.model, r.equipment_version);
        if now == (0, 0, 0) || self.identity == Some(now) {
            return;
        }
        self.identity = Some(now);
        let mut push = |kind, value| {
            facts.push(IdentityFact {
                about: Subject::Side(dir),
                kind,
                value,
                protocol: PROTOCOL,
            })
        };
        push(
            IdentityKind::Vendor,
            format!("vendor code 0x{:04x}", r.vendor),
        );
        push(IdentityKind::Model, format!("model code 0x{:08x}", r.model));
        push(
            IdentityKind::Firmware,
            format!("equipment version 0x{:04x}", r.equipment_version),
        );
    }

    /// The flow ended: open cyclic records close, waiting requests are unanswered.
    pub fn finish(&mut self, ops: &mut Vec<OtOperation>, cyclic: &mut Vec<Aggregate<CyclicKey>>) {
        self.cyclic.flush(cyclic);
        ops.extend(
            self.outstanding
                .drain(..)
                .map(|(_, op)| op.unanswered(Flags::NO_RESPONSE)),
        );
    }
}

#[cfg(test)]
mod tests;
