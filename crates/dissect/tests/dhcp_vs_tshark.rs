//! Acceptance: on a simulated plant morning (office PCs boot and lease addresses),
//! DHCP messages per message type, and the host names, vendor classes, parameter
//! lists, client MACs and servers seen, equal tshark's.
//!
//! Rule: tshark 4.0, display filter `dhcp`; a message is each frame with a
//! `dhcp.option.dhcp` value, counted by that value (option 53); host names are the set
//! of `dhcp.option.hostname` values, vendor classes of `dhcp.option.vendor_class_id`,
//! parameter lists of each frame's `dhcp.option.request_list_item` values joined by
//! commas, client MACs of `dhcp.hw.mac_addr`, servers of `dhcp.option.dhcp_server_id`.
//! mamori: every UDP datagram between ports 67/68 that [`parse_datagram`] reads,
//! counted by `message_type`; the sets are those of the [`DhcpRecord`]s one
//! [`Session`] (fed every datagram) emits. Each DORA exchange must be one record with
//! the four types, and each record must carry a MAC, an assigned address and a server.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

mod common;

use mamori_dissect::it::dhcp::{
    CLIENT_PORT, DhcpRecord, SERVER_PORT, Session, message_type_name, parse_datagram,
};
use mamori_dissect::record::IdentityFact;
use mamori_flow::Direction;
use mamori_simulate::{DEFAULT_START_SECS, Scenario, SimConfig, simulate};
use mamori_wire::Timestamp;
use mamori_wire::capture::file::CaptureFile;
use mamori_wire::decode::{self, Network, Transport};

/// A normal morning from 07:45 local time for an hour: every office PC boots in it.
fn capture() -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("dhcp_vs_tshark.pcapng");
    let mut config = SimConfig::new(Scenario::Normal);
    config.hours = 1.0;
    config.start = Some(Timestamp::from_secs(
        DEFAULT_START_SECS + 7 * 3600 + 45 * 60,
    ));
    simulate(&config, &path).expect("simulation");
    path
}

struct Ours {
    per_type: BTreeMap<String, u64>,
    records: Vec<DhcpRecord>,
    facts: Vec<IdentityFact>,
}

fn ours(path: &Path) -> Ours {
    let mut file = CaptureFile::open(path).expect("capture opens");
    let mut session = Session::default();
    let mut ours = Ours {
        per_type: BTreeMap::new(),
        records: Vec::new(),
        facts: Vec::new(),
    };
    while let Some(pkt) = file.current() {
        if let Ok(frame) = decode::decode(pkt.link, pkt.data)
            && let Network::Ip(ip) = &frame.network
            && let Transport::Udp(udp) = &ip.transport
            && let IpAddr::V4(src) = ip.src
            && [SERVER_PORT, CLIENT_PORT].contains(&udp.dst_port)
            && [SERVER_PORT, CLIENT_PORT].contains(&udp.src_port)
        {
            if let Some(t) = parse_datagram(udp.payload).and_then(|m| m.message_type) {
                *ours
                    .per_type
                    .entry(message_type_name(t).to_string())
                    .or_insert(0) += 1;
            }
            session.on_datagram(
                Direction::Orig,
                pkt.ts.0,
                src,
                udp.payload,
                &mut ours.records,
                &mut ours.facts,
            );
        }
        if file.advance().is_err() {
            break;
        }
    }
    session.finish(&mut ours.records);
    ours
}

struct Theirs {
    per_type: BTreeMap<String, u64>,
    host_names: BTreeSet<String>,
    vendor_classes: BTreeSet<String>,
    param_lists: BTreeSet<String>,
    macs: BTreeSet<String>,
    servers: BTreeSet<String>,
}

fn theirs(path: &Path) -> Theirs {
    let frames = common::tshark_fields(
        path,
        "dhcp",
        &[
            "dhcp.option.dhcp",
            "dhcp.option.hostname",
            "dhcp.option.vendor_class_id",
            "dhcp.option.request_list_item",
            "dhcp.hw.mac_addr",
            "dhcp.option.dhcp_server_id",
        ],
    );
    let mut t = Theirs {
        per_type: BTreeMap::new(),
        host_names: BTreeSet::new(),
        vendor_classes: BTreeSet::new(),
        param_lists: BTreeSet::new(),
        macs: BTreeSet::new(),
        servers: BTreeSet::new(),
    };
    for f in frames {
        for code in &f[0] {
            let code: u8 = code.parse().expect("numeric message type");
            *t.per_type
                .entry(message_type_name(code).to_string())
                .or_insert(0) += 1;
        }
        t.host_names.extend(f[1].iter().cloned());
        t.vendor_classes.extend(f[2].iter().cloned());
        if !f[3].is_empty() {
            t.param_lists.insert(f[3].join(","));
        }
        t.macs.extend(f[4].iter().cloned());
        t.servers.extend(f[5].iter().cloned());
    }
    t
}

#[test]
fn dhcp_messages_names_and_vendor_classes_equal_tsharks() {
    if !common::have_tshark("dhcp_vs_tshark") {
        return;
    }
    let path = capture();
    let (o, t) = (ours(&path), theirs(&path));
    let host_names: BTreeSet<String> = o
        .records
        .iter()
        .filter_map(|r| r.host_name.clone())
        .collect();
    let vendor_classes: BTreeSet<String> = o
        .records
        .iter()
        .filter_map(|r| r.vendor_class.clone())
        .collect();
    eprintln!(
        "dhcp_vs_tshark: mamori {:?}, {} records, {} host names, vendor classes {:?}; tshark {:?}, {} host names, vendor classes {:?}",
        o.per_type,
        o.records.len(),
        host_names.len(),
        vendor_classes,
        t.per_type,
        t.host_names.len(),
        t.vendor_classes
    );
    assert!(!o.per_type.is_empty(), "the capture has DHCP");
    assert_eq!(o.per_type, t.per_type);
    assert_eq!(host_names, t.host_names);
    assert_eq!(vendor_classes, t.vendor_classes);
    let set = |f: fn(&DhcpRecord) -> Option<String>| -> BTreeSet<String> {
        o.records.iter().filter_map(f).collect()
    };
    assert_eq!(set(|r| r.param_list.clone()), t.param_lists);
    assert_eq!(set(|r| r.mac.map(|m| m.to_string())), t.macs);
    assert_eq!(set(|r| r.server_addr.map(|a| a.to_string())), t.servers);
    // One record per exchange: each boot's DISCOVER, OFFER, REQUEST, ACK together.
    let dora = o
        .records
        .iter()
        .filter(|r| {
            r.msg_type_names().collect::<Vec<_>>() == ["DISCOVER", "OFFER", "REQUEST", "ACK"]
        })
        .count();
    assert_eq!(Some(&(dora as u64)), o.per_type.get("DISCOVER"));
    for r in &o.records {
        assert!(r.mac.is_some() && r.assigned_addr.is_some(), "{r:?}");
        assert_ne!(r.server_addr, None::<Ipv4Addr>);
    }
    // Each exchange names its client once by option 12 and once by option 81.
    assert_eq!(o.facts.len(), 2 * o.records.len());
}
