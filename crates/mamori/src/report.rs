//! Progress bar and the one-line summary.

use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mamori_pipeline::{Progress, RunOutcome};

use crate::analysis::Findings;

/// Shows a progress bar on a terminal while `work` runs; nothing otherwise.
pub(crate) fn with_progress<T>(
    quiet: bool,
    total_bytes: u64,
    files: usize,
    progress: &Progress,
    work: impl FnOnce() -> T,
) -> T {
    if quiet || !std::io::stderr().is_terminal() {
        return work();
    }
    let bar =
        ProgressBar::with_draw_target(Some(total_bytes), ProgressDrawTarget::stderr_with_hz(4));
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}) {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            let started = std::time::Instant::now();
            while !done.load(Ordering::Relaxed) {
                let packets = progress.packets.load(Ordering::Relaxed);
                let rate = packets as f64 / started.elapsed().as_secs_f64().max(1e-3);
                bar.set_position(progress.bytes.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{files} file(s), {packets} packets, {:.0} pkt/s",
                    rate
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
            bar.finish_and_clear();
        });
        let result = work();
        done.store(true, Ordering::Relaxed);
        let _ = ticker.join();
        result
    })
}

/// The summary line: packets, bytes, flows, assets, alerts, elapsed, packets/s,
/// Gbit/s (assets and alerts when the ledger and detectors ran).
pub(crate) fn summary_line(outcome: &RunOutcome, findings: Option<&Findings>) -> String {
    let s = &outcome.stats;
    let secs = outcome.elapsed.as_secs_f64().max(1e-9);
    let found = findings.map_or_else(String::new, |f| {
        let [low, medium, high, critical] = f.by_severity;
        format!(
            "{} assets, {} alerts ({critical} critical, {high} high, {medium} medium, {low} low), ",
            f.assets, f.alerts
        )
    });
    format!(
        "{} packets, {} bytes, {} flows, {found}{} duplicates, {} undecodable, {} evicted; {:.2}s, {:.0} packets/s, {:.3} Gbit/s ({} thread{}, peak RSS {} MiB)",
        s.packets,
        s.wire_bytes,
        s.flows.created,
        s.duplicates,
        s.decode_errors,
        s.flows.evicted,
        secs,
        s.packets as f64 / secs,
        s.wire_bytes as f64 * 8.0 / secs / 1e9,
        outcome.threads,
        if outcome.threads == 1 { "" } else { "s" },
        peak_rss_bytes().map_or_else(|| "?".to_string(), |b| (b >> 20).to_string()),
    )
}

/// The process's peak resident memory (Linux `VmHWM`), if the platform tells.
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
