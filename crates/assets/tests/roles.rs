//! What the ledger got wrong on the demo plant and the shared captures, each as the
//! events the pipeline reports for that traffic: broadcasts taken for devices, an
//! office PC taken for an HMI after one rogue read, a BACnet simulator taken for a
//! router, a Logix download leaving the EWS an HMI, and vendor and model codes shown
//! as names.

mod common;

use common::*;
use mamori_assets::asset::AssetKey;
use mamori_assets::{Knowledge, Ledger, LedgerConfig, Role};
use mamori_dissect::record::{Category, IdentityKind};
use mamori_pipeline::event::Event;

fn ledger_of(events: &[Event]) -> Ledger {
    let mut l = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    for e in events {
        l.observe(e);
    }
    l.finish();
    l
}

const MASTER: &str = "00:26:92:f5:4b:31";
const BCAST: &str = "ff:ff:ff:ff:ff:ff";
const PLC: &str = "00:80:f4:e4:4d:03";
const PC: &str = "f8:b1:56:5b:00:69";
const ROUTER: &str = "00:1b:54:a8:22:fb";

/// One side that sent nothing (a broadcast destination never answers).
fn silent<'a>(ip: &'a str, port: u16, mac: Option<&'a str>) -> End<'a> {
    End {
        ip,
        port,
        mac,
        pkts: 0,
    }
}

/// An OT request of flow `uid` with the dissector's function name and target.
fn ot_named(ev: Event, uid: u128, name: &'static str, target: &str) -> Event {
    match ev {
        Event::Ot(mut o) => {
            o.uid = mamori_flow::Uid(uid);
            o.op.function.name = name;
            o.op.target = target.to_string();
            Event::Ot(o)
        }
        other => other,
    }
}

#[test]
fn broadcast_and_multicast_destinations_are_no_assets_and_give_no_roles() {
    let ev = vec![
        // CC-Link IE Field Basic: the master broadcasts its cyclic request to the
        // subnet broadcast address and the Ethernet broadcast MAC; the dissector
        // reports it as an answered request to 10.20.1.255.
        ot(
            T2024,
            end("10.20.1.24", 61451, MASTER),
            end("10.20.1.255", 61450, BCAST),
            "cclink-ief-basic",
            Category::Cyclic,
        ),
        conn(
            T2024,
            1,
            17,
            end("10.20.1.24", 61451, MASTER),
            silent("10.20.1.255", 61450, Some(BCAST)),
            &["cclink-ief-basic"],
        ),
        // Later, the same subnet broadcast without a link layer (a capture of the
        // IP layer only): known now to be a broadcast.
        ot(
            T2024 + 60,
            End {
                mac: None,
                ..end("10.20.1.24", 61451, MASTER)
            },
            silent("10.20.1.255", 61450, None),
            "cclink-ief-basic",
            Category::Cyclic,
        ),
        // BACnet Who-Is to the limited broadcast, mDNS to its multicast group.
        conn(
            T2024 + 70,
            2,
            17,
            end("10.20.1.24", 47808, MASTER),
            silent("255.255.255.255", 47808, Some(BCAST)),
            &["bacnet"],
        ),
        conn(
            T2024 + 80,
            3,
            17,
            end("10.20.1.24", 5353, MASTER),
            silent("224.0.0.251", 5353, Some("01:00:5e:00:00:fb")),
            &["mdns"],
        ),
    ];
    let l = ledger_of(&ev);
    let keys: Vec<String> = l.assets().map(|a| a.key.to_string()).collect();
    assert_eq!(keys, vec![format!("mac:{MASTER}")], "{keys:?}");
    let m = l.by_mac(mac(MASTER)).expect("master");
    assert!(m.ot.servers.is_empty(), "{:?}", m.ot.servers);
    assert!(m.ot.used.is_empty(), "{:?}", m.ot.used);
    assert_ne!(m.role(), Role::Hmi);
    assert!(l.get(&AssetKey::Ip(ip("10.20.1.255"))).is_none());
    assert!(l.by_ip(ip("10.20.1.255")).is_none());
}

/// An office PC's day: DHCP with Windows' vendor class and web browsing through the
/// router every few minutes.
fn office_pc() -> Vec<Event> {
    let mut ev = vec![dhcp(
        T2024,
        PC,
        "10.10.10.102",
        "PC-02",
        "MSFT 5.0",
        "1,3,6,15,31,33,43,44,46,47,119,121,249,252",
    )];
    for i in 0..20 {
        ev.push(conn(
            T2024 + 10 + i * 300,
            100 + i as u128,
            6,
            end("10.10.10.102", 50000 + i as u16, PC),
            end(&format!("198.51.100.{}", 20 + i % 3), 443, ROUTER),
            &["ssl"],
        ));
    }
    ev
}

#[test]
fn one_rogue_read_does_not_make_an_office_pc_an_hmi() {
    let mut ev = office_pc();
    // One rogue Modbus read: one connection, two requests, seconds long.
    for k in 0..2 {
        ev.push(ot(
            T2024 + 3000 + k,
            end("10.10.10.102", 49800, PC),
            end("10.20.1.23", 502, PLC),
            "modbus",
            Category::Read,
        ));
    }
    ev.push(conn(
        T2024 + 3000,
        900,
        6,
        end("10.10.10.102", 49800, PC),
        end("10.20.1.23", 502, PLC),
        &["modbus"],
    ));
    let l = ledger_of(&ev);
    let pc = l.by_mac(mac(PC)).expect("pc");
    assert_eq!(pc.role(), Role::ItHost, "{}", pc.role_reason);
    assert!(
        pc.role_reason.contains("too brief") && pc.role_reason.contains("modbus"),
        "{}",
        pc.role_reason
    );
    // The PLC it read is still a PLC.
    assert_eq!(l.by_mac(mac(PLC)).map(|a| a.role()), Some(Role::Plc));
}

#[test]
fn a_browsing_host_that_polls_all_along_is_an_hmi() {
    let mut ev = office_pc();
    // Polls the PLC once a minute for half an hour.
    for k in 0..30 {
        ev.push(ot(
            T2024 + 3000 + k * 60,
            end("10.10.10.102", 49800, PC),
            end("10.20.1.23", 502, PLC),
            "modbus",
            Category::Read,
        ));
    }
    let l = ledger_of(&ev);
    let pc = l.by_mac(mac(PC)).expect("pc");
    assert_eq!(pc.role(), Role::Hmi, "{}", pc.role_reason);
}

#[test]
fn a_host_with_no_it_behaviour_that_polls_once_is_still_an_hmi() {
    // A short capture of a panel's polling: no browsing, no DHCP.
    let hmi = "00:1b:1b:09:45:b5";
    let ev = vec![ot(
        T2024,
        end("10.20.1.11", 49800, hmi),
        end("10.20.1.23", 502, PLC),
        "modbus",
        Category::Read,
    )];
    let l = ledger_of(&ev);
    assert_eq!(l.by_mac(mac(hmi)).map(|a| a.role()), Some(Role::Hmi));
}

#[test]
fn a_host_with_many_addresses_on_its_own_subnet_is_no_router() {
    // A BACnet device simulator: one MAC answering from 172.20.32.50-.57 to a
    // workstation on the same /24 (icsnpp-bacnet_bacnet_example.pcap's shape).
    let sim = "d4:6a:6a:56:98:17";
    let ws = "2c:30:33:d3:15:44";
    let mut ev = Vec::new();
    for i in 0..8u16 {
        let dev = format!("172.20.32.{}", 50 + i);
        ev.push(conn(
            T2024 + i64::from(i),
            u128::from(i) + 1,
            17,
            end("172.20.32.200", 47808, ws),
            end(&dev, 47808, sim),
            &["bacnet"],
        ));
    }
    let l = ledger_of(&ev);
    let s = l.by_mac(mac(sim)).expect("simulator");
    assert!(s.router.is_none());
    assert_ne!(s.role(), Role::NetworkDevice);
    assert_eq!(s.role(), Role::Plc, "{}", s.role_reason);
    assert_eq!(s.ip_history.len(), 8);
    assert_eq!(l.stats().routers, 0);
}

#[test]
fn a_host_that_downloads_logix_programs_is_an_ews() {
    let ews = "00:0c:29:62:f1:48";
    let clx = "00:00:bc:24:47:fe";
    let hmi = "00:0c:29:6d:37:44";
    let ev = vec![
        // Tag reads from an HMI: symbol object reads, category read.
        ot_named(
            ot(
                T2024,
                end("10.92.18.50", 50000, hmi),
                end("10.92.18.17", 44818, clx),
                "cip",
                Category::Read,
            ),
            1,
            "get_attribute_list",
            "class 0x6b instance 1",
        ),
        // The download: Set_Attribute_List and a class-specific service on the
        // controller object, which the CIP dissector leaves `other`.
        ot_named(
            ot(
                T2024 + 5,
                end("10.92.18.100", 50001, ews),
                end("10.92.18.17", 44818, clx),
                "cip",
                Category::Other,
            ),
            2,
            "set_attribute_list",
            "class 0xac instance 1",
        ),
        ot_named(
            ot(
                T2024 + 6,
                end("10.92.18.100", 50001, ews),
                end("10.92.18.17", 44818, clx),
                "cip",
                Category::Other,
            ),
            2,
            "class_specific",
            "class 0xac instance 1",
        ),
    ];
    let l = ledger_of(&ev);
    let e = l.by_mac(mac(ews)).expect("ews");
    assert_eq!(e.role(), Role::Ews, "{}", e.role_reason);
    assert!(e.role_reason.contains("2 program"), "{}", e.role_reason);
    assert_eq!(l.by_mac(mac(hmi)).map(|a| a.role()), Some(Role::Hmi));
    assert_eq!(l.by_mac(mac(clx)).map(|a| a.role()), Some(Role::Plc));
}

#[test]
fn vendor_and_model_codes_are_kept_apart_from_names() {
    let bac = "00:40:ae:07:08:c7";
    let iqr = "00:26:92:00:00:24";
    let ccio = "00:26:92:94:48:28";
    let ev = vec![
        conn(
            T2024,
            1,
            17,
            end("10.10.40.40", 47808, "3c:d9:2b:d5:36:1e"),
            end("10.10.40.30", 47808, bac),
            &["bacnet"],
        ),
        // BACnet I-Am with a vendor id the dissector has no name for.
        fact(
            T2024 + 1,
            Some("10.10.40.30"),
            Some(bac),
            IdentityKind::Vendor,
            "8",
            "bacnet",
        ),
        // SLMP Read Type Name.
        fact(
            T2024 + 2,
            Some("10.20.1.24"),
            Some(iqr),
            IdentityKind::Model,
            "R04ENCPU (model code 0x4805)",
            "slmp",
        ),
        // CC-Link IE Field Basic's cyclic response: codes only.
        fact(
            T2024 + 3,
            Some("10.20.1.32"),
            Some(ccio),
            IdentityKind::Vendor,
            "vendor code 0x0001",
            "cclink-ief-basic",
        ),
        fact(
            T2024 + 3,
            Some("10.20.1.32"),
            Some(ccio),
            IdentityKind::Model,
            "model code 0x00004e31",
            "cclink-ief-basic",
        ),
    ];
    let l = ledger_of(&ev);
    let b = l.by_mac(mac(bac)).expect("bacnet device");
    assert_eq!(b.vendor(), Some("DELTA CONTROLS, INC."));
    assert_eq!(b.attr("vendor_code"), Some("8"));
    let q = l.by_mac(mac(iqr)).expect("iQ-R");
    assert_eq!(q.attr("model"), Some("R04ENCPU"));
    assert_eq!(q.attr("model_code"), Some("0x4805"));
    let c = l.by_mac(mac(ccio)).expect("remote I/O");
    assert_eq!(c.vendor(), Some("Mitsubishi Electric Corporation"));
    assert_eq!(c.attr("vendor_code"), Some("0x0001"));
    assert_eq!(c.attr("model"), Some("model code 0x4E31"));
    assert_eq!(c.attr("model_code"), Some("0x4E31"));
}
