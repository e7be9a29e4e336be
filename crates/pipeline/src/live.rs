//! The packet path on a live interface (Linux AF_PACKET), one capture socket per worker.
//!
//! Each worker thread owns one socket of a `PACKET_FANOUT` group, so the kernel, not a
//! reader thread, spreads packets over workers by a symmetric flow hash. A worker ticks
//! its flow table when packet time enters a new second, and also on the wall clock
//! when the link is quiet, so idle flows still end. Live events need no cross-worker
//! order (there is no "same input" to replay), so each tick's events go to the
//! collector as they come.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Sender, bounded};
use mamori_wire::Timestamp;
use mamori_wire::capture::afpacket::{AfPacketConfig, AfPacketSource, CaptureError, CaptureStats};

use crate::collector::{Collector, ConsumerError, EventConsumer};
use crate::event::Event;
use crate::run::Progress;
use crate::stats::PacketStats;
use crate::worker::{Worker, WorkerConfig};

/// What to capture.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// Capture socket settings (interface, ring size, ...).
    pub capture: AfPacketConfig,
    /// Worker threads, one fanout socket each.
    pub threads: usize,
    /// Worker settings; `flows.max_flows` is the total, split between workers.
    pub worker: WorkerConfig,
}

/// How a live capture went.
#[derive(Debug, Clone, Default)]
pub struct LiveOutcome {
    /// Packet path counters, summed over workers.
    pub stats: PacketStats,
    /// Kernel counters, summed over sockets (drops are packets the ring had no room for).
    pub capture: CaptureStats,
    /// Events passed to consumers.
    pub events: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// Threads used.
    pub threads: usize,
}

/// Why a live capture failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The capture socket failed.
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// A consumer failed.
    #[error(transparent)]
    Consumer(#[from] ConsumerError),
    /// A worker thread died.
    #[error("a worker thread panicked")]
    WorkerPanicked,
}

/// How long a worker waits for packets before ticking on the wall clock.
const POLL: Duration = Duration::from_millis(100);

/// Captures until `stop` is set, handing events to `consumers`.
pub fn run_live(
    config: &LiveConfig,
    consumers: Vec<Box<dyn EventConsumer + Send>>,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<LiveOutcome, LiveError> {
    let started = Instant::now();
    let threads = config.threads.max(1);
    let sources = AfPacketSource::open_fanout(&config.capture, threads)?;
    let mut worker_config = config.worker.clone();
    worker_config.flows.max_flows = (worker_config.flows.max_flows / threads).max(1);
    let (event_tx, event_rx) = bounded::<Vec<Event>>(threads * 64);
    let (stats, capture, events) = thread::scope(|scope| {
        let collector = scope.spawn(move || -> Result<u64, ConsumerError> {
            let mut collector = Collector::new(1, consumers);
            for events in event_rx {
                collector.unordered(events)?;
            }
            collector.finish()?;
            Ok(collector.events())
        });
        let workers: Vec<_> = sources
            .into_iter()
            .enumerate()
            .map(|(index, source)| {
                let tx = event_tx.clone();
                let cfg = &worker_config;
                scope.spawn(move || live_worker(index, threads, source, cfg, &tx, stop, progress))
            })
            .collect();
        drop(event_tx);
        let mut stats = PacketStats::default();
        let mut capture = CaptureStats::default();
        let mut failure: Option<LiveError> = None;
        for w in workers {
            match w.join() {
                Ok(Ok((s, c))) => {
                    stats.merge(&s);
                    capture.packets += c.packets;
                    capture.drops += c.drops;
                    capture.freeze_queue_count += c.freeze_queue_count;
                    capture.delivered += c.delivered;
                    capture.malformed_blocks += c.malformed_blocks;
                }
                Ok(Err(e)) => failure = Some(e.into()),
                Err(_) => failure = Some(LiveError::WorkerPanicked),
            }
        }
        let events = match collector.join() {
            Ok(r) => r?,
            Err(_) => return Err(LiveError::WorkerPanicked),
        };
        match failure {
            Some(e) => Err(e),
            None => Ok((stats, capture, events)),
        }
    })?;
    Ok(LiveOutcome {
        stats,
        capture,
        events,
        elapsed: started.elapsed(),
        threads,
    })
}

fn wall_clock() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp::from_secs_nanos(d.as_secs() as i64, d.subsec_nanos())
}

fn live_worker(
    index: usize,
    threads: usize,
    mut source: AfPacketSource,
    config: &WorkerConfig,
    events_out: &Sender<Vec<Event>>,
    stop: &AtomicBool,
    progress: &Progress,
) -> Result<(PacketStats, CaptureStats), CaptureError> {
    let mut worker = Worker::new(config, index as u16);
    let mut tick_sec = i64::MIN;
    let mut local = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let got = source.poll(POLL, |pkt| {
            let sec = pkt.ts.secs();
            if sec > tick_sec {
                tick_sec = sec;
                let _ = events_out.send(worker.tick(Timestamp::from_secs(sec)).events);
            }
            // Packet numbers only break ties between equal timestamps; interleave workers.
            worker.packet(local * threads as u64 + index as u64, &pkt);
            local += 1;
        })?;
        progress.packets.fetch_add(got as u64, Ordering::Relaxed);
        if got == 0 {
            // A quiet link: let wall-clock time end idle flows.
            let now = wall_clock();
            if now.secs() > tick_sec {
                tick_sec = now.secs();
                if events_out
                    .send(worker.tick(Timestamp::from_secs(tick_sec)).events)
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    worker.finish(|chunk| {
        let _ = events_out.send(chunk.events);
    });
    let capture = source.stats()?;
    Ok((worker.stats(), capture))
}
