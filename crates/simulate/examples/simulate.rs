//! Writes a simulated capture:
//! `cargo run --release -p mamori-simulate --example simulate -- normal out.pcapng [hours] [scale] [seed]`,
//! or the 1 GB benchmark capture: `... --example simulate -- bench out.pcap [bytes]`.

use std::path::PathBuf;
use std::time::Instant;

use mamori_simulate::{Scenario, SimConfig, simulate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(2).map_or("sim.pcapng", String::as_str));
    let mut cfg = if args.get(1).is_some_and(|a| a == "bench") {
        let bytes = args.get(3).map_or(Ok(1_000_000_000), |b| b.parse())?;
        SimConfig::benchmark(bytes)
    } else {
        let scenario: Scenario = args.get(1).map_or("normal", String::as_str).parse()?;
        SimConfig::new(scenario)
    };
    let bench = args.get(1).is_some_and(|a| a == "bench");
    if let (false, Some(h)) = (bench, args.get(3)) {
        cfg.hours = h.parse()?;
    }
    if let Some(s) = args.get(4) {
        cfg.scale = s.parse()?;
    }
    if let Some(s) = args.get(5) {
        cfg.seed = s.parse()?;
    }
    if out.extension().is_some_and(|e| e == "pcap") {
        cfg.format = mamori_simulate::CaptureFormat::Pcap;
    }
    let t0 = Instant::now();
    let s = simulate(&cfg, &out)?;
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "{} packets, {} bytes in {:.2} s ({:.1} MB/s), {} expected alerts",
        s.packets,
        s.bytes,
        secs,
        s.bytes as f64 / secs / 1e6,
        s.expected_alerts
    );
    Ok(())
}
