//! TCP framing shared by every stream protocol: bounded buffering and resync.
//!
//! Reassembly (`mamori_flow::reassembly`) delivers in-order bytes and explicit gaps.
//! A [`StreamBuffer`] per direction turns those into whole PDUs for a
//! [`PduParser`]: bytes that complete PDUs are parsed in place (no copy); only the
//! tail of an incomplete PDU is kept, up to the parser's `MAX_PDU`. After a gap the
//! buffer is dropped and the parser is offered every following byte until it
//! recognises a PDU again (bounded by [`MAX_RESYNC_BYTES`]).
//!
//! The first bytes of a stream decide whether it is the protocol at all: if the
//! parser says `NotThisProtocol` before any PDU was recognised, the stream is
//! [`StreamState::NotThisProtocol`] and later bytes are ignored.

use mamori_flow::Direction;

use crate::contract::{Parsed, PduParser};

/// Bytes skipped while looking for the next PDU after a gap before giving up.
pub const MAX_RESYNC_BYTES: usize = 64 * 1024;

/// What the buffer knows about its stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamState {
    /// No PDU yet, nothing against the protocol either.
    #[default]
    Unknown,
    /// At least one PDU parsed.
    Recognised,
    /// Looking for the next PDU after a gap or garbage.
    Resyncing,
    /// The bytes are not this protocol; the stream is ignored from here on.
    NotThisProtocol,
}

/// Counters of one direction's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FramingStats {
    /// PDUs parsed.
    pub pdus: u64,
    /// Bytes skipped to resynchronise.
    pub skipped: u64,
    /// Gaps reported by reassembly.
    pub gaps: u64,
}

/// Frames one direction of a stream into PDUs.
#[derive(Debug, Default)]
pub struct StreamBuffer {
    held: Vec<u8>,
    state: StreamState,
    resync_skipped: usize,
    stats: FramingStats,
}

impl StreamBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The stream's state.
    pub fn state(&self) -> StreamState {
        self.state
    }

    /// Counters.
    pub fn stats(&self) -> FramingStats {
        self.stats
    }

    /// Bytes held for an incomplete PDU.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Takes in-order bytes; calls `on_pdu` for each whole PDU, in order.
    pub fn feed<P: PduParser>(
        &mut self,
        parser: &P,
        dir: Direction,
        bytes: &[u8],
        mut on_pdu: impl FnMut(P::Pdu<'_>),
    ) {
        if self.state == StreamState::NotThisProtocol || bytes.is_empty() {
            return;
        }
        if self.held.is_empty() {
            let used = self.parse_all(parser, dir, bytes, &mut on_pdu);
            self.keep(&bytes[used..], P::MAX_PDU);
        } else {
            self.held.extend_from_slice(bytes);
            let held = std::mem::take(&mut self.held);
            let used = self.parse_all(parser, dir, &held, &mut on_pdu);
            self.held = held;
            self.held.drain(..used);
            if self.held.len() > P::MAX_PDU {
                // Cannot be one PDU any more: drop it and look for the next one.
                self.held.clear();
                self.enter_resync();
            }
        }
    }

    /// Reassembly skipped `len` bytes: whatever was held is lost; resynchronise.
    pub fn gap(&mut self, len: u64) {
        self.stats.gaps += 1;
        self.held.clear();
        if len > 0 && self.state != StreamState::NotThisProtocol {
            self.enter_resync();
        }
    }

    fn enter_resync(&mut self) {
        if self.state != StreamState::NotThisProtocol {
            self.state = StreamState::Resyncing;
            self.resync_skipped = 0;
        }
    }

    fn keep(&mut self, tail: &[u8], max: usize) {
        if tail.len() > max {
            self.enter_resync();
            return;
        }
        self.held.extend_from_slice(tail);
    }

    /// Parses PDUs from `input`; returns how many bytes were used (the rest is an
    /// incomplete PDU, or was given up on).
    fn parse_all<P: PduParser>(
        &mut self,
        parser: &P,
        dir: Direction,
        input: &[u8],
        on_pdu: &mut impl FnMut(P::Pdu<'_>),
    ) -> usize {
        let mut at = 0;
        while at < input.len() {
            match parser.parse(dir, &input[at..]) {
                Parsed::Pdu { pdu, consumed } => {
                    on_pdu(pdu);
                    self.stats.pdus += 1;
                    self.state = StreamState::Recognised;
                    self.resync_skipped = 0;
                    // The contract says 1..=len; clamp so a faulty parser cannot loop or overrun.
                    at += consumed.clamp(1, input.len() - at);
                }
                Parsed::Incomplete { needed } if needed <= P::MAX_PDU => return at,
                Parsed::Incomplete { .. } | Parsed::NotThisProtocol => match self.state {
                    StreamState::Unknown | StreamState::NotThisProtocol => {
                        self.state = StreamState::NotThisProtocol;
                        return input.len();
                    }
                    StreamState::Recognised | StreamState::Resyncing => {
                        self.state = StreamState::Resyncing;
                        self.stats.skipped += 1;
                        self.resync_skipped += 1;
                        at += 1;
                        if self.resync_skipped > MAX_RESYNC_BYTES {
                            self.state = StreamState::NotThisProtocol;
                            return input.len();
                        }
                    }
                },
            }
        }
        at
    }
}
