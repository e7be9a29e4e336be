//! The data link layer (IEEE 1815-2012 §9.2): fixed header, then user data in blocks
//! of at most 16 bytes, every block (and the header) followed by a CRC-16/DNP.
//!
//! ```text
//! 0x05 0x64 | length u8 (5..=255: control + addresses + user data) | control u8
//!           | destination u16 LE | source u16 LE | header CRC u16 LE
//!           | { up to 16 bytes of user data | CRC u16 LE } ...
//! ```
//!
//! Control: DIR (0x80, set when the master sent it), PRM (0x40, primary station),
//! FCB (0x20), FCV/DFC (0x10), function (low four bits).

use mamori_flow::Direction;

use crate::contract::{Flags, Parsed, PduParser};

/// The two start octets.
pub const START: [u8; 2] = [0x05, 0x64];
/// Header bytes including its CRC.
pub const HEADER_LEN: usize = 10;
/// The most user data one frame carries (length 255 minus control and addresses).
pub const MAX_USER_DATA: usize = 250;
/// The longest frame: header, 250 bytes of user data and 16 block CRCs.
pub const MAX_FRAME: usize = HEADER_LEN + MAX_USER_DATA + 2 * MAX_USER_DATA.div_ceil(16);

/// A CRC failed: the frame's user data is not trusted (not passed to the transport
/// layer). The contract's [`Flags::BAD_CHECKSUM`].
pub const BAD_CRC: u32 = Flags::BAD_CHECKSUM;

/// Primary function "confirmed user data".
pub const CONFIRMED_USER_DATA: u8 = 3;
/// Primary function "unconfirmed user data".
pub const UNCONFIRMED_USER_DATA: u8 = 4;

/// CRC-16/DNP table: polynomial 0x3D65, reflected (0xA6BC), initial value 0.
const CRC_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// CRC-16/DNP of `bytes` (final value complemented), as the wire carries it (little-endian).
pub fn crc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc = (crc >> 8) ^ CRC_TABLE[usize::from((crc ^ u16::from(b)) as u8)];
    }
    !crc
}

/// Whether `block` ends with the CRC of the bytes before it.
fn crc_ok(block: &[u8]) -> bool {
    match block.len().checked_sub(2) {
        Some(n) => crc(&block[..n]).to_le_bytes() == block[n..],
        None => false,
    }
}

/// Total bytes on the wire of a frame whose length octet is `length` (at least 5).
pub fn frame_len(length: u8) -> usize {
    let data = usize::from(length).saturating_sub(5);
    HEADER_LEN + data + 2 * data.div_ceil(16)
}

/// One link frame, its user data copied out of the CRC blocks (no allocation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    /// The control octet.
    pub control: u8,
    /// Destination address.
    pub destination: u16,
    /// Source address.
    pub source: u16,
    /// Violations seen (see [`BAD_CRC`]).
    pub flags: Flags,
    data: [u8; MAX_USER_DATA],
    data_len: u8,
}

impl Frame {
    /// DIR: sent by the master.
    pub fn from_master(&self) -> bool {
        self.control & 0x80 != 0
    }

    /// PRM: sent by the primary (initiating) station.
    pub fn primary(&self) -> bool {
        self.control & 0x40 != 0
    }

    /// The link function code (low four bits of control).
    pub fn function(&self) -> u8 {
        self.control & 0x0f
    }

    /// The user data, without the block CRCs.
    pub fn user_data(&self) -> &[u8] {
        &self.data[..usize::from(self.data_len)]
    }

    /// Whether the user data is a transport segment worth reassembling: a primary
    /// frame carrying (un)confirmed user data whose CRCs all checked.
    pub fn carries_segment(&self) -> bool {
        self.primary()
            && matches!(self.function(), CONFIRMED_USER_DATA | UNCONFIRMED_USER_DATA)
            && !self.flags.has(BAD_CRC)
            && self.data_len > 0
    }
}

/// Parses DNP3 link frames. A frame whose header CRC fails is not DNP3 here (its
/// length cannot be trusted), so a stream resynchronises past it; a bad data-block
/// CRC still gives a frame, flagged [`BAD_CRC`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Parser;

impl PduParser for Parser {
    type Pdu<'a> = Frame;
    const MAX_PDU: usize = MAX_FRAME;

    fn parse(&self, _dir: Direction, input: &[u8]) -> Parsed<Frame> {
        if input.first().is_some_and(|&b| b != START[0])
            || input.get(1).is_some_and(|&b| b != START[1])
        {
            return Parsed::NotThisProtocol;
        }
        if input.len() < HEADER_LEN {
            return Parsed::Incomplete { needed: HEADER_LEN };
        }
        let length = input[2];
        if length < 5 || !crc_ok(&input[..HEADER_LEN]) {
            return Parsed::NotThisProtocol;
        }
        let total = frame_len(length);
        if input.len() < total {
            return Parsed::Incomplete { needed: total };
        }
        let mut flags = Flags::default();
        let mut data = [0u8; MAX_USER_DATA];
        let mut data_len = 0;
        for block in input[HEADER_LEN..total].chunks(18) {
            if !crc_ok(block) {
                flags.set(BAD_CRC);
            }
            let body = &block[..block.len() - 2];
            data[data_len..data_len + body.len()].copy_from_slice(body);
            data_len += body.len();
        }
        let control = input[3];
        let defined = if control & 0x40 != 0 {
            matches!(control & 0x0f, 0 | 1 | 2 | 3 | 4 | 9)
        } else {
            matches!(control & 0x0f, 0 | 1 | 11 | 15)
        };
        if !defined {
            flags.set(Flags::UNKNOWN_FUNCTION);
        }
        // In a secondary frame the FCB position is reserved.
        if control & 0x40 == 0 && control & 0x20 != 0 {
            flags.set(Flags::RESERVED_SET);
        }
        let frame = Frame {
            control,
            destination: u16::from_le_bytes([input[4], input[5]]),
            source: u16::from_le_bytes([input[6], input[7]]),
            flags,
            data,
            data_len: data_len as u8,
        };
        Parsed::Pdu {
            pdu: frame,
            consumed: total,
        }
    }
}
