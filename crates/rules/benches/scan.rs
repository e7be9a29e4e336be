//! Scanning throughput with 1,000 and 10,000 synthetic ET-style rules.
//!
//! `cargo bench -p mamori-rules`: one payload pass per iteration, throughput in bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mamori_rules::{FlowRuleState, RuleSet, Scratch, Vars, parse_rules, synth};

fn scan(c: &mut Criterion) {
    let mut group = c.benchmark_group("scan");
    group.sample_size(20);
    for n in [1_000, 10_000] {
        let text = synth::rules(n, 7);
        let set = RuleSet::compile(parse_rules(&text).rules, &Vars::default());
        // As `mamori_rules::bench`: one payload in a hundred carries a beacon.
        let mut packets = synth::payloads(990, 7);
        packets.extend(synth::attack_payloads(&text, 10));
        let bytes: usize = packets.iter().map(|p| p.payload.len()).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        let mut scratch = Scratch::default();
        let mut hits = Vec::new();
        group.bench_function(format!("{n}_rules"), |b| {
            b.iter(|| {
                let mut total = 0;
                for p in &packets {
                    let mut flow = FlowRuleState::default();
                    hits.clear();
                    set.scan(&p.context(), &mut flow, &mut scratch, &mut hits);
                    total += hits.len();
                }
                assert!(
                    total > 0,
                    "the payloads carry contents of the generated rules"
                );
                black_box(total)
            })
        });
    }
    group.finish();
}

fn parse(c: &mut Criterion) {
    let text = synth::rules(10_000, 7);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(10_000));
    group.sample_size(10);
    group.bench_function("10000_rules", |b| {
        b.iter(|| black_box(parse_rules(&text).rules.len()))
    });
    group.finish();
}

criterion_group!(benches, scan, parse);
criterion_main!(benches);
