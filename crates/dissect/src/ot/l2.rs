//! What layer-2 OT dissectors emit, and the pending-request queue they share.
//!
//! PROFINET DCP and CC-Link IE Field/Control ride directly on Ethernet: there is no
//! flow table and no IP 5-tuple, so their operations carry the link-layer ends that
//! `ot.jsonl` writes as `orig_l2_addr` and `resp_l2_addr` ([`L2Operation`]). One
//! session per capture interface (or per VLAN) keeps their state; what it remembers
//! is bounded by count and by age ([`Pending`]).

use std::collections::VecDeque;

use mamori_wire::decode::MacAddr;

use crate::contract::Flags;
use crate::record::OtOperation;

/// An operation seen on a layer-2 protocol, with the link-layer addresses of its
/// requester (`orig`) and of where the request went (`resp`: a device, or the
/// multicast group of an identify request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Operation {
    /// The requester's MAC.
    pub orig: MacAddr,
    /// The destination MAC of the request.
    pub resp: MacAddr,
    /// The operation.
    pub op: OtOperation,
}

/// Requests waiting for their responses, oldest first, bounded by `cap` entries and
/// by `window` nanoseconds of age. `K` is whatever a response is matched on.
#[derive(Debug)]
pub struct Pending<K> {
    queue: VecDeque<(K, L2Operation)>,
    cap: usize,
    window: i64,
}

impl<K: PartialEq> Pending<K> {
    /// An empty queue holding at most `cap` requests for at most `window` ns each.
    pub fn new(cap: usize, window: i64) -> Self {
        Pending {
            queue: VecDeque::new(),
            cap: cap.max(1),
            window,
        }
    }

    /// Requests waiting.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none is waiting.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Reports requests older than the window at `now` (their status is whatever
    /// they hold: `no_response` unless a response already marked them).
    pub fn expire(&mut self, now: i64, out: &mut Vec<L2Operation>) {
        while let Some((_, front)) = self.queue.front() {
            if now.saturating_sub(front.op.ts) <= self.window {
                break;
            }
            if let Some((_, done)) = self.queue.pop_front() {
                out.push(flag_unanswered(done));
            }
        }
    }

    /// Remembers a request; when full, the oldest is reported with
    /// `too_many_outstanding`.
    pub fn push(&mut self, key: K, op: L2Operation, out: &mut Vec<L2Operation>) {
        if self.queue.len() >= self.cap
            && let Some((_, mut old)) = self.queue.pop_front()
        {
            if old.op.status == crate::record::Status::NoResponse {
                old.op.flags.set(Flags::TOO_MANY_OUTSTANDING);
            }
            out.push(old);
        }
        self.queue.push_back((key, op));
    }

    /// The oldest waiting request whose key satisfies `matches`.
    pub fn find_mut(&mut self, matches: impl Fn(&K) -> bool) -> Option<&mut L2Operation> {
        self.queue
            .iter_mut()
            .find(|(k, _)| matches(k))
            .map(|(_, op)| op)
    }

    /// Takes out the oldest waiting request whose key satisfies `matches`.
    pub fn take(&mut self, matches: impl Fn(&K) -> bool) -> Option<L2Operation> {
        let i = self.queue.iter().position(|(k, _)| matches(k))?;
        self.queue.remove(i).map(|(_, op)| op)
    }

    /// Reports everything still waiting.
    pub fn drain(&mut self, out: &mut Vec<L2Operation>) {
        out.extend(self.queue.drain(..).map(|(_, op)| flag_unanswered(op)));
    }
}

/// Sets `no_response` on an operation that never got an answer.
fn flag_unanswered(mut done: L2Operation) -> L2Operation {
    if done.op.status == crate::record::Status::NoResponse {
        done.op.flags.set(Flags::NO_RESPONSE);
    }
    done
}
