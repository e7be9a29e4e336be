//! `mamori bench`: throughput of the packet path, against the floor of just reading.
//!
//! The floor walks the file's records and touches nothing else; the "decode + flows"
//! lines run the packet path (decode, duplicates, defragmentation, flow table, ordered
//! events) with no log output, for each thread count; the "+ dissectors" lines add TCP
//! reassembly and the OT dissectors on the flows that carry them; the "+ ledger" lines
//! feed the asset ledger too. Each figure is the best of
//! `--runs` runs, after one warm-up read so the file is in the page cache. The
//! "analysis" lines run everything `analyze` does but the logs and the store
//! (dissectors, signature rules, ledger, detectors), with the built-in rules and with
//! 1,000 and 10,000 synthetic ET-style rules (`--rule-counts`) or a rule file (`--rules`).

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use mamori_pipeline::worker::WorkerConfig;
use mamori_pipeline::{Progress, RunConfig, run_files};
use mamori_wire::capture::merge::MergedCapture;

use crate::cli::BenchArgs;
use crate::inputs;

/// One measured line.
struct Measure {
    label: String,
    packets: u64,
    bytes: u64,
    secs: f64,
}

impl Measure {
    fn print(&self, floor: Option<&Measure>, base: Option<&Measure>) {
        let pps = self.packets as f64 / self.secs;
        let gbps = self.bytes as f64 * 8.0 / self.secs / 1e9;
        let mut line = format!(
            "{:<22} {:>12.0} packets/s {:>8.3} Gbit/s {:>8.2} s",
            self.label, pps, gbps, self.secs
        );
        if let Some(f) = floor {
            line += &format!("  {:>5.1}% of floor", 100.0 * f.secs / self.secs);
        }
        if let Some(b) = base {
            line += &format!("  {:>4.2}x one thread", b.secs / self.secs);
        }
        println!("{line}");
    }
}

pub(crate) fn run(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    let inputs = if args.paths.is_empty() {
        ensure_simulated_capture(args)?;
        vec![args.capture.clone()]
    } else {
        inputs::expand(&args.paths)?
    };
    if args.runs == 0 || args.threads.is_empty() {
        bail!("need at least one run and one thread count");
    }
    let size: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "mamori bench: {} file(s), {:.2} GB, best of {} run(s)",
        inputs.len(),
        size as f64 / 1e9,
        args.runs
    );
    read_floor(&inputs)?; // warm the page cache
    let floor = best(args.runs, || read_floor(&inputs))?;
    floor.print(None, None);
    // The packet path alone (decode + flows), then with the dissectors on top.
    for (dissect, what) in [(false, "decode + flows"), (true, "+ dissectors")] {
        let worker = WorkerConfig {
            dissect,
            ..super::worker_config(512 << 20, 3.0)
        };
        let mut one_thread: Option<Measure> = None;
        for &threads in &args.threads {
            let m = best(args.runs, || {
                let config = RunConfig {
                    inputs: inputs.clone(),
                    threads,
                    worker: worker.clone(),
                };
                let started = Instant::now();
                let outcome = run_files(&config, Vec::new(), &Progress::default())?;
                Ok(Measure {
                    label: format!("{what}, {threads}t"),
                    packets: outcome.stats.packets,
                    bytes: outcome.stats.wire_bytes,
                    secs: started.elapsed().as_secs_f64(),
                })
            })?;
            if m.packets != floor.packets {
                bail!(
                    "the packet path saw {} packets, the floor {}",
                    m.packets,
                    floor.packets
                );
            }
            m.print(Some(&floor), one_thread.as_ref());
            if threads == 1 {
                one_thread = Some(m);
            }
        }
    }
    ledger_lines(args, &inputs, &floor)?;
    full_analysis(args, &inputs, &floor)?;
    Ok(ExitCode::SUCCESS)
}

/// The "+ ledger" lines: the packet path and the dissectors feeding the asset ledger
/// (what `analyze` does before its detectors), per thread count.
fn ledger_lines(
    args: &BenchArgs,
    inputs: &[std::path::PathBuf],
    floor: &Measure,
) -> anyhow::Result<()> {
    use mamori_assets::{Knowledge, Ledger, LedgerConfig, LedgerConsumer, shared};
    let worker = WorkerConfig {
        dissect: true,
        ..super::worker_config(512 << 20, 3.0)
    };
    let mut one_thread: Option<Measure> = None;
    for &threads in &args.threads {
        let m = best(args.runs, || {
            let config = RunConfig {
                inputs: inputs.to_vec(),
                threads,
                worker: worker.clone(),
            };
            let started = Instant::now();
            let ledger = shared(Ledger::new(LedgerConfig::default(), Knowledge::system().0));
            let consumer = LedgerConsumer::new(ledger);
            let outcome = run_files(&config, vec![Box::new(consumer)], &Progress::default())?;
            Ok(Measure {
                label: format!("+ ledger, {threads}t"),
                packets: outcome.stats.packets,
                bytes: outcome.stats.wire_bytes,
                secs: started.elapsed().as_secs_f64(),
            })
        })?;
        m.print(Some(floor), one_thread.as_ref());
        if threads == 1 {
            one_thread = Some(m);
        }
    }
    Ok(())
}

/// The "full analysis" lines: dissectors, signature rules, the asset ledger and the
/// detectors (learning, so every packet is judged and nothing is alerted), as
/// `mamori analyze --no-db` runs them without logs. Measured with mamori's built-in
/// OT rules alone, then with `--rule-counts` loaded synthetic ET-style rules
/// ([`mamori_rules::synth`], deterministic) added, then with `--rules FILE` added.
fn full_analysis(
    args: &BenchArgs,
    inputs: &[std::path::PathBuf],
    floor: &Measure,
) -> anyhow::Result<()> {
    let vars = mamori_rules::Vars::default();
    let builtin = mamori_rules::parse_rules(crate::signatures::BUILTIN).rules;
    // (label, rules to compile, rules the parser skipped, malformed)
    let mut sets = vec![("built-in rules".to_string(), builtin.clone(), 0, 0)];
    for &n in args.rule_counts.iter().filter(|&&n| n > 0) {
        // About 60% of the synthetic rules load (the rest use what ET uses and we
        // skip), so twice as many are generated and the first `n` that load are kept.
        let mut synth = mamori_rules::parse_rules(&mamori_rules::synth::rules(2 * n, 7)).rules;
        synth.truncate(n);
        let mut rules = builtin.clone();
        rules.extend(synth);
        sets.push((format!("+{n} ET-style"), rules, 0, 0));
    }
    if let Some(path) = &args.rules {
        let file = std::fs::read_to_string(path)
            .with_context(|| format!("reading the rule file {}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let loaded = mamori_rules::parse_rules(&file);
        let mut rules = builtin.clone();
        rules.extend(loaded.rules);
        sets.push((
            format!("+{name}"),
            rules,
            loaded.skipped.len(),
            loaded.errors.len(),
        ));
    }
    for (name, rules, skipped, malformed) in sets {
        let started = Instant::now();
        let set = mamori_rules::RuleSet::compile(rules, &vars);
        let stats = set.stats().clone();
        println!(
            "full analysis, {name}: {} rules loaded ({} skipped, {malformed} malformed, \
             {} header-only, {} groups, {} fast patterns), compiled in {:.2} s",
            set.len(),
            skipped + stats.skipped,
            stats.header_only,
            stats.groups,
            stats.patterns,
            started.elapsed().as_secs_f64()
        );
        let rules = Some(std::sync::Arc::new(set));
        let loaded = stats.rules;
        let mut one_thread: Option<Measure> = None;
        for &threads in &args.threads {
            let m = best(args.runs, || {
                let analysis = crate::analysis::AnalysisHandle::new(
                    mamori_detect::DetectConfig::default(),
                    crate::analysis::Learning::Learn,
                    None,
                )?;
                let config = RunConfig {
                    inputs: inputs.to_vec(),
                    threads,
                    worker: WorkerConfig {
                        rules: rules.clone(),
                        ..super::worker_config(512 << 20, 3.0)
                    },
                };
                let started = Instant::now();
                let outcome = run_files(&config, vec![analysis.consumer()], &Progress::default())?;
                Ok(Measure {
                    label: format!("analysis {loaded:>5} rules, {threads}t"),
                    packets: outcome.stats.packets,
                    bytes: outcome.stats.wire_bytes,
                    secs: started.elapsed().as_secs_f64(),
                })
            })?;
            m.print(Some(floor), one_thread.as_ref());
            if threads == 1 {
                one_thread = Some(m);
            }
        }
    }
    Ok(())
}

fn best(runs: usize, mut f: impl FnMut() -> anyhow::Result<Measure>) -> anyhow::Result<Measure> {
    let mut best: Option<Measure> = None;
    for _ in 0..runs {
        let m = f()?;
        if best.as_ref().is_none_or(|b| m.secs < b.secs) {
            best = Some(m);
        }
    }
    best.context("no run")
}

/// The floor: walk every record of every file, in timestamp order, touching nothing else.
fn read_floor(inputs: &[std::path::PathBuf]) -> anyhow::Result<Measure> {
    let started = Instant::now();
    let mut merged = MergedCapture::open(inputs)?;
    let (mut packets, mut bytes) = (0u64, 0u64);
    while let Some(p) = merged.next_packet() {
        packets += 1;
        bytes += u64::from(p.orig_len);
    }
    Ok(Measure {
        label: "raw read (floor)".into(),
        packets,
        bytes,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Simulates a plant capture of about `--size` bytes unless one of that size exists.
fn ensure_simulated_capture(args: &BenchArgs) -> anyhow::Result<()> {
    if let Ok(m) = std::fs::metadata(&args.capture)
        && m.len() >= args.size * 9 / 10
    {
        return Ok(());
    }
    if let Some(dir) = args.capture.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    println!(
        "mamori bench: simulating a {:.2} GB plant capture into {}",
        args.size as f64 / 1e9,
        args.capture.display()
    );
    let started = Instant::now();
    let summary = mamori_simulate::simulate(
        &mamori_simulate::SimConfig::benchmark(args.size),
        &args.capture,
    )?;
    println!(
        "mamori bench: simulated {} packets, {:.2} GB in {:.1} s",
        summary.packets,
        summary.bytes as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
