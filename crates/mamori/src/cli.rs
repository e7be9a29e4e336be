//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// mamori (守り): a passive network security monitor for factories and other OT sites.
#[derive(Debug, Parser)]
#[command(name = "mamori", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Simulate a small plant (a normal day, then an incident day) and analyse it into a fresh store.
    Demo(DemoArgs),
    /// Analyse capture files (pcap, pcapng, gzip-compressed; files, globs and folders).
    Analyze(AnalyzeArgs),
    /// Capture live from a mirror port (Linux AF_PACKET; needs CAP_NET_RAW).
    Sensor(SensorArgs),
    /// Write a simulated plant capture (and its ground truth of expected alerts).
    Simulate(SimulateArgs),
    /// Measure the packet path's throughput: raw read floor, then decode + flows per thread count.
    Bench(BenchArgs),
    /// Serve the portal and REST API over the store (loopback unless configured).
    Serve(ServeArgs),
    /// List alerts, or accept one into the baseline.
    Alerts(AlertsArgs),
    /// Export the asset ledger.
    Assets(AssetsArgs),
    /// Check a configuration file.
    Config(ConfigArgs),
    /// Check signature rule files.
    Rules(RulesArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The store [default: the config's `store.path`, else mamori.db].
    #[arg(long, value_name = "FILE", env = "MAMORI_DB")]
    pub(crate) db: Option<PathBuf>,
    /// Address and port [default: the config's `portal.bind`, else 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    pub(crate) bind: Option<String>,
    /// The configuration file [default: ./mamori.toml when it exists].
    #[arg(long, value_name = "FILE", env = "MAMORI_CONFIG")]
    pub(crate) config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct AlertsArgs {
    /// The store.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "mamori.db",
        env = "MAMORI_DB",
        global = true
    )]
    pub(crate) db: PathBuf,
    #[command(subcommand)]
    pub(crate) command: AlertsCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AlertsCommand {
    /// The newest alerts.
    List {
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Accept an alert into the baseline: what it describes is normal from now on.
    Accept {
        /// The alert's id (from `mamori alerts list` or the portal).
        id: i64,
        /// Who accepts it (recorded with the alert).
        #[arg(long, default_value = "cli")]
        by: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AssetsArgs {
    /// The store.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "mamori.db",
        env = "MAMORI_DB",
        global = true
    )]
    pub(crate) db: PathBuf,
    #[command(subcommand)]
    pub(crate) command: AssetsCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum AssetsCommand {
    /// Write every asset as CSV (UTF-8 with BOM, Excel-safe) or JSON.
    Export {
        /// csv or json.
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Header language for CSV: en or ja.
        #[arg(long, default_value = "en", value_parser = ["en", "ja"])]
        lang: String,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum ExportFormat {
    /// Comma-separated values.
    Csv,
    /// A JSON array.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub(crate) command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Parse and validate a configuration file; errors name the key.
    Check {
        /// The file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    #[command(subcommand)]
    pub(crate) command: RulesCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// How many rules load, and why the others were skipped.
    Check {
        /// Rule files (Suricata syntax).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The configuration whose `[rules]` variables apply.
        #[arg(long, value_name = "FILE", env = "MAMORI_CONFIG")]
        config: Option<PathBuf>,
    },
}

/// Options of the packet path shared by `analyze` and `sensor`.
#[derive(Debug, Args, Clone)]
pub(crate) struct PathOptions {
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Write JSON Lines logs (conn.jsonl, arp.jsonl, ...) into this folder.
    #[arg(long, value_name = "DIR")]
    pub(crate) logs: Option<PathBuf>,
    /// Memory for the flow tables, e.g. 512M or 2G; the flow cap follows from it.
    #[arg(long, value_name = "SIZE", default_value = "512M", value_parser = parse_size)]
    pub(crate) memory_cap: u64,
    /// Frames repeated within this many milliseconds are mirror duplicates (0 = keep all).
    #[arg(long, value_name = "MS", default_value_t = 3.0)]
    pub(crate) duplicate_window_ms: f64,
    /// No progress bar, only the summary.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Flows only: do not run the application dissectors (no `ot.jsonl`, no `service`).
    #[arg(long)]
    pub(crate) no_dissect: bool,
    /// The packet path and its logs only: no asset ledger, no detectors.
    #[arg(long)]
    pub(crate) no_analysis: bool,
    /// The store (SQLite file): runs, flow aggregates, assets, alerts, baselines
    /// [default: the config's `store.path`, else mamori.db].
    #[arg(long, value_name = "FILE", env = "MAMORI_DB")]
    pub(crate) db: Option<PathBuf>,
    /// The configuration file [default: ./mamori.toml when it exists].
    #[arg(long, value_name = "FILE", env = "MAMORI_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Do not write to the store (logs and summary only).
    #[arg(long, env = "MAMORI_NO_DB", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) no_db: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Capture files, glob patterns or folders.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<String>,
    /// Learn: everything seen becomes the baseline (a new version of it), and the
    /// detectors that compare with the baseline stay quiet.
    #[arg(long)]
    pub(crate) learn: bool,
    #[command(flatten)]
    pub(crate) path: PathOptions,
}

#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Folder for the simulated captures and their logs.
    #[arg(long, value_name = "DIR", default_value = "mamori-demo")]
    pub(crate) dir: std::path::PathBuf,
    /// The demo's store, recreated on every run.
    #[arg(long, value_name = "FILE", default_value = "mamori-demo.db")]
    pub(crate) db: std::path::PathBuf,
    /// Hours of plant time per simulated day.
    #[arg(long, default_value_t = 24.0)]
    pub(crate) hours: f64,
    /// Seed of the simulation.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// No progress bars.
    #[arg(long, short)]
    pub(crate) quiet: bool,
    /// Configuration file for the detectors (default: ./mamori.toml when it exists).
    #[arg(long, value_name = "FILE", env = "MAMORI_CONFIG")]
    pub(crate) config: Option<std::path::PathBuf>,
    /// Analyse only; do not serve the portal afterwards.
    #[arg(long)]
    pub(crate) no_serve: bool,
    /// Where the demo's portal listens.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub(crate) bind: String,
}

#[derive(Debug, Args)]
pub(crate) struct SensorArgs {
    /// The interface to capture on (a switch mirror/SPAN port).
    #[arg(long, value_name = "IF")]
    pub(crate) iface: String,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECS")]
    pub(crate) duration: Option<f64>,
    /// Ring blocks of 1 MiB per worker socket.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub(crate) ring_blocks: u32,
    /// Do not put the interface into promiscuous mode.
    #[arg(long)]
    pub(crate) no_promisc: bool,
    #[command(flatten)]
    pub(crate) path: PathOptions,
}

#[derive(Debug, Args)]
pub(crate) struct SimulateArgs {
    /// Scenario: `normal` (a day of operation) or `incident` (the next day, with attacks).
    #[arg(long, default_value = "normal")]
    pub(crate) scenario: mamori_simulate::Scenario,
    /// The capture to write; the ground truth goes beside it as FILE.truth.json.
    #[arg(long, value_name = "FILE")]
    pub(crate) out: std::path::PathBuf,
    /// Seed of all randomness: the same seed writes the same bytes.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Hours of plant time to simulate.
    #[arg(long, default_value_t = 24.0)]
    pub(crate) hours: f64,
    /// Production lines (each adds PLCs, HMIs and their traffic).
    #[arg(long, default_value_t = 1)]
    pub(crate) scale: u32,
    /// File format: pcap or pcapng.
    #[arg(long, default_value = "pcapng")]
    pub(crate) format: mamori_simulate::CaptureFormat,
    /// Stop once the capture reaches this size (e.g. 1G), for benchmark captures.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub(crate) max_size: Option<u64>,
    /// Incident scenario: run the attacks one a minute from five minutes in, instead of
    /// through the working day (for short captures that hold every attack).
    #[arg(long)]
    pub(crate) packed_attacks: bool,
}

#[derive(Debug, Args)]
pub(crate) struct BenchArgs {
    /// Capture files to measure with (default: a simulated plant capture of --size).
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<String>,
    /// Size of the simulated capture when no PATH is given.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub(crate) size: u64,
    /// Where the simulated capture is kept between runs.
    #[arg(long, value_name = "FILE", default_value = "target/mamori-bench.pcap")]
    pub(crate) capture: std::path::PathBuf,
    /// Thread counts to measure, comma-separated.
    #[arg(long, value_name = "N,N", default_value = "1,2", value_delimiter = ',')]
    pub(crate) threads: Vec<usize>,
    /// Runs per measurement; the best is reported.
    #[arg(long, default_value_t = 2)]
    pub(crate) runs: usize,
    /// Synthetic ET-style rule counts for the full-analysis lines, comma-separated
    /// (0 for none of those lines).
    #[arg(
        long,
        value_name = "N,N",
        default_value = "1000,10000",
        value_delimiter = ','
    )]
    pub(crate) rule_counts: Vec<usize>,
    /// A rule file for one more full-analysis line (such as ET Open).
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<std::path::PathBuf>,
}

/// Parses sizes like `512M`, `2G`, `1048576`, `64KiB`.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not a size (try 512M or 2G)"))?;
    let mult: u64 = match unit
        .trim()
        .to_ascii_lowercase()
        .trim_end_matches('b')
        .trim_end_matches('i')
    {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        other => {
            return Err(format!(
                "unknown size unit '{other}' in '{s}' (use K, M, G or T)"
            ));
        }
    };
    Ok((value * mult as f64) as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("12 parsecs").is_err());
    }
}
