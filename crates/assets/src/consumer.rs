//! The ledger as a consumer of the pipeline's ordered events.
//!
//! The collector owns its consumers, so the ledger sits behind a shared handle
//! ([`SharedLedger`]): the caller keeps a clone to read the ledger after the run (and
//! the detectors, which run in the same collector thread, look assets up through it
//! while events flow; the lock is never contended).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mamori_pipeline::collector::{ConsumerError, EventConsumer};
use mamori_pipeline::event::Event;

use crate::ledger::Ledger;

/// A ledger shared between the collector and whoever reads it.
pub type SharedLedger = Arc<Mutex<Ledger>>;

/// Feeds events to a [`Ledger`]; at the end, settles it and optionally writes
/// `assets.jsonl`.
#[derive(Debug)]
pub struct LedgerConsumer {
    ledger: SharedLedger,
    jsonl: Option<PathBuf>,
}

/// A new shared ledger.
pub fn shared(ledger: Ledger) -> SharedLedger {
    Arc::new(Mutex::new(ledger))
}

impl LedgerConsumer {
    /// A consumer feeding `ledger`.
    pub fn new(ledger: SharedLedger) -> LedgerConsumer {
        LedgerConsumer {
            ledger,
            jsonl: None,
        }
    }

    /// Also writes `assets.jsonl` to `path` when the input ends.
    pub fn with_jsonl(mut self, path: PathBuf) -> LedgerConsumer {
        self.jsonl = Some(path);
        self
    }
}

fn poisoned() -> ConsumerError {
    ConsumerError {
        what: "asset ledger",
        message: "the ledger's lock was poisoned by a panic".into(),
    }
}

impl EventConsumer for LedgerConsumer {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        self.ledger.lock().map_err(|_| poisoned())?.observe(event);
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConsumerError> {
        let mut ledger = self.ledger.lock().map_err(|_| poisoned())?;
        ledger.finish();
        if let Some(path) = &self.jsonl {
            let io = |e: std::io::Error| ConsumerError {
                what: "asset ledger",
                message: format!("writing {}: {e}", path.display()),
            };
            let file = std::fs::File::create(path).map_err(io)?;
            ledger
                .write_jsonl(std::io::BufWriter::new(file))
                .map_err(io)?;
        }
        Ok(())
    }
}
