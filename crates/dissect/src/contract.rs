//! The dissector contract, in one place.
//!
//! A protocol module implements [`PduParser`] for its wire format and a *session*
//! (its own type) that turns PDUs into records: matching a response to its request,
//! merging the response's status into the request's record, and emitting identity
//! facts. [`crate::stream::StreamBuffer`] does the TCP framing for every protocol the
//! same way: it feeds the parser whatever in-order bytes reassembly delivered, keeps
//! what the parser says is incomplete (bounded), and resynchronises after a gap.

use mamori_flow::Direction;

/// What a parser found at the front of its input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A whole PDU that took the first `consumed` bytes (always at least 1).
    Pdu {
        /// The PDU (borrowing the input where it can).
        pdu: T,
        /// Bytes it took.
        consumed: usize,
    },
    /// The input is a plausible start of a PDU that needs `needed` bytes in all.
    Incomplete {
        /// Total bytes the PDU needs (more than the input holds).
        needed: usize,
    },
    /// These bytes are not this protocol (here, at least).
    NotThisProtocol,
}

/// Parses one protocol's PDUs from the front of a byte buffer.
///
/// `parse` must:
/// - return `Pdu` with `consumed >= 1` and `consumed <= input.len()`, or `Incomplete`
///   with `needed > input.len()`, or `NotThisProtocol`;
/// - check every length taken from the wire before using it, and never panic;
/// - accept any `dir`: the same bytes may be a request one way and a response the other.
pub trait PduParser {
    /// The PDU type, usually borrowing from the input.
    type Pdu<'a>;

    /// The largest PDU this protocol allows; a claimed length beyond it is not this protocol.
    const MAX_PDU: usize;

    /// Parses the PDU at the front of `input`, travelling in `dir`.
    fn parse<'a>(&self, dir: Direction, input: &'a [u8]) -> Parsed<Self::Pdu<'a>>;
}

/// Protocol violations found in a PDU that still parsed. Detectors turn these into alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u32);

impl Flags {
    /// A length field disagrees with the bytes present or with another length.
    pub const BAD_LENGTH: u32 = 1 << 0;
    /// A reserved field or bit is not zero (or a fixed field has the wrong value).
    pub const RESERVED_SET: u32 = 1 << 1;
    /// A function or service code the specification does not define.
    pub const UNKNOWN_FUNCTION: u32 = 1 << 2;
    /// A response that answers no outstanding request.
    pub const UNSOLICITED_RESPONSE: u32 = 1 << 3;
    /// A request that was never answered (flow ended, or too many outstanding).
    pub const NO_RESPONSE: u32 = 1 << 4;
    /// Too many requests were outstanding; the oldest was dropped.
    pub const TOO_MANY_OUTSTANDING: u32 = 1 << 5;
    /// Bytes between PDUs were skipped to resynchronise after a gap or garbage.
    pub const RESYNC: u32 = 1 << 6;
    /// A checksum or CRC the protocol carries does not match its bytes (CDP's
    /// checksum, DNP3's link-layer CRCs).
    pub const BAD_CHECKSUM: u32 = 1 << 7;

    /// Sets `bit`.
    pub fn set(&mut self, bit: u32) {
        self.0 |= bit;
    }

    /// Whether `bit` is set.
    pub fn has(self, bit: u32) -> bool {
        self.0 & bit != 0
    }

    /// Names of the set flags, for logs.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        const NAMES: [&str; 8] = [
            "bad_length",
            "reserved_set",
            "unknown_function",
            "unsolicited_response",
            "no_response",
            "too_many_outstanding",
            "resync",
            "bad_checksum",
        ];
        NAMES
            .into_iter()
            .enumerate()
            .filter(move |(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, n)| n)
    }
}
