//! Per-second layer-2 counts of one worker, for storm and loop detection.
//!
//! Every decoded frame is counted by its destination (broadcast, multicast, unicast)
//! into the current second of packet time; when a frame of a later second arrives,
//! the finished second becomes an [`L2SecondEvent`]. The top broadcast sender is
//! tracked with a small space-saving summary (a fixed array), so the cost per frame
//! is a few comparisons and no allocation.

use mamori_wire::Timestamp;
use mamori_wire::decode::MacAddr;

use crate::event::L2SecondEvent;

/// Broadcast senders tracked per second (space-saving summary size).
const TRACKED: usize = 8;

/// Counts of the current second.
#[derive(Debug)]
pub(crate) struct L2Counter {
    worker: u16,
    second: Option<i64>,
    frames: u64,
    broadcast: u64,
    multicast: u64,
    duplicates: u64,
    senders: [(MacAddr, u64); TRACKED],
}

impl L2Counter {
    pub(crate) fn new(worker: u16) -> Self {
        L2Counter {
            worker,
            second: None,
            frames: 0,
            broadcast: 0,
            multicast: 0,
            duplicates: 0,
            senders: [(MacAddr::default(), 0); TRACKED],
        }
    }

    /// Counts one frame; returns the previous second's counts when this frame opens
    /// a new second.
    #[inline]
    pub(crate) fn count(
        &mut self,
        ts: Timestamp,
        src: Option<MacAddr>,
        dst: Option<MacAddr>,
    ) -> Option<L2SecondEvent> {
        let second = ts.0.div_euclid(1_000_000_000);
        let done = match self.second {
            Some(s) if s == second => None,
            _ => {
                let done = self.flush();
                self.second = Some(second);
                done
            }
        };
        self.frames += 1;
        if let Some(dst) = dst
            && dst.0[0] & 1 != 0
        {
            if dst.0 == [0xff; 6] {
                self.broadcast += 1;
                if let Some(src) = src {
                    self.sender(src);
                }
            } else {
                self.multicast += 1;
            }
        }
        done
    }

    /// Counts a mirror duplicate (already counted as a frame).
    pub(crate) fn duplicate(&mut self) {
        self.duplicates += 1;
    }

    /// Space-saving: a tracked sender gains one; else the least counted is replaced
    /// and inherits its count (an over-estimate, never an under-estimate).
    fn sender(&mut self, src: MacAddr) {
        if let Some(slot) = self.senders.iter_mut().find(|(m, n)| *m == src && *n > 0) {
            slot.1 += 1;
            return;
        }
        let min = self
            .senders
            .iter_mut()
            .min_by_key(|(_, n)| *n)
            .expect("TRACKED > 0");
        *min = (src, min.1 + 1);
    }

    /// The current second's counts, if it had frames; starts afresh.
    pub(crate) fn flush(&mut self) -> Option<L2SecondEvent> {
        let second = self.second.take()?;
        let top = self
            .senders
            .iter()
            .filter(|(_, n)| *n > 0)
            .max_by_key(|(m, n)| (*n, std::cmp::Reverse(m.0)))
            .copied();
        let event = L2SecondEvent {
            second,
            worker: self.worker,
            frames: self.frames,
            broadcast: self.broadcast,
            multicast: self.multicast,
            duplicates: self.duplicates,
            top_broadcaster: top,
        };
        *self = L2Counter::new(self.worker);
        Some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(last: u8) -> MacAddr {
        MacAddr([0, 1, 2, 3, 4, last])
    }

    #[test]
    fn seconds_close_when_a_later_frame_arrives_and_count_by_destination() {
        let mut c = L2Counter::new(3);
        let bcast = Some(MacAddr([0xff; 6]));
        let mcast = Some(MacAddr([0x01, 0x00, 0x5e, 0, 0, 1]));
        let t = |s: i64, ns: i64| Timestamp(s * 1_000_000_000 + ns);
        assert!(c.count(t(10, 0), Some(mac(1)), bcast).is_none());
        assert!(c.count(t(10, 5), Some(mac(1)), bcast).is_none());
        assert!(c.count(t(10, 9), Some(mac(2)), bcast).is_none());
        assert!(c.count(t(10, 10), Some(mac(2)), mcast).is_none());
        assert!(c.count(t(10, 11), Some(mac(2)), Some(mac(9))).is_none());
        c.duplicate();
        let done = c.count(t(12, 0), Some(mac(1)), Some(mac(9))).unwrap();
        assert_eq!(
            done,
            L2SecondEvent {
                second: 10,
                worker: 3,
                frames: 5,
                broadcast: 3,
                multicast: 1,
                duplicates: 1,
                top_broadcaster: Some((mac(1), 2)),
            }
        );
        let last = c.flush().unwrap();
        assert_eq!((last.second, last.frames, last.broadcast), (12, 1, 0));
        assert!(c.flush().is_none());
    }

    #[test]
    fn a_heavy_broadcaster_is_found_among_many_light_ones() {
        let mut c = L2Counter::new(0);
        let bcast = Some(MacAddr([0xff; 6]));
        for i in 0..1000u32 {
            let src = if i % 3 == 0 {
                mac(200)
            } else {
                mac((i % 50) as u8)
            };
            c.count(Timestamp(i64::from(i)), Some(src), bcast);
        }
        let s = c.flush().unwrap();
        assert_eq!(s.broadcast, 1000);
        let (top, n) = s.top_broadcaster.unwrap();
        assert_eq!(top, mac(200));
        assert!(n >= 334, "space-saving never under-counts: {n}");
    }
}
