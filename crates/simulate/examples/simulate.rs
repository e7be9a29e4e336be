//! Writes a simulated capture: `cargo run --release -p mamori-simulate --example simulate -- normal out.pcapng [hours] [scale] [seed]`.

use std::path::PathBuf;
use std::time::Instant;

use mamori_simulate::{Scenario, SimConfig, simulate};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let scenario: Scenario = args.get(1).map_or("normal", String::as_str).parse()?;
    let out = PathBuf::from(args.get(2).map_or("sim.pcapng", String::as_str));
    let mut cfg = SimConfig::new(scenario);
    if let Some(h) = args.get(3) {
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
