//! Repository chores, run as `cargo run -p xtask -- <task>`.
//!
//! `gen-tables` reads the function-code tables in `crates/dissect/tables/*.tsv` and
//! writes the Rust lookups in `crates/dissect/src/ot/tables/` (see [`tables`] for the
//! file format). The generated files are checked in; a test in `mamori-dissect`
//! regenerates them in memory and fails when they differ, so the data and the code
//! cannot drift apart.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod tables;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    match std::env::args().nth(1).as_deref() {
        Some("gen-tables") => match gen_tables(&root) {
            Ok(n) => {
                println!("wrote {n} files under {}", tables::OUT_DIR);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("gen-tables: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: cargo run -p xtask -- gen-tables");
            ExitCode::FAILURE
        }
    }
}

/// Regenerates every table file, writing only those whose content changed.
fn gen_tables(root: &Path) -> Result<usize, String> {
    let files = tables::generate(&root.join(tables::DATA_DIR))?;
    let out = root.join(tables::OUT_DIR);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for (name, text) in &files {
        let path: PathBuf = out.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(files.len())
}
