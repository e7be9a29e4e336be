//! The application layer (IEEE 1815-2012 §4.2.2): a control octet (FIR 0x80, FIN
//! 0x40, CON 0x20, UNS 0x10, sequence in the low four bits), a function code, for
//! responses (129, 130, 131) two internal indication octets IIN1 and IIN2, then object
//! headers (group, variation, qualifier, range) and objects.

use crate::contract::Flags;
use crate::ot::tables;
use crate::record::{Category, Function};

/// Response.
pub const RESPONSE: u8 = 129;
/// Unsolicited response.
pub const UNSOLICITED_RESPONSE: u8 = 130;
/// Authentication response.
pub const AUTH_RESPONSE: u8 = 131;

/// IIN2 bits that mean the outstation refused the request: function code not
/// supported (0x01), object unknown (0x02), parameter error (0x04).
pub const IIN2_REFUSED: u8 = 0x07;

/// An application fragment's header and the bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    /// The control octet.
    pub control: u8,
    /// The function code.
    pub function: u8,
    /// IIN1 and IIN2 (responses only).
    pub iin: Option<[u8; 2]>,
    /// The object headers and objects.
    pub objects: &'a [u8],
    /// Violations seen.
    pub flags: Flags,
}

impl Fragment<'_> {
    /// The application sequence number.
    pub fn seq(&self) -> u8 {
        self.control & 0x0f
    }

    /// FIR: the first fragment of a message.
    pub fn first(&self) -> bool {
        self.control & 0x80 != 0
    }

    /// Whether this is a response of any kind (function 129 and above).
    pub fn is_response(&self) -> bool {
        self.function >= 128
    }
}

/// Reads an application fragment's header; `None` when it is too short to have one.
pub fn parse(fragment: &[u8]) -> Option<Fragment<'_>> {
    let [control, function, rest @ ..] = fragment else {
        return None;
    };
    let mut flags = Flags::default();
    let (iin, objects) = if matches!(*function, RESPONSE | UNSOLICITED_RESPONSE | AUTH_RESPONSE) {
        match rest {
            [iin1, iin2, objects @ ..] => {
                if iin2 & 0xc0 != 0 {
                    flags.set(Flags::RESERVED_SET);
                }
                (Some([*iin1, *iin2]), objects)
            }
            _ => {
                flags.set(Flags::BAD_LENGTH);
                (None, rest)
            }
        }
    } else {
        (None, rest)
    };
    if describe(*function).name == "unknown" {
        flags.set(Flags::UNKNOWN_FUNCTION);
    }
    if first_object_cut_short(objects) {
        flags.set(Flags::BAD_LENGTH);
    }
    Some(Fragment {
        control: *control,
        function: *function,
        iin,
        objects,
        flags,
    })
}

/// The name and category of an application function code (IEEE 1815-2012 Table 4-1).
///
/// Categories: cold and warm restart, initialize, start and stop application and
/// activate configuration change what runs, so they are `control`, as are select,
/// operate and the direct operates (they drive outputs); the file functions that
/// move or delete files (open, close, delete, abort) are `program`, since outstations
/// take configuration and firmware that way (get file info and authenticate file
/// move nothing: `other`); enable and disable unsolicited change only what the
/// outstation reports, so they are `other`, with confirm, the freezes, initialize
/// data, save configuration, assign class, record current time and authentication;
/// delay measurement is `diagnostic`; responses (129..131) are `other`.
pub fn describe(code: u8) -> Function {
    use Category::*;
    let (name, category) = tables::dnp3::function(code).unwrap_or(("unknown", Other));
    Function {
        code: u32::from(code),
        name,
        category,
    }
}

/// Whether the master expects no response to this function (confirm and the
/// "no ack" variants).
pub fn expects_no_response(code: u8) -> bool {
    matches!(code, 0 | 6 | 8 | 10 | 12 | 33)
}

/// How an object header says which objects follow (the qualifier's range specifier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// Start and stop index (or virtual address), inclusive.
    StartStop(u64, u64),
    /// All objects of the type (no range field).
    All,
    /// This many objects follow (each with a prefix, if the qualifier says so).
    Count(u64),
    /// A range specifier this reader does not know.
    Other,
}

/// One object header: group, variation, qualifier and its range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectHeader<'a> {
    /// Object group.
    pub group: u8,
    /// Variation.
    pub variation: u8,
    /// The qualifier octet (bit 7 reserved, prefix code in bits 4..6, range
    /// specifier in bits 0..3).
    pub qualifier: u8,
    /// Which objects follow.
    pub range: Range,
    /// The bytes after the header: the objects (and whatever follows them).
    pub rest: &'a [u8],
}

impl ObjectHeader<'_> {
    /// Bytes of the index prefix before each object: `Some(0)` for none, `None`
    /// when the prefix is an object size (codes 4..6) or reserved (7).
    pub fn index_prefix(&self) -> Option<usize> {
        match (self.qualifier >> 4) & 0x07 {
            0 => Some(0),
            1 => Some(1),
            2 => Some(2),
            3 => Some(4),
            _ => None,
        }
    }
}

/// An unsigned little-endian integer of up to eight bytes.
fn le(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Reads the object header at the front of `objects`: `Ok(None)` when there is
/// none, `Err(gv)` (group and variation) when it is cut short.
pub fn object_header(objects: &[u8]) -> Result<Option<ObjectHeader<'_>>, (u8, u8)> {
    let [group, variation, qualifier, rest @ ..] = objects else {
        return match objects {
            [] => Ok(None),
            [group] => Err((*group, 0)),
            [group, variation, ..] => Err((*group, *variation)),
        };
    };
    let cut = Err((*group, *variation));
    // Range field width in bytes by specifier; the slices below check it fits.
    let (range, used) = match qualifier & 0x0f {
        code @ (0..=5) => {
            let w = [1, 2, 4][usize::from(code % 3)];
            let (Some(start), Some(stop)) = (rest.get(..w), rest.get(w..2 * w)) else {
                return cut;
            };
            (Range::StartStop(le(start), le(stop)), 2 * w)
        }
        6 => (Range::All, 0),
        code @ (7..=9 | 0x0b) => {
            let w = match code {
                8 => 2,
                9 => 4,
                _ => 1,
            };
            let Some(count) = rest.get(..w) else {
                return cut;
            };
            (Range::Count(le(count)), w)
        }
        _ => (Range::Other, 0),
    };
    Ok(Some(ObjectHeader {
        group: *group,
        variation: *variation,
        qualifier: *qualifier,
        range,
        rest: &rest[used..],
    }))
}

/// The first object header, in words: `g12v1 index 3`, `g60v2 all`, `g1v2 index 0-7`,
/// `g70v3 count 1`, `g12v1 index 1 count 2`. `None` when there is no object header;
/// `Some` with what could be read when it is cut short.
pub fn first_object(objects: &[u8]) -> Option<String> {
    let header = match object_header(objects) {
        Ok(header) => header?,
        Err((group, variation)) => return Some(format!("g{group}v{variation}")),
    };
    let gv = format!("g{}v{}", header.group, header.variation);
    let words = match header.range {
        Range::StartStop(start, stop) if start == stop => format!("{gv} index {start}"),
        Range::StartStop(start, stop) => format!("{gv} index {start}-{stop}"),
        Range::All => format!("{gv} all"),
        Range::Count(count) => {
            let index = header
                .index_prefix()
                .filter(|&w| w > 0)
                .and_then(|w| header.rest.get(..w))
                .map(le);
            match index {
                Some(index) if count == 1 => format!("{gv} index {index}"),
                Some(index) => format!("{gv} index {index} count {count}"),
                None => format!("{gv} count {count}"),
            }
        }
        Range::Other => format!("{gv} qualifier 0x{:02x}", header.qualifier),
    };
    Some(words)
}

/// Bytes per object of the fixed-size objects requests usually carry (commands,
/// analog outputs, time, delays); `None` for the rest, which are not checked.
fn object_size(group: u8, variation: u8) -> Option<u64> {
    Some(match (group, variation) {
        (12, 1 | 2) => 11,
        (41, 1) => 5,
        (41, 2) => 3,
        (41, 3) => 5,
        (41, 4) => 9,
        (50, 1 | 3) => 6,
        (52, 1 | 2) => 2,
        _ => return None,
    })
}

/// Whether the first object header is cut short, or announces more fixed-size
/// objects than the fragment holds (tshark calls such a fragment malformed). Only
/// control outputs (g12v1, g12v2), analog outputs (g41), time (g50v1, g50v3) and
/// delays (g52) are counted, with index prefixes or none.
pub fn first_object_cut_short(objects: &[u8]) -> bool {
    let header = match object_header(objects) {
        Ok(Some(header)) => header,
        Ok(None) => return false,
        Err(_) => return true,
    };
    let (Some(size), Some(prefix)) = (
        object_size(header.group, header.variation),
        header.index_prefix(),
    ) else {
        return false;
    };
    let count = match header.range {
        Range::StartStop(start, stop) if stop >= start => stop - start + 1,
        Range::StartStop(..) => return true,
        Range::Count(count) => count,
        Range::All | Range::Other => return false,
    };
    // Saturating: a count from the wire may be up to 2^32 - 1.
    let need = count.saturating_mul(prefix as u64 + size);
    (header.rest.len() as u64) < need
}

/// Device attributes (group 0) at the front of a response's objects, as
/// (variation, visible string) pairs: each has a one-octet start-stop range
/// (qualifier 0x00) and one attribute (data type, length, value); only visible
/// strings (data type 1) are kept. Stops at the first other object.
pub fn device_attributes(objects: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut rest = objects;
    while let [0, variation, 0x00, start, stop, kind, len, tail @ ..] = rest {
        if start != stop {
            break;
        }
        let Some(value) = tail.get(..usize::from(*len)) else {
            break;
        };
        if *kind == 1 {
            out.push((*variation, value));
        }
        rest = &tail[usize::from(*len)..];
    }
    out
}
