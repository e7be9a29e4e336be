//! A throughput measurement the CLI can run (`mamori bench` or `rules bench`).
//!
//! [`run`] generates `rule_count` ET-style rules with [`crate::synth`], measures
//! parsing and compiling them, then scans [`crate::synth::payloads`] in a loop for
//! at least the given time on one thread and reports packets/s and bytes/s. It asserts
//! its own result: the number of hits must be the same on every pass over the payloads
//! (`consistent`), and the report carries it, so a matcher that silently stops matching shows.

use std::fmt;
use std::time::{Duration, Instant};

use crate::engine::{FlowRuleState, RuleSet, RuleSetStats, Scratch};
use crate::net::Vars;
use crate::parse::parse_rules;
use crate::synth;

/// Payloads in one pass.
pub const PAYLOADS: usize = 1000;

/// What [`run`] measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Rules generated.
    pub generated: usize,
    /// Rules loaded.
    pub loaded: usize,
    /// Parse rate, rules per second.
    pub parse_rules_per_sec: f64,
    /// Compile time.
    pub compile: Duration,
    /// Counts of the compiled set.
    pub stats: RuleSetStats,
    /// Payloads scanned.
    pub packets: u64,
    /// Payload bytes scanned.
    pub bytes: u64,
    /// Hits per pass over the payloads.
    pub hits_per_pass: u64,
    /// Scanning time.
    pub elapsed: Duration,
    /// Every pass gave the same number of hits (it must).
    pub consistent: bool,
}

impl BenchReport {
    /// Payloads per second.
    pub fn packets_per_sec(&self) -> f64 {
        self.packets as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Payload bytes per second.
    pub fn bytes_per_sec(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "rules {} generated, {} loaded ({} header-only), parse {:.0} rules/s, compile {:.2} s; scan {:.0} packets/s, {:.1} MB/s ({:.2} Gbit/s), {} hits per {} payloads, 1 thread",
            self.generated,
            self.loaded,
            self.stats.header_only,
            self.parse_rules_per_sec,
            self.compile.as_secs_f64(),
            self.packets_per_sec(),
            self.bytes_per_sec() / 1e6,
            self.bytes_per_sec() * 8.0 / 1e9,
            self.hits_per_pass,
            PAYLOADS
        )
    }
}

/// Generates `rule_count` rules, loads them and scans representative payloads for at
/// least `min_time` on the calling thread.
pub fn run(rule_count: usize, min_time: Duration) -> BenchReport {
    let mut r = run_text(&synth::rules(rule_count, 7), min_time);
    r.generated = rule_count;
    r
}

/// The same with the rules of `text` (a real rule file, say), with the default
/// variables; `generated` in the report counts the rules in the text.
pub fn run_text(text: &str, min_time: Duration) -> BenchReport {
    let t = Instant::now();
    let loaded = parse_rules(text);
    let parse_time = t.elapsed();
    let total = loaded.rules.len() + loaded.skipped.len() + loaded.errors.len();
    let t = Instant::now();
    let set = RuleSet::compile(loaded.rules, &Vars::default());
    let compile = t.elapsed();
    // One payload in a hundred carries a beacon of the generated rules.
    let mut packets = synth::payloads(PAYLOADS - PAYLOADS / 100, 7);
    packets.extend(synth::attack_payloads(text, PAYLOADS / 100));
    let mut scratch = Scratch::default();
    let mut hits = Vec::new();
    let (mut n, mut bytes, mut passes) = (0u64, 0u64, 0u64);
    let mut hits_per_pass = None;
    let mut consistent = true;
    let start = Instant::now();
    while passes == 0 || start.elapsed() < min_time {
        let mut pass_hits = 0u64;
        for p in &packets {
            let mut flow = FlowRuleState::default();
            hits.clear();
            set.scan(&p.context(), &mut flow, &mut scratch, &mut hits);
            pass_hits += hits.len() as u64;
            bytes += p.payload.len() as u64;
        }
        n += packets.len() as u64;
        passes += 1;
        if *hits_per_pass.get_or_insert(pass_hits) != pass_hits {
            consistent = false;
        }
    }
    BenchReport {
        generated: total,
        loaded: set.len(),
        parse_rules_per_sec: total as f64 / parse_time.as_secs_f64().max(1e-9),
        compile,
        stats: set.stats().clone(),
        packets: n,
        bytes,
        hits_per_pass: hits_per_pass.unwrap_or(0),
        consistent,
        elapsed: start.elapsed(),
    }
}
