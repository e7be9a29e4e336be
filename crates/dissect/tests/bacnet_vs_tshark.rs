//! Acceptance: on the shared BACnet/IP captures, requests per service equal tshark's.
//!
//! Rule: tshark 4.0's BACnet APDUs carried over UDP (`bacapp && udp`; BACnet over
//! Ethernet/LLC frames in `ctsamples_bacnet-stack-services.cap` are not BACnet/IP and
//! are left out): `bacapp.type == 0` counted per `bacapp.confirmed_service` as
//! `confirmed <code>`, `bacapp.type == 1` per `bacapp.unconfirmed_service` as
//! `unconfirmed <code>`, one per frame (a datagram holds one APDU; these captures
//! have no segmented requests). mamori: every `ot` operation of the BACnet dissector,
//! by (`pdu`, `function`), whichever port the datagram used; one session per UDP
//! peer pair, `Direction::Orig` being the side that sent first.
//! `emreekin_mstp` is BACnet MS/TP (serial), not BACnet/IP, and is not compared.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use mamori_dissect::ot::bacnet::Session;
use mamori_dissect::record::{IdentityFact, OtOperation};
use mamori_flow::Direction;

/// Every UDP datagram of `path` through one session per peer pair.
fn ours(path: &Path) -> (Vec<OtOperation>, Vec<IdentityFact>) {
    type Endpoint = (std::net::IpAddr, u16);
    let mut sessions: HashMap<(Endpoint, Endpoint), Session> = HashMap::new();
    let (mut ops, mut facts) = (Vec::new(), Vec::new());
    common::replay_udp(path, |src, dst, ts, payload| {
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
    for session in sessions.values_mut() {
        session.finish(&mut ops);
    }
    (ops, facts)
}

fn count(ops: &[OtOperation]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for op in ops {
        *counts
            .entry(format!("{} {}", op.pdu.unwrap_or("-"), op.function.code))
            .or_insert(0) += 1;
    }
    counts
}

fn theirs(path: &Path) -> BTreeMap<String, u64> {
    let frames = common::tshark_fields(
        path,
        "bacapp && udp && (bacapp.type == 0 || bacapp.type == 1)",
        &[
            "bacapp.type",
            "bacapp.confirmed_service",
            "bacapp.unconfirmed_service",
        ],
    );
    let mut counts = BTreeMap::new();
    for f in frames {
        let key = match f[0].first().map(String::as_str) {
            Some("0") => format!("confirmed {}", f[1][0]),
            _ => format!("unconfirmed {}", f[2][0]),
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

const CAPTURES: [&str; 4] = [
    "icsnpp-bacnet_bacnet_example.pcap",
    "icsnpp-bacnet_bacnet_error_reject_abort.pcap",
    "ctsamples_bacnet-stack-services.cap",
    "ctsamples_BACnet-BBMD-on-same-subnet.cap",
];

#[test]
fn bacnet_requests_per_service_equal_tsharks() {
    let Some(dir) = common::shared_pcaps("bacnet_vs_tshark") else {
        return;
    };
    if !common::have_tshark("bacnet_vs_tshark") {
        return;
    }
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for name in CAPTURES {
        let path = dir.join(name);
        let (ops, facts) = ours(&path);
        let (o, t) = (count(&ops), theirs(&path));
        let mut statuses = BTreeMap::new();
        for op in &ops {
            *statuses.entry(op.status.to_string()).or_insert(0) += 1;
        }
        report.push(format!(
            "{name}: mamori {o:?} tshark {t:?}; statuses {statuses:?}; {} identity facts",
            facts.len()
        ));
        if o != t {
            failures.push(format!("{name}: mamori {o:?} != tshark {t:?}"));
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Statuses on the icsnpp example: 90 of its 120 ReinitializeDevice requests are
/// refused with an Error of class services (5), code password-failure (26), the
/// other 30 acknowledged; its BVLC lengths disagree with the datagrams and are flagged.
/// (In `icsnpp-bacnet_bacnet_error_reject_abort.pcap` the Error, Reject and Abort PDUs
/// travel the requests' way with invoke ids no request used: they answer nothing.)
#[test]
fn bacnet_reinitialize_statuses_and_identity() {
    let Some(dir) = common::shared_pcaps("bacnet_reinitialize_statuses_and_identity") else {
        return;
    };
    let (ops, facts) = ours(&dir.join("icsnpp-bacnet_bacnet_example.pcap"));
    let mut reinit = BTreeMap::new();
    for op in ops
        .iter()
        .filter(|o| o.function.name == "reinitialize_device")
    {
        *reinit.entry(op.status.to_string()).or_insert(0) += 1;
    }
    assert_eq!(
        reinit,
        BTreeMap::from([("exception:1306".to_string(), 90), ("ok".to_string(), 30)])
    );
    assert!(ops.iter().all(|o| o.pdu.is_some()));
    assert!(
        facts
            .iter()
            .any(|f| f.value == "DAIKIN Industries Ltd. (53)")
    );
    let (_, facts) = ours(&dir.join("icsnpp-bacnet_bacnet_error_reject_abort.pcap"));
    assert!(facts.iter().any(|f| f.value == "Xxter bv (1337)"));
}
