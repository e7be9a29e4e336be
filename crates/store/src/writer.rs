//! The store writer: one thread that sums connections per hour and writes
//! them in batched transactions.
//!
//! Producers call [`StoreWriter::send`], which blocks while the bounded queue
//! is full; that is the backpressure that keeps a slow disk from turning into
//! unbounded memory. The thread folds each connection into an in-memory map
//! keyed like `flow_hourly`, and writes the map out in one transaction when it
//! holds [`WriterConfig::max_keys`] keys, every
//! [`WriterConfig::max_messages`] connections, on [`StoreWriter::flush`], and
//! at the end. Memory is therefore bounded by `queue` connections plus
//! `max_keys` aggregates, whatever the input.
//!
//! An error stops the thread: the batch in hand is rolled back, batches
//! committed before it stay, later `send`s fail fast with
//! [`StoreError::WriterStopped`], and [`StoreWriter::finish`] returns the
//! error itself.

use std::collections::HashMap;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::error::StoreError;
use crate::model::{ConnSummary, FlowHourly, FlowKey, FlowSums, RunId};

/// Sizes of the writer's queue and batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriterConfig {
    /// Messages the queue holds before `send` blocks (at least 1).
    pub queue: usize,
    /// Distinct keys held in memory before a write (at least 1).
    pub max_keys: usize,
    /// Connections received between writes (at least 1).
    pub max_messages: usize,
}

impl Default for WriterConfig {
    /// A 4096-message queue, writes of at most 50 000 keys or every 200 000
    /// connections: a few tens of MB at most, and few enough transactions
    /// that SQLite's per-commit cost does not matter.
    fn default() -> Self {
        WriterConfig {
            queue: 4096,
            max_keys: 50_000,
            max_messages: 200_000,
        }
    }
}

/// What the writer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteStats {
    /// Connections received.
    pub conns: u64,
    /// Rows written (inserted or added to); one per key per batch.
    pub rows: u64,
    /// Transactions committed.
    pub transactions: u64,
    /// Time spent in the store's write calls.
    pub write_time: Duration,
    /// Most keys held in memory at once.
    pub peak_keys: usize,
}

/// Sums connections per [`FlowKey`] until they are written.
#[derive(Debug, Default)]
pub(crate) struct FlowAggregator {
    map: HashMap<FlowKey, (FlowSums, RunId)>,
}

impl FlowAggregator {
    /// Folds one connection in.
    pub(crate) fn add(&mut self, conn: &ConnSummary) {
        let sums = FlowSums::of(conn);
        self.map
            .entry(FlowKey::of(conn))
            .and_modify(|(s, run)| {
                s.merge(&sums);
                *run = (*run).max(conn.run_id);
            })
            .or_insert((sums, conn.run_id));
    }

    /// Distinct keys held.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    /// Empties the map into rows sorted by key (the table's order, which
    /// keeps B-tree writes local).
    pub(crate) fn drain(&mut self) -> Vec<FlowHourly> {
        let mut rows: Vec<FlowHourly> = self
            .map
            .drain()
            .map(|(key, (sums, run))| FlowHourly {
                key,
                sums,
                last_run: Some(run),
            })
            .collect();
        rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        rows
    }
}

enum Msg {
    Conn(ConnSummary),
    Flush,
}

/// Handle to the writer thread.
///
/// `send` takes `&self`, so worker threads can share one handle by reference
/// (e.g. in [`std::thread::scope`]). Dropping the handle without
/// [`finish`](StoreWriter::finish) still writes what is pending and waits for
/// the thread, but discards any error: call `finish`.
#[derive(Debug)]
pub struct StoreWriter {
    tx: Option<Sender<Msg>>,
    thread: Option<JoinHandle<Result<WriteStats, StoreError>>>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Msg::Conn(_) => f.write_str("Conn"),
            Msg::Flush => f.write_str("Flush"),
        }
    }
}

impl StoreWriter {
    /// Starts the writer thread over `store`.
    pub fn spawn(store: Arc<dyn Store>, config: WriterConfig) -> Result<Self, StoreError> {
        let config = WriterConfig {
            queue: config.queue.max(1),
            max_keys: config.max_keys.max(1),
            max_messages: config.max_messages.max(1),
        };
        let (tx, rx) = crossbeam_channel::bounded(config.queue);
        let thread = std::thread::Builder::new()
            .name("mamori-store-writer".into())
            .spawn(move || run(&*store, &rx, config))
            .map_err(StoreError::Spawn)?;
        Ok(StoreWriter {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues one connection, blocking while the queue is full.
    ///
    /// Fails with [`StoreError::WriterStopped`] once the thread has stopped on
    /// an error; [`finish`](StoreWriter::finish) tells which.
    pub fn send(&self, conn: ConnSummary) -> Result<(), StoreError> {
        self.push(Msg::Conn(conn))
    }

    /// Asks the thread to write what it holds now (e.g. periodically in a
    /// live capture). Returns once the request is queued, not written.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.push(Msg::Flush)
    }

    fn push(&self, msg: Msg) -> Result<(), StoreError> {
        let tx = self.tx.as_ref().ok_or(StoreError::WriterStopped)?;
        tx.send(msg).map_err(|_| StoreError::WriterStopped)
    }

    /// Writes what is pending, stops the thread and returns its statistics,
    /// or the error that stopped it.
    pub fn finish(mut self) -> Result<WriteStats, StoreError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<WriteStats, StoreError> {
        // Closing the queue is the stop signal: the thread drains what is
        // queued, writes, and returns.
        drop(self.tx.take());
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| StoreError::WriterPanicked)?,
            None => Err(StoreError::WriterStopped),
        }
    }
}

impl Drop for StoreWriter {
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.stop();
        }
    }
}

/// The thread's body.
fn run(
    store: &dyn Store,
    rx: &Receiver<Msg>,
    config: WriterConfig,
) -> Result<WriteStats, StoreError> {
    let mut agg = FlowAggregator::default();
    let mut stats = WriteStats::default();
    let mut since_write = 0usize;
    for msg in rx {
        match msg {
            Msg::Conn(conn) => {
                agg.add(&conn);
                stats.conns += 1;
                since_write += 1;
                stats.peak_keys = stats.peak_keys.max(agg.len());
                if agg.len() >= config.max_keys || since_write >= config.max_messages {
                    write(store, &mut agg, &mut stats)?;
                    since_write = 0;
                }
            }
            Msg::Flush => {
                write(store, &mut agg, &mut stats)?;
                since_write = 0;
            }
        }
    }
    write(store, &mut agg, &mut stats)?;
    Ok(stats)
}

/// Writes the aggregator's content in one transaction.
fn write(
    store: &dyn Store,
    agg: &mut FlowAggregator,
    stats: &mut WriteStats,
) -> Result<(), StoreError> {
    if agg.len() == 0 {
        return Ok(());
    }
    let rows = agg.drain();
    let start = Instant::now();
    let written = store.add_flow_hourly(&rows)?;
    stats.write_time += start.elapsed();
    stats.rows += written;
    stats.transactions += 1;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    fn conn(ts: i64, resp_p: u16, run: i64) -> ConnSummary {
        ConnSummary {
            ts,
            orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            proto: 6,
            resp_p,
            service: Some(String::new()),
            vlan: None,
            orig_pkts: 2,
            resp_pkts: 3,
            orig_bytes: 10,
            resp_bytes: 20,
            orig_ip_bytes: 90,
            resp_ip_bytes: 140,
            duration_nanos: 5,
            run_id: RunId(run),
        }
    }

    #[test]
    fn aggregator_sums_per_key_and_keeps_the_latest_run() {
        let mut agg = FlowAggregator::default();
        agg.add(&conn(100, 502, 1));
        agg.add(&conn(50, 502, 2));
        agg.add(&conn(100, 102, 1));
        assert_eq!(agg.len(), 2);
        let rows = agg.drain();
        assert_eq!(agg.len(), 0);
        assert_eq!(rows.len(), 2);
        // Sorted by key: port 102 first.
        assert_eq!(rows[0].key.resp_p, 102);
        let modbus = &rows[1];
        assert_eq!(modbus.key.service, None, "empty service is none");
        assert_eq!(modbus.sums.conns, 2);
        assert_eq!(modbus.sums.orig_ip_bytes, 180);
        assert_eq!(modbus.sums.duration_nanos, 10);
        assert_eq!(modbus.sums.first_seen, 50);
        assert_eq!(modbus.sums.last_seen, 105);
        assert_eq!(modbus.last_run, Some(RunId(2)));
    }
}
