//! `mamori analyze`: capture files through the packet path into logs and the store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use mamori_pipeline::collector::EventConsumer;
use mamori_pipeline::logs::LogWriter;
use mamori_pipeline::{Progress, RunConfig, RunOutcome, run_files};
use mamori_store::SqliteStore;

use crate::cli::{AnalyzeArgs, PathOptions};
use crate::store_sink::{self, StoreSink};
use crate::{inputs, report};

pub(crate) fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let inputs = inputs::expand(&args.paths)?;
    let outcome = analyze_files(&inputs, &args.path, "analyze")?;
    println!("{}", report::summary_line(&outcome));
    Ok(if outcome.damaged() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs the packet path over `inputs` with the options' logs and store, records the
/// run, and warns about damaged or skipped inputs.
pub(crate) fn analyze_files(
    inputs: &[PathBuf],
    options: &PathOptions,
    command: &str,
) -> anyhow::Result<RunOutcome> {
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
        let store = Arc::new(
            SqliteStore::open(&options.db)
                .with_context(|| format!("opening the store {}", options.db.display()))?,
        );
        let run = store_sink::start_run(&store, command, &input_names, threads)?;
        consumers.push(Box::new(StoreSink::new(Arc::clone(&store), run)?));
        Some((store, run))
    };
    let config = RunConfig {
        inputs: inputs.to_vec(),
        threads,
        worker: options.worker_config(),
    };
    let progress = Progress::default();
    let result = report::with_progress(options.quiet, total_bytes, inputs.len(), &progress, || {
        run_files(&config, consumers, &progress)
    });
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
    Ok(outcome)
}
