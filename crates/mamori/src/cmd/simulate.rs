//! `mamori simulate`: a deterministic plant capture with its ground truth.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use mamori_simulate::{AttackTiming, SimConfig, simulate};

use crate::cli::SimulateArgs;

pub(crate) fn run(args: &SimulateArgs) -> anyhow::Result<ExitCode> {
    let config = SimConfig {
        seed: args.seed,
        hours: args.hours,
        scale: args.scale,
        format: args.format,
        max_bytes: args.max_size,
        attack_timing: if args.packed_attacks {
            AttackTiming::Packed {
                offset_secs: 300,
                spacing_secs: 60,
            }
        } else {
            AttackTiming::Daytime
        },
        ..SimConfig::new(args.scenario)
    };
    let started = Instant::now();
    let summary = simulate(&config, &args.out)
        .with_context(|| format!("simulating into {}", args.out.display()))?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} scenario, {} packets, {} bytes, {} expected alert(s){}; {:.2}s, {:.1} MB/s",
        args.out.display(),
        args.scenario,
        summary.packets,
        summary.bytes,
        summary.expected_alerts,
        summary
            .truth_path
            .as_ref()
            .map(|p| format!(" in {}", p.display()))
            .unwrap_or_default(),
        secs,
        summary.bytes as f64 / secs.max(1e-9) / 1e6,
    );
    Ok(ExitCode::SUCCESS)
}
