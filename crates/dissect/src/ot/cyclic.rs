//! Cyclic traffic, counted per flow and minute.
//!
//! Cyclic I/O (CC-Link IE Field Basic link scans, CC-Link IE cyclic frames and their
//! token passing) repeats many times a second; `ot.jsonl` logs it as one record per
//! flow, minute and kind of frame with a `count` and a `ts_end` (DESIGN §3). A
//! [`MinuteAggregator`] keeps the open records of one flow (or one layer-2 session):
//! every frame is matched on a small `Copy` key chosen by the dissector (so nothing is
//! allocated for a frame that joins an open record); a frame from a later minute
//! closes every open record. At most [`MAX_OPEN`] records are open at once; when more
//! keys appear, the oldest record is closed early and counted in
//! [`MinuteAggregator::closed_early`] (a layer-2 session seeing a whole network opens
//! more: [`MinuteAggregator::with_max_open`]).

use std::collections::HashMap;
use std::hash::Hash;

use crate::contract::Flags;
use crate::record::OtOperation;

/// Nanoseconds in a minute.
pub const MINUTE_NS: i64 = 60_000_000_000;
/// Records open at once per aggregator.
pub const MAX_OPEN: usize = 64;

/// One aggregated record: the first frame's operation, how many frames it stands
/// for, and when the last one was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregate<K> {
    /// What the frames had in common (the dissector's key).
    pub key: K,
    /// The operation as the first frame of the minute gave it (`ts` is its time;
    /// `flags` gather every frame's).
    pub op: OtOperation,
    /// Frames counted.
    pub count: u64,
    /// Time of the last frame counted (nanoseconds since the epoch).
    pub ts_end: i64,
}

/// Open per-minute records of one flow (or of one layer-2 session).
#[derive(Debug)]
pub struct MinuteAggregator<K> {
    minute: i64,
    /// Open records by key, with the order they opened in.
    open: HashMap<K, (u64, Aggregate<K>)>,
    opened: u64,
    max_open: usize,
    /// Records closed before their minute ended because the most were open.
    pub closed_early: u64,
}

impl<K> Default for MinuteAggregator<K> {
    fn default() -> Self {
        Self::with_max_open(MAX_OPEN)
    }
}

impl<K> MinuteAggregator<K> {
    /// An aggregator keeping at most `max_open` records open (at least one); a
    /// layer-2 session that sees a whole network wants more than [`MAX_OPEN`].
    pub fn with_max_open(max_open: usize) -> Self {
        MinuteAggregator {
            minute: i64::MIN,
            open: HashMap::new(),
            opened: 0,
            max_open: max_open.max(1),
            closed_early: 0,
        }
    }

    /// Records open now.
    pub fn open(&self) -> usize {
        self.open.len()
    }
}

impl<K: Eq + Hash + Copy> MinuteAggregator<K> {
    /// Counts one frame at `ts` under `key`; `make` builds the operation when the
    /// key opens a new record. Records of an earlier minute are closed into `out`.
    pub fn add(
        &mut self,
        ts: i64,
        key: K,
        flags: Flags,
        make: impl FnOnce() -> OtOperation,
        out: &mut Vec<Aggregate<K>>,
    ) {
        let minute = ts.div_euclid(MINUTE_NS);
        if minute != self.minute {
            self.flush(out);
            self.minute = minute;
        }
        if let Some((_, a)) = self.open.get_mut(&key) {
            a.count += 1;
            a.ts_end = a.ts_end.max(ts);
            a.op.flags.0 |= flags.0;
            return;
        }
        if self.open.len() >= self.max_open
            && let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, (seq, _))| *seq)
                .map(|(k, _)| *k)
            && let Some((_, a)) = self.open.remove(&oldest)
        {
            out.push(a);
            self.closed_early += 1;
        }
        let mut op = make();
        op.ts = ts;
        op.flags.0 |= flags.0;
        self.opened += 1;
        self.open.insert(
            key,
            (
                self.opened,
                Aggregate {
                    key,
                    op,
                    count: 1,
                    ts_end: ts,
                },
            ),
        );
    }

    /// Closes every open record into `out`, in the order they opened (at a minute's
    /// end, or the flow's).
    pub fn flush(&mut self, out: &mut Vec<Aggregate<K>>) {
        let mut closed: Vec<(u64, Aggregate<K>)> = self.open.drain().map(|(_, v)| v).collect();
        closed.sort_unstable_by_key(|(seq, _)| *seq);
        out.extend(closed.into_iter().map(|(_, a)| a));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Category, Function, Status};

    fn op() -> OtOperation {
        OtOperation {
            protocol: "test",
            pdu: None,
            function: Function {
                code: 1,
                name: "cyclic",
                category: Category::Cyclic,
            },
            target: String::new(),
            status: Status::Ok,
            flags: Flags::default(),
            ts: 0,
        }
    }

    #[test]
    fn frames_of_one_minute_and_key_make_one_record() {
        let mut agg = MinuteAggregator::default();
        let mut out = Vec::new();
        for i in 0..10 {
            agg.add(MINUTE_NS + i, 'a', Flags::default(), op, &mut out);
        }
        agg.add(MINUTE_NS + 5, 'b', Flags(1), op, &mut out);
        assert!(out.is_empty());
        // The next minute closes both.
        agg.add(2 * MINUTE_NS, 'a', Flags::default(), op, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(
            (out[0].key, out[0].count, out[0].op.ts, out[0].ts_end),
            ('a', 10, MINUTE_NS, MINUTE_NS + 9)
        );
        assert_eq!(
            (out[1].key, out[1].count, out[1].op.flags),
            ('b', 1, Flags(1))
        );
        agg.flush(&mut out);
        assert_eq!((out.len(), out[2].count), (3, 1));
        assert_eq!(agg.open(), 0);
    }

    #[test]
    fn too_many_keys_close_the_oldest_early() {
        let mut agg = MinuteAggregator::default();
        let mut out = Vec::new();
        for k in 0..=MAX_OPEN {
            agg.add(0, k, Flags::default(), op, &mut out);
        }
        assert_eq!((out.len(), out[0].key, agg.closed_early), (1, 0, 1));
        assert_eq!(agg.open(), MAX_OPEN);
    }
}
