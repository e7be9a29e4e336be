//! Puts the workers' events back into one deterministic order and hands them on.
//!
//! Every worker reports its events once per epoch (one second of packet time, ended
//! by a tick that every worker receives at the same point of the input). When the
//! collector holds the same epoch from every worker, it sorts the epoch's events by
//! [`Event::order_key`] and passes them to its [`EventConsumer`]s. The order therefore
//! depends on the input alone, not on how flows were spread over threads.

use std::collections::VecDeque;

use crate::event::Event;

/// Something that takes the ordered events: the log writer, the store writer, later the
/// asset ledger and the detectors.
pub trait EventConsumer {
    /// Takes one event, in order.
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError>;
    /// The input ended: flush.
    fn finish(&mut self) -> Result<(), ConsumerError>;
}

/// A consumer failed (a full disk, a database error, ...).
#[derive(Debug, thiserror::Error)]
#[error("{what}: {message}")]
pub struct ConsumerError {
    /// Which consumer.
    pub what: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Merges per-worker epochs into one ordered stream.
pub struct Collector {
    pending: Vec<VecDeque<Vec<Event>>>,
    consumers: Vec<Box<dyn EventConsumer + Send>>,
    scratch: Vec<Event>,
    events: u64,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("workers", &self.pending.len())
            .field("events", &self.events)
            .finish()
    }
}

impl Collector {
    /// A collector for `workers` workers.
    pub fn new(workers: usize, consumers: Vec<Box<dyn EventConsumer + Send>>) -> Self {
        Collector {
            pending: vec![VecDeque::new(); workers.max(1)],
            consumers,
            scratch: Vec::new(),
            events: 0,
        }
    }

    /// Events passed on so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Takes one epoch of events from `worker`; writes every epoch now complete.
    pub fn epoch(&mut self, worker: usize, events: Vec<Event>) -> Result<(), ConsumerError> {
        self.pending[worker].push_back(events);
        while self.pending.iter().all(|q| !q.is_empty()) {
            self.scratch.clear();
            for q in &mut self.pending {
                if let Some(mut e) = q.pop_front() {
                    self.scratch.append(&mut e);
                }
            }
            self.flush_scratch()?;
        }
        Ok(())
    }

    /// Writes events that need no cross-worker ordering (live capture), sorted among themselves.
    pub fn unordered(&mut self, mut events: Vec<Event>) -> Result<(), ConsumerError> {
        self.scratch.clear();
        self.scratch.append(&mut events);
        self.flush_scratch()
    }

    fn flush_scratch(&mut self) -> Result<(), ConsumerError> {
        self.scratch.sort_by_key(Event::order_key);
        for e in &self.scratch {
            for c in &mut self.consumers {
                c.consume(e)?;
            }
        }
        self.events += self.scratch.len() as u64;
        self.scratch.clear();
        Ok(())
    }

    /// Writes whatever is left (epochs some worker never closed) and flushes consumers.
    pub fn finish(&mut self) -> Result<(), ConsumerError> {
        self.scratch.clear();
        for q in &mut self.pending {
            for mut e in q.drain(..) {
                self.scratch.append(&mut e);
            }
        }
        self.flush_scratch()?;
        for c in &mut self.consumers {
            c.finish()?;
        }
        Ok(())
    }
}
