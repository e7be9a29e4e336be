//! `mamori analyze`: capture files through the packet path into logs, the asset
//! ledger, the detectors and the store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use mamori_pipeline::collector::EventConsumer;
use mamori_pipeline::logs::LogWriter;
use mamori_pipeline::{Progress, RunConfig, RunOutcome, run_files};
use mamori_store::SqliteStore;

use crate::analysis::{AnalysisHandle, Findings, Learning};
use crate::cli::{AnalyzeArgs, PathOptions};
use crate::store_sink::{self, StoreSink};
use crate::{config, inputs, report};

pub(crate) fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let inputs = inputs::expand(&args.paths)?;
    let learning = if args.learn {
        Learning::Learn
    } else {
        Learning::Auto
    };
    let (outcome, findings) = analyze_files(&inputs, &args.path, "analyze", learning)?;
    println!("{}", report::summary_line(&outcome, findings.as_ref()));
    if let Some(version) = findings.and_then(|f| f.baseline_saved) {
        println!("baseline version {version} saved");
    }
    Ok(if outcome.damaged() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the packet path over `inputs` with the options' logs and store, the asset
/// ledger and the detectors; records the run, writes what it found, and warns about
/// damaged or skipped inputs.
pub(crate) fn analyze_files(
    inputs: &[PathBuf],
    options: &PathOptions,
    command: &str,
    learning: Learning,
) -> anyhow::Result<(RunOutcome, Option<Findings>)> {
    let config = config::load(options.config.as_deref())?;
    let input_names: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let threads = options.thread_count();
    let mut consumers: Vec<Box<dyn EventConsumer + Send>> = Vec::new();
    if let Some(dir) = &options.logs {
        consumers.push(Box::new(
            LogWriter::create(dir).context("opening the log folder")?,
        ));
    }
    let store = if options.no_db {
        None
    } else {
        let path = options.store_path(&config);
        let store = Arc::new(
            SqliteStore::open(&path)
                .with_context(|| format!("opening the store {}", path.display()))?,
        );
        let run = store_sink::start_run(&store, command, &input_names, threads)?;
        consumers.push(Box::new(StoreSink::new(Arc::clone(&store), run)?));
        Some((store, run))
    };
    let analysis = if options.no_analysis {
        None
    } else {
        let analysis = AnalysisHandle::new(
            config.detect.clone(),
            learning,
            store.as_ref().map(|(s, _)| s.as_ref()),
        )?;
        consumers.push(analysis.consumer());
        Some(analysis)
    };
    let mut worker = options.worker_config();
    if worker.dissect {
        worker.rules = crate::signatures::load(&config.rules)?;
    }
    let run_config = RunConfig {
        inputs: inputs.to_vec(),
        threads,
        worker,
    };
    let progress = Progress::default();
    let result = report::with_progress(options.quiet, total_bytes, inputs.len(), &progress, || {
        run_files(&run_config, consumers, &progress)
    });
    let note = format!("{command} {}", input_names.join(" "));
    let findings = match (&result, &analysis) {
        (Ok(_), Some(analysis)) => Some(analysis.finish_run(
            options.logs.as_deref(),
            store.as_ref().map(|(s, r)| (s.as_ref(), *r)),
            &note,
        )?),
        _ => None,
    };
    if let Some((store, run)) = &store {
        store_sink::finish_run(store, *run, result.as_ref().ok(), &input_names)
            .context("recording the run")?;
    }
    let outcome = result?;
    for f in &outcome.files {
        if let Some(err) = &f.error {
            if f.packets > 0 {
                eprintln!(
                    "mamori: warning: {err} (kept the {} packets before the damage)",
                    f.packets
                );
            } else {
                eprintln!("mamori: warning: skipped {err}");
            }
        }
    }
    Ok((outcome, findings))
}
