//! Acceptance: on a capture the test simulates itself, DNS messages per (kind, qtype,
//! rcode) equal tshark's.
//!
//! Rule: one count per DNS message (DNS, mDNS and LLMNR alike), keyed by whether it is
//! a query or a response, the type of its first question (`-` when it has none) and,
//! for responses, its RCODE. tshark 4.0: display filter `dns` (which also matches
//! mDNS and LLMNR, both dissected with the `dns.*` fields), fields
//! `dns.flags.response`, `dns.qry.type` and `dns.flags.rcode`; a frame holding one
//! message counts once (the first `dns.qry.type` is the first question's). mamori:
//! every UDP datagram with port 53, 5353 or 5355 on either side that [`Parser`] takes,
//! and every message [`TcpParser`] frames in TCP flows on port 53 (through the shared
//! replay harness). IP fragments are left out on both sides.
//!
//! NetBIOS name service likewise, one count per message keyed by query/response,
//! opcode and (responses) RCODE: tshark's `nbns.flags.response`, `nbns.flags.opcode`
//! and `nbns.flags.rcode` (filter `nbns`); mamori's [`nbns::Parser`] on every UDP
//! datagram with port 137 on either side.
//!
//! The same run also checks the sessions: every query on port 53 is answered (the
//! simulator's server always answers) and no response is unsolicited.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use mamori_dissect::contract::{Flags, Parsed, PduParser};
use mamori_dissect::it::dns::{DnsRecord, Message, PORT, Parser, Session, TcpParser, Variant};
use mamori_dissect::it::nbns;
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::Direction;
use mamori_flow::reassembly::Chunk;
use mamori_simulate::{AttackTiming, DEFAULT_START_SECS, Scenario, SimConfig};
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, Network, Transport};
use mamori_wire::time::Timestamp;

/// (response, first question's type, rcode of a response).
type Key = (bool, Option<u16>, Option<u8>);

/// NBNS: (response, opcode, rcode of a response).
type NbKey = (bool, u8, Option<u8>);

fn key(m: &Message<'_>) -> Key {
    let qr = m.header.qr();
    (
        qr,
        m.question().map(|q| q.qtype),
        qr.then_some(m.header.rcode()),
    )
}

#[derive(Default)]
struct TcpFlow {
    bufs: [StreamBuffer; 2],
    keys: Vec<Key>,
}

/// NBNS message counts per (response, opcode, rcode of a response), and the
/// hostnames the messages told.
fn ours_nbns(path: &Path) -> (BTreeMap<NbKey, u64>, Vec<String>) {
    let mut counts = BTreeMap::new();
    let mut names = Vec::new();
    let mut file = CaptureFile::open(path).expect("capture opens");
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Ip(ip) = &frame.network
            && ip.fragment.is_none()
            && let Transport::Udp(udp) = &ip.transport
            && (udp.src_port == nbns::PORT || udp.dst_port == nbns::PORT)
            && let Parsed::Pdu { pdu, .. } = nbns::Parser.parse(Direction::Orig, udp.payload)
        {
            let h = pdu.header;
            *counts
                .entry((h.qr(), h.opcode(), h.qr().then_some(h.rcode())))
                .or_insert(0) += 1;
            let mut facts = Vec::new();
            nbns::identity(Direction::Orig, &pdu, &mut facts);
            names.extend(facts.into_iter().map(|f| f.value));
        }
        if file.advance().is_err() {
            break;
        }
    }
    names.sort();
    names.dedup();
    (counts, names)
}

fn theirs_nbns(path: &Path) -> BTreeMap<NbKey, u64> {
    let frames = common::tshark_fields(
        path,
        "nbns",
        &[
            "nbns.flags.response",
            "nbns.flags.opcode",
            "nbns.flags.rcode",
        ],
    );
    let mut counts = BTreeMap::new();
    for f in frames {
        let qr = f[0].first().is_some_and(|v| v == "1");
        let op = f[1]
            .first()
            .map_or(0, |v| v.parse().expect("numeric opcode"));
        let rcode = f[2].first().map(|v| v.parse().expect("numeric rcode"));
        *counts
            .entry((qr, op, qr.then_some(rcode).flatten()))
            .or_insert(0) += 1;
    }
    counts
}

/// Message counts, and the records of the port-53 UDP sessions.
fn ours(path: &Path) -> (BTreeMap<Key, u64>, Vec<DnsRecord>) {
    let mut counts = BTreeMap::new();
    let mut file = CaptureFile::open(path).expect("capture opens");
    let mut sessions: HashMap<String, Session> = HashMap::new();
    let mut records = Vec::new();
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Ip(ip) = &frame.network
            && ip.fragment.is_none()
            && let Transport::Udp(udp) = &ip.transport
            && let Some(variant) = Variant::from_ports(udp.src_port, udp.dst_port)
            && let Parsed::Pdu { pdu, .. } = Parser.parse(Direction::Orig, udp.payload)
        {
            *counts.entry(key(&pdu)).or_insert(0) += 1;
            let (src, dst) = (format!("{:?}", ip.src), format!("{:?}", ip.dst));
            let (dir, flow) = if udp.dst_port == PORT {
                (Direction::Orig, format!("{src}:{} {dst}", udp.src_port))
            } else {
                (Direction::Resp, format!("{dst}:{} {src}", udp.dst_port))
            };
            if variant == Variant::Dns {
                sessions
                    .entry(flow)
                    .or_insert_with(|| Session::new(Variant::Dns))
                    .on_message(dir, pkt.ts.0, &pdu, &mut records, &mut Vec::new());
            }
        }
        if file.advance().is_err() {
            break;
        }
    }
    for s in sessions.values_mut() {
        s.finish(&mut records);
    }
    common::replay_tcp::<TcpFlow>(
        path,
        |flow, ports, dir, _, chunk| {
            let Some(dir) = common::towards_server(PORT, ports, dir) else {
                return;
            };
            let TcpFlow { bufs, keys } = flow;
            match chunk {
                Chunk::Data(b) => {
                    bufs[dir.index()].feed(&TcpParser, dir, b, |m| keys.push(key(&m)))
                }
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |_, flow| {
            for k in flow.keys {
                *counts.entry(k).or_insert(0) += 1;
            }
        },
    );
    (counts, records)
}

fn theirs(path: &Path) -> BTreeMap<Key, u64> {
    let frames = common::tshark_fields(
        path,
        "dns",
        &["dns.flags.response", "dns.qry.type", "dns.flags.rcode"],
    );
    let mut counts = BTreeMap::new();
    for f in frames {
        let qr = f[0].first().is_some_and(|v| v == "1");
        assert_eq!(
            f[0].len(),
            1,
            "one message per frame in this capture: {f:?}"
        );
        let qtype = f[1].first().map(|v| v.parse().expect("numeric qtype"));
        let rcode = f[2].first().map(|v| v.parse().expect("numeric rcode"));
        *counts
            .entry((qr, qtype, qr.then_some(rcode).flatten()))
            .or_insert(0) += 1;
    }
    counts
}

fn show(counts: &BTreeMap<Key, u64>) -> String {
    counts
        .iter()
        .map(|((qr, t, r), n)| {
            let t = t.map_or("-".into(), |t| t.to_string());
            match r {
                Some(r) if *qr => format!("response {t} rcode {r}: {n}"),
                _ => format!("query {t}: {n}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Simulates `config` into a temporary file, compares, and checks the sessions.
fn compare(name: &str, config: &SimConfig) -> BTreeMap<Key, u64> {
    let path = std::env::temp_dir().join(format!(
        "mamori-dns-vs-tshark-{name}-{}.pcapng",
        std::process::id()
    ));
    let summary = mamori_simulate::simulate(config, &path).expect("simulates");
    let (o, records) = ours(&path);
    let t = theirs(&path);
    let (on, names) = ours_nbns(&path);
    let tn = theirs_nbns(&path);
    if std::env::var_os("KEEP").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    if let Some(truth) = summary.truth_path {
        let _ = std::fs::remove_file(truth);
    }
    eprintln!("{name}\n  mamori: {}\n  tshark: {}", show(&o), show(&t));
    assert!(
        o.values().sum::<u64>() > 0,
        "{name}: the simulation has DNS"
    );
    assert_eq!(o, t, "{name}");
    eprintln!(
        "  nbns (response, opcode, rcode): mamori {on:?}\n  nbns tshark {tn:?}\n  nbns hostnames: {names:?}"
    );
    assert_eq!(on, tn, "{name}: nbns");

    // The simulator's servers answer every query they get, once.
    let queries = o.iter().filter(|(k, _)| !k.0).map(|(_, n)| n).sum::<u64>();
    eprintln!("  port-53 session records: {}", records.len());
    assert!(!records.is_empty());
    for r in &records {
        assert!(r.saw_query && r.saw_response, "{r:?}");
        assert!(
            !r.flags
                .has(Flags::UNSOLICITED_RESPONSE | Flags::NO_RESPONSE),
            "{r:?}"
        );
    }
    assert!(records.len() as u64 <= queries);
    o
}

#[test]
fn dns_messages_per_qtype_and_rcode_equal_tsharks() {
    if !common::have_tshark("dns_vs_tshark") {
        return;
    }
    // The office's morning (boots, name lookups) from 07:45 local time.
    let mut normal = SimConfig::new(Scenario::Normal);
    normal.start = Some(Timestamp::from_secs(
        DEFAULT_START_SECS + 7 * 3600 + 45 * 60,
    ));
    normal.hours = 0.3;
    compare("normal", &normal);
    // An incident day with every attack packed into the first minutes (DGA lookups
    // answered NXDOMAIN among them).
    let mut incident = SimConfig::new(Scenario::Incident);
    incident.hours = 0.25;
    incident.attack_timing = AttackTiming::Packed {
        offset_secs: 30,
        spacing_secs: 60,
    };
    let o = compare("incident", &incident);
    assert!(
        o.keys().any(|k| k.2.is_some_and(|r| r != 0)),
        "the incident has failed lookups"
    );
}
