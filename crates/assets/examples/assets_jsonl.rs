//! Runs capture files through the packet path into a ledger and prints
//! `assets.jsonl` (with the system's p0f.fp and manuf where installed):
//!
//! ```sh
//! cargo run -p mamori-assets --example assets_jsonl -- capture.pcap [more.pcap ...]
//! ```

use std::sync::{Arc, Mutex};

use mamori_assets::{Knowledge, Ledger, LedgerConfig, LedgerConsumer};
use mamori_pipeline::worker::WorkerConfig;
use mamori_pipeline::{Progress, RunConfig, run_files};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let inputs: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let (knowledge, notes) = Knowledge::system();
    for n in notes {
        eprintln!("{n}");
    }
    let ledger = Arc::new(Mutex::new(Ledger::new(LedgerConfig::default(), knowledge)));
    let config = RunConfig {
        inputs,
        threads: 1,
        worker: WorkerConfig::default(),
    };
    run_files(
        &config,
        vec![Box::new(LedgerConsumer::new(Arc::clone(&ledger)))],
        &Progress::default(),
    )?;
    let l = ledger.lock().map_err(|_| "poisoned")?;
    l.write_jsonl(std::io::stdout().lock())?;
    eprintln!("{:?}", l.stats());
    Ok(())
}
