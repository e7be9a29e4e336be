//! IP fragment reassembly with hard bounds.
//!
//! Fragments are held per datagram (source, destination, protocol, identification)
//! until every byte from 0 to the end of the last fragment has arrived, then the
//! datagram is rebuilt with a plain header and handed back for decoding. Where
//! fragments overlap, the bytes that arrived first win, every time.
//!
//! A peer controls how many datagrams we hold and how big they claim to be, so both
//! are capped: too many pending datagrams evict the oldest, a datagram past 65,535
//! bytes or with too many pieces is dropped, and datagrams older than the timeout are
//! discarded. Every drop is counted in [`DefragStats`].

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

use super::IpPacket;
use crate::Timestamp;

/// Limits for [`Defragmenter`].
#[derive(Debug, Clone, Copy)]
pub struct DefragConfig {
    /// Datagrams under reassembly at once.
    pub max_datagrams: usize,
    /// Pieces accepted per datagram.
    pub max_fragments: usize,
    /// Nanoseconds a datagram may wait for its missing pieces.
    pub timeout_nanos: i64,
}

impl Default for DefragConfig {
    fn default() -> Self {
        DefragConfig {
            max_datagrams: 1024,
            max_fragments: 64,
            timeout_nanos: 30_000_000_000,
        }
    }
}

/// What reassembly did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DefragStats {
    /// Fragments received.
    pub fragments: u64,
    /// Datagrams completed.
    pub reassembled: u64,
    /// Datagrams dropped because their pieces did not all arrive in time.
    pub timed_out: u64,
    /// Datagrams evicted because too many were pending.
    pub evicted: u64,
    /// Datagrams dropped for claiming more than 65,535 bytes or too many pieces.
    pub oversized: u64,
    /// Fragments that overlapped bytes already received.
    pub overlaps: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

#[derive(Debug)]
struct Pending {
    /// Tells this datagram from an earlier one with the same key in `order`.
    serial: u64,
    /// The IP header of the first fragment (offset 0), once seen.
    header: Vec<u8>,
    data: Vec<u8>,
    /// Byte ranges received, sorted and merged.
    have: Vec<(u32, u32)>,
    /// Total payload length, known once the last fragment arrived.
    total: Option<u32>,
    pieces: usize,
}

/// Reassembles IPv4 and IPv6 fragments.
#[derive(Debug)]
pub struct Defragmenter {
    config: DefragConfig,
    pending: HashMap<DatagramKey, Pending>,
    /// Insertion order, for expiry and eviction: first-seen time, key and serial. May
    /// hold entries of datagrams already completed or dropped (their serial is gone).
    order: VecDeque<(Timestamp, DatagramKey, u64)>,
    next_serial: u64,
    stats: DefragStats,
    output: Vec<u8>,
}

const MAX_DATAGRAM: u32 = 65_535;

impl Default for Defragmenter {
    fn default() -> Self {
        Self::new(DefragConfig::default())
    }
}

impl Defragmenter {
    /// A reassembler with the given limits.
    pub fn new(config: DefragConfig) -> Self {
        Defragmenter {
            config,
            pending: HashMap::new(),
            order: VecDeque::new(),
            next_serial: 0,
            stats: DefragStats::default(),
            output: Vec::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Datagrams currently waiting for pieces.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Takes one fragment. When it completes its datagram, returns the whole datagram
    /// (IP header without fragmentation fields, then the payload), valid until the next call.
    pub fn push(&mut self, ts: Timestamp, ip: &IpPacket<'_>) -> Option<&[u8]> {
        let frag = ip.fragment?;
        self.stats.fragments += 1;
        self.expire(ts);
        let key = DatagramKey {
            src: ip.src,
            dst: ip.dst,
            protocol: ip.protocol,
            id: frag.id,
        };
        if !self.pending.contains_key(&key) {
            if self.pending.len() >= self.config.max_datagrams {
                self.evict_oldest();
            }
            self.forget_finished();
            let serial = self.next_serial;
            self.next_serial += 1;
            self.order.push_back((ts, key, serial));
            let fresh = Pending {
                serial,
                header: Vec::new(),
                data: Vec::new(),
                have: Vec::new(),
                total: None,
                pieces: 0,
            };
            self.pending.insert(key, fresh);
        }
        let p = self.pending.get_mut(&key)?;
        let start = frag.offset;
        let end = start.saturating_add(ip.payload.len() as u32);
        p.pieces += 1;
        if end > MAX_DATAGRAM || p.pieces > self.config.max_fragments {
            self.pending.remove(&key);
            self.stats.oversized += 1;
            return None;
        }
        if start == 0 {
            p.header.clear();
            p.header.extend_from_slice(ip.header);
        }
        if !frag.more {
            p.total = Some(end);
        }
        if p.data.len() < end as usize {
            p.data.resize(end as usize, 0);
        }
        if insert_first_wins(&mut p.have, &mut p.data, start, ip.payload) {
            self.stats.overlaps += 1;
        }
        let complete = matches!(p.total, Some(t) if p.have.len() == 1 && p.have[0] == (0, t))
            && !p.header.is_empty();
        if !complete {
            return None;
        }
        let p = self.pending.remove(&key)?;
        self.stats.reassembled += 1;
        let total = p.total.unwrap_or(0) as usize;
        self.output.clear();
        rebuild_header(&p.header, ip.protocol, total, &mut self.output);
        self.output.extend_from_slice(&p.data[..total]);
        Some(&self.output)
    }

    fn expire(&mut self, now: Timestamp) {
        while let Some(&(first, key, serial)) = self.order.front() {
            if now.nanos_since(first) < self.config.timeout_nanos {
                break;
            }
            self.order.pop_front();
            if self.is_live(&key, serial) {
                self.pending.remove(&key);
                self.stats.timed_out += 1;
            }
        }
    }

    /// Drops entries of `order` whose datagram was completed or dropped. Without this,
    /// datagrams that complete quickly would leave one entry each until the timeout,
    /// and a peer sending many small fragmented datagrams would grow `order` without
    /// bound. Compacting at twice the datagram cap keeps it at most that long, at an
    /// amortised constant cost per datagram.
    fn forget_finished(&mut self) {
        if self.order.len() <= self.config.max_datagrams.saturating_mul(2).max(16) {
            return;
        }
        let pending = &self.pending;
        self.order
            .retain(|(_, key, serial)| pending.get(key).is_some_and(|p| p.serial == *serial));
    }

    /// Whether the `order` entry (`key`, `serial`) still names a pending datagram.
    fn is_live(&self, key: &DatagramKey, serial: u64) -> bool {
        self.pending.get(key).is_some_and(|p| p.serial == serial)
    }

    /// Entries kept for expiry and eviction (tests check that they stay bounded).
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.order.len()
    }

    fn evict_oldest(&mut self) {
        while let Some((_, key, serial)) = self.order.pop_front() {
            if self.is_live(&key, serial) {
                self.pending.remove(&key);
                self.stats.evicted += 1;
                return;
            }
        }
    }
}

/// Copies `bytes` at `start` where nothing was received yet; returns whether any byte overlapped.
fn insert_first_wins(
    have: &mut Vec<(u32, u32)>,
    data: &mut [u8],
    start: u32,
    bytes: &[u8],
) -> bool {
    let end = start + bytes.len() as u32;
    let mut overlapped = false;
    let mut cursor = start;
    // Fill the holes between existing ranges.
    for &(a, b) in have.iter() {
        if b <= cursor {
            continue;
        }
        if a >= end {
            break;
        }
        if a > cursor {
            let (s, e) = (cursor as usize, a.min(end) as usize);
            data[s..e].copy_from_slice(&bytes[s - start as usize..e - start as usize]);
        }
        overlapped = true;
        cursor = cursor.max(b);
        if cursor >= end {
            break;
        }
    }
    if cursor < end {
        let (s, e) = (cursor as usize, end as usize);
        data[s..e].copy_from_slice(&bytes[s - start as usize..e - start as usize]);
    }
    have.push((start, end));
    have.sort_unstable();
    let mut merged: Vec<(u32, u32)> = Vec::with_capacity(have.len());
    for &(a, b) in have.iter() {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    *have = merged;
    overlapped
}

/// Writes a header for the reassembled datagram: IPv4 with the total length set and
/// fragmentation cleared; IPv6 as a bare 40-byte header whose next header is `protocol`.
fn rebuild_header(first: &[u8], protocol: u8, payload_len: usize, out: &mut Vec<u8>) {
    if first.first().map(|b| b >> 4) == Some(4) {
        out.extend_from_slice(first);
        let total = (first.len() + payload_len).min(usize::from(u16::MAX)) as u16;
        out[2..4].copy_from_slice(&total.to_be_bytes());
        out[6] = 0;
        out[7] = 0;
    } else {
        out.extend_from_slice(&first[..40.min(first.len())]);
        out.resize(40, 0);
        let len = payload_len.min(usize::from(u16::MAX)) as u16;
        out[4..6].copy_from_slice(&len.to_be_bytes());
        out[6] = protocol;
    }
}
