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
//! Recent fingerprints live in a fixed table of buckets (no allocation per packet, no
//! deletions). A fingerprint belongs to one bucket of [`WAYS`] entries and appears there
//! at most once; a lookup compares them all. New fingerprints take a bucket's entries
//! in turn, each replacing the one filled longest ago; a frame seen again after the
//! window refreshes its own entry. An entry older than the window no longer counts.
//! That can only forget a frame when more than [`WAYS`] live fingerprints share one
//! bucket, which at the table's size takes far more than a million frames per second.

use mamori_wire::Timestamp;

/// Buckets in the table (a power of two).
const BUCKETS: usize = 1 << 14;
/// Entries per bucket.
const WAYS: usize = 8;

/// The fingerprints of one bucket and when each was seen.
#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    fingerprints: [u64; WAYS],
    /// Nanoseconds; 0 marks a never-used entry.
    seen: [i64; WAYS],
    /// The entry the next new fingerprint takes (the one filled longest ago).
    next: u8,
}

/// Remembers recent frames and recognises their copies.
#[derive(Debug)]
pub struct DuplicateFilter {
    window_nanos: i64,
    /// `None` when the filter is disabled. A fixed-size array, so that a bucket index
    /// masked to `BUCKETS - 1` needs no bounds check.
    table: Option<Box<[Bucket; BUCKETS]>>,
}

impl DuplicateFilter {
    /// A filter with the given window (0 disables it).
    pub fn new(window_nanos: i64) -> Self {
        let table = (window_nanos > 0).then(|| {
            vec![Bucket::default(); BUCKETS]
                .into_boxed_slice()
                .try_into()
                .expect("a vector of BUCKETS buckets")
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
        let bucket = &mut table[fp as usize & (BUCKETS - 1)];
        // An entry is live when it was seen within the window: `now - seen <= window`.
        let horizon = now.saturating_sub(self.window_nanos);
        // A bucket holds each fingerprint at most once: a frame seen again after the
        // window refreshes its entry rather than taking another.
        if let Some(i) = bucket.fingerprints.iter().position(|&f| f == fp)
            && bucket.seen[i] != 0
        {
            if bucket.seen[i] >= horizon {
                return true;
            }
            bucket.seen[i] = if now == 0 { 1 } else { now };
            return false;
        }
        let at = usize::from(bucket.next);
        bucket.fingerprints[at] = fp;
        // A timestamp of exactly 0 would read as "never used"; nudge it.
        bucket.seen[at] = if now == 0 { 1 } else { now };
        bucket.next = ((at + 1) % WAYS) as u8;
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
    fn a_frame_seen_again_after_the_window_is_remembered_anew() {
        let mut f = DuplicateFilter::new(3_000_000);
        let frame = [9u8; 120];
        assert!(!f.is_duplicate(Timestamp(1), &frame));
        assert!(!f.is_duplicate(Timestamp(50_000_000), &frame));
        assert!(f.is_duplicate(Timestamp(51_000_000), &frame));
        assert!(!f.is_duplicate(Timestamp(60_000_000), &frame));
        assert!(f.is_duplicate(Timestamp(60_000_001), &frame));
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
