//! The report of `mamori rules check FILE`.
//!
//! [`check_text`] parses and compiles a rule file the way the sensor would and
//! counts: rules loaded, rules skipped grouped by reason (most frequent first, each
//! with a few example sids and lines), malformed rules with line and column, and how
//! long parsing and compiling took. Its `Display` is what the CLI prints.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::engine::{RuleSetStats, load};
use crate::net::Vars;
use crate::parse::{ParseError, Skipped};

/// Examples kept per skip reason.
pub const EXAMPLES: usize = 3;
/// Reasons shown by `Display` (the rest are summed on one line).
pub const TOP_REASONS: usize = 15;
/// Errors shown by `Display`.
pub const SHOWN_ERRORS: usize = 20;

/// One skip reason and how often it occurred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    /// The reason, without per-rule details ([`crate::SkipReason::key`]).
    pub reason: String,
    /// Rules skipped for it.
    pub count: usize,
    /// A few (sid, line) examples.
    pub examples: Vec<(Option<u32>, usize)>,
}

/// What loading a rule file gave.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Rules loaded.
    pub loaded: usize,
    /// Rules skipped, in file order.
    pub skipped: Vec<Skipped>,
    /// Malformed rules.
    pub errors: Vec<ParseError>,
    /// Counts of the compiled set.
    pub stats: RuleSetStats,
    /// Time spent parsing and compiling.
    pub elapsed: Duration,
}

impl CheckReport {
    /// Skip reasons, most frequent first (ties by name).
    pub fn reasons(&self) -> Vec<ReasonCount> {
        let mut by: HashMap<String, ReasonCount> = HashMap::new();
        for s in &self.skipped {
            let key = s.reason.key();
            let e = by.entry(key.clone()).or_insert_with(|| ReasonCount {
                reason: key,
                count: 0,
                examples: Vec::new(),
            });
            e.count += 1;
            if e.examples.len() < EXAMPLES {
                e.examples.push((s.sid, s.line));
            }
        }
        let mut v: Vec<ReasonCount> = by.into_values().collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
        v
    }

    /// Rules seen in all (loaded, skipped, malformed).
    pub fn total(&self) -> usize {
        self.loaded + self.skipped.len() + self.errors.len()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.total() as f64 / secs
        } else {
            0.0
        };
        writeln!(
            f,
            "{} rules: {} loaded, {} skipped, {} malformed ({:.2} s, {:.0} rules/s)",
            self.total(),
            self.loaded,
            self.skipped.len(),
            self.errors.len(),
            secs,
            rate
        )?;
        writeln!(
            f,
            "prefiltered {}, header-only {} (checked on every packet of their group), {} groups, {} patterns",
            self.stats.prefiltered, self.stats.header_only, self.stats.groups, self.stats.patterns
        )?;
        let reasons = self.reasons();
        if !reasons.is_empty() {
            writeln!(f, "skipped by reason:")?;
        }
        for r in reasons.iter().take(TOP_REASONS) {
            let ex: Vec<String> = r
                .examples
                .iter()
                .map(|(sid, line)| match sid {
                    Some(s) => format!("sid {s} line {line}"),
                    None => format!("line {line}"),
                })
                .collect();
            writeln!(
                f,
                "  {:>7}  {}  (e.g. {})",
                r.count,
                r.reason,
                ex.join(", ")
            )?;
        }
        if reasons.len() > TOP_REASONS {
            let rest: usize = reasons.iter().skip(TOP_REASONS).map(|r| r.count).sum();
            writeln!(
                f,
                "  {:>7}  {} other reasons",
                rest,
                reasons.len() - TOP_REASONS
            )?;
        }
        if !self.errors.is_empty() {
            writeln!(f, "malformed:")?;
        }
        for e in self.errors.iter().take(SHOWN_ERRORS) {
            writeln!(f, "  {e}")?;
        }
        if self.errors.len() > SHOWN_ERRORS {
            writeln!(f, "  ... and {} more", self.errors.len() - SHOWN_ERRORS)?;
        }
        Ok(())
    }
}

/// Checks rule text.
pub fn check_text(text: &str, vars: &Vars) -> CheckReport {
    let start = Instant::now();
    let (set, skipped, errors) = load(text, vars);
    CheckReport {
        loaded: set.len(),
        skipped,
        errors,
        stats: set.stats().clone(),
        elapsed: start.elapsed(),
    }
}

/// Checks a rule file (bytes that are not UTF-8 are replaced, so such a rule fails to
/// parse or is skipped rather than the whole file).
pub fn check_file(path: &Path, vars: &Vars) -> std::io::Result<CheckReport> {
    let bytes = std::fs::read(path)?;
    Ok(check_text(&String::from_utf8_lossy(&bytes), vars))
}
