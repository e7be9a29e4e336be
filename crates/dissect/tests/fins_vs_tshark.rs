//! Acceptance: on the shared Omron FINS captures, commands per command code equal
//! tshark's.
//!
//! Rule: tshark 4.0's `omron.command` on frames whose ICF data-type bit says command
//! (`omron.icf.dtb == 0`), whichever direction, one per frame (each frame of these
//! captures carries one FINS frame); TCP frames counted once per (`tcp.stream`,
//! `tcp.seq_raw`) so a retransmission is not counted twice. mamori: every `ot`
//! operation of the FINS dissector (one per command, answered or not), by
//! `function` (MRC × 256 + SRC): UDP datagrams through one session per peer pair,
//! TCP through reassembly, [`TcpParser`] and one session per connection.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use mamori_dissect::ot::fins::{PORT, Session, TcpParser};
use mamori_dissect::record::{IdentityFact, IdentityKind, OtOperation};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::Direction;
use mamori_flow::reassembly::Chunk;

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
    facts: Vec<IdentityFact>,
}

/// Every FINS operation and fact of `path`, TCP and UDP.
fn ours(path: &Path) -> (Vec<OtOperation>, Vec<IdentityFact>) {
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    common::replay_tcp::<Flow>(
        path,
        |flow, ports, dir, ts, chunk| {
            let Some(dir) = common::towards_server(PORT, ports, dir) else {
                return;
            };
            let Flow {
                bufs,
                session,
                ops,
                facts,
            } = flow;
            match chunk {
                Chunk::Data(bytes) => bufs[dir.index()].feed(&TcpParser, dir, bytes, |m| {
                    session.on_tcp(dir, ts, &m, ops, facts)
                }),
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |_, mut flow| {
            flow.session.finish(&mut flow.ops);
            ops.append(&mut flow.ops);
            facts.append(&mut flow.facts);
        },
    );
    type Endpoint = (std::net::IpAddr, u16);
    let mut sessions: HashMap<(Endpoint, Endpoint), Session> = HashMap::new();
    common::replay_udp(path, |src, dst, ts, payload| {
        if src.1 != PORT && dst.1 != PORT {
            return;
        }
        let (key, dir) = if sessions.contains_key(&(dst, src)) {
            ((dst, src), Direction::Resp)
        } else {
            ((src, dst), Direction::Orig)
        };
        sessions
            .entry(key)
            .or_default()
            .on_datagram(dir, ts, payload, &mut ops, &mut facts);
    });
    for s in sessions.values_mut() {
        s.finish(&mut ops);
    }
    (ops, facts)
}

fn count(ops: &[OtOperation]) -> BTreeMap<u32, u64> {
    let mut counts = BTreeMap::new();
    for op in ops {
        *counts.entry(op.function.code).or_insert(0) += 1;
    }
    counts
}

fn theirs(path: &Path) -> BTreeMap<u32, u64> {
    let frames = common::tshark_fields(
        path,
        "omron.command && omron.icf.dtb == 0",
        &["tcp.stream", "tcp.seq_raw", "omron.command"],
    );
    let mut seen = BTreeSet::new();
    let mut counts = BTreeMap::new();
    for (i, f) in frames.iter().enumerate() {
        let key = match (f[0].first(), f[1].first()) {
            (Some(stream), Some(seq)) => (stream.clone(), seq.clone()),
            _ => (String::from("udp"), i.to_string()),
        };
        if !seen.insert(key) {
            continue;
        }
        for code in &f[2] {
            let code = u32::from_str_radix(code.trim_start_matches("0x"), 16).expect("hex code");
            *counts.entry(code).or_insert(0) += 1;
        }
    }
    counts
}

const CAPTURES: [&str; 2] = [
    "icsnpp-omron-fins_omron_fins_tcp_commands_responses.pcap",
    "nttcom-omronfins_test.pcap",
];

#[test]
fn fins_commands_per_code_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("fins_vs_tshark") else {
        return;
    };
    if !common::have_tshark("fins_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in CAPTURES {
        let path = dir.join(name);
        let (o, t) = (count(&ours(&path).0), theirs(&path));
        report.push(format!("{name}: mamori {o:x?} tshark {t:x?}"));
        if o != t || o.is_empty() {
            failures.push(format!("{name}: mamori {o:x?} != tshark {t:x?}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every command of both captures is answered (the TCP capture's controller data
/// reads are answered under another SID), and the controller data reads give the
/// model and version the capture carries.
#[test]
fn fins_commands_are_answered_and_name_the_controller() {
    let Some(dir) = common::shared_pcaps("fins_commands_are_answered") else {
        return;
    };
    for name in CAPTURES {
        let (ops, facts) = ours(&dir.join(name));
        assert!(
            ops.iter().all(|o| o.status.to_string() == "ok"),
            "{name}: {ops:?}"
        );
        if name.starts_with("icsnpp") {
            // Three of the four controller data reads ask for the model (parameter 0).
            let models: Vec<_> = facts
                .iter()
                .filter(|f| f.kind == IdentityKind::Model)
                .map(|f| f.value.as_str())
                .collect();
            assert_eq!(models, ["AAAAAAAAAAAAAAAAAAAA"; 3]);
        }
    }
}
