//! End-to-end checks of the simulator: determinism, frame structure, regularity of
//! normal days, the ground truth, and Wireshark's opinion of every packet.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use mamori_simulate::{
    Attack, AttackTiming, CaptureFormat, Scenario, SimConfig, simulate, simulate_to,
};
use mamori_wire::LinkType;
use mamori_wire::Timestamp;
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, Network, TcpFlags, Transport};

/// 07:50 JST on the scenario's default day: office PCs boot and the engineering
/// workstation's first session falls in the next half hour.
fn short(scenario: Scenario, seed: u64, minutes: f64) -> SimConfig {
    short_from(scenario, seed, 7 * 60 + 50, minutes)
}

/// `minutes` of a scenario from `from` minutes after local midnight.
fn short_from(scenario: Scenario, seed: u64, from: i64, minutes: f64) -> SimConfig {
    let mut c = SimConfig::new(scenario);
    let day = c.start_time();
    c.start = Some(day.plus_secs(from * 60));
    c.hours = minutes / 60.0;
    c.seed = seed;
    c.attack_timing = AttackTiming::Packed {
        offset_secs: 60,
        spacing_secs: 30,
    };
    c
}

fn bytes_of(cfg: &SimConfig) -> Vec<u8> {
    let mut out = Vec::new();
    simulate_to(cfg, &mut out).expect("simulate");
    out
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[test]
fn same_config_gives_identical_bytes() {
    let cfg = short(Scenario::Incident, 7, 6.0);
    let a = bytes_of(&cfg);
    let b = bytes_of(&cfg);
    assert!(
        a.len() > 100_000,
        "a few minutes of plant traffic: {} bytes",
        a.len()
    );
    assert_eq!(fnv(&a), fnv(&b));
    assert_eq!(a, b);
    let c = bytes_of(&short(Scenario::Incident, 8, 6.0));
    assert_ne!(fnv(&a), fnv(&c), "another seed changes the bytes");
    let mut p = cfg.clone();
    p.format = CaptureFormat::Pcap;
    assert_eq!(&bytes_of(&p)[..4], &[0xd4, 0xc3, 0xb2, 0xa1]);
}

/// Walks a capture file, calling `f` with each decoded frame.
fn each_frame(path: &Path, mut f: impl FnMut(Timestamp, &decode::Frame<'_>)) -> u64 {
    let mut file = CaptureFile::open(path).expect("open");
    let mut n = 0;
    while let Some(p) = file.current() {
        let frame = decode::decode(LinkType::ETHERNET, p.data)
            .unwrap_or_else(|e| panic!("frame {} does not decode: {e}", n + 1));
        f(p.ts, &frame);
        n += 1;
        file.advance().expect("read");
    }
    n
}

#[test]
fn frames_decode_in_time_order_and_tcp_starts_with_handshake() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.pcapng");
    let cfg = short(Scenario::Incident, 3, 12.0);
    let summary = simulate(&cfg, &path).expect("simulate");
    let mut last = Timestamp::MIN;
    // Canonical 4-tuple -> state (0 = SYN seen, 1 = SYN-ACK seen, 2 = established).
    let mut conns: HashMap<(IpAddr, u16, IpAddr, u16), u8> = HashMap::new();
    let mut tcp_packets = 0u64;
    let n = each_frame(&path, |ts, frame| {
        assert!(ts >= last, "timestamps never go back");
        last = ts;
        let Network::Ip(ip) = frame.network else {
            return;
        };
        let Transport::Tcp(t) = ip.transport else {
            return;
        };
        tcp_packets += 1;
        let a = (ip.src, t.src_port);
        let b = (ip.dst, t.dst_port);
        let key = if a <= b {
            (a.0, a.1, b.0, b.1)
        } else {
            (b.0, b.1, a.0, a.1)
        };
        let syn = t.flags.has(TcpFlags::SYN);
        let ack = t.flags.has(TcpFlags::ACK);
        match conns.get(&key) {
            None => {
                assert!(syn && !ack, "TCP conversation {key:?} starts without SYN");
                conns.insert(key, 0);
            }
            Some(0) if syn && ack => {
                conns.insert(key, 1);
            }
            Some(0) if t.flags.has(TcpFlags::RST) => {}
            Some(0) => panic!("{key:?}: SYN not answered by SYN-ACK"),
            Some(_) => {
                conns.insert(key, 2);
            }
        }
    });
    assert_eq!(n, summary.packets);
    assert!(
        tcp_packets > 1000 && conns.len() > 30,
        "{tcp_packets} TCP packets, {} conversations",
        conns.len()
    );
}

/// Conversations as (src, dst, IP protocol, lower port); internet hosts are folded
/// together and their ports dropped (which sites a PC has reached by a given minute
/// depends on timing; over a day every PC reaches all of its sites).
fn comms(cfg: &SimConfig) -> BTreeSet<(String, String, u8, u16)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("n.pcapng");
    simulate(cfg, &path).expect("simulate");
    let mut set = BTreeSet::new();
    let name = |ip: IpAddr| match ip {
        IpAddr::V4(v4) if v4.is_private() || v4.is_broadcast() || v4.is_unspecified() => {
            ip.to_string()
        }
        _ => "internet".to_string(),
    };
    each_frame(&path, |_, frame| {
        let Network::Ip(ip) = frame.network else {
            return;
        };
        let (proto, mut port) = match ip.transport {
            Transport::Tcp(t) => (6, t.src_port.min(t.dst_port)),
            Transport::Udp(u) => (17, u.src_port.min(u.dst_port)),
            _ => (ip.protocol, 0),
        };
        let (src, dst) = (name(ip.src), name(ip.dst));
        if src == "internet" || dst == "internet" {
            port = 0;
        }
        set.insert((src, dst, proto, port));
    });
    set
}

#[test]
fn normal_days_with_different_seeds_have_the_same_conversations() {
    let a = comms(&short(Scenario::Normal, 1, 40.0));
    let b = comms(&short(Scenario::Normal, 99, 40.0));
    let only_a: Vec<_> = a.difference(&b).collect();
    let only_b: Vec<_> = b.difference(&a).collect();
    assert!(
        only_a.is_empty() && only_b.is_empty(),
        "only in seed 1: {only_a:?}\nonly in seed 99: {only_b:?}"
    );
    assert!(a.len() > 50, "{} conversations", a.len());
}

#[test]
fn ground_truth_lists_every_attack() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("incident.pcap");
    let mut cfg = short(Scenario::Incident, 5, 8.0);
    cfg.format = CaptureFormat::Pcap;
    let summary = simulate(&cfg, &path).expect("simulate");
    let truth_path = summary.truth_path.expect("truth written");
    assert_eq!(truth_path, dir.path().join("incident.pcap.truth.json"));
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&truth_path).expect("read truth")).expect("json");
    let alerts = truth["expected_alerts"].as_array().expect("list");
    for attack in Attack::ALL {
        assert!(
            alerts.iter().any(|a| a["attack"] == attack.name()),
            "{} missing from the ground truth",
            attack.name()
        );
    }
    let kinds: BTreeSet<&str> = alerts.iter().filter_map(|a| a["kind"].as_str()).collect();
    for k in [
        "new_device",
        "scan",
        "ot_command",
        "new_comm",
        "arp_spoof",
        "volume_anomaly",
        "dns_suspicious",
        "internet_from_ot",
        "zone_violation",
    ] {
        assert!(kinds.contains(k), "no {k} alert expected");
    }
    for a in alerts {
        assert!(a["ts_start"].as_f64() < a["ts_end"].as_f64());
        assert!(a["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    // A normal day expects nothing.
    let normal = mamori_simulate::ground_truth(&SimConfig::new(Scenario::Normal));
    assert!(normal.expected_alerts.is_empty());
    // Daytime schedule: the full incident day holds every attack.
    let day = mamori_simulate::ground_truth(&SimConfig::new(Scenario::Incident));
    assert_eq!(
        day.expected_alerts
            .iter()
            .map(|a| a.attack)
            .collect::<BTreeSet<_>>()
            .len(),
        Attack::ALL.len()
    );
}

fn tshark() -> Option<&'static str> {
    Command::new("tshark")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "tshark")
}

#[test]
fn wireshark_dissects_every_packet_cleanly() {
    let Some(tshark) = tshark() else {
        eprintln!("skipped: tshark is not on PATH");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ws.pcapng");
    // 07:58-08:12: office PCs boot, the engineering workstation's first session runs
    // and every attack happens.
    simulate(
        &short_from(Scenario::Incident, 11, 7 * 60 + 58, 14.0),
        &path,
    )
    .expect("simulate");
    let checks = [
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "udp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ];
    let bad = Command::new(tshark)
        .arg("-r")
        .arg(&path)
        .args(checks)
        .args([
            "-Y",
            "_ws.malformed || _ws.expert.severity >= \"error\"",
            "-T",
            "fields",
            "-e",
            "frame.number",
            "-e",
            "_ws.col.Protocol",
            "-e",
            "_ws.expert.message",
        ])
        .output()
        .expect("run tshark");
    assert!(
        bad.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&bad.stderr)
    );
    let bad = String::from_utf8_lossy(&bad.stdout);
    assert!(
        bad.trim().is_empty(),
        "malformed or erroneous packets:\n{}",
        bad.lines().take(30).collect::<Vec<_>>().join("\n")
    );

    let protos = Command::new(tshark)
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-e", "frame.protocols"])
        .output()
        .expect("run tshark");
    let text = String::from_utf8_lossy(&protos.stdout);
    let seen: BTreeSet<&str> = text.lines().flat_map(|l| l.split(':')).collect();
    let expected = [
        "arp",
        "lldp",
        "pn_dcp",
        "dhcp",
        "dns",
        "nbns",
        "http",
        "tls",
        "icmp",
        "mbtcp",
        "modbus",
        "s7comm",
        "cotp",
        "enip",
        "cip",
        "cipio",
        "omron",
        "bvlc",
        "bacnet",
        "bacapp",
        "opcua",
        "dnp3",
        "iec60870_104",
        "iec60870_asdu",
    ];
    let missing: Vec<_> = expected.iter().filter(|p| !seen.contains(*p)).collect();
    assert!(
        missing.is_empty(),
        "tshark did not recognise {missing:?}; saw {seen:?}"
    );
}
