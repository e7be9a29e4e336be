//! A one-second timer wheel with lazy rescheduling.
//!
//! Flows are touched on every packet but expire rarely, so a flow's timer is not moved
//! when its deadline moves later: when its slot comes round, the table looks at the
//! real deadline and either expires the flow or files it again. Moving a deadline
//! earlier (a FIN shortens the wait) files a second entry with a new generation; the
//! stale one is ignored when it fires.

/// Seconds the wheel covers in one turn; later deadlines take extra turns.
const SLOTS: usize = 4096;

/// One timer entry: a flow slot and the generation it was filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

#[derive(Debug)]
pub(crate) struct Wheel {
    buckets: Vec<Vec<Entry>>,
    /// The last second processed; `None` before the first advance.
    now_sec: Option<i64>,
    len: usize,
}

impl Wheel {
    pub(crate) fn new() -> Self {
        Wheel {
            buckets: vec![Vec::new(); SLOTS],
            now_sec: None,
            len: 0,
        }
    }

    /// Files `entry` to fire at second `deadline_sec` (or at the next advance if that is past).
    pub(crate) fn schedule(&mut self, deadline_sec: i64, entry: Entry) {
        let at = match self.now_sec {
            Some(now) if deadline_sec <= now => now + 1,
            _ => deadline_sec,
        };
        self.buckets[at.rem_euclid(SLOTS as i64) as usize].push(entry);
        self.len += 1;
    }

    /// Moves the wheel to second `now_sec`, handing every entry of every passed slot to
    /// `fire` (which may schedule again). Returns how many entries fired.
    pub(crate) fn advance(
        &mut self,
        now_sec: i64,
        mut fire: impl FnMut(&mut Self, Entry),
    ) -> usize {
        let from = match self.now_sec {
            Some(prev) if now_sec <= prev => return 0,
            Some(prev) => prev + 1,
            None => now_sec,
        };
        // A jump longer than a turn visits each slot once.
        let from = from.max(now_sec - SLOTS as i64 + 1);
        self.now_sec = Some(now_sec);
        let mut fired = 0;
        let mut batch = Vec::new();
        for sec in from..=now_sec {
            let idx = sec.rem_euclid(SLOTS as i64) as usize;
            std::mem::swap(&mut batch, &mut self.buckets[idx]);
            self.len -= batch.len();
            for entry in batch.drain(..) {
                fired += 1;
                fire(self, entry);
            }
            // Give the (now empty) vector back to keep its capacity.
            if self.buckets[idx].is_empty() {
                std::mem::swap(&mut batch, &mut self.buckets[idx]);
            }
        }
        fired
    }

    /// Forgets every entry.
    pub(crate) fn clear(&mut self) {
        for bucket in &mut self.buckets {
            bucket.clear();
        }
        self.len = 0;
    }

    /// Pops the entry that is due soonest (for eviction when the table is full).
    pub(crate) fn pop_soonest(&mut self) -> Option<Entry> {
        if self.len == 0 {
            return None;
        }
        let start = self
            .now_sec
            .map_or(0, |s| (s + 1).rem_euclid(SLOTS as i64) as usize);
        for i in 0..SLOTS {
            let bucket = &mut self.buckets[(start + i) % SLOTS];
            if !bucket.is_empty() {
                self.len -= 1;
                return bucket.pop();
            }
        }
        None
    }
}
