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
//! [`MinuteAggregator::closed_early`].

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

/// Open per-minute records of one flow.
#[derive(Debug)]
pub struct MinuteAggregator<K> {
    minute: i64,
    open: Vec<Aggregate<K>>,
    /// Records closed before their minute ended because [`MAX_OPEN`] were open.
    pub closed_early: u64,
}

impl<K> Default for MinuteAggregator<K> {
    fn default() -> Self {
        MinuteAggregator {
            minute: i64::MIN,
            open: Vec::new(),
            closed_early: 0,
        }
    }
}

impl<K: PartialEq> MinuteAggregator<K> {
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
        if let Some(a) = self.open.iter_mut().find(|a| a.key == key) {
            a.count += 1;
            a.ts_end = a.ts_end.max(ts);
            a.op.flags.0 |= flags.0;
            return;
        }
        if self.open.len() >= MAX_OPEN {
            out.push(self.open.remove(0));
            self.closed_early += 1;
        }
        let mut op = make();
        op.ts = ts;
        op.flags.0 |= flags.0;
        self.open.push(Aggregate {
            key,
            op,
            count: 1,
            ts_end: ts,
        });
    }

    /// Closes every open record into `out` (at a minute's end, or the flow's).
    pub fn flush(&mut self, out: &mut Vec<Aggregate<K>>) {
        out.append(&mut self.open);
    }

    /// Records open now.
    pub fn open(&self) -> usize {
        self.open.len()
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
        assert_eq!((out[1].key, out[1].count, out[1].op.flags), ('b', 1, Flags(1)));
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
