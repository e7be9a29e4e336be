//! Running the packet path over capture files, on one thread or many.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use mamori_wire::capture::Packet;
use mamori_wire::capture::file::FileError;
use mamori_wire::capture::merge::{FileProgress, MergedCapture};
use mamori_wire::{LinkType, Timestamp};

use crate::collector::{Chunk, Collector, ConsumerError, EventConsumer};
use crate::stats::PacketStats;
use crate::worker::{FragmentStage, Route, Worker, WorkerConfig, datagram_worker, route};
use mamori_wire::decode::L2Header;

/// Packets per batch sent to a worker.
const BATCH_PACKETS: usize = 512;
/// Bytes per batch sent to a worker.
const BATCH_BYTES: usize = 512 * 1024;
/// Batches in flight per worker (the bound on queued memory).
const BATCHES_PER_WORKER: usize = 8;
/// After this many packets, the next tick sends every worker's batch even if not full,
/// so no worker's epochs lag far behind the others' (the collector holds the gap).
const SYNC_PACKETS: u64 = 64 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// Capture files, already expanded from globs and folders.
    pub inputs: Vec<PathBuf>,
    /// Worker threads (1 runs everything on the calling thread).
    pub threads: usize,
    /// Worker settings; `flows.max_flows` is the total, split between workers.
    pub worker: WorkerConfig,
}

/// Live counters for a progress bar, updated as the run goes.
#[derive(Debug, Default)]
pub struct Progress {
    /// Packets read.
    pub packets: AtomicU64,
    /// Bytes of the inputs consumed.
    pub bytes: AtomicU64,
}

/// How a run went.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Packet path counters, summed over workers.
    pub stats: PacketStats,
    /// Per-file results, including damage.
    pub files: Vec<FileProgress>,
    /// Bytes of the inputs consumed (uncompressed).
    pub input_bytes: u64,
    /// Events passed to consumers.
    pub events: u64,
    /// First and last packet time.
    pub first_ts: Option<Timestamp>,
    /// Last packet time.
    pub last_ts: Option<Timestamp>,
    /// Wall time.
    pub elapsed: Duration,
    /// Threads used.
    pub threads: usize,
}

impl RunOutcome {
    /// Whether some input ended early because of damage.
    pub fn damaged(&self) -> bool {
        self.files.iter().any(|f| f.error.is_some())
    }
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// An input could not be opened.
    #[error(transparent)]
    Open(#[from] FileError),
    /// A consumer (logs, store) failed; what it already wrote stays.
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
    /// A worker thread died.
    #[error("a worker thread panicked: {0}")]
    WorkerPanicked(String),
}

/// Runs the packet path over `config.inputs`, handing ordered events to `consumers`.
pub fn run_files(
    config: &RunConfig,
    consumers: Vec<Box<dyn EventConsumer + Send>>,
    progress: &Progress,
) -> Result<RunOutcome, RunError> {
    let started = Instant::now();
    let mut input = MergedCapture::open(&config.inputs)?;
    let threads = config.threads.max(1);
    let mut worker_config = config.worker.clone();
    worker_config.flows.max_flows = (worker_config.flows.max_flows / threads).max(1);
    let mut clock = Clock::default();
    let (stats, events) = if threads == 1 {
        run_inline(&mut input, &worker_config, consumers, progress, &mut clock)?
    } else {
        run_threaded(
            &mut input,
            &worker_config,
            threads,
            consumers,
            progress,
            &mut clock,
        )?
    };
    progress.bytes.store(input.bytes_read(), Ordering::Relaxed);
    Ok(RunOutcome {
        stats,
        files: input.progress(),
        input_bytes: input.bytes_read(),
        events,
        first_ts: clock.first,
        last_ts: clock.last,
        elapsed: started.elapsed(),
        threads,
    })
}

/// Tracks packet time: first, last, and when a new second (a tick) begins.
#[derive(Debug)]
struct Clock {
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    /// Start of the second after the last tick: packets before it need no tick.
    next_tick: Timestamp,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            first: None,
            last: None,
            next_tick: Timestamp::MIN,
        }
    }
}

impl Clock {
    /// Notes a packet's time; returns the tick to send first when it opens a new second.
    fn observe(&mut self, ts: Timestamp) -> Option<Timestamp> {
        if self.first.is_none() {
            self.first = Some(ts);
        }
        if self.last.is_none_or(|l| ts > l) {
            self.last = Some(ts);
        }
        if ts < self.next_tick {
            return None;
        }
        let second = Timestamp::from_secs(ts.secs());
        self.next_tick = second.plus_secs(1);
        Some(second)
    }
}

fn report(progress: &Progress, packet_no: u64, input: &MergedCapture) {
    if packet_no.is_multiple_of(4096) {
        progress.packets.store(packet_no, Ordering::Relaxed);
        progress.bytes.store(input.bytes_read(), Ordering::Relaxed);
    }
}

fn run_inline(
    input: &mut MergedCapture,
    config: &WorkerConfig,
    consumers: Vec<Box<dyn EventConsumer + Send>>,
    progress: &Progress,
    clock: &mut Clock,
) -> Result<(PacketStats, u64), RunError> {
    let mut worker = Worker::new(config, 0);
    let mut collector = Collector::new(1, consumers);
    let mut packet_no = 0u64;
    while let Some(pkt) = input.next_packet() {
        if let Some(now) = clock.observe(pkt.ts) {
            collector.chunk(0, worker.tick(now))?;
        }
        worker.packet(packet_no, &pkt);
        packet_no += 1;
        report(progress, packet_no, input);
    }
    progress.packets.store(packet_no, Ordering::Relaxed);
    let mut failure = None;
    worker.finish(|chunk| {
        if failure.is_none()
            && let Err(e) = collector.chunk(0, chunk)
        {
            failure = Some(e);
        }
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    collector.finish()?;
    Ok((worker.stats(), collector.events()))
}

/// Where one packet sits in a batch.
#[derive(Debug, Clone, Copy)]
enum Item {
    Packet {
        packet_no: u64,
        ts: Timestamp,
        link: LinkType,
        orig_len: u32,
        start: u32,
        len: u32,
    },
    /// A datagram reassembled by the reader from IP fragments.
    Datagram {
        ts: Timestamp,
        l2: L2Header,
        start: u32,
        len: u32,
    },
    Tick(Timestamp),
}

/// Packets copied for one worker, sent together.
#[derive(Debug, Default)]
struct Batch {
    data: Vec<u8>,
    items: Vec<Item>,
}

impl Batch {
    fn is_full(&self) -> bool {
        self.items.len() >= BATCH_PACKETS || self.data.len() >= BATCH_BYTES
    }

    fn push_packet(&mut self, packet_no: u64, pkt: &Packet<'_>) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(pkt.data);
        let len = pkt.data.len() as u32;
        self.items.push(Item::Packet {
            packet_no,
            ts: pkt.ts,
            link: pkt.link,
            orig_len: pkt.orig_len,
            start,
            len,
        });
    }

    fn push_datagram(&mut self, ts: Timestamp, l2: L2Header, datagram: &[u8]) {
        let start = self.data.len() as u32;
        self.data.extend_from_slice(datagram);
        self.items.push(Item::Datagram {
            ts,
            l2,
            start,
            len: datagram.len() as u32,
        });
    }
}

/// The reader's end of one worker's queues.
struct WorkerLane {
    current: Batch,
    to_worker: Sender<Batch>,
    recycled: Receiver<Batch>,
}

impl WorkerLane {
    /// Sends the current batch and takes an empty one; false when the worker is gone.
    fn send(&mut self) -> bool {
        let next = self.recycled.recv().unwrap_or_default();
        let full = std::mem::replace(&mut self.current, next);
        self.to_worker.send(full).is_ok()
    }
}

fn run_threaded(
    input: &mut MergedCapture,
    config: &WorkerConfig,
    threads: usize,
    consumers: Vec<Box<dyn EventConsumer + Send>>,
    progress: &Progress,
    clock: &mut Clock,
) -> Result<(PacketStats, u64), RunError> {
    let (event_tx, event_rx) = bounded::<(usize, Chunk)>(threads * 64);
    thread::scope(|scope| {
        let collector = scope.spawn(move || -> Result<u64, ConsumerError> {
            let mut collector = Collector::new(threads, consumers);
            for (worker, chunk) in event_rx {
                collector.chunk(worker, chunk)?;
            }
            collector.finish()?;
            Ok(collector.events())
        });
        let mut lanes = Vec::with_capacity(threads);
        let mut workers = Vec::with_capacity(threads);
        for index in 0..threads {
            let (to_worker, from_reader) = bounded::<Batch>(BATCHES_PER_WORKER);
            let (to_reader, recycled) = bounded::<Batch>(BATCHES_PER_WORKER + 1);
            for _ in 0..BATCHES_PER_WORKER {
                let _ = to_reader.send(Batch::default());
            }
            let events_out = event_tx.clone();
            workers.push(
                scope.spawn(move || {
                    worker_loop(index, config, &from_reader, &to_reader, &events_out)
                }),
            );
            lanes.push(WorkerLane {
                current: Batch::default(),
                to_worker,
                recycled,
            });
        }
        drop(event_tx);

        let mut packet_no = 0u64;
        let mut alive = true;
        let mut fragments = FragmentStage::new(config);
        let mut last_sync = 0u64;
        while alive {
            let Some(pkt) = input.next_packet() else {
                break;
            };
            if let Some(now) = clock.observe(pkt.ts) {
                let sync = packet_no - last_sync >= SYNC_PACKETS;
                if sync {
                    last_sync = packet_no;
                }
                for lane in &mut lanes {
                    lane.current.items.push(Item::Tick(now));
                    if sync || lane.current.is_full() {
                        alive &= lane.send();
                    }
                }
            }
            let lane = match route(&pkt, threads) {
                Route::Worker(w) => {
                    let lane = &mut lanes[w];
                    lane.current.push_packet(packet_no, &pkt);
                    lane
                }
                Route::Fragment => {
                    let Some((l2, datagram)) = fragments.push(&pkt) else {
                        packet_no += 1;
                        continue;
                    };
                    let Ok(whole) = mamori_wire::decode::ip::decode_ip(datagram) else {
                        packet_no += 1;
                        continue;
                    };
                    let lane = &mut lanes[datagram_worker(&l2, &whole, threads)];
                    lane.current.push_datagram(pkt.ts, l2, datagram);
                    lane
                }
            };
            if lane.current.is_full() {
                alive &= lane.send();
            }
            packet_no += 1;
            report(progress, packet_no, input);
        }
        progress.packets.store(packet_no, Ordering::Relaxed);
        for mut lane in lanes {
            if !lane.current.items.is_empty() {
                let _ = lane.to_worker.send(std::mem::take(&mut lane.current));
            }
        }
        let mut stats = fragments.stats();
        let mut panicked = None;
        for w in workers {
            match w.join() {
                Ok(s) => stats.merge(&s),
                Err(e) => panicked = Some(panic_message(e.as_ref())),
            }
        }
        let events = match collector.join() {
            Ok(result) => result?,
            Err(e) => return Err(RunError::WorkerPanicked(panic_message(e.as_ref()))),
        };
        match panicked {
            Some(message) => Err(RunError::WorkerPanicked(message)),
            None => Ok((stats, events)),
        }
    })
}

fn worker_loop(
    index: usize,
    config: &WorkerConfig,
    batches: &Receiver<Batch>,
    recycle: &Sender<Batch>,
    events_out: &Sender<(usize, Chunk)>,
) -> PacketStats {
    let mut worker = Worker::new(config, index as u16);
    for mut batch in batches {
        for item in &batch.items {
            match *item {
                Item::Packet {
                    packet_no,
                    ts,
                    link,
                    orig_len,
                    start,
                    len,
                } => {
                    let data = &batch.data[start as usize..(start + len) as usize];
                    worker.packet(
                        packet_no,
                        &Packet {
                            ts,
                            link,
                            data,
                            orig_len,
                        },
                    );
                }
                Item::Datagram { ts, l2, start, len } => {
                    worker.datagram(ts, &l2, &batch.data[start as usize..(start + len) as usize]);
                }
                Item::Tick(now) => {
                    if events_out.send((index, worker.tick(now))).is_err() {
                        // The collector stopped (its error is reported by the run).
                        return worker.stats();
                    }
                }
            }
        }
        batch.items.clear();
        batch.data.clear();
        let _ = recycle.send(batch);
    }
    worker.finish(|chunk| {
        let _ = events_out.send((index, chunk));
    });
    worker.stats()
}

fn panic_message(e: &(dyn std::any::Any + Send)) -> String {
    e.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| e.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
