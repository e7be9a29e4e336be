//! The checked-in function-code tables (`src/ot/tables/*.rs`) are exactly what the
//! generator makes from `tables/*.tsv`: regenerate in memory and compare, so an edit
//! to either side alone fails here. Fix with `cargo run -p xtask -- gen-tables`.

#[allow(dead_code)]
#[path = "../../xtask/src/tables.rs"]
mod tables;

use std::path::Path;

#[test]
fn generated_tables_match_their_data_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let files = tables::generate(&root.join(tables::DATA_DIR)).expect("tables parse");
    let out = root.join(tables::OUT_DIR);
    let mut stale = Vec::new();
    for (name, text) in &files {
        let on_disk = std::fs::read_to_string(out.join(name)).unwrap_or_default();
        if on_disk != *text {
            stale.push(name.clone());
        }
    }
    // No generated file without its data file.
    for entry in std::fs::read_dir(&out).expect("tables dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !files.iter().any(|(n, _)| *n == name) {
            stale.push(format!("{name} (no data file)"));
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {stale:?}; run `cargo run -p xtask -- gen-tables`"
    );
    assert!(
        files.len() > 10,
        "expected one file per protocol, got {}",
        files.len()
    );
}
