//! TCP stream reassembly: segments in, in-order bytes and explicit gaps out.
//!
//! One [`StreamReassembler`] per direction turns segments into a byte stream:
//! in-order data is passed straight from the packet (no copy); out-of-order data is
//! copied and held until the hole before it fills. Holding is bounded by
//! [`ReassemblyConfig`]: when the bound is hit, when the other side acknowledges bytes
//! we never saw (the capture lost them), or when the stream ends, the hole is skipped
//! and reported as [`Chunk::Gap`], so a dissector can resynchronise.
//!
//! Overlaps are resolved one way, always: **the bytes received first win.** Data that
//! was already delivered is never re-delivered or changed, and a held segment keeps its
//! bytes when a later segment overlaps it.

use std::collections::BTreeMap;

/// Bounds on what one direction may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Out-of-order bytes held per direction.
    pub max_buffered_bytes: usize,
    /// Out-of-order segments held per direction.
    pub max_segments: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_buffered_bytes: 64 * 1024,
            max_segments: 64,
        }
    }
}

/// A piece of the reassembled stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes, in order.
    Data(&'a [u8]),
    /// This many bytes are missing here.
    Gap(u64),
}

/// Counters of one direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Bytes delivered.
    pub delivered: u64,
    /// Bytes reported missing.
    pub gap_bytes: u64,
    /// Gaps reported.
    pub gaps: u64,
    /// Segments that arrived out of order and were held.
    pub out_of_order: u64,
    /// Bytes dropped as duplicates of bytes received before.
    pub overlap_bytes: u64,
}

/// Reassembles one direction of a TCP connection.
#[derive(Debug, Default)]
pub struct StreamReassembler {
    /// Sequence number of the next byte to deliver; `None` before the first segment.
    next_seq: Option<u32>,
    /// Stream offset of `next_seq`.
    next_off: u64,
    /// Held segments by stream offset; they never overlap each other.
    held: BTreeMap<u64, Vec<u8>>,
    held_bytes: usize,
    stats: ReassemblyStats,
}

impl StreamReassembler {
    /// A reassembler that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters so far.
    pub fn stats(&self) -> ReassemblyStats {
        self.stats
    }

    /// Bytes currently held out of order.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Stream offset of the next byte to be delivered.
    pub fn position(&self) -> u64 {
        self.next_off
    }

    /// Stream offset of sequence number `seq`, relative to the delivery point.
    fn offset_of(&self, seq: u32, next_seq: u32) -> i64 {
        self.next_off as i64 + i64::from(seq.wrapping_sub(next_seq) as i32)
    }

    /// Takes one segment. `syn` says the segment carries a SYN (which takes one
    /// sequence number before the data). Delivers whatever became in-order to `out`.
    pub fn segment(
        &mut self,
        seq: u32,
        syn: bool,
        payload: &[u8],
        config: &ReassemblyConfig,
        out: &mut impl FnMut(Chunk<'_>),
    ) {
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        let next_seq = *self.next_seq.get_or_insert(data_seq);
        if payload.is_empty() {
            return;
        }
        let off = self.offset_of(data_seq, next_seq);
        let end = off + payload.len() as i64;
        if end <= self.next_off as i64 {
            self.stats.overlap_bytes += payload.len() as u64;
            return;
        }
        if off <= self.next_off as i64 {
            // In order (possibly re-sending some delivered bytes): deliver the new part.
            let skip = (self.next_off as i64 - off) as usize;
            self.stats.overlap_bytes += skip as u64;
            let fresh = &payload[skip..];
            if self.held.is_empty() {
                // The common case: straight from the packet, no copy.
                self.deliver(fresh, out);
            } else {
                // Held bytes arrived first and win where they overlap.
                self.hold(self.next_off, fresh);
                self.drain_held(out);
            }
            return;
        }
        self.hold(off as u64, payload);
        self.stats.out_of_order += 1;
        while self.held_bytes > config.max_buffered_bytes || self.held.len() > config.max_segments {
            self.skip_to_first_held(out);
        }
    }

    /// The other direction acknowledged up to `ack`: bytes before it reached the peer
    /// even if the capture lost them, so a hole before `ack` is a gap now.
    pub fn acknowledged(&mut self, ack: u32, out: &mut impl FnMut(Chunk<'_>)) {
        let Some(next_seq) = self.next_seq else {
            return;
        };
        let ack_off = self.offset_of(ack, next_seq);
        while ack_off > self.next_off as i64 {
            let first_held = self.held.keys().next().copied();
            match first_held {
                Some(first) if (first as i64) < ack_off => self.skip_to_first_held(out),
                _ => {
                    self.gap((ack_off - self.next_off as i64) as u64, out);
                    break;
                }
            }
        }
    }

    /// The stream ended: everything held is delivered, with gaps for the holes.
    pub fn finish(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        while !self.held.is_empty() {
            self.skip_to_first_held(out);
        }
    }

    fn deliver(&mut self, data: &[u8], out: &mut impl FnMut(Chunk<'_>)) {
        out(Chunk::Data(data));
        self.advance(data.len() as u64);
        self.stats.delivered += data.len() as u64;
    }

    fn gap(&mut self, len: u64, out: &mut impl FnMut(Chunk<'_>)) {
        out(Chunk::Gap(len));
        self.advance(len);
        self.stats.gaps += 1;
        self.stats.gap_bytes += len;
    }

    fn advance(&mut self, len: u64) {
        self.next_off += len;
        if let Some(s) = self.next_seq.as_mut() {
            *s = s.wrapping_add(len as u32);
        }
    }

    /// Skips the hole before the first held segment and delivers what follows.
    fn skip_to_first_held(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        if let Some(&first) = self.held.keys().next()
            && first > self.next_off
        {
            self.gap(first - self.next_off, out);
        }
        self.drain_held(out);
    }

    /// Delivers held segments that are now in order.
    fn drain_held(&mut self, out: &mut impl FnMut(Chunk<'_>)) {
        while let Some(entry) = self.held.first_entry() {
            let off = *entry.key();
            if off > self.next_off {
                break;
            }
            let data = entry.remove();
            self.held_bytes -= data.len();
            let skip = (self.next_off - off) as usize;
            if skip < data.len() {
                self.deliver(&data[skip..], out);
            }
        }
    }

    /// Holds the parts of a segment at `off` that no held segment covers yet.
    fn hold(&mut self, off: u64, payload: &[u8]) {
        let end = off + payload.len() as u64;
        let mut cursor = off;
        let mut pieces: Vec<(u64, u64)> = Vec::new();
        // Held segments that start before `end` and end after `off`.
        let before = self
            .held
            .range(..off)
            .next_back()
            .map(|(&o, d)| (o, o + d.len() as u64));
        let overlapping = before.into_iter().chain(
            self.held
                .range(off..end)
                .map(|(&o, d)| (o, o + d.len() as u64)),
        );
        for (a, b) in overlapping {
            if b <= cursor {
                continue;
            }
            if a > cursor {
                pieces.push((cursor, a.min(end)));
            }
            self.stats.overlap_bytes += b.min(end).saturating_sub(a.max(cursor));
            cursor = cursor.max(b);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            pieces.push((cursor, end));
        }
        for (a, b) in pieces {
            let piece = payload[(a - off) as usize..(b - off) as usize].to_vec();
            self.held_bytes += piece.len();
            self.held.insert(a, piece);
        }
    }
}

#[cfg(test)]
mod tests;
