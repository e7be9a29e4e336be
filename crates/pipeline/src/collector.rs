//! Puts the workers' events back into one deterministic order and hands them on.
//!
//! Every worker reports its events in *epochs*: one second of packet time, ended by a
//! tick that every worker receives at the same point of the input, plus a last epoch
//! for the flows still open at the end. Within an epoch a worker sends its events
//! sorted by [`Event::order_key`], in one or more chunks (the last epoch can be large,
//! so it streams). The collector merges the workers' sorted streams of an epoch and
//! passes the result to its [`EventConsumer`]s. The order therefore depends on the
//! input alone, not on how flows were spread over threads, and a large epoch never has
//! to sit in memory whole.

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

/// One piece of a worker's epoch: events sorted by [`Event::order_key`], each chunk's
/// events ordered after the previous chunk's; `end` closes the epoch.
#[derive(Debug, Default)]
pub struct Chunk {
    /// The events.
    pub events: Vec<Event>,
    /// Whether this chunk ends the worker's epoch.
    pub end: bool,
}

// Events are large and end-of-epoch markers rare; boxing every event to shrink the
// marker would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Queued {
    Event(Event),
    EndOfEpoch,
}

/// Merges per-worker epochs into one ordered stream.
pub struct Collector {
    queues: Vec<VecDeque<Queued>>,
    consumers: Vec<Box<dyn EventConsumer + Send>>,
    events: u64,
}

impl std::fmt::Debug for Collector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Collector")
            .field("workers", &self.queues.len())
            .field("events", &self.events)
            .finish()
    }
}

impl Collector {
    /// A collector for `workers` workers.
    pub fn new(workers: usize, consumers: Vec<Box<dyn EventConsumer + Send>>) -> Self {
        Collector {
            queues: (0..workers.max(1)).map(|_| VecDeque::new()).collect(),
            consumers,
            events: 0,
        }
    }

    /// Events passed on so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Takes a chunk from `worker` and passes on every event whose place is now certain.
    pub fn chunk(&mut self, worker: usize, chunk: Chunk) -> Result<(), ConsumerError> {
        let q = &mut self.queues[worker];
        q.extend(chunk.events.into_iter().map(Queued::Event));
        if chunk.end {
            q.push_back(Queued::EndOfEpoch);
        }
        self.merge()
    }

    /// Passes on events while every worker has either an event or the end of its epoch
    /// at the head of its queue.
    fn merge(&mut self) -> Result<(), ConsumerError> {
        loop {
            let mut best: Option<usize> = None;
            let mut all_ended = true;
            for (i, q) in self.queues.iter().enumerate() {
                match q.front() {
                    None => return Ok(()),
                    Some(Queued::EndOfEpoch) => {}
                    Some(Queued::Event(e)) => {
                        all_ended = false;
                        let better = match best.and_then(|b| self.queues[b].front()) {
                            Some(Queued::Event(b)) => e.order_key() < b.order_key(),
                            _ => true,
                        };
                        if better {
                            best = Some(i);
                        }
                    }
                }
            }
            if all_ended {
                for q in &mut self.queues {
                    q.pop_front();
                }
                continue;
            }
            if let Some(Queued::Event(e)) = best.and_then(|b| self.queues[b].pop_front()) {
                self.pass_on(&e)?;
            }
        }
    }

    fn pass_on(&mut self, event: &Event) -> Result<(), ConsumerError> {
        for c in &mut self.consumers {
            c.consume(event)?;
        }
        self.events += 1;
        Ok(())
    }

    /// Writes events that need no cross-worker ordering (live capture), sorted among themselves.
    pub fn unordered(&mut self, mut events: Vec<Event>) -> Result<(), ConsumerError> {
        events.sort_by_key(Event::order_key);
        for e in &events {
            self.pass_on(e)?;
        }
        Ok(())
    }

    /// Writes whatever is left (epochs some worker never closed, in queue order) and
    /// flushes the consumers.
    pub fn finish(&mut self) -> Result<(), ConsumerError> {
        let mut rest: Vec<Event> = Vec::new();
        for q in &mut self.queues {
            rest.extend(q.drain(..).filter_map(|x| match x {
                Queued::Event(e) => Some(e),
                Queued::EndOfEpoch => None,
            }));
        }
        self.unordered(rest)?;
        for c in &mut self.consumers {
            c.finish()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ArpEvent;
    use mamori_wire::Timestamp;
    use mamori_wire::decode::{ArpPacket, MacAddr};
    use std::sync::{Arc, Mutex};

    struct Recorder(Arc<Mutex<Vec<u64>>>);

    impl EventConsumer for Recorder {
        fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
            if let Event::Arp(a) = event {
                self.0.lock().unwrap().push(a.packet_no);
            }
            Ok(())
        }
        fn finish(&mut self) -> Result<(), ConsumerError> {
            Ok(())
        }
    }

    fn arp(no: u64) -> Event {
        let ip = std::net::Ipv4Addr::new(10, 0, 0, 1);
        let arp = ArpPacket {
            operation: 1,
            sender_mac: MacAddr::default(),
            sender_ip: ip,
            target_mac: MacAddr::default(),
            target_ip: ip,
        };
        Event::Arp(ArpEvent {
            ts: Timestamp(no as i64),
            packet_no: no,
            src_mac: None,
            dst_mac: None,
            vlan: None,
            arp,
        })
    }

    fn chunk(nos: &[u64], end: bool) -> Chunk {
        Chunk {
            events: nos.iter().map(|&n| arp(n)).collect(),
            end,
        }
    }

    #[test]
    fn streams_merge_in_key_order_and_wait_for_slow_workers() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut c = Collector::new(2, vec![Box::new(Recorder(Arc::clone(&seen)))]);
        c.chunk(0, chunk(&[1, 4], false)).unwrap();
        assert!(
            seen.lock().unwrap().is_empty(),
            "worker 1 may still send something smaller"
        );
        c.chunk(1, chunk(&[2], false)).unwrap();
        assert_eq!(*seen.lock().unwrap(), [1, 2]);
        c.chunk(1, chunk(&[3, 9], true)).unwrap();
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3, 4]);
        c.chunk(0, chunk(&[7], true)).unwrap();
        assert_eq!(*seen.lock().unwrap(), [1, 2, 3, 4, 7, 9]);
        // The next epoch starts over.
        c.chunk(1, chunk(&[10], true)).unwrap();
        c.chunk(0, chunk(&[], true)).unwrap();
        assert_eq!(seen.lock().unwrap().last(), Some(&10));
    }
}
