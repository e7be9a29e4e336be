//! Detection: learn a plant's normal, then say what changed and why.
//!
//! The pipeline's ordered events ([`mamori_pipeline::event::Event`]) go into a
//! [`Detector`], which keeps a [`Baseline`] (devices, communications, volume per
//! device pair and hour of day, domains) and runs thirteen detectors over them. What
//! it raises are [`Alert`]s: kind, severity, hosts, an ATT&CK for ICS technique where
//! one fits, the learning flag, and evidence that explains the alert (what was
//! expected, what was seen, the threshold, flow uids). Repeats aggregate by
//! fingerprint. An alert becomes an `alerts.jsonl` line ([`Alert::to_jsonl`]) or a
//! store row ([`Alert::to_row`]); accepting one into the baseline is
//! [`Baseline::accept`].
//!
//! - [`config`]: the `[detect]` section of the TOML configuration, and
//!   `mamori config check` ([`config::check_config`]).
//! - [`baseline`]: what is learned, its JSON, thresholds, accept-into-baseline.
//! - [`detector`]: modes, learning semantics and every detector.
//! - [`alert`]: alert kinds, severities, aggregation.
//! - [`assets`]: the [`AssetLookup`] the application implements over the asset ledger.
//! - [`net`]: CIDR ranges, internal/external, zones. [`dga`]: generated-name scoring.
//!
//! Wiring: wrap a detector in [`DetectConsumer`] and hand it to
//! `mamori_pipeline::run::run_files` with the other consumers; after the run, take
//! the alerts and the baseline from the shared detector.

pub mod alert;
pub mod assets;
pub mod baseline;
pub mod config;
pub mod detector;
pub mod dga;
pub mod net;

use std::sync::{Arc, Mutex};

use mamori_pipeline::collector::{ConsumerError, EventConsumer};
use mamori_pipeline::event::Event;

pub use alert::{Alert, AlertSet, Kind, Severity};
pub use assets::{AssetInfo, AssetLookup, NoAssets};
pub use baseline::{Baseline, BaselineError};
pub use config::{ConfigError, ConfigFile, DetectConfig, Summary, check_config};
pub use detector::{DetectStats, Detector, Mode};

/// Feeds a shared [`Detector`] from the pipeline's collector.
pub struct DetectConsumer {
    detector: Arc<Mutex<Detector>>,
    assets: Arc<dyn AssetLookup + Send + Sync>,
}

impl std::fmt::Debug for DetectConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DetectConsumer").finish_non_exhaustive()
    }
}

impl DetectConsumer {
    /// A consumer; keep a clone of `detector` to read the alerts and the baseline
    /// after the run.
    pub fn new(detector: Arc<Mutex<Detector>>, assets: Arc<dyn AssetLookup + Send + Sync>) -> Self {
        DetectConsumer { detector, assets }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Detector>, ConsumerError> {
        self.detector.lock().map_err(|_| ConsumerError {
            what: "detect",
            message: "the detector's lock is poisoned".into(),
        })
    }
}

impl EventConsumer for DetectConsumer {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        let assets = Arc::clone(&self.assets);
        self.lock()?.observe(event, assets.as_ref());
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConsumerError> {
        let assets = Arc::clone(&self.assets);
        self.lock()?.finish(assets.as_ref());
        Ok(())
    }
}
