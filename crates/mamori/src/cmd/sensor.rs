//! `mamori sensor`: live capture from a mirror port through the same packet path.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use mamori_pipeline::Progress;
use mamori_pipeline::collector::EventConsumer;
use mamori_pipeline::live::{LiveConfig, run_live};
use mamori_pipeline::logs::LogWriter;
use mamori_wire::capture::afpacket::AfPacketConfig;

use crate::cli::SensorArgs;

pub(crate) fn run(args: &SensorArgs) -> anyhow::Result<ExitCode> {
    let mut capture = AfPacketConfig::new(&args.iface);
    capture.block_count = args.ring_blocks.max(2);
    capture.promiscuous = !args.no_promisc;
    let mut consumers: Vec<Box<dyn EventConsumer + Send>> = Vec::new();
    if let Some(dir) = &args.path.logs {
        consumers.push(Box::new(
            LogWriter::create(dir).context("opening the log folder")?,
        ));
    }
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::Relaxed))
            .context("installing the signal handler")?;
    }
    if let Some(secs) = args.duration {
        let stop = Arc::clone(&stop);
        let until = Instant::now() + Duration::from_secs_f64(secs.max(0.0));
        std::thread::spawn(move || {
            while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            stop.store(true, Ordering::Relaxed);
        });
    }
    let config = LiveConfig {
        capture,
        threads: args.path.thread_count(),
        worker: args.path.worker_config(),
    };
    if !args.path.quiet {
        eprintln!(
            "mamori: capturing on {} with {} worker(s); Ctrl-C stops",
            args.iface, config.threads
        );
    }
    let progress = Progress::default();
    let outcome = run_live(&config, consumers, &stop, &progress)
        .with_context(|| format!("capturing on {}", args.iface))?;
    let s = &outcome.stats;
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    println!(
        "{} packets, {} bytes, {} flows, {} duplicates, {} undecodable, {} evicted, {} dropped by the kernel; {:.2}s, {:.0} packets/s, {:.3} Gbit/s ({} thread{})",
        s.packets,
        s.wire_bytes,
        s.flows.created,
        s.duplicates,
        s.decode_errors,
        s.flows.evicted,
        outcome.capture.drops,
        secs,
        s.packets as f64 / secs,
        s.wire_bytes as f64 * 8.0 / secs / 1e9,
        outcome.threads,
        if outcome.threads == 1 { "" } else { "s" },
    );
    Ok(ExitCode::SUCCESS)
}
