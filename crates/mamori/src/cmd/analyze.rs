//! `mamori analyze`: capture files through the packet path into logs and the store.

use std::process::ExitCode;

use anyhow::Context;
use mamori_pipeline::collector::EventConsumer;
use mamori_pipeline::logs::LogWriter;
use mamori_pipeline::{Progress, RunConfig, run_files};

use crate::cli::AnalyzeArgs;
use crate::{inputs, report};

pub(crate) fn run(args: &AnalyzeArgs) -> anyhow::Result<ExitCode> {
    let inputs = inputs::expand(&args.paths)?;
    let total_bytes: u64 = inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut consumers: Vec<Box<dyn EventConsumer + Send>> = Vec::new();
    if let Some(dir) = &args.path.logs {
        consumers.push(Box::new(
            LogWriter::create(dir).context("opening the log folder")?,
        ));
    }
    let config = RunConfig {
        inputs: inputs.clone(),
        threads: args.path.thread_count(),
        worker: args.path.worker_config(),
    };
    let progress = Progress::default();
    let outcome = report::with_progress(
        args.path.quiet,
        total_bytes,
        inputs.len(),
        &progress,
        || run_files(&config, consumers, &progress),
    )?;
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
    println!("{}", report::summary_line(&outcome));
    Ok(if outcome.damaged() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
