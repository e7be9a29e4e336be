//! One module per subcommand.

pub(crate) mod alerts;
mod analyze;
mod bench;
mod demo;
#[cfg(target_os = "linux")]
mod sensor;
mod serve;
mod simulate;
mod tools;

use std::process::ExitCode;

use crate::cli::{Cli, Command, PathOptions};
use mamori_flow::FlowConfig;
use mamori_pipeline::worker::WorkerConfig;

pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Simulate(args) => simulate::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Alerts(args) => alerts::run(&args),
        Command::Assets(args) => tools::assets(&args),
        Command::Config(args) => tools::config(&args),
        Command::Rules(args) => tools::rules(&args),
        #[cfg(target_os = "linux")]
        Command::Sensor(args) => sensor::run(&args),
        #[cfg(not(target_os = "linux"))]
        Command::Sensor(_) => anyhow::bail!("live capture needs Linux (AF_PACKET)"),
    }
}

/// Share of the memory cap given to flow tables; the rest covers queues, buffers and
/// the collector.
const FLOW_MEMORY_SHARE: f64 = 0.6;

impl PathOptions {
    /// Worker threads: the option, or the machine's cores.
    pub(crate) fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1)
    }

    /// The store's path: `--db` (or `MAMORI_DB`), else the config's, else `mamori.db`.
    pub(crate) fn store_path(&self, config: &crate::config::Config) -> std::path::PathBuf {
        self.db
            .clone()
            .or_else(|| config.store.path.clone())
            .unwrap_or_else(|| "mamori.db".into())
    }

    /// Worker settings from the options.
    pub(crate) fn worker_config(&self) -> WorkerConfig {
        WorkerConfig {
            dissect: !self.no_dissect,
            ..worker_config(self.memory_cap, self.duplicate_window_ms)
        }
    }
}

/// Worker settings for a memory cap (bytes) and a duplicate window (milliseconds).
pub(crate) fn worker_config(memory_cap: u64, duplicate_window_ms: f64) -> WorkerConfig {
    let max_flows =
        ((memory_cap as f64 * FLOW_MEMORY_SHARE) as usize / FlowConfig::BYTES_PER_FLOW).max(1024);
    WorkerConfig {
        flows: FlowConfig {
            max_flows,
            ..FlowConfig::default()
        },
        duplicate_window_nanos: (duplicate_window_ms * 1e6) as i64,
        dissect: true,
        rules: None,
    }
}
