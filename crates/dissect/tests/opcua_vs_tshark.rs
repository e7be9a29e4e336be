//! Acceptance: on the shared OPC UA captures, requests per service equal tshark's.
//!
//! Rule: tshark 4.0's OPC UA chunks in frames towards TCP port 4840 (client to
//! server), each TCP frame once per (`tcp.stream`, `tcp.seq_raw`). Per chunk
//! (`opcua.transport.type`): `HEL` counts as [`HELLO`]; `OPN` as 446 and `CLO` as 452
//! (tshark gives their `opcua.servicenodeid.numeric` only when the body is
//! plaintext); `MSG` as its `opcua.servicenodeid.numeric` (the service request's
//! encoding id). mamori: every `ot` operation of the OPC UA dissector (one per
//! request, answered or not), by `function`.

mod common;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;

use mamori_dissect::ot::opcua::{HELLO, PORT, Parser, Session, describe};
use mamori_dissect::record::{IdentityFact, IdentityKind, OtOperation};
use mamori_dissect::stream::StreamBuffer;
use mamori_flow::reassembly::Chunk;

#[derive(Default)]
struct Flow {
    bufs: [StreamBuffer; 2],
    session: Session,
    ops: Vec<OtOperation>,
    facts: Vec<IdentityFact>,
}

fn ours(path: &Path) -> (Vec<OtOperation>, Vec<IdentityFact>, u64) {
    let (mut ops, mut facts, mut unsolicited) = (Vec::new(), Vec::new(), 0);
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
                Chunk::Data(bytes) => bufs[dir.index()].feed(&Parser, dir, bytes, |c| {
                    session.on_chunk(dir, ts, &c, ops, facts)
                }),
                Chunk::Gap(n) => bufs[dir.index()].gap(n),
            }
        },
        |_, mut flow| {
            flow.session.finish(&mut flow.ops);
            unsolicited += flow.session.unsolicited;
            ops.append(&mut flow.ops);
            facts.append(&mut flow.facts);
        },
    );
    (ops, facts, unsolicited)
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
        "opcua && tcp.dstport == 4840",
        &[
            "tcp.stream",
            "tcp.seq_raw",
            "opcua.transport.type",
            "opcua.servicenodeid.numeric",
        ],
    );
    let mut seen = BTreeSet::new();
    let mut counts = BTreeMap::new();
    for f in frames {
        if !seen.insert((f[0].clone(), f[1].clone())) {
            continue;
        }
        let mut ids: VecDeque<u32> = f[3].iter().map(|v| v.parse().expect("numeric")).collect();
        for kind in &f[2] {
            let code = match kind.as_str() {
                "HEL" => HELLO,
                "OPN" | "CLO" => {
                    let code = if kind == "OPN" { 446 } else { 452 };
                    if ids.front() == Some(&code) {
                        ids.pop_front();
                    }
                    code
                }
                "MSG" => match ids.pop_front() {
                    Some(id) => id,
                    None => continue,
                },
                _ => continue,
            };
            *counts.entry(code).or_insert(0) += 1;
        }
    }
    counts
}

const CAPTURES: [&str; 3] = [
    "icsnpp-opcua-binary_open62541_client-server-getEndpoints.pcap",
    "icsnpp-opcua-binary_open62541_client-server_minimal.pcap",
    "icsnpp-opcua-binary_python_opcua-client-server_encrypted.pcap",
];

#[test]
fn opcua_requests_per_service_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("opcua_vs_tshark") else {
        return;
    };
    if !common::have_tshark("opcua_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in CAPTURES {
        let path = dir.join(name);
        let (o, t) = (count(&ours(&path).0), theirs(&path));
        report.push(format!("{name}: mamori {o:?} tshark {t:?}"));
        if o != t || o.is_empty() {
            failures.push(format!("{name}: mamori {o:?} != tshark {t:?}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every request of the captures is answered (CloseSecureChannel, which has no reply,
/// is logged `ok`), no response is left unpaired, and GetEndpoints or CreateSession
/// names the server (the getEndpoints capture's server returns no endpoint).
#[test]
fn opcua_requests_are_answered_and_name_the_server() {
    let Some(dir) = common::shared_pcaps("opcua_requests_are_answered") else {
        return;
    };
    for name in CAPTURES {
        let (ops, facts, unsolicited) = ours(&dir.join(name));
        let failed: Vec<_> = ops
            .iter()
            .filter(|o| o.status.to_string() != "ok")
            .map(|o| (o.function.name, o.status.to_string()))
            .collect();
        // After DeleteSubscriptions the server answers the ten Publish requests it
        // still held with BadNoSubscription (0x80790000), as tshark shows.
        let want = if name.contains("minimal") { 10 } else { 0 };
        assert_eq!(failed.len(), want, "{name}: {failed:?}");
        assert!(
            failed
                .iter()
                .all(|f| *f == ("publish", "exception:2155413504".to_string())),
            "{name}: {failed:?}"
        );
        assert_eq!(unsolicited, 0, "{name}");
        let products: BTreeSet<_> = facts
            .iter()
            .filter(|f| f.kind == IdentityKind::Product)
            .map(|f| f.value.as_str())
            .collect();
        let want: &[&str] = match name {
            n if n.contains("getEndpoints") => &[],
            n if n.contains("open62541") => &["http://open62541.org"],
            _ => &["urn:freeopcua.github.io:python:server"],
        };
        assert_eq!(
            products.into_iter().collect::<Vec<_>>(),
            want,
            "{name}: {facts:?}"
        );
    }
}

/// Every service id [`describe`] names is the id tshark 4.0 gives the same service's
/// request (`opcua.servicenodeid.numeric` value strings, `tshark -G values`), the
/// snake-case name being tshark's without `Request`.
#[test]
fn service_ids_agree_with_tsharks_table() {
    if !common::have_tshark("service_ids_agree_with_tsharks_table") {
        return;
    }
    let out = std::process::Command::new("tshark")
        .args(["-G", "values"])
        .output()
        .expect("tshark runs");
    let table: BTreeMap<u32, String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            match (f.next(), f.next(), f.next(), f.next()) {
                (Some("V"), Some("opcua.servicenodeid.numeric"), Some(id), Some(name)) => {
                    Some((id.parse().ok()?, name.to_string()))
                }
                _ => None,
            }
        })
        .collect();
    assert!(table.len() > 100, "tshark's OPC UA table is missing");
    let mut checked = 0;
    for id in 0..20_000 {
        let f = describe(id);
        if f.name == "unknown" || id == HELLO {
            continue;
        }
        let camel: String = f
            .name
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|h| h.to_ascii_uppercase().to_string() + c.as_str())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            table.get(&id).map(String::as_str),
            Some(format!("{camel}Request").as_str()),
            "id {id}"
        );
        checked += 1;
    }
    assert_eq!(checked, 39);
}
