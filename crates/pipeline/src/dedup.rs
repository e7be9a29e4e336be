//! Mirror-port duplicates: the same frame seen twice within a few milliseconds.
//!
//! A SPAN port that copies both directions of a switch port delivers every frame
//! between two monitored ports twice, microseconds apart. Counting both doubles
//! packets and bytes and confuses TCP state, so a frame identical to one seen within
//! the window is dropped and counted. "Identical" is judged by the length and a hash of
//! the first 128 and last 16 bytes: the first bytes hold addresses, IP id, checksums
//! and TCP sequence numbers, so distinct frames practically never collide.
//!
//! The worker applies the filter to IP packets only: cyclic layer-2 protocols
//! (CC-Link IE, PROFINET RT, GOOSE) send identical frames every few hundred
//! microseconds by design, and those are real traffic.

use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};

use foldhash::quality::FixedState;
use mamori_wire::Timestamp;

/// Most recent frames remembered; beyond this the oldest are forgotten early.
const MAX_REMEMBERED: usize = 1 << 16;

/// Remembers recent frames and recognises their copies.
#[derive(Debug)]
pub struct DuplicateFilter {
    window_nanos: i64,
    recent: VecDeque<(Timestamp, u64)>,
    index: std::collections::HashMap<u64, u32, FixedState>,
    hasher: FixedState,
}

impl DuplicateFilter {
    /// A filter with the given window (0 disables it).
    pub fn new(window_nanos: i64) -> Self {
        DuplicateFilter {
            window_nanos,
            recent: VecDeque::new(),
            index: std::collections::HashMap::with_hasher(FixedState::with_seed(0x6d61_6d6f)),
            hasher: FixedState::with_seed(0x7269_6475),
        }
    }

    /// Whether `frame` at `ts` repeats a frame seen within the window. Frames must come
    /// in timestamp order (per worker they do).
    pub fn is_duplicate(&mut self, ts: Timestamp, frame: &[u8]) -> bool {
        if self.window_nanos <= 0 {
            return false;
        }
        while let Some(&(old_ts, h)) = self.recent.front() {
            if ts.nanos_since(old_ts) <= self.window_nanos && self.recent.len() < MAX_REMEMBERED {
                break;
            }
            self.recent.pop_front();
            if let Some(n) = self.index.get_mut(&h) {
                *n -= 1;
                if *n == 0 {
                    self.index.remove(&h);
                }
            }
        }
        let h = self.fingerprint(frame);
        if self.index.contains_key(&h) {
            return true;
        }
        self.recent.push_back((ts, h));
        *self.index.entry(h).or_insert(0) += 1;
        false
    }

    fn fingerprint(&self, frame: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write_usize(frame.len());
        h.write(&frame[..frame.len().min(128)]);
        if frame.len() > 128 {
            h.write(&frame[frame.len() - 16.min(frame.len() - 128)..]);
        }
        h.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_within_window_is_a_duplicate_and_later_copy_is_not() {
        let mut f = DuplicateFilter::new(3_000_000);
        let frame = [7u8; 200];
        assert!(!f.is_duplicate(Timestamp(0), &frame));
        assert!(f.is_duplicate(Timestamp(10_000), &frame));
        assert!(
            !f.is_duplicate(Timestamp(10_000_000), &frame),
            "a retransmission 10 ms later is real traffic"
        );
        let mut other = frame;
        other[5] = 1;
        assert!(!f.is_duplicate(Timestamp(10_000_001), &other));
    }

    #[test]
    fn zero_window_disables_the_filter() {
        let mut f = DuplicateFilter::new(0);
        assert!(!f.is_duplicate(Timestamp(0), b"abc"));
        assert!(!f.is_duplicate(Timestamp(0), b"abc"));
    }
}
