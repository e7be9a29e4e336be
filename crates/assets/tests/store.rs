//! The ledger lives in the store: a second run loads the first run's ledger and
//! carries on (first/last seen, counters, attribute history).

mod common;

use common::*;
use mamori_assets::{Knowledge, Ledger, LedgerConfig};
use mamori_dissect::record::IdentityKind;
use mamori_store::{AssetQuery, LedgerStore, SqliteStore};

const PLC: &str = "00:1b:1b:13:41:73";
const HMI: &str = "00:50:56:34:60:5d";

#[test]
fn a_second_run_carries_on_from_the_stored_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path().join("m.db")).expect("store");

    // Run 1: the PLC at .139, firmware V2.1.0.
    let mut l1 = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    for e in [
        fact(
            T2024,
            Some("192.168.25.139"),
            Some(PLC),
            IdentityKind::Firmware,
            "V2.1.0",
            "s7comm",
        ),
        conn(
            T2024 + 1,
            1,
            6,
            end("192.168.25.146", 50000, HMI),
            end("192.168.25.139", 102, PLC),
            &["s7comm"],
        ),
    ] {
        l1.observe(&e);
    }
    l1.finish();
    let rows = l1.to_rows(None);
    assert_eq!(rows.len(), 2);
    store.upsert_assets(&rows).expect("upsert");

    // Run 2, a day later: load, then the PLC reports new firmware from a new address.
    let stored = store.assets(&AssetQuery::default()).expect("read");
    let mut l2 = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    assert!(l2.load(&stored).is_empty());
    assert_eq!(l2.len(), 2);
    let day = 86_400;
    for e in [
        fact(
            T2024 + day,
            Some("192.168.25.140"),
            Some(PLC),
            IdentityKind::Firmware,
            "V2.2.0",
            "s7comm",
        ),
        conn(
            T2024 + day + 1,
            2,
            6,
            end("192.168.25.146", 50001, HMI),
            end("192.168.25.140", 102, PLC),
            &["s7comm"],
        ),
    ] {
        l2.observe(&e);
    }
    l2.finish();
    store.upsert_assets(&l2.to_rows(None)).expect("upsert 2");

    let back = store
        .asset(&format!("mac:{PLC}"))
        .expect("read")
        .expect("plc row");
    assert_eq!(back.first_seen, ns(T2024));
    assert_eq!(back.last_seen, ns(T2024 + day + 11));
    assert_eq!(back.firmware.as_deref(), Some("V2.2.0"));
    assert_eq!(
        back.ips,
        vec!["192.168.25.140".to_string(), "192.168.25.139".to_string()]
    );
    assert_eq!(back.pkts, 20, "counters add up over runs");
    assert_eq!(back.role, "plc");
    let a = mamori_assets::Asset::from_json(&back.detail).expect("detail");
    let fw = &a.attributes["firmware"];
    assert_eq!(fw.value, "V2.2.0");
    assert_eq!(fw.history.len(), 1);
    assert_eq!(fw.history[0].value, "V2.1.0");
    assert_eq!(fw.history[0].source.ts, ns(T2024));
    let served = &a.served[0];
    assert_eq!((served.port, served.flows), (102, 2));
    assert_eq!(served.first_seen, ns(T2024 + 1));

    // Loading a ledger and writing it back unchanged is the identity.
    let mut l3 = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    let stored = store.assets(&AssetQuery::default()).expect("read");
    assert!(l3.load(&stored).is_empty());
    let again = l3.to_rows(None);
    for (x, y) in stored.iter().zip(&again) {
        assert_eq!(x.detail, y.detail, "{}", x.key);
    }
}

#[test]
fn unreadable_rows_are_reported_not_fatal() {
    let mut l = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    let mut row = mamori_assets::to_row(
        &mamori_assets::Asset::new(mamori_assets::AssetKey::Ip(ip("10.0.0.1")), 0),
        None,
    );
    row.detail = "{not json".into();
    let errors = l.load(&[row]);
    assert_eq!(errors.len(), 1);
    assert_eq!(l.stats().load_errors, 1);
    assert!(l.is_empty());
}

#[test]
fn unchanged_assets_keep_their_run_and_are_not_rewritten() {
    let mut l1 = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    for e in [
        conn(
            T2024,
            1,
            6,
            end("10.0.0.1", 50000, HMI),
            end("10.0.0.2", 502, PLC),
            &["modbus"],
        ),
        conn(
            T2024,
            2,
            6,
            end("10.0.0.1", 50001, HMI),
            end("10.0.0.3", 502, "00:80:f4:00:00:03"),
            &["modbus"],
        ),
    ] {
        l1.observe(&e);
    }
    l1.finish();
    let run1 = Some(mamori_store::RunId(1));
    let stored = l1.to_rows(run1);
    let mut l2 = Ledger::new(LedgerConfig::default(), Knowledge::builtin());
    assert!(l2.load(&stored).is_empty());
    assert!(l2.changed_rows(Some(mamori_store::RunId(2))).is_empty());
    // The second run sees only the first PLC again.
    l2.observe(&conn(
        T2024 + 60,
        3,
        6,
        end("10.0.0.1", 50002, HMI),
        end("10.0.0.2", 502, PLC),
        &["modbus"],
    ));
    l2.finish();
    let changed: Vec<String> = l2
        .changed_rows(Some(mamori_store::RunId(2)))
        .into_iter()
        .map(|r| r.key)
        .collect();
    assert_eq!(changed, vec![format!("mac:{PLC}"), format!("mac:{HMI}")]);
    let all = l2.to_rows(Some(mamori_store::RunId(2)));
    let untouched = all
        .iter()
        .find(|r| r.key == "mac:00:80:f4:00:00:03")
        .expect("row");
    assert_eq!(untouched.updated_run, run1);
}
