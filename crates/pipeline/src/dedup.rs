//! Mirror-port duplicates: the same frame seen twice within a few milliseconds.
//!
//! A SPAN port that copies both directions of a switch port delivers every frame
//! between two monitored ports twice, microseconds apart. Counting both doubles
//! packets and bytes and confuses TCP state, so a frame identical to one seen within
//! the window is dropped and counted. "Identical" is judged by a 64-bit fingerprint of
//! the length, the first 64 bytes after the Ethernet addresses (EtherType, IP header
//! with its identification and checksum, TCP sequence numbers) and the last 8 bytes:
//! distinct frames practically never share one.
//!
//! The worker applies the filter to IP packets only: cyclic layer-2 protocols
//! (CC-Link IE, PROFINET RT, GOOSE) send identical frames every few hundred
//! microseconds by design, and those are real traffic.
//!
//! Recent fingerprints live in a fixed open-addressing table (no allocation per
//! packet, no deletions): an entry older than the window counts as free. A probe run
//! is at most [`PROBES`] slots; if all are live, the oldest is overwritten. That can
//! only forget a frame when more than [`PROBES`] live fingerprints crowd one run, which
//! at the table's size takes far more than a million frames per second.

use mamori_wire::Timestamp;

/// Slots in the table (a power of two).
const SLOTS: usize = 1 << 17;
/// Slots examined per lookup.
const PROBES: usize = 8;

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    fingerprint: u64,
    /// Nanoseconds; 0 marks a never-used slot.
    seen: i64,
}

/// Remembers recent frames and recognises their copies.
#[derive(Debug)]
pub struct DuplicateFilter {
    window_nanos: i64,
    /// `None` when the filter is disabled. A fixed-size array, so that a slot index
    /// masked to `SLOTS - 1` needs no bounds check.
    table: Option<Box<[Slot; SLOTS]>>,
}

impl DuplicateFilter {
    /// A filter with the given window (0 disables it).
    pub fn new(window_nanos: i64) -> Self {
        let table = (window_nanos > 0).then(|| {
            vec![Slot::default(); SLOTS]
                .into_boxed_slice()
                .try_into()
                .expect("a vector of SLOTS slots")
        });
        DuplicateFilter {
            window_nanos,
            table,
        }
    }

    /// Whether `frame` at `ts` repeats a frame seen within the window. Frames should
    /// come in timestamp order (per worker they do).
    #[inline]
    pub fn is_duplicate(&mut self, ts: Timestamp, frame: &[u8]) -> bool {
        let Some(table) = self.table.as_mut() else {
            return false;
        };
        let fp = fingerprint(frame);
        let now = ts.0;
        // A slot is live when it was seen within the window: `now - seen <= window`.
        let horizon = now.saturating_sub(self.window_nanos);
        let mut free: Option<usize> = None;
        let mut oldest = (i64::MAX, 0usize);
        for i in 0..PROBES {
            let idx = (fp as usize).wrapping_add(i) & (SLOTS - 1);
            let slot = table[idx];
            if slot.seen == 0 {
                // Never used: nothing was ever placed past it in this run.
                free.get_or_insert(idx);
                break;
            }
            if slot.seen >= horizon {
                if slot.fingerprint == fp {
                    return true;
                }
                if slot.seen < oldest.0 {
                    oldest = (slot.seen, idx);
                }
            } else if free.is_none() {
                free = Some(idx);
            }
        }
        let at = free.unwrap_or(oldest.1);
        // A timestamp of exactly 0 would read as "never used"; nudge it.
        table[at] = Slot {
            fingerprint: fp,
            seen: if now == 0 { 1 } else { now },
        };
        false
    }
}

/// A 64-bit fingerprint from the frame's length, up to eight words after the Ethernet
/// addresses, and its last eight bytes.
#[inline]
fn fingerprint(frame: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (frame.len() as u64).wrapping_mul(K);
    let body = frame.get(12..).unwrap_or(frame);
    let (words, _) = body.as_chunks::<8>();
    for w in words.iter().take(8) {
        h = (h ^ u64::from_le_bytes(*w)).wrapping_mul(K).rotate_left(29);
    }
    let last = match frame.last_chunk::<8>() {
        Some(tail) => *tail,
        None => {
            let mut last = [0u8; 8];
            last[..frame.len()].copy_from_slice(frame);
            last
        }
    };
    h ^= u64::from_le_bytes(last);
    // Finalise (splitmix64) so the low bits that pick the slot are well mixed.
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_within_window_is_a_duplicate_and_later_copy_is_not() {
        let mut f = DuplicateFilter::new(3_000_000);
        let frame = [7u8; 200];
        assert!(!f.is_duplicate(Timestamp(1), &frame));
        assert!(f.is_duplicate(Timestamp(10_000), &frame));
        assert!(
            !f.is_duplicate(Timestamp(10_000_000), &frame),
            "a retransmission 10 ms later is real traffic"
        );
        let mut other = frame;
        other[20] = 1;
        assert!(!f.is_duplicate(Timestamp(10_000_001), &other));
    }

    #[test]
    fn zero_window_disables_the_filter() {
        let mut f = DuplicateFilter::new(0);
        assert!(!f.is_duplicate(Timestamp(0), b"abc"));
        assert!(!f.is_duplicate(Timestamp(0), b"abc"));
    }

    #[test]
    fn many_live_frames_are_all_remembered() {
        // 20,000 distinct frames within one 3 ms window (6.7 million frames per second):
        // each copy is still recognised.
        let mut f = DuplicateFilter::new(3_000_000);
        let frames: Vec<[u8; 64]> = (0..20_000u32)
            .map(|i| {
                let mut b = [0u8; 64];
                b[20..24].copy_from_slice(&i.to_le_bytes());
                b
            })
            .collect();
        for (i, fr) in frames.iter().enumerate() {
            assert!(!f.is_duplicate(Timestamp(1 + i as i64), fr));
        }
        let missed = frames
            .iter()
            .filter(|fr| !f.is_duplicate(Timestamp(100_000), *fr))
            .count();
        assert_eq!(missed, 0);
    }

    #[test]
    fn short_frames_do_not_panic() {
        let mut f = DuplicateFilter::new(1000);
        for len in 0..40 {
            let frame = vec![1u8; len];
            let _ = f.is_duplicate(Timestamp(5), &frame);
        }
    }
}
