//! The asset ledger and the detectors as one consumer of the packet path.
//!
//! Every event goes to the ledger first and then to the detectors, which look
//! devices up in the ledger as it stands at that event (a new device's role is known
//! when its first OT request is judged). Both live behind one mutex that only the
//! collector thread takes during a run; afterwards [`AnalysisHandle::finish_run`]
//! writes what they found: `assets.jsonl` and `alerts.jsonl` in the log folder, the
//! changed assets, the alerts and (when this run learned) a new baseline version in
//! the store.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use anyhow::Context;
use mamori_assets::{Knowledge, Ledger, LedgerConfig};
use mamori_detect::{Alert, AssetInfo, AssetLookup, Baseline, DetectConfig, Detector, Mode};
use mamori_pipeline::collector::{ConsumerError, EventConsumer};
use mamori_pipeline::event::Event;
use mamori_store::{AlertQuery, AssetQuery, LedgerStore, RunId, SqliteStore, unix_nanos_now};
use mamori_wire::decode::MacAddr;

/// The ledger seen through the detectors' lookup trait.
struct LedgerLookup<'a>(&'a Ledger);

impl LedgerLookup<'_> {
    fn convert(info: mamori_assets::ledger::AssetInfo<'_>) -> AssetInfo {
        AssetInfo {
            key: info.key.to_string(),
            role: info.role.as_str().to_string(),
            vendor: info.vendor.map(str::to_string),
            os: info.os.map(str::to_string),
            os_eol: info.os_eol,
            is_ot: info.is_ot,
            first_seen: info.first_seen,
        }
    }
}

impl AssetLookup for LedgerLookup<'_> {
    fn by_ip(&self, ip: IpAddr) -> Option<AssetInfo> {
        self.0.info_by_ip(ip).map(Self::convert)
    }
    fn by_mac(&self, mac: MacAddr) -> Option<AssetInfo> {
        self.0.info_by_mac(mac).map(Self::convert)
    }
}

/// The ledger, the detectors, and what the run found.
pub(crate) struct Analysis {
    ledger: Ledger,
    detector: Detector,
    /// Whether this run's learning should become a new baseline version.
    save_baseline: bool,
    alerts: Vec<Alert>,
}

/// How a run treats the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Learning {
    /// `--learn`: everything seen becomes baseline.
    Learn,
    /// Detect against the stored baseline; without one, learn for the configured
    /// window first.
    Auto,
}

/// What a run found, for the summary line.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Findings {
    pub(crate) assets: usize,
    pub(crate) alerts: usize,
    pub(crate) by_severity: [usize; 4],
    pub(crate) baseline_saved: Option<i64>,
}

/// A shared [`Analysis`]: one clone feeds the run, the other reads the results.
#[derive(Clone)]
pub(crate) struct AnalysisHandle(Arc<Mutex<Analysis>>);

impl AnalysisHandle {
    /// A ledger carried on from `store` (when given) and detectors with the stored
    /// baseline.
    pub(crate) fn new(
        config: DetectConfig,
        learning: Learning,
        store: Option<&SqliteStore>,
    ) -> anyhow::Result<AnalysisHandle> {
        let (knowledge, _notes) = Knowledge::system();
        let mut ledger = Ledger::new(LedgerConfig::default(), knowledge);
        let mut baseline = None;
        if let Some(store) = store {
            let rows = store
                .assets(&AssetQuery::default())
                .context("reading the stored assets")?;
            let errors = ledger.load(&rows);
            if let Some(first) = errors.first() {
                eprintln!(
                    "mamori: warning: {} stored assets could not be read (first: {first:?})",
                    errors.len()
                );
            }
            if let Some(row) = store.latest_baseline().context("reading the baseline")? {
                baseline = Some(Baseline::from_row(&row).context("reading the baseline")?);
            }
        }
        let save_baseline = learning == Learning::Learn || baseline.is_none();
        let mode = match learning {
            Learning::Learn => Mode::Learn,
            Learning::Auto => Mode::Auto,
        };
        let mut detector = Detector::new(config, baseline, mode);
        if let Some(store) = store {
            // State alerts (end of support) already stored stand; they are not new.
            let stored = store
                .alerts(&AlertQuery {
                    kind: Some(mamori_detect::Kind::EolOs.as_str().to_string()),
                    ..AlertQuery::default()
                })
                .context("reading the stored alerts")?;
            detector.know_alerts(stored.iter().map(|a| a.fingerprint.as_str()));
        }
        Ok(AnalysisHandle(Arc::new(Mutex::new(Analysis {
            ledger,
            detector,
            save_baseline,
            alerts: Vec::new(),
        }))))
    }

    fn lock(&self) -> MutexGuard<'_, Analysis> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The consumer to hand to the packet path.
    pub(crate) fn consumer(&self) -> Box<dyn EventConsumer + Send> {
        Box::new(AnalysisConsumer(self.clone()))
    }

    /// Writes what the run found: logs into `logs` (when given), rows into `store`
    /// (when given) under `run`.
    pub(crate) fn finish_run(
        &self,
        logs: Option<&Path>,
        store: Option<(&SqliteStore, RunId)>,
        note: &str,
    ) -> anyhow::Result<Findings> {
        let a = self.lock();
        let mut findings = Findings {
            assets: a.ledger.len(),
            alerts: a.alerts.len(),
            ..Findings::default()
        };
        for alert in &a.alerts {
            findings.by_severity[alert.severity as usize] += 1;
        }
        if let Some(dir) = logs {
            let path = dir.join("assets.jsonl");
            let file =
                File::create(&path).with_context(|| format!("writing {}", path.display()))?;
            let mut w = BufWriter::new(file);
            a.ledger.write_jsonl(&mut w)?;
            w.flush()?;
            let path = dir.join("alerts.jsonl");
            let file =
                File::create(&path).with_context(|| format!("writing {}", path.display()))?;
            let mut w = BufWriter::new(file);
            for alert in &a.alerts {
                writeln!(w, "{}", alert.to_jsonl())?;
            }
            w.flush()?;
        }
        if let Some((store, run)) = store {
            store
                .upsert_assets(&a.ledger.changed_rows(Some(run)))
                .context("writing assets")?;
            let rows: Vec<_> = a
                .alerts
                .iter()
                .map(|alert| {
                    let mut row = alert.to_row();
                    row.run = Some(run);
                    row
                })
                .collect();
            store.add_alerts(&rows).context("writing alerts")?;
            if a.save_baseline {
                let row = a.detector.baseline().to_row(note, unix_nanos_now());
                let mut row = row;
                row.run = Some(run);
                findings.baseline_saved =
                    Some(store.save_baseline(&row).context("saving the baseline")?);
            }
        }
        Ok(findings)
    }
}

struct AnalysisConsumer(AnalysisHandle);

impl EventConsumer for AnalysisConsumer {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        let mut guard = self.0.lock();
        let a = &mut *guard;
        a.ledger.observe(event);
        a.detector.observe(event, &LedgerLookup(&a.ledger));
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ConsumerError> {
        let mut guard = self.0.lock();
        let a = &mut *guard;
        a.ledger.finish();
        a.alerts = a.detector.finish(&LedgerLookup(&a.ledger));
        Ok(())
    }
}
