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
    /// Analyse capture files (pcap, pcapng, gzip-compressed; files, globs and folders).
    Analyze(AnalyzeArgs),
    /// Capture live from a mirror port (Linux AF_PACKET; needs CAP_NET_RAW).
    Sensor(SensorArgs),
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
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Capture files, glob patterns or folders.
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<String>,
    #[command(flatten)]
    pub(crate) path: PathOptions,
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
