//! Signature rules: a Suricata-compatible subset, parsed, compiled and matched on
//! payloads by the pipeline's workers.
//!
//! The way through:
//!
//! 1. [`parse::parse_rules`] reads a rule file (Emerging Threats style: comments,
//!    blank lines, rules continued with a trailing backslash) with a hand-written
//!    recursive-descent parser. It never stops at a bad rule: it returns the rules that
//!    load, the ones it skips with a [`SkipReason`] (an unsupported keyword, action,
//!    protocol or `pcre` construct) and the malformed ones with line and column.
//! 2. [`RuleSet::compile`] resolves `$HOME_NET`-style variables from [`Vars`]
//!    (Suricata's defaults unless configured), compiles `pcre` with the `regex` crate
//!    and groups the rules by transport and port, with one Aho-Corasick prefilter per
//!    group over each rule's fast pattern.
//! 3. [`RuleSet::scan`] checks one payload ([`PacketContext`]: transport, ends,
//!    direction, establishment, bytes) and pushes a [`Hit`] per matching rule. A worker
//!    owns a [`Scratch`] and one [`FlowRuleState`] per flow (flowbits); nothing is
//!    allocated per packet once those have grown.
//!
//! [`check`] builds the report of `mamori rules check FILE`; [`synth`] writes
//! deterministic ET-style rules and payloads for tests and [`bench`].
//!
//! What is supported, what is skipped and why, and how `pcre` is translated are in
//! the module docs of [`parse`], [`engine`] and [`pcre`].

pub mod bench;
pub mod check;
pub mod classtype;
pub mod content;
pub mod engine;
pub mod net;
pub mod parse;
pub mod pcre;
pub mod synth;

pub use check::{CheckReport, check_file, check_text};
pub use engine::{
    FlowRuleState, Hit, PacketContext, RuleInfo, RuleSet, RuleSetStats, Scratch, Transport, load,
};
pub use net::Vars;
pub use parse::{Action, Loaded, ParseError, Rule, SkipReason, Skipped, parse_rule, parse_rules};
