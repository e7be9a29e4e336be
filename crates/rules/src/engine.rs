//! The compiled rule set and the matcher.
//!
//! [`RuleSet::compile`] resolves variables, compiles `pcre` options with
//! [`regex::bytes`] and groups rules so a packet only meets the rules that could
//! match it:
//!
//! - by transport (TCP, UDP, ICMP, other IP; an `ip` rule is in all four);
//! - by destination port: a `->` rule whose destination ports are a short positive
//!   list (at most [`MAX_GROUP_PORTS`] ports, such as `$HTTP_PORTS` or `502`) is filed
//!   under each of those ports; the [`MAX_PORT_GROUPS`] ports with the most rules keep
//!   a group, every other rule is in the transport's *any-port* group (replies, whose
//!   destination is a client port, meet the any-port group). While the any-port group
//!   is small ([`MERGE_ANY_LIMIT`]) its rules are copied into every port group, so a
//!   payload is scanned by exactly one automaton; otherwise a payload to a grouped
//!   port is scanned twice (its port's group, then the any-port group), which keeps
//!   memory bounded for large rule sets.
//!
//! Each group has one Aho-Corasick automaton (ASCII case-insensitive) over the *fast
//! pattern* of each of its rules: the content marked `fast_pattern`, or else the
//! longest positive content. A rule is verified in full only when its fast pattern
//! occurs in the payload. Automata are full DFAs (one table lookup per byte, measured
//! twice as fast as the NFA here) up to [`MAX_DFA_PATTERNS`] patterns per group and
//! [`DFA_BUDGET`] in all, NFAs beyond. Rules without a positive content are checked on every
//! packet of their group by header, flow, `dsize` and the rest; [`RuleSetStats`]
//! counts them, since each costs time on every packet.
//!
//! Verification follows Suricata's content inspection: `offset`/`depth` are from the
//! payload start, `distance`/`within` from the end of the previous match (content or
//! `pcre` with `R`), and when a later relative match fails the earlier content is tried
//! again at its next occurrence (bounded by [`INSPECTION_BUDGET`] searches per rule and
//! payload). Negated contents and `pcre` do not move the relative position.
//!
//! **Packets or streams.** [`RuleSet::scan`] inspects one payload: a packet's, or a
//! chunk of reassembled stream (set [`PacketContext::stream`]); `only_stream` and
//! `no_stream` (and `tcp-stream`, `tcp-pkt`) choose between them, other rules match
//! either. Scanning packets misses a content split across two segments; scanning
//! chunks finds it when the chunk holds both halves. `dsize` never matches a chunk.
//!
//! **Flowbits.** Each flow keeps a [`FlowRuleState`] (a bit per flowbit name, grown
//! on the first `set`). Within one payload, rules are evaluated in an order where
//! rules that only set bits come first and rules that test bits last, so `set` on one
//! rule and `isset` on another work in the same packet, as in Suricata.
//!
//! **No allocation per packet.** [`Scratch`] holds the candidate list and the
//! pattern bitmap; it grows to the rule set's size once per worker. [`Hit`]s carry
//! `Arc<str>` messages (a reference count, not a copy). The set is `Send + Sync`:
//! build it once and share it between worker threads behind an `Arc`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::bytes::{Regex, RegexBuilder};

use crate::classtype;
use crate::content::Searcher;
use crate::net::{AddrSet, PortRange, PortSet, Resolver, VarError, Vars};
use crate::parse::{
    self, Dsize, Flow, Flowbit, ICMP, IsDataAt, OTHER, Rule, SkipReason, Skipped, Step, TCP, UDP,
};

/// Longest destination (or source) port list a rule may have and still be grouped by port.
pub const MAX_GROUP_PORTS: usize = 32;
/// Groups with at most this many fast patterns get a full DFA prefilter (faster,
/// larger); bigger groups get a contiguous NFA.
pub const MAX_DFA_PATTERNS: usize = 5_000;
/// Fast patterns over all groups that may use a DFA; the groups built after the
/// budget is spent get an NFA (DFAs take several KiB per pattern).
pub const DFA_BUDGET: usize = 40_000;
/// The any-port rules are copied into every port group (one scan per payload)
/// while they are at most this many; otherwise a payload to a grouped port is
/// scanned twice (its port's group, then the any-port group), to bound memory.
pub const MERGE_ANY_LIMIT: usize = 1_500;
/// Destination ports with a group of their own, per transport.
pub const MAX_PORT_GROUPS: usize = 24;
/// Searches allowed per rule and payload while backtracking relative matches.
pub const INSPECTION_BUDGET: u32 = 2048;
/// Size limit of one compiled `pcre` (the `regex` crate's `size_limit`).
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Lazy-DFA cache limit of one compiled `pcre`, per thread that uses it.
pub const REGEX_DFA_LIMIT: usize = 1 << 18;

/// The transport of a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP or ICMPv6 (ports are ignored).
    Icmp,
    /// Any other IP protocol, by number (ports are ignored).
    Other(u8),
}

impl Transport {
    fn index(self) -> usize {
        match self {
            Transport::Tcp => 0,
            Transport::Udp => 1,
            Transport::Icmp => 2,
            Transport::Other(_) => 3,
        }
    }

    fn has_ports(self) -> bool {
        matches!(self, Transport::Tcp | Transport::Udp)
    }
}

/// One payload to scan and what the flow says about it.
#[derive(Debug, Clone, Copy)]
pub struct PacketContext<'a> {
    /// Transport protocol.
    pub proto: Transport,
    /// Sender address and port (port 0 without ports).
    pub src: (IpAddr, u16),
    /// Receiver address and port.
    pub dst: (IpAddr, u16),
    /// Sent by the flow's originator (client to server).
    pub to_server: bool,
    /// The flow is established (TCP handshake seen; UDP: both directions seen).
    pub established: bool,
    /// The payload is a chunk of reassembled stream rather than one packet's payload.
    pub stream: bool,
    /// The bytes.
    pub payload: &'a [u8],
}

/// A rule that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// Generator id.
    pub gid: u32,
    /// The rule's `msg`.
    pub msg: Arc<str>,
    /// The rule's `classtype`.
    pub classtype: Option<Arc<str>>,
    /// Priority (1 most severe): the rule's own, else its class's, else 3.
    pub priority: u8,
    /// Index of the rule in the set ([`RuleSet::rule`]).
    pub rule: u32,
}

/// Per-flow rule state: the flowbits set on this flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRuleState {
    bits: Vec<u64>,
}

impl FlowRuleState {
    fn get(&self, bit: u32) -> bool {
        self.bits
            .get(bit as usize / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    fn set(&mut self, bit: u32, on: bool) {
        let word = bit as usize / 64;
        if self.bits.len() <= word {
            if !on {
                return;
            }
            self.bits.resize(word + 1, 0);
        }
        if let Some(w) = self.bits.get_mut(word) {
            if on {
                *w |= 1 << (bit % 64);
            } else {
                *w &= !(1 << (bit % 64));
            }
        }
    }

    /// Whether no flowbit is set.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&w| w == 0)
    }
}

/// Reusable per-thread buffers for [`RuleSet::scan`].
#[derive(Debug, Default)]
pub struct Scratch {
    candidates: Vec<u32>,
    seen: Vec<u64>,
    touched: Vec<u32>,
}

/// What a loaded rule is, for reports and alert details.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    /// Signature id.
    pub sid: u32,
    /// Revision.
    pub rev: u32,
    /// Generator id.
    pub gid: u32,
    /// `msg`.
    pub msg: Arc<str>,
    /// `classtype`.
    pub classtype: Option<Arc<str>>,
    /// Effective priority.
    pub priority: u8,
    /// `reference` values.
    pub references: Vec<String>,
    /// `metadata` values.
    pub metadata: Vec<String>,
    /// First line in the rule file.
    pub line: usize,
}

impl RuleInfo {
    /// The first value of `key` in the rule's `metadata` (entries are `key value`,
    /// comma-separated), e.g. `mitre_ics` gives `T0858` for our OT rules.
    pub fn metadata_value(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .flat_map(|m| m.split(','))
            .find_map(|entry| {
                let (k, v) = entry.trim().split_once(' ')?;
                (k == key).then_some(v.trim())
            })
    }
}

/// Counts describing a compiled set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleSetStats {
    /// Rules loaded.
    pub rules: usize,
    /// Rules skipped while compiling (undefined variables, `pcre` that does not compile).
    pub skipped: usize,
    /// Rules with a fast pattern (prefiltered).
    pub prefiltered: usize,
    /// Rules without one: checked on every packet of their group.
    pub header_only: usize,
    /// Groups (transport x port class).
    pub groups: usize,
    /// Distinct fast patterns over all groups.
    pub patterns: usize,
}

struct CContent {
    searcher: Searcher,
    negated: bool,
    relative: bool,
    offset: i64,
    depth: Option<i64>,
    distance: i64,
    within: Option<i64>,
    endswith: bool,
}

impl CContent {
    /// The window `[start, end)` of `payload` the match must lie in, if it can fit.
    fn window(&self, len: usize, prev_end: usize) -> Option<(usize, usize)> {
        let len_i = len as i64;
        let (start, mut end) = if self.relative {
            let base = prev_end as i64 + self.distance;
            (base, self.within.map_or(len_i, |w| base + w))
        } else {
            (self.offset, self.depth.map_or(len_i, |d| self.offset + d))
        };
        let plen = self.searcher.len() as i64;
        let mut start = start.max(0);
        if self.endswith {
            if end < len_i {
                return None;
            }
            start = start.max(len_i - plen);
        }
        end = end.min(len_i);
        if end - start < plen {
            return None;
        }
        Some((usize::try_from(start).ok()?, usize::try_from(end).ok()?))
    }
}

struct CPcre {
    re: Regex,
    relative: bool,
    negated: bool,
}

enum CStep {
    Content(CContent),
    Pcre(CPcre),
    IsDataAt(IsDataAt),
}

impl CStep {
    fn relative(&self) -> bool {
        match self {
            CStep::Content(c) => c.relative,
            CStep::Pcre(p) => p.relative,
            CStep::IsDataAt(d) => d.relative,
        }
    }
}

struct Cond {
    bits: Vec<u32>,
    all: bool,
    negated: bool,
}

enum Act {
    Set(u32),
    Unset(u32),
    Toggle(u32),
}

struct Compiled {
    info: RuleInfo,
    transports: u8,
    server_ports: Option<&'static [PortRange]>,
    stream: Option<bool>,
    flow: Flow,
    dsize: Option<Dsize>,
    src: AddrSet,
    src_ports: PortSet,
    dst: AddrSet,
    dst_ports: PortSet,
    bidirectional: bool,
    steps: Vec<CStep>,
    conds: Vec<Cond>,
    acts: Vec<Act>,
    noalert: bool,
}

#[derive(Default)]
struct Group {
    ac: Option<AhoCorasick>,
    /// Per pattern: the range of `rule_ids` whose fast pattern it is.
    pattern_rules: Vec<(u32, u32)>,
    rule_ids: Vec<u32>,
    header_only: Vec<u32>,
}

#[derive(Default)]
struct GroupBuilder {
    patterns: Vec<(Vec<u8>, u32)>,
    header_only: Vec<u32>,
}

impl GroupBuilder {
    fn build(mut self, dfa_budget: &mut usize) -> Result<Group, String> {
        self.patterns.sort_unstable();
        let mut uniq: Vec<Vec<u8>> = Vec::new();
        let mut pattern_rules = Vec::new();
        let mut rule_ids = Vec::with_capacity(self.patterns.len());
        for (pat, id) in self.patterns {
            if uniq.last() != Some(&pat) {
                uniq.push(pat);
                pattern_rules.push((rule_ids.len() as u32, rule_ids.len() as u32));
            }
            rule_ids.push(id);
            if let Some(last) = pattern_rules.last_mut() {
                last.1 = rule_ids.len() as u32;
            }
        }
        let ac = if uniq.is_empty() {
            None
        } else {
            // A full DFA (one table lookup per byte) when it fits, else the
            // builder's choice (a contiguous NFA).
            let build = |kind| {
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .kind(kind)
                    .prefilter(false)
                    .build(&uniq)
            };
            let ac = if uniq.len() <= MAX_DFA_PATTERNS && uniq.len() <= *dfa_budget {
                *dfa_budget -= uniq.len();
                build(Some(AhoCorasickKind::DFA)).or_else(|_| build(None))
            } else {
                build(None)
            };
            Some(ac.map_err(|e| e.to_string())?)
        };
        Ok(Group {
            ac,
            pattern_rules,
            rule_ids,
            header_only: self.header_only,
        })
    }
}

/// The groups of one transport: per destination port, and the rest.
#[derive(Default)]
struct Groups {
    any: Group,
    by_dst: HashMap<u16, Group>,
    /// The port groups hold the any-port rules too.
    merged: bool,
}

#[derive(Default)]
struct GroupsBuilder {
    any: GroupBuilder,
    by_dst: HashMap<u16, GroupBuilder>,
    merged: bool,
}

/// A compiled, immutable rule set; share it between threads.
pub struct RuleSet {
    rules: Vec<Compiled>,
    groups: [Groups; 4],
    skipped: Vec<Skipped>,
    flowbits: Vec<String>,
    max_patterns: usize,
    stats: RuleSetStats,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Evaluation order for flowbits: setters first, testers last.
fn flowbit_class(r: &Rule) -> u8 {
    let tests = r
        .flowbits
        .iter()
        .any(|f| matches!(f, Flowbit::IsSet(..) | Flowbit::IsNotSet(..)));
    let sets = r
        .flowbits
        .iter()
        .any(|f| matches!(f, Flowbit::Set(_) | Flowbit::Unset(_) | Flowbit::Toggle(_)));
    match (sets, tests) {
        (true, false) => 0,
        (false, false) => 1,
        (true, true) => 2,
        (false, true) => 3,
    }
}

impl RuleSet {
    /// Compiles parsed rules with `vars`. Rules that cannot be compiled (an undefined
    /// variable, a `pcre` the `regex` crate rejects) are left out and listed in
    /// [`RuleSet::skipped`].
    pub fn compile(mut rules: Vec<Rule>, vars: &Vars) -> RuleSet {
        rules.sort_by_key(flowbit_class);
        let mut resolver = Resolver::new(vars);
        let mut flowbit_ids: HashMap<String, u32> = HashMap::new();
        let mut compiled = Vec::with_capacity(rules.len());
        let mut skipped = Vec::new();
        let mut fast: Vec<Option<Vec<u8>>> = Vec::with_capacity(rules.len());
        for rule in rules {
            match compile_rule(&rule, &mut resolver, &mut flowbit_ids) {
                Ok(c) => {
                    fast.push(fast_pattern(&rule.steps));
                    compiled.push(c);
                }
                Err(reason) => skipped.push(Skipped {
                    line: rule.line,
                    sid: Some(rule.sid),
                    reason,
                }),
            }
        }
        let mut builders: [GroupsBuilder; 4] = Default::default();
        for (id, (rule, pat)) in compiled.iter().zip(&fast).enumerate() {
            let id = id as u32;
            let ports = if rule.bidirectional {
                None
            } else {
                rule.dst_ports.few_ports(MAX_GROUP_PORTS)
            };
            for (t, bit) in [TCP, UDP, ICMP, OTHER].into_iter().enumerate() {
                if rule.transports & bit == 0 {
                    continue;
                }
                let gb = &mut builders[t];
                let add = |g: &mut GroupBuilder| match pat {
                    Some(p) => g.patterns.push((p.clone(), id)),
                    None => g.header_only.push(id),
                };
                match (&ports, bit == TCP || bit == UDP) {
                    (Some(ports), true) => ports
                        .iter()
                        .for_each(|p| add(gb.by_dst.entry(*p).or_default())),
                    _ => add(&mut gb.any),
                }
            }
        }
        // Keep a group for the ports with the most rules; the rules of the other
        // ports join the any-port group. Then every port group also takes the
        // any-port rules, so a payload is scanned by exactly one automaton.
        for gb in &mut builders {
            let mut ports: Vec<(usize, u16)> = gb
                .by_dst
                .iter()
                .map(|(p, g)| (g.patterns.len() + g.header_only.len(), *p))
                .collect();
            ports.sort_unstable_by(|a, b| b.cmp(a));
            for &(_, port) in ports.iter().skip(MAX_PORT_GROUPS) {
                if let Some(g) = gb.by_dst.remove(&port) {
                    gb.any.patterns.extend(g.patterns);
                    gb.any.header_only.extend(g.header_only);
                }
            }
            gb.any.patterns.sort_unstable();
            gb.any.patterns.dedup();
            gb.any.header_only.sort_unstable();
            gb.any.header_only.dedup();
            gb.merged = gb.any.patterns.len() + gb.any.header_only.len() <= MERGE_ANY_LIMIT;
            if gb.merged {
                for g in gb.by_dst.values_mut() {
                    g.patterns.extend(gb.any.patterns.iter().cloned());
                    g.header_only.extend(gb.any.header_only.iter().copied());
                }
            }
        }
        let mut stats = RuleSetStats {
            rules: compiled.len(),
            skipped: skipped.len(),
            prefiltered: fast.iter().filter(|f| f.is_some()).count(),
            header_only: fast.iter().filter(|f| f.is_none()).count(),
            ..Default::default()
        };
        let mut max_patterns = 0;
        let mut dfa_budget = DFA_BUDGET;
        let mut build = |gb: GroupBuilder, stats: &mut RuleSetStats| -> Group {
            // Building an automaton fails only past its size limits; a group that
            // fails keeps its rules checked by header (slow but correct).
            let header_fallback = gb
                .patterns
                .iter()
                .map(|p| p.1)
                .chain(gb.header_only.iter().copied())
                .collect();
            let g = gb.build(&mut dfa_budget).unwrap_or_else(|_| Group {
                header_only: header_fallback,
                ..Default::default()
            });
            stats.groups += 1;
            stats.patterns += g.pattern_rules.len();
            max_patterns = max_patterns.max(g.pattern_rules.len());
            g
        };
        let groups = builders.map(|b| Groups {
            merged: b.merged,
            any: build(b.any, &mut stats),
            by_dst: b
                .by_dst
                .into_iter()
                .map(|(p, g)| (p, build(g, &mut stats)))
                .collect(),
        });
        let mut flowbits: Vec<(String, u32)> = flowbit_ids.into_iter().collect();
        flowbits.sort_by_key(|f| f.1);
        RuleSet {
            rules: compiled,
            groups,
            skipped,
            flowbits: flowbits.into_iter().map(|f| f.0).collect(),
            max_patterns,
            stats,
        }
    }

    /// Rules left out while compiling, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Counts describing the set.
    pub fn stats(&self) -> &RuleSetStats {
        &self.stats
    }

    /// Number of rules loaded.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether no rule is loaded.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rule at `index` (a [`Hit::rule`]).
    pub fn rule(&self, index: u32) -> Option<&RuleInfo> {
        self.rules.get(index as usize).map(|r| &r.info)
    }

    /// Flowbit names, by bit number.
    pub fn flowbit_names(&self) -> &[String] {
        &self.flowbits
    }

    /// Scans one payload: pushes a [`Hit`] per matching rule (except `noalert` ones)
    /// onto `hits` and applies the matching rules' flowbits to `flow`.
    pub fn scan(
        &self,
        ctx: &PacketContext<'_>,
        flow: &mut FlowRuleState,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
    ) {
        let words = self.max_patterns.div_ceil(64);
        if scratch.seen.len() < words {
            scratch.seen.resize(words, 0);
        }
        scratch.candidates.clear();
        let groups = &self.groups[ctx.proto.index()];
        match groups
            .by_dst
            .get(&ctx.dst.1)
            .filter(|_| ctx.proto.has_ports())
        {
            Some(g) if groups.merged => collect(g, ctx.payload, scratch),
            Some(g) => {
                collect(g, ctx.payload, scratch);
                collect(&groups.any, ctx.payload, scratch);
            }
            None => collect(&groups.any, ctx.payload, scratch),
        }
        scratch.candidates.sort_unstable();
        scratch.candidates.dedup();
        for &id in &scratch.candidates {
            let Some(rule) = self.rules.get(id as usize) else {
                continue;
            };
            if !self.matches(rule, ctx, flow) {
                continue;
            }
            for act in &rule.acts {
                match *act {
                    Act::Set(b) => flow.set(b, true),
                    Act::Unset(b) => flow.set(b, false),
                    Act::Toggle(b) => flow.set(b, !flow.get(b)),
                }
            }
            if !rule.noalert {
                let i = &rule.info;
                hits.push(Hit {
                    sid: i.sid,
                    rev: i.rev,
                    gid: i.gid,
                    msg: i.msg.clone(),
                    classtype: i.classtype.clone(),
                    priority: i.priority,
                    rule: id,
                });
            }
        }
    }

    fn matches(&self, r: &Compiled, ctx: &PacketContext<'_>, flow: &FlowRuleState) -> bool {
        let f = r.flow;
        if f.to_server.is_some_and(|t| t != ctx.to_server)
            || f.established.is_some_and(|e| e != ctx.established)
            || f.stream.or(r.stream).is_some_and(|s| s != ctx.stream)
        {
            return false;
        }
        if let Some(d) = r.dsize
            && (ctx.stream || !d.matches(ctx.payload.len()))
        {
            return false;
        }
        let ports = ctx.proto.has_ports();
        if let (Some(server), true) = (r.server_ports, ports) {
            let port = if ctx.to_server { ctx.dst.1 } else { ctx.src.1 };
            if !server.iter().any(|p| (p.lo..=p.hi).contains(&port)) {
                return false;
            }
        }
        let ends = |a: (IpAddr, u16), b: (IpAddr, u16)| {
            (!ports || (r.src_ports.contains(a.1) && r.dst_ports.contains(b.1)))
                && r.src.contains(a.0)
                && r.dst.contains(b.0)
        };
        if !(ends(ctx.src, ctx.dst) || (r.bidirectional && ends(ctx.dst, ctx.src))) {
            return false;
        }
        for c in &r.conds {
            let mut states = c.bits.iter().map(|&b| flow.get(b) != c.negated);
            let ok = if c.all {
                states.all(|s| s)
            } else {
                states.any(|s| s)
            };
            if !ok {
                return false;
            }
        }
        let mut budget = INSPECTION_BUDGET;
        inspect(&r.steps, 0, ctx.payload, 0, &mut budget)
    }
}

fn collect(g: &Group, payload: &[u8], s: &mut Scratch) {
    s.candidates.extend_from_slice(&g.header_only);
    let Some(ac) = &g.ac else { return };
    if payload.is_empty() {
        return;
    }
    for m in ac.find_overlapping_iter(payload) {
        let p = m.pattern().as_usize();
        let (word, bit) = (p / 64, 1u64 << (p % 64));
        let Some(w) = s.seen.get_mut(word) else {
            continue;
        };
        if *w & bit != 0 {
            continue;
        }
        *w |= bit;
        s.touched.push(p as u32);
        if let Some(&(lo, hi)) = g.pattern_rules.get(p)
            && let Some(ids) = g.rule_ids.get(lo as usize..hi as usize)
        {
            s.candidates.extend_from_slice(ids);
        }
    }
    for p in s.touched.drain(..) {
        if let Some(w) = s.seen.get_mut(p as usize / 64) {
            *w = 0;
        }
    }
}

/// Runs `steps[i..]` against `payload`, the previous match having ended at `prev_end`.
fn inspect(steps: &[CStep], i: usize, payload: &[u8], prev_end: usize, budget: &mut u32) -> bool {
    let Some(step) = steps.get(i) else {
        return true;
    };
    let next_relative = steps.get(i + 1).is_some_and(CStep::relative);
    match step {
        CStep::Content(c) => {
            let Some((start, end)) = c.window(payload.len(), prev_end) else {
                return c.negated && inspect(steps, i + 1, payload, prev_end, budget);
            };
            let Some(hay) = payload.get(start..end) else {
                return false;
            };
            if c.negated {
                return c.searcher.find(hay).is_none()
                    && inspect(steps, i + 1, payload, prev_end, budget);
            }
            let mut from = 0;
            loop {
                if *budget == 0 {
                    return false;
                }
                *budget -= 1;
                let Some(at) = hay.get(from..).and_then(|h| c.searcher.find(h)) else {
                    return false;
                };
                let found = start + from + at;
                if inspect(steps, i + 1, payload, found + c.searcher.len(), budget) {
                    return true;
                }
                if !next_relative {
                    return false;
                }
                from += at + 1;
            }
        }
        CStep::Pcre(p) => {
            let base = if p.relative {
                prev_end.min(payload.len())
            } else {
                0
            };
            let Some(subject) = payload.get(base..) else {
                return false;
            };
            if p.negated {
                return !p.re.is_match(subject) && inspect(steps, i + 1, payload, prev_end, budget);
            }
            let mut from = 0;
            loop {
                if *budget == 0 || from > subject.len() {
                    return false;
                }
                *budget -= 1;
                let Some(m) = p.re.find_at(subject, from) else {
                    return false;
                };
                if inspect(steps, i + 1, payload, base + m.end(), budget) {
                    return true;
                }
                if !next_relative {
                    return false;
                }
                from = m.start() + 1;
            }
        }
        CStep::IsDataAt(d) => {
            // As in Suricata: absolute, a byte at offset `pos`; relative, `pos` bytes
            // after the previous match.
            let has = if d.relative {
                prev_end.saturating_add(d.pos as usize) <= payload.len()
            } else {
                (d.pos as usize) < payload.len()
            };
            has != d.negated && inspect(steps, i + 1, payload, prev_end, budget)
        }
    }
}

/// The fast pattern of a rule, lower-cased: the positive content marked
/// `fast_pattern`, else the longest positive content.
fn fast_pattern(steps: &[Step]) -> Option<Vec<u8>> {
    let positive = || {
        steps.iter().filter_map(|s| match s {
            Step::Content(c) if !c.negated => Some(c),
            _ => None,
        })
    };
    let chosen = positive()
        .find(|c| c.fast_pattern)
        .or_else(|| positive().rev().max_by_key(|c| c.bytes.len()))?;
    Some(chosen.bytes.to_ascii_lowercase())
}

fn compile_rule(
    r: &Rule,
    resolver: &mut Resolver<'_>,
    flowbits: &mut HashMap<String, u32>,
) -> Result<Compiled, SkipReason> {
    let var = |e: VarError| match e {
        VarError::Undefined(n) => SkipReason::UndefinedVariable(n),
        VarError::Bad(n, why) => SkipReason::BadVariable(n, why),
    };
    let src = resolver.resolve_addr(&r.src).map_err(var)?;
    let dst = resolver.resolve_addr(&r.dst).map_err(var)?;
    let src_ports = resolver.resolve_port(&r.src_ports).map_err(var)?;
    let dst_ports = resolver.resolve_port(&r.dst_ports).map_err(var)?;
    let mut steps = Vec::with_capacity(r.steps.len());
    for s in &r.steps {
        steps.push(match s {
            Step::Content(c) => {
                let len = c.bytes.len() as i64;
                let (offset, depth) = if c.startswith {
                    (0, Some(len))
                } else {
                    (c.offset.map_or(0, i64::from), c.depth.map(i64::from))
                };
                CStep::Content(CContent {
                    searcher: Searcher::new(&c.bytes, c.nocase),
                    negated: c.negated,
                    relative: c.relative(),
                    offset,
                    depth,
                    distance: c.distance.map_or(0, i64::from),
                    within: c.within.map(i64::from),
                    endswith: c.endswith,
                })
            }
            Step::Pcre(p) => {
                let re = RegexBuilder::new(&p.pattern)
                    .unicode(false)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_DFA_LIMIT)
                    .build()
                    .map_err(|e| {
                        SkipReason::Regex(
                            e.to_string()
                                .lines()
                                .last()
                                .unwrap_or("")
                                .trim()
                                .to_string(),
                        )
                    })?;
                CStep::Pcre(CPcre {
                    re,
                    relative: p.relative,
                    negated: p.negated,
                })
            }
            Step::IsDataAt(d) => CStep::IsDataAt(d.clone()),
        });
    }
    let mut intern = |name: &str| -> u32 {
        let next = flowbits.len() as u32;
        *flowbits.entry(name.to_string()).or_insert(next)
    };
    let mut conds = Vec::new();
    let mut acts = Vec::new();
    for f in &r.flowbits {
        match f {
            Flowbit::Set(n) => acts.push(Act::Set(intern(n))),
            Flowbit::Unset(n) => acts.push(Act::Unset(intern(n))),
            Flowbit::Toggle(n) => acts.push(Act::Toggle(intern(n))),
            Flowbit::IsSet(ns, all) => conds.push(Cond {
                bits: ns.iter().map(|n| intern(n)).collect(),
                all: *all,
                negated: false,
            }),
            Flowbit::IsNotSet(ns, all) => conds.push(Cond {
                bits: ns.iter().map(|n| intern(n)).collect(),
                all: *all,
                negated: true,
            }),
        }
    }
    let priority = r
        .priority
        .or_else(|| r.classtype.as_deref().and_then(classtype::priority))
        .unwrap_or(3);
    Ok(Compiled {
        info: RuleInfo {
            sid: r.sid,
            rev: r.rev,
            gid: r.gid,
            msg: Arc::from(r.msg.as_str()),
            classtype: r.classtype.as_deref().map(Arc::from),
            priority,
            references: r.references.clone(),
            metadata: r.metadata.clone(),
            line: r.line,
        },
        transports: r.proto.transports,
        server_ports: r.proto.server_ports,
        stream: r.proto.stream,
        flow: r.flow,
        dsize: r.dsize,
        src,
        src_ports,
        dst,
        dst_ports,
        bidirectional: r.bidirectional,
        steps,
        conds,
        acts,
        noalert: r.noalert,
    })
}

/// Parses `text` and compiles what loads, with `vars`: the rule set and everything
/// that was left out (parse skips and compile skips together, and the parse errors).
pub fn load(text: &str, vars: &Vars) -> (RuleSet, Vec<Skipped>, Vec<parse::ParseError>) {
    let loaded = parse::parse_rules(text);
    let set = RuleSet::compile(loaded.rules, vars);
    let mut skipped = loaded.skipped;
    skipped.extend(set.skipped.iter().cloned());
    skipped.sort_by_key(|s| s.line);
    (set, skipped, loaded.errors)
}
