//! The application layer (IEEE 1815-2012 §4.2.2): a control octet (FIR 0x80, FIN
//! 0x40, CON 0x20, UNS 0x10, sequence in the low four bits), a function code, for
//! responses (129, 130, 131) two internal indication octets IIN1 and IIN2, then object
//! headers (group, variation, qualifier, range) and objects.

use crate::contract::Flags;
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
/// Categories: restarts and start/stop application are `control`, as are select,
/// operate and the direct operates (they drive outputs); the file functions that
/// move or delete files (open, close, delete, abort) are `program`, since outstations
/// take configuration and firmware that way; enable and disable unsolicited change
/// only what the outstation reports, so they are `other`, with freezes, time and
/// class assignment; delay measurement is `diagnostic`.
pub fn describe(code: u8) -> Function {
    use Category::*;
    let (name, category) = match code {
        0 => ("confirm", Other),
        1 => ("read", Read),
        2 => ("write", Write),
        3 => ("select", Control),
        4 => ("operate", Control),
        5 => ("direct_operate", Control),
        6 => ("direct_operate_no_ack", Control),
        7 => ("immediate_freeze", Other),
        8 => ("immediate_freeze_no_ack", Other),
        9 => ("freeze_clear", Other),
        10 => ("freeze_clear_no_ack", Other),
        11 => ("freeze_at_time", Other),
        12 => ("freeze_at_time_no_ack", Other),
        13 => ("cold_restart", Control),
        14 => ("warm_restart", Control),
        15 => ("initialize_data", Other),
        16 => ("initialize_application", Control),
        17 => ("start_application", Control),
        18 => ("stop_application", Control),
        19 => ("save_configuration", Other),
        20 => ("enable_unsolicited", Other),
        21 => ("disable_unsolicited", Other),
        22 => ("assign_class", Other),
        23 => ("delay_measurement", Diagnostic),
        24 => ("record_current_time", Other),
        25 => ("open_file", Program),
        26 => ("close_file", Program),
        27 => ("delete_file", Program),
        28 => ("get_file_info", Other),
        29 => ("authenticate_file", Other),
        30 => ("abort_file", Program),
        31 => ("activate_config", Control),
        32 => ("authentication_request", Other),
        33 => ("authentication_request_no_ack", Other),
        129 => ("response", Other),
        130 => ("unsolicited_response", Other),
        131 => ("authentication_response", Other),
        _ => ("unknown", Other),
    };
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

/// The first object header, in words: `g12v1 index 3`, `g60v2 all`, `g1v2 index 0-7`,
/// `g70v3 count 1`, `g12v1 index 1 count 2`. `None` when there is no object header;
/// `Some` with what could be read when it is cut short.
pub fn first_object(objects: &[u8]) -> Option<String> {
    let [group, variation, qualifier, rest @ ..] = objects else {
        return None;
    };
    let gv = format!("g{group}v{variation}");
    let le = |b: &[u8]| {
        b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
    };
    let width = |code: u8| match code {
        0 | 3 | 7 | 0x0b => Some(1),
        1 | 4 | 8 => Some(2),
        2 | 5 | 9 => Some(4),
        _ => None,
    };
    let prefix = (qualifier >> 4) & 0x07;
    let range = qualifier & 0x0f;
    let words = match range {
        0..=5 => {
            let w = width(range).unwrap_or(1);
            match (rest.get(..w), rest.get(w..2 * w)) {
                (Some(start), Some(stop)) => {
                    let (start, stop) = (le(start), le(stop));
                    if start == stop {
                        format!("{gv} index {start}")
                    } else {
                        format!("{gv} index {start}-{stop}")
                    }
                }
                _ => gv,
            }
        }
        6 => format!("{gv} all"),
        7..=9 | 0x0b => {
            let w = width(range).unwrap_or(1);
            let Some(count) = rest.get(..w).map(le) else {
                return Some(gv);
            };
            let index_width = match prefix {
                1 => Some(1),
                2 => Some(2),
                3 => Some(4),
                _ => None,
            };
            match index_width.and_then(|iw| rest.get(w..w + iw)) {
                Some(index) if count == 1 => format!("{gv} index {}", le(index)),
                Some(index) => format!("{gv} index {} count {count}", le(index)),
                None => format!("{gv} count {count}"),
            }
        }
        _ => format!("{gv} qualifier 0x{qualifier:02x}"),
    };
    Some(words)
}

/// Bytes per object of the fixed-size objects requests usually carry (commands,
/// analog outputs, time, delays); `None` for the rest, which are not checked.
fn object_size(group: u8, variation: u8) -> Option<usize> {
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

/// Whether the first object header announces more fixed-size objects than the
/// fragment holds (tshark calls such a fragment malformed). Only index-prefixed or
/// unprefixed counts and start-stop ranges of the objects [`object_size`] knows.
pub fn first_object_cut_short(objects: &[u8]) -> bool {
    let [group, variation, qualifier, rest @ ..] = objects else {
        return false;
    };
    let Some(size) = object_size(*group, *variation) else {
        return false;
    };
    let le = |b: &[u8]| {
        b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
    };
    let prefix = match (qualifier >> 4) & 0x07 {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        _ => return false,
    };
    let (count, header) = match qualifier & 0x0f {
        r @ 0..=2 => {
            let w = [1, 2, 4][usize::from(r)];
            let (Some(start), Some(stop)) = (rest.get(..w), rest.get(w..2 * w)) else {
                return true;
            };
            let (start, stop) = (le(start), le(stop));
            if stop < start {
                return true;
            }
            (stop - start + 1, 2 * w)
        }
        r @ 7..=9 => {
            let w = [1, 2, 4][usize::from(r - 7)];
            let Some(count) = rest.get(..w) else {
                return true;
            };
            (le(count), w)
        }
        _ => return false,
    };
    let need = count.saturating_mul((prefix + size) as u64);
    ((rest.len() - header) as u64) < need
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
