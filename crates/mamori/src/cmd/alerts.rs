//! `mamori alerts`: list alerts and accept one into the baseline.

use std::process::ExitCode;

use anyhow::{Context, bail};
use mamori_detect::Baseline;
use mamori_store::{AlertQuery, AlertRow, AlertStatus, LedgerStore, SqliteStore, unix_nanos_now};

use crate::cli::{AlertsArgs, AlertsCommand};

pub(crate) fn run(args: &AlertsArgs) -> anyhow::Result<ExitCode> {
    let store = SqliteStore::open(&args.db)
        .with_context(|| format!("opening the store {}", args.db.display()))?;
    match &args.command {
        AlertsCommand::List { limit } => {
            let query = AlertQuery {
                limit: Some(*limit),
                ..AlertQuery::default()
            };
            for a in store.alerts(&query)? {
                println!(
                    "{:>6} {:<8} {:<16} {:<15} -> {:<15} x{:<4} {:<12} {}",
                    a.id,
                    a.severity,
                    a.kind,
                    a.src_ip.as_deref().or(a.src_mac.as_deref()).unwrap_or("-"),
                    a.dst_ip.as_deref().or(a.dst_mac.as_deref()).unwrap_or("-"),
                    a.count,
                    a.status,
                    a.summary
                );
            }
        }
        AlertsCommand::Accept { id, by } => {
            let Some(alert) = store.alert(*id)? else {
                bail!("no alert {id} in {}", args.db.display());
            };
            let (version, added) = accept_into_baseline(&store, &alert)?;
            store.set_alert_status(*id, AlertStatus::Accepted, by, unix_nanos_now())?;
            println!(
                "alert {id} accepted into baseline version {version}: {}",
                if added.is_empty() {
                    "its fingerprint is silenced".to_string()
                } else {
                    added.join(", ")
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Adds what `alert` describes to the newest baseline and saves it as a new
/// version; returns the version and what was added.
pub(crate) fn accept_into_baseline(
    store: &SqliteStore,
    alert: &AlertRow,
) -> anyhow::Result<(i64, Vec<String>)> {
    let Some(row) = store.latest_baseline()? else {
        bail!("the store has no baseline yet: analyse with --learn first");
    };
    let mut baseline = Baseline::from_row(&row).context("reading the baseline")?;
    let evidence: serde_json::Value =
        serde_json::from_str(&alert.evidence).context("reading the alert's evidence")?;
    let added = baseline.accept(&alert.kind, &alert.fingerprint, &evidence);
    let mut next = baseline.to_row(&format!("accepted alert {}", alert.id), unix_nanos_now());
    next.run = row.run;
    next.window_start = row.window_start;
    next.window_end = row.window_end;
    let version = store.save_baseline(&next)?;
    Ok((version, added))
}
