//! Zeek-compatible TCP endpoint states, `history` and `conn_state`.
//!
//! Each side of a connection moves through [`EndpointState`]s as its flags are seen;
//! the pair of states at the end gives Zeek's `conn_state` (`S0`, `SF`, `REJ`, ...).
//! `history` records, in order, the first time each event happened per direction:
//! upper case for the originator, lower case for the responder.

use mamori_wire::decode::TcpFlags;

use crate::key::Direction;

/// What one side of a TCP connection has done, as Zeek tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EndpointState {
    /// Nothing seen from this side.
    #[default]
    Inactive,
    /// Sent a SYN.
    SynSent,
    /// Sent a SYN-ACK.
    SynAckSent,
    /// Sent traffic without a SYN being seen (joined mid-stream).
    Partial,
    /// The three-way handshake completed.
    Established,
    /// Sent a FIN.
    Closed,
    /// Sent a RST.
    Reset,
}

/// The letters of a connection's history, at most [`History::CAPACITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    letters: [u8; Self::CAPACITY],
    len: u8,
    /// Bit per (letter, direction) already recorded.
    seen: u32,
}

impl Default for History {
    fn default() -> Self {
        History {
            letters: [0; Self::CAPACITY],
            len: 0,
            seen: 0,
        }
    }
}

/// History events, with their Zeek letter (originator's form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Event {
    /// A SYN without ACK.
    Syn = b'S',
    /// A SYN-ACK.
    SynAck = b'H',
    /// A pure ACK.
    Ack = b'A',
    /// Payload data.
    Data = b'D',
    /// A FIN.
    Fin = b'F',
    /// A RST.
    Rst = b'R',
    /// A segment with a bad checksum.
    BadChecksum = b'C',
    /// A content gap.
    Gap = b'G',
    /// A retransmission.
    Retransmit = b'T',
    /// An inconsistent packet (e.g. SYN with RST).
    Inconsistent = b'I',
    /// A multi-flag packet (SYN with FIN or RST).
    MultiFlag = b'Q',
    /// A zero window advertisement.
    ZeroWindow = b'W',
}

impl Event {
    fn bit(self, dir: Direction) -> u32 {
        let i = match self {
            Event::Syn => 0,
            Event::SynAck => 1,
            Event::Ack => 2,
            Event::Data => 3,
            Event::Fin => 4,
            Event::Rst => 5,
            Event::BadChecksum => 6,
            Event::Gap => 7,
            Event::Retransmit => 8,
            Event::Inconsistent => 9,
            Event::MultiFlag => 10,
            Event::ZeroWindow => 11,
        };
        1 << (i * 2 + dir.index())
    }
}

impl History {
    /// Most letters kept; later events are still reflected in the state.
    pub const CAPACITY: usize = 24;

    /// Records `event` in `dir` if it is the first of its kind in that direction.
    pub fn record(&mut self, event: Event, dir: Direction) {
        let bit = event.bit(dir);
        if self.seen & bit != 0 {
            return;
        }
        self.seen |= bit;
        self.push(match dir {
            Direction::Orig => event as u8,
            Direction::Resp => (event as u8).to_ascii_lowercase(),
        });
    }

    /// Records that the roles were flipped from the first packet's guess (`^`).
    pub fn record_flip(&mut self) {
        self.push(b'^');
    }

    /// Records a raw letter (`^` or the letters of non-TCP flows).
    fn push(&mut self, letter: u8) {
        if usize::from(self.len) < Self::CAPACITY {
            self.letters[usize::from(self.len)] = letter;
            self.len += 1;
        }
    }

    /// Swaps originator and responder letters (after the roles were flipped).
    pub fn swap_directions(&mut self) {
        for l in &mut self.letters[..usize::from(self.len)] {
            if l.is_ascii_uppercase() {
                *l = l.to_ascii_lowercase();
            } else if l.is_ascii_lowercase() {
                *l = l.to_ascii_uppercase();
            }
        }
        let even = self.seen & 0x5555_5555;
        let odd = self.seen & 0xaaaa_aaaa;
        self.seen = (even << 1) | (odd >> 1);
    }

    /// The history string.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever pushed.
        std::str::from_utf8(&self.letters[..usize::from(self.len)]).unwrap_or("")
    }

    /// Whether the history matches Zeek's `RSTOS0` pattern: `^?S[^HAFGIQ]*R`.
    fn is_rst_after_lone_syn(&self) -> bool {
        let s = self.as_str().strip_prefix('^').unwrap_or(self.as_str());
        let Some(rest) = s.strip_prefix('S') else {
            return false;
        };
        for c in rest.chars() {
            match c {
                'R' => return true,
                'H' | 'A' | 'F' | 'G' | 'I' | 'Q' => return false,
                _ => {}
            }
        }
        false
    }
}

/// Per-connection TCP state: both endpoints and the history.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpState {
    /// Originator and responder states.
    pub endpoints: [EndpointState; 2],
    syn_seen: [bool; 2],
}

impl TcpState {
    /// Updates states and history for a segment travelling in `dir`.
    pub fn on_segment(
        &mut self,
        dir: Direction,
        flags: TcpFlags,
        payload_len: u32,
        window: u16,
        history: &mut History,
    ) {
        let me = dir.index();
        let peer = dir.reverse().index();
        let (syn, ack, fin, rst) = (flags.syn(), flags.ack(), flags.fin(), flags.rst());
        if syn && (fin || rst) {
            history.record(Event::MultiFlag, dir);
        }
        if syn {
            history.record(if ack { Event::SynAck } else { Event::Syn }, dir);
        }
        if fin {
            history.record(Event::Fin, dir);
        }
        if rst {
            history.record(Event::Rst, dir);
        }
        if payload_len > 0 {
            history.record(Event::Data, dir);
        } else if ack && !syn && !fin && !rst {
            history.record(Event::Ack, dir);
        }
        if window == 0 && !syn && !rst {
            history.record(Event::ZeroWindow, dir);
        }

        let state = &mut self.endpoints[me];
        if rst {
            *state = EndpointState::Reset;
            return;
        }
        if syn {
            self.syn_seen[me] = true;
            if matches!(*state, EndpointState::Inactive | EndpointState::Partial) {
                *state = if ack {
                    EndpointState::SynAckSent
                } else {
                    EndpointState::SynSent
                };
            }
        } else if *state == EndpointState::Inactive && (ack || payload_len > 0 || fin) {
            *state = EndpointState::Partial;
        }
        // The handshake completes when one side acknowledges after both sent SYNs.
        if ack && !syn && self.syn_seen[me] && self.syn_seen[peer] {
            for s in &mut self.endpoints {
                if matches!(*s, EndpointState::SynSent | EndpointState::SynAckSent) {
                    *s = EndpointState::Established;
                }
            }
        }
        if fin && self.endpoints[me] != EndpointState::Reset {
            self.endpoints[me] = EndpointState::Closed;
        }
    }

    /// Both sides sent a FIN, or someone sent a RST: the connection is over.
    pub fn is_finished(&self) -> bool {
        let [o, r] = self.endpoints;
        o == EndpointState::Reset
            || r == EndpointState::Reset
            || (o == EndpointState::Closed && r == EndpointState::Closed)
    }

    /// Swaps the endpoints (after the roles were flipped).
    pub fn swap(&mut self) {
        self.endpoints.swap(0, 1);
        self.syn_seen.swap(0, 1);
    }

    /// Zeek's `conn_state` for a TCP connection.
    pub fn conn_state(&self, history: &History, orig_bytes: u64, resp_bytes: u64) -> &'static str {
        use EndpointState::*;
        let [os, rs] = self.endpoints;
        let o_inactive = matches!(os, Inactive | Partial);
        let r_inactive = matches!(rs, Inactive | Partial);
        if rs == Reset {
            if matches!(os, SynSent | SynAckSent)
                || (os == Reset && orig_bytes == 0 && resp_bytes == 0)
            {
                "REJ"
            } else if o_inactive {
                "RSTRH"
            } else {
                "RSTR"
            }
        } else if os == Reset {
            if r_inactive {
                if history.is_rst_after_lone_syn() {
                    "RSTOS0"
                } else {
                    "OTH"
                }
            } else {
                "RSTO"
            }
        } else if rs == Closed && os == Closed {
            "SF"
        } else if os == Closed {
            if r_inactive { "SH" } else { "S2" }
        } else if rs == Closed {
            if o_inactive { "SHR" } else { "S3" }
        } else if os == SynSent && rs == Inactive {
            "S0"
        } else if os == Established && rs == Established {
            "S1"
        } else {
            "OTH"
        }
    }
}

/// Zeek's `conn_state` for UDP and other connectionless flows.
pub fn connectionless_state(orig_pkts: u64, resp_pkts: u64) -> &'static str {
    match (orig_pkts > 0, resp_pkts > 0) {
        (true, true) => "SF",
        (true, false) => "S0",
        (false, true) => "SHR",
        (false, false) => "OTH",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::{Orig, Resp};

    const SYN: u8 = TcpFlags::SYN;
    const ACK: u8 = TcpFlags::ACK;
    const FIN: u8 = TcpFlags::FIN;
    const RST: u8 = TcpFlags::RST;

    fn run(segments: &[(Direction, u8, u32)]) -> (String, &'static str) {
        let mut state = TcpState::default();
        let mut history = History::default();
        let (mut ob, mut rb) = (0u64, 0u64);
        for &(dir, flags, len) in segments {
            state.on_segment(dir, TcpFlags(flags), len, 1000, &mut history);
            if dir == Orig {
                ob += u64::from(len)
            } else {
                rb += u64::from(len)
            }
        }
        (
            history.as_str().to_string(),
            state.conn_state(&history, ob, rb),
        )
    }

    #[test]
    fn full_conversation_is_sf() {
        let (h, s) = run(&[
            (Orig, SYN, 0),
            (Resp, SYN | ACK, 0),
            (Orig, ACK, 0),
            (Orig, ACK, 10),
            (Resp, ACK, 20),
            (Orig, FIN | ACK, 0),
            (Resp, FIN | ACK, 0),
            (Orig, ACK, 0),
        ]);
        assert_eq!(h, "ShADdFf");
        assert_eq!(s, "SF");
    }

    #[test]
    fn unanswered_syn_is_s0() {
        assert_eq!(run(&[(Orig, SYN, 0), (Orig, SYN, 0)]), ("S".into(), "S0"));
    }

    #[test]
    fn syn_answered_by_rst_is_rej() {
        assert_eq!(
            run(&[(Orig, SYN, 0), (Resp, RST | ACK, 0)]),
            ("Sr".into(), "REJ")
        );
    }

    #[test]
    fn syn_then_own_rst_is_rstos0() {
        assert_eq!(run(&[(Orig, SYN, 0), (Orig, RST, 0)]).1, "RSTOS0");
    }

    #[test]
    fn established_then_reset_by_either_side() {
        let hs = [(Orig, SYN, 0), (Resp, SYN | ACK, 0), (Orig, ACK, 0)];
        let mut o = hs.to_vec();
        o.push((Orig, RST, 0));
        assert_eq!(run(&o).1, "RSTO");
        let mut r = hs.to_vec();
        r.push((Resp, RST, 0));
        assert_eq!(run(&r).1, "RSTR");
        assert_eq!(run(&hs).1, "S1");
    }

    #[test]
    fn half_closes() {
        let hs = [(Orig, SYN, 0), (Resp, SYN | ACK, 0), (Orig, ACK, 0)];
        let mut o = hs.to_vec();
        o.push((Orig, FIN | ACK, 0));
        assert_eq!(run(&o).1, "S2");
        let mut r = hs.to_vec();
        r.push((Resp, FIN | ACK, 0));
        assert_eq!(run(&r).1, "S3");
        assert_eq!(run(&[(Orig, SYN, 0), (Orig, FIN, 0)]).1, "SH");
    }

    #[test]
    fn midstream_is_oth() {
        assert_eq!(run(&[(Orig, ACK, 5), (Resp, ACK, 5)]), ("Dd".into(), "OTH"));
    }

    #[test]
    fn swapping_directions_swaps_letters() {
        let mut h = History::default();
        h.record(Event::SynAck, Orig);
        h.record_flip();
        h.swap_directions();
        assert_eq!(h.as_str(), "h^");
        h.record(Event::SynAck, Resp);
        assert_eq!(
            h.as_str(),
            "h^",
            "an event already seen in a direction is not repeated"
        );
    }
}
