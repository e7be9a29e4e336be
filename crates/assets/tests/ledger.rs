//! The acceptance cases, built from the events the pipeline reports for the
//! traffic each test describes.

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

const XP_MAC: &str = "00:0c:29:aa:bb:cc";

/// A Windows XP workstation: DHCP with vendor class `MSFT 5.0` and XP's option 55,
/// a CIFS browser announcement with OS version 5.1, and some SMB traffic.
fn xp_events(base: i64) -> Vec<Event> {
    vec![
        dhcp(
            base,
            XP_MAC,
            "192.168.1.50",
            "XP-LAB1",
            "MSFT 5.0",
            "1,15,3,6,44,46,47,31,33,249,43",
        ),
        fact(
            base + 5,
            Some("192.168.1.50"),
            Some(XP_MAC),
            IdentityKind::Os,
            "Windows 5.1",
            "browser",
        ),
        fact(
            base + 5,
            Some("192.168.1.50"),
            Some(XP_MAC),
            IdentityKind::Hostname,
            "XP-LAB1",
            "browser",
        ),
        conn(
            base + 10,
            1,
            6,
            end("192.168.1.50", 1100, XP_MAC),
            end("192.168.1.2", 445, "00:15:5d:00:00:02"),
            &["smb"],
        ),
    ]
}

#[test]
fn windows_xp_host_is_marked_end_of_support() {
    let l = ledger_of(&xp_events(T2024));
    let a = l.by_mac(mac(XP_MAC)).expect("the XP host");
    let s = a.summary();
    assert_eq!(s.os.as_deref(), Some("Windows XP"));
    assert!(s.os_eol);
    assert_eq!(s.os_eol_date, Some("2014-04-08"));
    assert_eq!(s.hostnames, vec!["XP-LAB1".to_string()]);
    assert_eq!(a.role(), Role::ItHost, "{}", a.role_reason);
    // Both OS sources are kept, each with its own source.
    assert_eq!(a.os_evidence["browser"].value, "Windows XP");
    assert_eq!(a.os_evidence["dhcp"].value, "Windows XP");
    assert_eq!(a.os_evidence["dhcp"].source.protocol, "dhcp");
    let row = mamori_assets::to_row(a, None);
    assert_eq!(row.os_eol.as_deref(), Some("2014-04-08"));
    assert!(
        l.info_by_ip(ip("192.168.1.50"))
            .is_some_and(|i| i.os_eol && !i.is_ot)
    );

    // As of the capture's own time, not the wall clock: in 2013 XP was supported.
    let l2013 = ledger_of(&xp_events(T2024 - 11 * 365 * 86_400));
    assert!(!l2013.by_mac(mac(XP_MAC)).expect("host").os_eol());
}

#[test]
fn only_the_vendor_class_still_gives_an_end_of_support_family() {
    // MSFT 5.0 with an option 55 list our table does not know, without 121: 2000/XP/2003.
    let l = ledger_of(&[dhcp(
        T2024,
        XP_MAC,
        "192.168.1.50",
        "old",
        "MSFT 5.0",
        "1,3,6,15,44",
    )]);
    let a = l.by_mac(mac(XP_MAC)).expect("host");
    assert_eq!(a.os().map(|o| o.0), Some("Windows 2000/XP/Server 2003"));
    assert!(a.os_eol());
}

const S7: &str = "00:1b:1b:13:41:73";
const CLX: &str = "00:00:bc:24:47:fe";
const M340: &str = "00:80:f4:01:02:03";
const HMI: &str = "00:50:56:34:60:5d";

fn plant() -> Vec<Event> {
    let t = T2024;
    let hmi = |port| end("192.168.25.146", port, HMI);
    vec![
        // S7-1500: SZL 0x0011 (model, firmware) and 0x001c (name, serial).
        fact(
            t,
            Some("192.168.25.139"),
            Some(S7),
            IdentityKind::Model,
            "6ES7 511-1AK00-0AB0",
            "s7comm",
        ),
        fact(
            t,
            Some("192.168.25.139"),
            Some(S7),
            IdentityKind::Firmware,
            "V2.1.0",
            "s7comm",
        ),
        fact(
            t,
            Some("192.168.25.139"),
            Some(S7),
            IdentityKind::Hostname,
            "PLC_1",
            "s7comm",
        ),
        fact(
            t,
            Some("192.168.25.139"),
            Some(S7),
            IdentityKind::Serial,
            "S V-K9N37491",
            "s7comm",
        ),
        // ControlLogix: CIP ListIdentity as the enip dissector reports it.
        fact(
            t,
            Some("192.168.25.17"),
            Some(CLX),
            IdentityKind::Vendor,
            "Rockwell Automation/Allen-Bradley",
            "enip",
        ),
        fact(
            t,
            Some("192.168.25.17"),
            Some(CLX),
            IdentityKind::Model,
            "device type 14 (programmable logic controller) product code 54",
            "enip",
        ),
        fact(
            t,
            Some("192.168.25.17"),
            Some(CLX),
            IdentityKind::Firmware,
            "20.11",
            "enip",
        ),
        fact(
            t,
            Some("192.168.25.17"),
            Some(CLX),
            IdentityKind::Serial,
            "0x00524d8e",
            "enip",
        ),
        fact(
            t,
            Some("192.168.25.17"),
            Some(CLX),
            IdentityKind::Product,
            "1756-L63/A LOGIX5563",
            "enip",
        ),
        // Modicon M340: Modbus 43/14 basic and regular objects.
        fact(
            t,
            Some("192.168.25.20"),
            Some(M340),
            IdentityKind::Vendor,
            "Schneider Electric",
            "modbus",
        ),
        fact(
            t,
            Some("192.168.25.20"),
            Some(M340),
            IdentityKind::Product,
            "BMX P34 2020",
            "modbus",
        ),
        fact(
            t,
            Some("192.168.25.20"),
            Some(M340),
            IdentityKind::Firmware,
            "v3.20",
            "modbus",
        ),
        fact(
            t,
            Some("192.168.25.20"),
            Some(M340),
            IdentityKind::Model,
            "BMX P34 2020 CPU",
            "modbus",
        ),
        // The HMI polls all three.
        conn(
            t + 1,
            10,
            6,
            hmi(50001),
            end("192.168.25.139", 102, S7),
            &["s7comm"],
        ),
        conn(
            t + 1,
            11,
            6,
            hmi(50002),
            end("192.168.25.17", 44818, CLX),
            &["enip", "cip"],
        ),
        conn(
            t + 1,
            12,
            6,
            hmi(50003),
            end("192.168.25.20", 502, M340),
            &["modbus"],
        ),
        ot(
            t + 2,
            hmi(50001),
            end("192.168.25.139", 102, S7),
            "s7comm",
            Category::Read,
        ),
        ot(
            t + 2,
            hmi(50003),
            end("192.168.25.20", 502, M340),
            "modbus",
            Category::Read,
        ),
        // The S7 answers SYNs like a SIMATIC stack: TTL 30, window 4096, MSS only.
        syn(
            t + 1,
            "192.168.25.139",
            S7,
            30,
            false,
            4096,
            &[2, 4, 5, 0xb4],
            true,
        ),
    ]
}

#[test]
fn s7_cip_and_modbus_devices_get_model_and_firmware() {
    let l = ledger_of(&plant());
    for (m, model, firmware) in [
        (S7, "6ES7 511-1AK00-0AB0", "V2.1.0"),
        (CLX, "1756-L63/A LOGIX5563", "20.11"),
        (M340, "BMX P34 2020 CPU", "v3.20"),
    ] {
        let a = l.by_mac(mac(m)).expect("device");
        let id = a.ot_identity();
        assert_eq!(id.model.as_deref(), Some(model), "{m}");
        assert_eq!(id.firmware.as_deref(), Some(firmware), "{m}");
        assert_eq!(a.role(), Role::Plc, "{m}: {}", a.role_reason);
        assert!(a.is_ot());
    }
    let s7 = l.by_mac(mac(S7)).expect("s7");
    assert_eq!(s7.ot_identity().serial.as_deref(), Some("S V-K9N37491"));
    assert_eq!(s7.hostname(), Some("PLC_1"));
    assert_eq!(s7.os().map(|o| o.0), Some("Siemens SIMATIC S7 PLC"));
    assert!(
        s7.vendor().is_some_and(|v| v.contains("Siemens")),
        "{:?}",
        s7.vendor()
    );
    let clx = l.by_mac(mac(CLX)).expect("clx");
    assert_eq!(clx.vendor(), Some("Rockwell Automation/Allen-Bradley"));
    assert!(
        clx.attr("oui_vendor")
            .is_some_and(|v| v.contains("Rockwell"))
    );
    let hmi = l.by_mac(mac(HMI)).expect("hmi");
    assert_eq!(hmi.role(), Role::Hmi, "{}", hmi.role_reason);
    assert_eq!(hmi.ot.servers.len(), 3);
    let summary = s7.summary();
    assert_eq!(summary.protocols_served, vec!["s7comm".to_string()]);
    assert_eq!(
        hmi.summary().protocols_used,
        vec!["cip", "enip", "modbus", "s7comm"]
    );
}

const ROUTER: &str = "00:00:0c:9f:f0:01";
const LOCAL: &str = "00:1b:1b:00:00:10";

fn routed(with_arp: bool, remote: usize) -> Vec<Event> {
    let mut ev = Vec::new();
    if with_arp {
        ev.push(arp(T2024, ROUTER, "10.0.0.1", "10.0.0.10"));
        ev.push(arp(T2024, LOCAL, "10.0.0.10", "10.0.0.1"));
    }
    for i in 0..remote {
        let remote_ip = format!("172.16.{}.{}", i / 200, i % 200 + 1);
        ev.push(conn(
            T2024 + i as i64,
            1000 + i as u128,
            6,
            end(&remote_ip, 40000, ROUTER),
            end("10.0.0.10", 502, LOCAL),
            &["modbus"],
        ));
    }
    ev
}

#[test]
fn a_router_with_500_remote_addresses_is_one_network_device() {
    for with_arp in [true, false] {
        let l = ledger_of(&routed(with_arp, 500));
        let macs: Vec<_> = l
            .assets()
            .filter(|a| matches!(a.key, AssetKey::Mac(_)))
            .collect();
        assert_eq!(
            macs.len(),
            2,
            "router and the local PLC only (arp: {with_arp})"
        );
        let r = l.by_mac(mac(ROUTER)).expect("router");
        assert_eq!(r.role(), Role::NetworkDevice, "{}", r.role_reason);
        let own: Vec<_> = r.ips().collect();
        assert_eq!(
            own,
            if with_arp {
                vec![ip("10.0.0.1")]
            } else {
                vec![]
            }
        );
        let remote: Vec<_> = l
            .assets()
            .filter(|a| matches!(a.key, AssetKey::Ip(_)))
            .collect();
        assert_eq!(remote.len(), 500);
        assert!(
            remote
                .iter()
                .all(|a| a.behind == Some(mac(ROUTER)) && a.ip_history.len() == 1)
        );
        // The addresses seen before the decision moved with their packets.
        let first = l.by_ip(ip("172.16.0.1")).expect("first remote");
        assert_eq!(first.key, AssetKey::Ip(ip("172.16.0.1")));
        assert_eq!(first.pkts, 10);
        assert_eq!(r.pkts, 0, "the router's own address carried no traffic");
        let plc = l.by_mac(mac(LOCAL)).expect("plc");
        assert_eq!(plc.role(), Role::Plc);
        assert_eq!(plc.ips().collect::<Vec<_>>(), vec![ip("10.0.0.10")]);
        assert_eq!(l.stats().routers, 1);
        let row = mamori_assets::to_row(first, None);
        assert_eq!(row.behind.as_deref(), Some("mac:00:00:0c:9f:f0:01"));
    }
}

#[test]
fn hosts_with_a_few_addresses_are_not_routers() {
    let h = "00:1b:1b:00:00:20";
    let mut ev = Vec::new();
    // A multi-homed server announcing its four addresses by ARP.
    for (i, a) in ["10.0.0.20", "10.0.0.21", "10.0.0.22", "10.0.0.23"]
        .iter()
        .enumerate()
    {
        ev.push(arp(T2024 + i as i64, h, a, "10.0.0.1"));
        ev.push(conn(
            T2024 + 10 + i as i64,
            50 + i as u128,
            6,
            end(a, 40000, h),
            end("10.0.0.99", 80, "00:1b:1b:00:00:99"),
            &["http"],
        ));
    }
    // A device whose address changes every two hours, never announced.
    let mover = "00:1b:1b:00:00:30";
    for i in 0..6 {
        let a = format!("10.0.1.{}", 10 + i);
        ev.push(conn(
            T2024 + i * 7200,
            70 + i as u128,
            6,
            end(&a, 40000, mover),
            end("10.0.0.99", 80, "00:1b:1b:00:00:99"),
            &["http"],
        ));
    }
    let l = ledger_of(&ev);
    assert_eq!(l.stats().routers, 0);
    assert_eq!(l.by_mac(mac(h)).expect("server").ips().count(), 4);
    assert_eq!(l.by_mac(mac(mover)).expect("mover").ips().count(), 6);
    assert!(l.assets().all(|a| matches!(a.key, AssetKey::Mac(_))));
}

#[test]
fn a_device_that_moves_to_another_address_stays_one_asset() {
    let m = "00:80:f4:0a:0b:0c";
    let ev = vec![
        dhcp(T2024, m, "10.0.0.20", "plc-7", "", ""),
        conn(
            T2024 + 5,
            1,
            6,
            end("10.0.0.99", 40000, "00:1b:1b:00:00:99"),
            end("10.0.0.20", 502, m),
            &["modbus"],
        ),
        // Two hours later the lease changed.
        dhcp(T2024 + 7200, m, "10.0.0.33", "plc-7", "", ""),
        conn(
            T2024 + 7205,
            2,
            6,
            end("10.0.0.99", 40001, "00:1b:1b:00:00:99"),
            end("10.0.0.33", 502, m),
            &["modbus"],
        ),
        // And a static change nobody announced.
        conn(
            T2024 + 9000,
            3,
            6,
            end("10.0.0.99", 40002, "00:1b:1b:00:00:99"),
            end("10.0.0.40", 502, m),
            &["modbus"],
        ),
    ];
    let l = ledger_of(&ev);
    assert_eq!(l.len(), 2);
    let a = l.by_mac(mac(m)).expect("device");
    assert_eq!(
        a.ips().collect::<Vec<_>>(),
        vec![ip("10.0.0.40"), ip("10.0.0.33"), ip("10.0.0.20")]
    );
    for addr in ["10.0.0.20", "10.0.0.33", "10.0.0.40"] {
        assert_eq!(
            l.by_ip(ip(addr)).map(|x| x.key),
            Some(AssetKey::Mac(mac(m)))
        );
    }
    assert_eq!(a.first_seen, ns(T2024));
    assert_eq!(a.last_seen, ns(T2024 + 9010));
    assert_eq!(a.hostname(), Some("plc-7"));
    assert!(a.ip_conflicts.is_empty());
}

#[test]
fn two_macs_claiming_one_address_are_recorded() {
    let (a, b) = ("00:1b:1b:00:00:01", "00:1b:1b:00:00:02");
    let l = ledger_of(&[
        arp(T2024, a, "10.0.0.5", "10.0.0.1"),
        arp(T2024 + 10, b, "10.0.0.5", "10.0.0.1"),
        // An hour later a third device takes the address over: a reassignment, no conflict.
        arp(T2024 + 3700, "00:1b:1b:00:00:03", "10.0.0.5", "10.0.0.1"),
    ]);
    assert_eq!(l.stats().ip_conflicts, 1);
    let ca = &l.by_mac(mac(a)).expect("a").ip_conflicts;
    let cb = &l.by_mac(mac(b)).expect("b").ip_conflicts;
    assert_eq!((ca.len(), cb.len()), (1, 1));
    assert_eq!(ca[0].other, Some(mac(b)));
    assert_eq!(cb[0].other, Some(mac(a)));
    assert_eq!(
        l.by_ip(ip("10.0.0.5")).map(|x| x.key),
        Some(AssetKey::Mac(mac("00:1b:1b:00:00:03")))
    );
}

#[test]
fn every_attribute_carries_a_source() {
    let mut ev = plant();
    ev.extend(xp_events(T2024));
    ev.extend(routed(true, 20));
    ev.push(fact(
        T2024,
        Some("192.168.1.50"),
        Some(XP_MAC),
        IdentityKind::UserAgent,
        "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)",
        "http",
    ));
    let l = ledger_of(&ev);
    let mut checked = 0;
    for a in l.assets() {
        let all = a
            .attributes
            .values()
            .chain(a.os_evidence.values())
            .chain(a.hostname_evidence.iter());
        for attr in all {
            assert!(
                !attr.source.protocol.is_empty() && attr.source.ts > 0,
                "{}: {attr:?}",
                a.key
            );
            assert!(attr.confidence > 0);
            for c in &attr.history {
                assert!(!c.source.protocol.is_empty() && c.source.ts > 0);
            }
            checked += 1;
        }
        // The JSON record carries the same sources.
        let v: serde_json::Value = serde_json::from_str(&a.to_json()).expect("json");
        for (_, attr) in v["attributes"].as_object().expect("attributes") {
            assert!(attr["source"]["protocol"].is_string() && attr["source"]["ts"].is_f64());
        }
        for k in [
            "mac",
            "ips",
            "vendor",
            "hostnames",
            "os",
            "os_eol",
            "role",
            "protocols_served",
            "protocols_used",
            "ot_identity",
            "first_seen",
            "last_seen",
            "pkts",
            "bytes",
        ] {
            assert!(v.get(k).is_some(), "{k} missing in {}", a.key);
        }
    }
    assert!(checked >= 30, "{checked}");
}

#[test]
fn engineering_station_and_scada_roles() {
    let ews = "00:1c:06:00:00:01";
    let scada = "00:1c:06:00:00:02";
    let mut ev = vec![ot(
        T2024,
        end("10.0.0.5", 50000, ews),
        end("10.0.0.139", 102, S7),
        "s7comm",
        Category::Program,
    )];
    for i in 0..6 {
        let plc = format!("10.0.0.{}", 100 + i);
        let plc_mac = format!("00:1b:1b:00:01:{i:02x}");
        ev.push(conn(
            T2024 + i,
            200 + i as u128,
            6,
            end("10.0.0.6", 50000, scada),
            end(&plc, 502, &plc_mac),
            &["modbus"],
        ));
    }
    let l = ledger_of(&ev);
    assert_eq!(l.by_mac(mac(ews)).map(|a| a.role()), Some(Role::Ews));
    assert_eq!(
        l.by_mac(mac(scada)).map(|a| a.role()),
        Some(Role::ScadaServer)
    );
    assert!(
        l.by_mac(mac(ews))
            .is_some_and(|a| a.role_reason.contains("program"))
    );
}

#[test]
fn the_ledger_is_bounded() {
    let cfg = LedgerConfig {
        max_assets: 10,
        max_remote: 3,
        ..LedgerConfig::default()
    };
    let mut l = Ledger::new(cfg, Knowledge::builtin());
    for i in 0..50u32 {
        let m = format!("00:1b:1b:00:02:{:02x}", i);
        l.observe(&arp(
            T2024 + i64::from(i),
            &m,
            &format!("10.0.2.{}", i + 1),
            "10.0.2.254",
        ));
    }
    assert_eq!(l.len(), 10);
    assert_eq!(l.stats().assets_refused, 40);
    // Facts about addresses never seen wait, then are dropped and counted.
    l.observe(&fact(
        T2024,
        Some("198.51.100.7"),
        None,
        IdentityKind::Hostname,
        "far.example",
        "dns",
    ));
    l.finish();
    assert_eq!(l.stats().facts_dropped, 1);
}

#[test]
fn facts_that_arrive_before_the_traffic_wait_for_their_address() {
    let l = ledger_of(&[
        fact(
            T2024,
            Some("10.0.0.7"),
            None,
            IdentityKind::Hostname,
            "hist-01",
            "dns",
        ),
        conn(
            T2024 + 1,
            1,
            6,
            end("10.0.0.7", 40000, "00:1b:1b:00:00:07"),
            end("10.0.0.8", 4840, "00:1b:1b:00:00:08"),
            &["opcua"],
        ),
    ]);
    assert_eq!(
        l.by_ip(ip("10.0.0.7")).and_then(|a| a.hostname()),
        Some("hist-01")
    );
    assert_eq!(
        l.by_ip(ip("10.0.0.8")).map(|a| a.role()),
        Some(Role::Historian)
    );
    assert_eq!(l.stats().facts_dropped, 0);
}

#[test]
fn local_devices_keep_their_addresses_when_a_router_also_carries_them() {
    // The mirror port sees both VLANs: the PLC's own frames, and the router's routed
    // copies of the PLC's traffic towards another subnet, with the router's MAC.
    let mut ev = vec![conn(
        T2024,
        1,
        6,
        end("10.0.0.99", 40000, "00:1b:1b:00:00:99"),
        end("10.0.0.10", 502, LOCAL),
        &["modbus"],
    )];
    for i in 0..6u32 {
        let remote = format!("10.9.0.{}", i + 1);
        ev.push(conn(
            T2024 + 1 + i64::from(i),
            10 + u128::from(i),
            6,
            end(&remote, 40000, ROUTER),
            end("10.0.0.10", 502, LOCAL),
            &["modbus"],
        ));
        ev.push(conn(
            T2024 + 1 + i64::from(i),
            20 + u128::from(i),
            6,
            end("10.0.0.10", 40000, ROUTER),
            end(&remote, 80, ROUTER),
            &["http"],
        ));
    }
    let l = ledger_of(&ev);
    assert_eq!(l.stats().routers, 1);
    assert!(
        l.get(&AssetKey::Ip(ip("10.0.0.10"))).is_none(),
        "no ip: duplicate of the local PLC"
    );
    assert_eq!(
        l.by_ip(ip("10.0.0.10")).map(|a| a.key),
        Some(AssetKey::Mac(mac(LOCAL)))
    );
    assert_eq!(
        l.assets()
            .filter(|a| matches!(a.key, AssetKey::Ip(_)))
            .count(),
        6
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn event() -> impl Strategy<Value = Event> {
        let macs = [
            "00:1b:1b:00:00:01",
            "00:1b:1b:00:00:02",
            "00:00:0c:00:00:03",
            "02:00:00:00:00:04",
            "01:00:5e:00:00:01",
            "00:00:00:00:00:00",
        ];
        let ips = [
            "10.0.0.1",
            "10.0.0.2",
            "10.0.0.3",
            "10.0.1.7",
            "172.16.0.9",
            "255.255.255.255",
            "0.0.0.0",
            "224.0.0.1",
        ];
        (
            0usize..4,
            0usize..6,
            0usize..8,
            0usize..6,
            0usize..8,
            0i64..5000,
            0u16..3,
        )
            .prop_map(move |(kind, m1, i1, m2, i2, t, port)| {
                let (ma, ia, mb, ib) = (macs[m1], ips[i1], macs[m2], ips[i2]);
                let t = T2024 + t;
                match kind {
                    0 => conn(
                        t,
                        t as u128,
                        6,
                        end(ia, 40000, ma),
                        end(ib, [502, 102, 80][usize::from(port)], mb),
                        &["modbus"],
                    ),
                    1 => arp(t, ma, ia, ib),
                    2 => ot(
                        t,
                        end(ia, 40000, ma),
                        end(ib, 502, mb),
                        "modbus",
                        Category::Write,
                    ),
                    _ => fact(
                        t,
                        Some(ia),
                        Some(ma),
                        IdentityKind::Firmware,
                        "V1",
                        "modbus",
                    ),
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn invariants_hold_for_any_event_order(events in proptest::collection::vec(event(), 0..120)) {
            let l = ledger_of(&events);
            for a in l.assets() {
                // Keys are consistent and group or zero MACs never become devices.
                match a.key {
                    AssetKey::Mac(m) => prop_assert!(a.mac == Some(m) && !m.is_multicast() && m.0 != [0; 6]),
                    AssetKey::Ip(_) => prop_assert!(a.mac.is_none()),
                }
                prop_assert!(a.first_seen <= a.last_seen);
                for u in &a.ip_history {
                    prop_assert!(!u.ip.is_multicast() && !u.ip.is_unspecified());
                }
            }
            for s in ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.1.7", "172.16.0.9"] {
                if let Some(a) = l.by_ip(ip(s)) {
                    prop_assert!(a.ip_history.iter().any(|u| u.ip == ip(s)), "index points at {} without {s}", a.key);
                }
            }
            // Store rows load back to the same records.
            let rows = l.to_rows(None);
            let mut again = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
            prop_assert!(again.load(&rows).is_empty());
            let rows2 = again.to_rows(None);
            prop_assert_eq!(rows.len(), rows2.len());
            for (x, y) in rows.iter().zip(&rows2) {
                prop_assert_eq!(&x.detail, &y.detail);
            }
        }
    }
}

#[test]
fn one_mac_claiming_endless_addresses_stays_bounded() {
    let cfg = LedgerConfig {
        max_addresses: 100,
        ..LedgerConfig::default()
    };
    let mut l = Ledger::new(cfg, Knowledge::builtin());
    let spoofer = "00:1b:1b:66:66:66";
    for i in 0..1000u32 {
        let a = format!("10.{}.{}.{}", i / 250 / 250, (i / 250) % 250, i % 250 + 1);
        l.observe(&arp(T2024 + i64::from(i), spoofer, &a, "10.0.0.1"));
    }
    l.finish();
    let a = l.by_mac(mac(spoofer)).expect("spoofer");
    assert_eq!(a.ip_history.len(), mamori_assets::asset::IPS_CAP);
    assert_eq!(a.dropped.ips, 1000 - mamori_assets::asset::IPS_CAP as u64);
    // Only the addresses the asset still holds are indexed.
    assert!(l.by_ip(ip("10.0.0.1")).is_none());
    assert!(l.by_ip(ip("10.0.3.250")).is_some());
    assert_eq!(l.stats().addresses_refused, 0);
}
