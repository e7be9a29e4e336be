//! Helpers shared by the integration tests: locating the binary, the shared
//! captures, and external tools (skipping with a message when they are absent).
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `mamori` binary under test.
pub fn mamori() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
}

/// Runs `mamori` with arguments; panics when it fails to start. Unless the arguments
/// name a store with `--db`, the run writes no store (so tests never create
/// `mamori.db` in the source tree).
pub fn run_mamori(args: &[&str]) -> Output {
    let mut cmd = mamori();
    if !args.contains(&"--db") {
        cmd.env("MAMORI_NO_DB", "1");
    }
    cmd.args(args).output().expect("mamori runs")
}

/// `../shared/pcaps` (relative to the workspace root), or `None` with a printed skip message.
pub fn shared_pcaps(test: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/pcaps");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("skipped {test}: ../shared/pcaps is not present");
        None
    }
}

/// Every capture file in the shared folder, sorted.
pub fn capture_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("shared pcaps readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            n.ends_with(".pcap") || n.ends_with(".pcapng") || n.ends_with(".cap")
        })
        .collect();
    files.sort();
    files
}

/// Whether an external tool runs (`tool -v`), printing a skip message when not.
pub fn have_tool(tool: &str, test: &str) -> bool {
    let ok = Command::new(tool)
        .arg("-v")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipped {test}: {tool} is not installed (Debian package: tshark)");
    }
    ok
}

/// Reads a JSON Lines file.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}
