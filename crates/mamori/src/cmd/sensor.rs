//! `mamori sensor`: live capture from a mirror port through the same packet path,
//! signature rules, asset ledger, detectors and store as `analyze`.

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

use mamori_store::SqliteStore;

use crate::analysis::{AnalysisHandle, Learning};
use crate::cli::SensorArgs;
use crate::config;
use crate::store_sink::{self, StoreSink};

pub(crate) fn run(args: &SensorArgs) -> anyhow::Result<ExitCode> {
    let mut capture = AfPacketConfig::new(&args.iface);
    capture.block_count = args.ring_blocks.max(2);
    capture.promiscuous = !args.no_promisc;
    let settings = config::load(args.path.config.as_deref())?;
    let threads = args.path.thread_count();
    let mut consumers: Vec<Box<dyn EventConsumer + Send>> = Vec::new();
    if let Some(dir) = &args.path.logs {
        consumers.push(Box::new(
            LogWriter::create(dir).context("opening the log folder")?,
        ));
    }
    let source = vec![format!("live:{}", args.iface)];
    let store = if args.path.no_db {
        None
    } else {
        let path = args.path.store_path(&settings);
        let store = Arc::new(
            SqliteStore::open(&path)
                .with_context(|| format!("opening the store {}", path.display()))?,
        );
        let run = store_sink::start_run(&store, "sensor", &source, threads)?;
        consumers.push(Box::new(StoreSink::new(Arc::clone(&store), run)?));
        Some((store, run))
    };
    let analysis = if args.path.no_analysis {
        None
    } else {
        let analysis = AnalysisHandle::new(
            settings.detect.clone(),
            Learning::Auto,
            store.as_ref().map(|(s, _)| s.as_ref()),
        )?;
        consumers.push(analysis.consumer());
        Some(analysis)
    };
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
    let mut worker = args.path.worker_config();
    if worker.dissect {
        worker.rules = crate::signatures::load(&settings.rules)?;
    }
    let config = LiveConfig {
        capture,
        threads,
        worker,
    };
    if !args.path.quiet {
        eprintln!(
            "mamori: capturing on {} with {} worker(s); Ctrl-C stops",
            args.iface, config.threads
        );
    }
    let progress = Progress::default();
    let result = run_live(&config, consumers, &stop, &progress);
    let findings = match (&result, &analysis) {
        (Ok(_), Some(analysis)) => Some(analysis.finish_run(
            args.path.logs.as_deref(),
            store.as_ref().map(|(s, r)| (s.as_ref(), *r)),
            &format!("sensor {}", args.iface),
        )?),
        _ => None,
    };
    if let Some((store, run)) = &store {
        store_sink::finish_live_run(store, *run, result.as_ref().ok(), &source)
            .context("recording the run")?;
    }
    let outcome = result.with_context(|| format!("capturing on {}", args.iface))?;
    let s = &outcome.stats;
    let found = findings.map_or_else(String::new, |f| {
        format!("{} assets, {} alerts, ", f.assets, f.alerts)
    });
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    println!(
        "{} packets, {} bytes, {} flows, {found}{} duplicates, {} undecodable, {} evicted, {} dropped by the kernel; {:.2}s, {:.0} packets/s, {:.3} Gbit/s ({} thread{})",
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
