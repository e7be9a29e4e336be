//! Turning the PATH arguments (files, globs, folders) into a list of capture files.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// File name endings taken from folders.
const CAPTURE_ENDINGS: &[&str] = &[
    ".pcap",
    ".pcapng",
    ".cap",
    ".pcap.gz",
    ".pcapng.gz",
    ".cap.gz",
];

/// Expands every argument: a file stays itself, a folder gives its capture files
/// (recursively, sorted), a glob gives its matches (sorted). A missing file or an
/// empty glob is an error, named.
pub(crate) fn expand(args: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for arg in args {
        let path = Path::new(arg);
        if path.is_dir() {
            let before = out.len();
            collect_dir(path, &mut out).with_context(|| format!("reading folder {arg}"))?;
            if out.len() == before {
                bail!(
                    "folder {arg} holds no capture files ({})",
                    CAPTURE_ENDINGS.join(", ")
                );
            }
        } else if path.exists() {
            out.push(path.to_path_buf());
        } else if arg.contains(['*', '?', '[']) {
            let mut matches: Vec<PathBuf> = glob::glob(arg)
                .with_context(|| format!("bad pattern {arg}"))?
                .filter_map(Result::ok)
                .filter(|p| p.is_file())
                .collect();
            if matches.is_empty() {
                bail!("no file matches {arg}");
            }
            matches.sort();
            out.append(&mut matches);
        } else {
            bail!("{arg}: no such file or folder");
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_dir(&p, out)?;
        } else if let Some(name) = p.file_name().and_then(|n| n.to_str()) {
            let lower = name.to_ascii_lowercase();
            if CAPTURE_ENDINGS.iter().any(|e| lower.ends_with(e)) {
                out.push(p);
            }
        }
    }
    Ok(())
}
