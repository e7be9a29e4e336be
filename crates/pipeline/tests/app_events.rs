//! The application layer's events on simulated plant traffic: DHCP exchanges whole
//! (their messages hop between flows), identity facts resolved to the device's MAC,
//! DNS transactions, SYN fingerprints, and the same events for any thread count.

use std::path::Path;
use std::sync::{Arc, Mutex};

use mamori_dissect::record::IdentityKind;
use mamori_pipeline::collector::{ConsumerError, EventConsumer};
use mamori_pipeline::event::Event;
use mamori_pipeline::run::{Progress, RunConfig, run_files};
use mamori_pipeline::worker::WorkerConfig;
use mamori_simulate::{CaptureFormat, DEFAULT_START_SECS, Scenario, SimConfig, simulate};
use mamori_wire::Timestamp;

/// Keeps every event but connections.
struct Recorder(Arc<Mutex<Vec<Event>>>);

impl EventConsumer for Recorder {
    fn consume(&mut self, event: &Event) -> Result<(), ConsumerError> {
        if !matches!(event, Event::Conn(_)) {
            self.0.lock().unwrap().push(event.clone());
        }
        Ok(())
    }
    fn finish(&mut self) -> Result<(), ConsumerError> {
        Ok(())
    }
}

fn events(input: &Path, threads: usize) -> Vec<Event> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = RunConfig {
        inputs: vec![input.to_path_buf()],
        threads,
        worker: WorkerConfig::default(),
    };
    run_files(
        &config,
        vec![Box::new(Recorder(Arc::clone(&seen)))],
        &Progress::default(),
    )
    .unwrap();
    let mut guard = seen.lock().unwrap();
    std::mem::take(&mut *guard)
}

#[test]
fn office_boot_traffic_yields_dhcp_names_dns_and_fingerprints_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("morning.pcap");
    // The office PCs boot a little before 08:00 (plant time, JST).
    let config = SimConfig {
        start: Some(Timestamp::from_secs(
            DEFAULT_START_SECS + 7 * 3600 + 40 * 60,
        )),
        hours: 0.4,
        format: CaptureFormat::Pcap,
        ..SimConfig::new(Scenario::Normal)
    };
    simulate(&config, &capture).unwrap();
    let one = events(&capture, 1);

    let dhcp: Vec<_> = one
        .iter()
        .filter_map(|e| match e {
            Event::Dhcp(d) => Some(&d.record),
            _ => None,
        })
        .collect();
    let boot = ["DISCOVER", "OFFER", "REQUEST", "ACK"];
    let booted: Vec<_> = dhcp
        .iter()
        .filter(|r| r.msg_type_names().eq(boot))
        .collect();
    assert!(
        !booted.is_empty(),
        "a boot is one exchange of four messages: {dhcp:#?}"
    );
    for r in &booted {
        assert!(r.mac.is_some() && r.assigned_addr.is_some() && r.host_name.is_some());
    }

    // The client's host name is a fact about its hardware address, not about the
    // broadcast's sender address 0.0.0.0.
    let first = booted[0];
    let name = first.host_name.clone().unwrap();
    let fact = one
        .iter()
        .find_map(|e| match e {
            Event::Identity(i) if i.protocol == "dhcp" && i.value == name => Some(i),
            _ => None,
        })
        .expect("a DHCP host-name fact");
    assert_eq!(fact.kind, IdentityKind::Hostname);
    assert_eq!(fact.mac, first.mac);
    assert_eq!(fact.ip, None);

    // NetBIOS registrations name the sender by its address and MAC.
    assert!(one.iter().any(|e| matches!(e,
        Event::Identity(i) if i.protocol == "nbns" && i.ip.is_some() && i.mac.is_some())));
    assert!(one.iter().any(|e| matches!(e, Event::Dns(_))));
    let syns = one
        .iter()
        .filter(|e| matches!(e, Event::TcpSyn(s) if !s.syn_ack && !s.options().is_empty()))
        .count();
    assert!(syns > 0, "SYNs carry options for fingerprints");
    assert!(
        one.iter()
            .any(|e| matches!(e, Event::L2Second(s) if s.broadcast > 0))
    );

    // Implicit I/O every 100 ms is one record per flow and minute, with its count.
    let io: Vec<_> = one
        .iter()
        .filter_map(|e| match e {
            Event::Ot(o) if o.op.function.name == "implicit_io" => Some(o),
            _ => None,
        })
        .collect();
    assert!(!io.is_empty(), "the plant has EtherNet/IP implicit I/O");
    for o in &io {
        let a = o.aggregate.expect("cyclic records are aggregates");
        assert!(a.count >= 1 && a.ts_end >= o.op.ts);
        assert_eq!(
            o.op.ts.div_euclid(60_000_000_000),
            a.ts_end.div_euclid(60_000_000_000),
            "an aggregate stays within its minute"
        );
    }
    assert!(io.iter().any(|o| o.aggregate.unwrap().count > 100));

    // Layer-2 seconds are per worker; everything else is the same for any count.
    let without_l2 = |v: &[Event]| -> Vec<String> {
        v.iter()
            .filter(|e| !matches!(e, Event::L2Second(_)))
            .map(|e| format!("{e:?}"))
            .collect()
    };
    let sum = |v: &[Event]| -> (u64, u64) {
        v.iter()
            .filter_map(|e| match e {
                Event::L2Second(s) => Some((s.frames, s.broadcast)),
                _ => None,
            })
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    let one_text = without_l2(&one);
    for threads in [2, 3] {
        let many = events(&capture, threads);
        assert!(
            without_l2(&many) == one_text,
            "events differ with {threads} threads"
        );
        assert_eq!(
            sum(&many),
            sum(&one),
            "layer-2 totals with {threads} threads"
        );
    }
}
