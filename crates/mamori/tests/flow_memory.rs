//! Acceptance: a capture with a million distinct flows stays under the memory cap, and
//! the flows the cap pushed out are counted as evictions in the summary.

mod common;

use std::fs::File;
use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};

use mamori_wire::build::{self, EthernetSpec, L4};
use mamori_wire::capture::writer::{CaptureWriter, WriteFormat};
use mamori_wire::decode::MacAddr;
use mamori_wire::{LinkType, Timestamp};

const FLOWS: u32 = 1_000_000;

/// Writes one UDP packet per flow, all within one second, so every flow is alive at once.
fn write_million_flows(path: &std::path::Path) {
    let out = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let mut w = CaptureWriter::new(out, WriteFormat::Pcap, LinkType::ETHERNET).unwrap();
    let eth = EthernetSpec {
        src: MacAddr([0, 0x1b, 0x1b, 0, 0, 1]),
        dst: MacAddr([0, 0x0e, 0x8c, 0, 0, 2]),
        vlan: None,
    };
    let server = IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1));
    let mut frame = Vec::with_capacity(128);
    for i in 0..FLOWS {
        // 16 client addresses x 62,500 source ports.
        let client = IpAddr::V4(Ipv4Addr::new(10, 0, (i % 16) as u8, 1));
        let port = 1024 + (i / 16) as u16;
        frame.clear();
        build::ip_frame(
            &mut frame,
            &eth,
            client,
            server,
            64,
            i as u16,
            &L4::Udp {
                src_port: port,
                dst_port: 502,
                payload: b"x",
            },
        );
        w.write_packet(
            Timestamp::from_secs(1_700_000_000).plus_nanos(i64::from(i) * 1000),
            &frame,
        )
        .unwrap();
    }
    w.finish().unwrap();
}

fn summary_number(summary: &str, label: &str) -> u64 {
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("no '{label}' in summary: {summary}"));
    summary[..at]
        .trim_end()
        .rsplit([' ', '(', ','])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_million_flows_stay_under_the_memory_cap_with_evictions_counted() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("million.pcap");
    write_million_flows(&capture);
    let cap_mib = 512;
    for threads in ["1", "2"] {
        let out = common::run_mamori(&[
            "analyze",
            capture.to_str().unwrap(),
            "--threads",
            threads,
            "-q",
            "--memory-cap",
            &format!("{cap_mib}M"),
            // The packet path's bound; the ledger and detectors have caps of their own.
            "--no-analysis",
        ]);
        let summary = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{summary}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        eprintln!("{summary}");
        assert_eq!(summary_number(&summary, "packets,"), u64::from(FLOWS));
        assert_eq!(summary_number(&summary, "flows,"), u64::from(FLOWS));
        let evicted = summary_number(&summary, "evicted");
        assert!(
            evicted > 0,
            "a million live flows exceed what 512 MiB holds: evictions expected"
        );
        let rss_mib = summary_number(&summary, "MiB)");
        assert!(
            rss_mib < cap_mib,
            "peak RSS {rss_mib} MiB is over the {cap_mib} MiB cap ({threads} threads)"
        );
    }
}
