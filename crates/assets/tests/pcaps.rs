//! The ledger over the real captures in `/work/shared/pcaps` through the packet path:
//! every MAC that sends IP from a unicast address must appear, with its vendor where
//! the IEEE registered its OUI. Wireshark (`tshark`) gives the truth. Skips when the
//! captures or tshark are absent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use mamori_assets::oui::{MacKind, OuiTable};
use mamori_assets::{Knowledge, Ledger, LedgerConfig, LedgerConsumer};
use mamori_pipeline::worker::WorkerConfig;
use mamori_pipeline::{Progress, RunConfig, run_files};

const PCAPS: &str = "/work/shared/pcaps";

fn captures() -> Option<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(PCAPS)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "pcap" || x == "pcapng" || x == "cap")
        })
        .collect();
    v.sort();
    Some(v)
}

fn parse_mac(s: &str) -> Option<mamori_wire::decode::MacAddr> {
    let mut o = [0u8; 6];
    let mut it = s.split(':');
    for slot in &mut o {
        *slot = u8::from_str_radix(it.next()?, 16).ok()?;
    }
    Some(mamori_wire::decode::MacAddr(o))
}

fn unicast(ip: &str) -> bool {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v)) => {
            !(v.is_unspecified() || v.is_broadcast() || v.is_multicast())
        }
        Ok(std::net::IpAddr::V6(v)) => !(v.is_unspecified() || v.is_multicast()),
        Err(_) => false,
    }
}

/// Source MACs of frames carrying IP from a unicast address (one Ethernet header only).
fn truth(path: &Path) -> Option<BTreeSet<mamori_wire::decode::MacAddr>> {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args([
            "-Y",
            "ip or ipv6",
            "-T",
            "fields",
            "-e",
            "eth.src",
            "-e",
            "ip.src",
            "-e",
            "ipv6.src",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut set = BTreeSet::new();
    for line in text.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        let (Some(eth), Some(v4), v6) = (cols.first(), cols.get(1), cols.get(2)) else {
            continue;
        };
        if eth.is_empty()
            || eth.contains(',')
            || v4.contains(',')
            || v6.is_some_and(|v| v.contains(','))
        {
            continue;
        }
        let src = if v4.is_empty() {
            v6.copied().unwrap_or("")
        } else {
            v4
        };
        let Some(m) = parse_mac(eth) else { continue };
        if unicast(src) && !m.is_multicast() && m.0 != [0; 6] {
            set.insert(m);
        }
    }
    Some(set)
}

#[test]
fn every_unicast_ip_sender_appears_with_its_vendor() {
    let Some(files) = captures() else {
        eprintln!("skip: {PCAPS} is absent");
        return;
    };
    if Command::new("tshark").arg("-v").output().is_err() {
        eprintln!("skip: tshark is absent");
        return;
    }
    // A fuzzed capture: bit-flipped MACs in mid-flow frames, which a connection
    // record (one MAC per side) cannot hold.
    let files: Vec<PathBuf> = files
        .into_iter()
        .filter(|f| !f.ends_with("zeek_fuzz-72.pcap"))
        .collect();
    // tshark starts slowly: ask it about all files at once, a few at a time.
    let truths: Vec<Option<BTreeSet<_>>> = std::thread::scope(|s| {
        let chunks: Vec<_> = files
            .chunks(files.len().div_ceil(4).max(1))
            .map(|c| s.spawn(move || c.iter().map(|f| truth(f)).collect::<Vec<_>>()))
            .collect();
        chunks
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let (mut senders, mut found, mut registered, mut with_vendor, mut assets) = (0, 0, 0, 0, 0);
    let mut missing = Vec::new();
    for (f, expected) in files.iter().zip(truths) {
        let Some(expected) = expected else { continue };
        let ledger = Arc::new(Mutex::new(Ledger::new(
            LedgerConfig::default(),
            Knowledge::builtin(),
        )));
        let config = RunConfig {
            inputs: vec![f.clone()],
            threads: 1,
            worker: WorkerConfig::default(),
        };
        let consumer = LedgerConsumer::new(Arc::clone(&ledger));
        if run_files(&config, vec![Box::new(consumer)], &Progress::default()).is_err() {
            continue;
        }
        let l = ledger.lock().expect("ledger");
        assets += l.len();
        for m in &expected {
            senders += 1;
            match l.by_mac(*m) {
                Some(a) => {
                    found += 1;
                    if MacKind::of(*m) == MacKind::Universal
                        && OuiTable::ieee().lookup(*m).is_some()
                    {
                        registered += 1;
                        if a.vendor().is_some()
                            && a.attributes
                                .get("oui_vendor")
                                .is_some_and(|v| v.source.protocol == "ieee-oui")
                        {
                            with_vendor += 1;
                        }
                    }
                }
                None => missing.push(format!(
                    "{} {m}",
                    f.file_name().unwrap_or_default().to_string_lossy()
                )),
            }
        }
        for a in l.assets() {
            for attr in a
                .attributes
                .values()
                .chain(a.os_evidence.values())
                .chain(a.hostname_evidence.iter())
            {
                assert!(
                    !attr.source.protocol.is_empty(),
                    "{}: attribute without source",
                    a.key
                );
            }
        }
    }
    eprintln!(
        "{} captures: {senders} unicast IP senders (tshark), {found} in the ledger; {registered} with IEEE-registered OUIs, {with_vendor} with that vendor; {assets} assets",
        files.len()
    );
    assert!(missing.is_empty(), "missing: {missing:?}");
    assert_eq!(registered, with_vendor);
    assert!(senders > 50);
}
