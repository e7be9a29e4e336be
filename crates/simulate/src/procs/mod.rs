//! Device "processes": small state machines the scheduler wakes in time order.
//!
//! A process emits the packets of one step (a poll, a DHCP exchange, an attack
//! phase), all stamped at or after the time it was woken, and says when it wants to
//! run next. The scheduler keeps them in a priority queue, so the simulation never
//! holds more than the packets of the steps in flight.

pub(crate) mod attacks;
pub(crate) mod background;
pub(crate) mod cyclic;
pub(crate) mod ews;
pub(crate) mod office;
pub(crate) mod poll;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

use mamori_wire::Timestamp;

use crate::net::Ctx;

/// One simulated activity.
pub(crate) trait Process {
    /// Runs one step at `now`; returns when to run again (`None`: finished).
    /// Every packet it emits must be stamped at or after `now`, and the next wake-up
    /// must lie after `now`.
    fn wake(&mut self, now: Timestamp, cx: &mut Ctx<'_, '_>) -> Option<Timestamp>;
}

/// A process and its first wake-up.
pub(crate) type Scheduled = (Timestamp, Box<dyn Process>);

/// Runs all processes until `end` (or until the emitter is full).
pub(crate) fn run(procs: Vec<Scheduled>, cx: &mut Ctx<'_, '_>, end: Timestamp) -> io::Result<()> {
    let mut heap = BinaryHeap::with_capacity(procs.len());
    let mut list = Vec::with_capacity(procs.len());
    for (i, (t, p)) in procs.into_iter().enumerate() {
        heap.push(Reverse((t, i)));
        list.push(p);
    }
    while let Some(Reverse((t, i))) = heap.pop() {
        if t >= end || cx.out.full() {
            break;
        }
        cx.out.flush_until(t)?;
        if let Some(next) = list[i].wake(t, cx) {
            let next = if next <= t { t.plus_nanos(1) } else { next };
            heap.push(Reverse((next, i)));
        }
    }
    Ok(())
}
