//! Capture sources: where packets come from.
//!
//! - [`file`] reads legacy pcap (both byte orders, micro- and nanosecond) and pcapng
//!   (several interfaces, per-interface timestamp resolution and offset), plain or
//!   gzip-compressed, through one buffer per file, handing out borrowed records.
//! - [`merge`] walks several files at once in timestamp order.
//! - [`afpacket`] (Linux) reads a live interface through a TPACKET_V3 ring. It is the
//!   only module in mamori allowed to use `unsafe`.

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub mod afpacket;
pub mod file;
pub mod merge;
pub mod writer;

use crate::{LinkType, Timestamp};

/// One captured packet, borrowed from the source's buffer until the next read.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// When the packet was captured.
    pub ts: Timestamp,
    /// The link-layer header type of `data`.
    pub link: LinkType,
    /// The captured bytes (possibly cut short by the snapshot length).
    pub data: &'a [u8],
    /// The packet's length on the wire.
    pub orig_len: u32,
}
