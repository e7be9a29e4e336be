//! DNP3 (IEEE 1815), over TCP and UDP port 20000, in three layers:
//!
//! - [`link`]: frames (`0x05 0x64`, length, control, addresses, CRC-16/DNP every 16
//!   bytes). A link frame is the PDU [`crate::stream::StreamBuffer`] frames a TCP
//!   stream into, and what a UDP datagram holds one or more of.
//! - [`transport`]: one octet per frame (FIR, FIN, sequence) joining the user data of
//!   successive frames into an application fragment, per direction, bounded.
//! - [`app`]: the fragment's control (FIR, FIN, CON, UNS, sequence), function code,
//!   internal indications (responses) and object headers.
//!
//! [`Session`] runs the upper two layers for one flow and turns fragments into
//! [`OtOperation`]s:
//!
//! - A **request** is an application fragment sent by the master (link DIR bit set)
//!   with a function code below 128. Confirms and the "no ack" functions expect no
//!   response and are recorded `ok` when seen.
//! - A **response** (129, first fragment of its message) from an outstation (DIR
//!   clear) completes the oldest outstanding request with the same application
//!   sequence number. Its status is `exception:<IIN2 & 0x07>` when IIN2 says
//!   function code not supported (1), object unknown (2) or parameter error (4),
//!   summed when several are set; `ok` otherwise. A response matching nothing is
//!   counted in [`Session::unsolicited`].
//! - **Unsolicited responses** (130) and authentication responses (131) are not
//!   requests and answer none.
//!
//! The target names the outstation and the first object header: `dst 10 g12v1 index 3`.
//! The direction of a frame comes from its DIR bit, not from the flow, so a capture
//! that starts mid-conversation (or an outstation that connects out) is read right.

pub mod app;
pub mod link;
pub mod transport;

use std::collections::VecDeque;

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};
use crate::record::{IdentityFact, IdentityKind, OtOperation, Status, Subject};

pub use link::{Frame, Parser};

/// `ot.jsonl`'s protocol name.
pub const PROTOCOL: &str = "dnp3";
/// The registered port (TCP and UDP).
pub const PORT: u16 = 20000;
/// Requests remembered per flow while waiting for their responses (the application
/// sequence number has sixteen values).
pub const MAX_OUTSTANDING: usize = 16;
/// Transport reassemblies per flow: one per direction and link source address (a
/// gateway may carry several outstations on one connection). Beyond it the least
/// recently used is dropped.
pub const MAX_STATIONS: usize = 16;
/// Destination addresses from 0xFFFD up are broadcasts, which outstations do not answer.
pub const BROADCAST: u16 = 0xfffd;

/// A request waiting for its response.
#[derive(Debug)]
struct Pending {
    seq: u8,
    outstation: u16,
    op: OtOperation,
}

/// One station's transport reassembly in one direction.
#[derive(Debug)]
struct Station {
    dir: Direction,
    source: u16,
    reassembler: transport::Reassembler,
}

/// Counters of one flow's DNP3 traffic below the application layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Link frames seen.
    pub frames: u64,
    /// Link frames with a failed data CRC (their user data was ignored).
    pub bad_crc: u64,
    /// Application fragments completed.
    pub fragments: u64,
}

/// Per-flow DNP3 state: transport reassembly per direction and source address,
/// outstanding requests (both bounded).
#[derive(Debug, Default)]
pub struct Session {
    /// Most recently used last.
    stations: Vec<Station>,
    /// Segments dropped by reassemblies since evicted or reset.
    dropped: u64,
    outstanding: VecDeque<Pending>,
    /// Responses that matched no outstanding request.
    pub unsolicited: u64,
    /// Frame and fragment counters.
    pub counters: Counters,
}

impl Session {
    /// Takes one link frame travelling in `dir` (the flow direction, which keys the
    /// transport reassembly) at `ts` (nanoseconds); finished operations go to `ops`.
    pub fn on_frame(
        &mut self,
        dir: Direction,
        ts: i64,
        frame: &Frame,
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) {
        self.counters.frames += 1;
        if frame.flags.has(link::BAD_CRC) {
            self.counters.bad_crc += 1;
        }
        if !frame.carries_segment() {
            return;
        }
        let reassembler = reassembler(&mut self.stations, &mut self.dropped, dir, frame.source);
        if reassembler.segment(frame.user_data()) != transport::Step::Complete {
            return;
        }
        self.counters.fragments += 1;
        let Some(fragment) = app::parse(reassembler.fragment()) else {
            return;
        };
        let mut flags = fragment.flags;
        // A frame with a bad CRC carries no segment, so none reaches an operation.
        flags.0 |= frame.flags.0;
        if frame.from_master() {
            if fragment.is_response() {
                return;
            }
            let target = match app::first_object(fragment.objects) {
                Some(object) => format!("dst {} {object}", frame.destination),
                None => format!("dst {}", frame.destination),
            };
            let mut op = OtOperation {
                protocol: PROTOCOL,
                pdu: None,
                function: app::describe(fragment.function),
                target,
                status: Status::NoResponse,
                flags,
                ts,
            };
            if app::expects_no_response(fragment.function) || frame.destination >= BROADCAST {
                op.status = Status::Ok;
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
                seq: fragment.seq(),
                outstation: frame.destination,
                op,
            });
        } else if fragment.function == app::RESPONSE
            || fragment.function == app::UNSOLICITED_RESPONSE
        {
            identity(dir, fragment.objects, facts);
            if fragment.function == app::RESPONSE && fragment.first() {
                let (seq, iin) = (fragment.seq(), fragment.iin);
                self.on_response(frame.source, seq, iin, flags, ops);
            }
        }
    }

    /// A solicited response's first fragment from `outstation` (sequence `seq`,
    /// internal indications `iin`) completes the oldest request outstanding to that
    /// outstation with that sequence.
    fn on_response(
        &mut self,
        outstation: u16,
        seq: u8,
        iin: Option<[u8; 2]>,
        flags: Flags,
        ops: &mut Vec<OtOperation>,
    ) {
        let Some(i) = self
            .outstanding
            .iter()
            .position(|p| p.seq == seq && p.outstation == outstation)
        else {
            self.unsolicited += 1;
            return;
        };
        let Some(mut done) = self.outstanding.remove(i) else {
            return;
        };
        let refused = iin.map_or(0, |[_, iin2]| iin2 & app::IIN2_REFUSED);
        done.op.status = if refused != 0 {
            Status::Exception(u32::from(refused))
        } else {
            Status::Ok
        };
        done.op.flags.0 |= flags.0;
        ops.push(done.op);
    }

    /// Takes one UDP datagram's payload: every link frame in it, in order. Returns
    /// false (and does nothing) when the payload does not start with a whole DNP3 frame;
    /// bytes after the last whole frame are ignored.
    pub fn on_datagram(
        &mut self,
        dir: Direction,
        ts: i64,
        payload: &[u8],
        ops: &mut Vec<OtOperation>,
        facts: &mut Vec<IdentityFact>,
    ) -> bool {
        let mut at = 0;
        while at < payload.len() {
            match Parser.parse(dir, &payload[at..]) {
                Parsed::Pdu { pdu, consumed } => {
                    self.on_frame(dir, ts, &pdu, ops, facts);
                    at += consumed.max(1);
                }
                Parsed::Incomplete { .. } | Parsed::NotThisProtocol => break,
            }
        }
        at > 0
    }

    /// The TCP stream in `dir` lost bytes: its unfinished fragment is gone.
    pub fn gap(&mut self, dir: Direction) {
        for station in self.stations.iter_mut().filter(|s| s.dir == dir) {
            station.reassembler.reset();
        }
    }

    /// Transport segments or partial fragments dropped, both directions.
    pub fn transport_drops(&self) -> u64 {
        self.dropped
            + self
                .stations
                .iter()
                .map(|s| s.reassembler.drops)
                .sum::<u64>()
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

/// The transport reassembly for `source`'s frames travelling in `dir`.
fn reassembler<'s>(
    stations: &'s mut Vec<Station>,
    dropped: &mut u64,
    dir: Direction,
    source: u16,
) -> &'s mut transport::Reassembler {
    let i = match stations
        .iter()
        .position(|s| s.dir == dir && s.source == source)
    {
        Some(i) => i,
        None => {
            if stations.len() >= MAX_STATIONS {
                let old = stations.remove(0);
                *dropped += old.reassembler.drops;
            }
            stations.push(Station {
                dir,
                source,
                reassembler: transport::Reassembler::default(),
            });
            stations.len() - 1
        }
    };
    // Keep the most recently used last.
    let station = stations.remove(i);
    stations.push(station);
    let last = stations.len() - 1;
    &mut stations[last].reassembler
}

/// Device attributes (group 0) a response carries, as identity facts about the
/// station that sent it (`about`): manufacturer (variation 252), product name and
/// model (250), serial number (248), user-assigned device name (247), software
/// version (242).
fn identity(about: Direction, objects: &[u8], facts: &mut Vec<IdentityFact>) {
    for (variation, value) in app::device_attributes(objects) {
        let kind = match variation {
            252 => IdentityKind::Vendor,
            250 => IdentityKind::Product,
            248 => IdentityKind::Serial,
            247 => IdentityKind::Hostname,
            242 => IdentityKind::Firmware,
            _ => continue,
        };
        let value = String::from_utf8_lossy(value).trim().to_string();
        if !value.is_empty() {
            facts.push(IdentityFact {
                about: Subject::Side(about),
                kind,
                value,
                protocol: PROTOCOL,
            });
        }
    }
}

#[cfg(test)]
mod tests;
