//! Assets, alerts and baselines round-trip through the SQLite store.

use mamori_store::{
    AlertQuery, AlertRow, AlertStatus, AssetQuery, AssetRow, AssetSort, BaselineRow, LedgerStore,
    SqliteStore,
};

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path().join("m.db")).expect("open");
    (dir, store)
}

fn asset(key: &str, role: &str, vendor: &str, first: i64, last: i64) -> AssetRow {
    AssetRow {
        key: key.into(),
        mac: key.strip_prefix("mac:").map(str::to_string),
        ips: vec!["10.0.0.5".into()],
        vendor: Some(vendor.into()),
        hostname: None,
        os: None,
        os_eol: None,
        role: role.into(),
        model: None,
        firmware: None,
        behind: None,
        first_seen: first,
        last_seen: last,
        pkts: 10,
        bytes: 1000,
        detail: "{}".into(),
        updated_run: None,
    }
}

fn alert(fingerprint: &str, ts: i64, kind: &str) -> AlertRow {
    AlertRow {
        id: 0,
        fingerprint: fingerprint.into(),
        ts,
        last_seen: ts,
        count: 1,
        kind: kind.into(),
        severity: "high".into(),
        src_mac: None,
        src_ip: Some("10.0.0.9".into()),
        dst_mac: None,
        dst_ip: Some("10.0.0.5".into()),
        protocol: Some("modbus".into()),
        summary: "write".into(),
        evidence: format!("{{\"at\":{ts}}}"),
        mitre_ics: Some("T0855".into()),
        learning: false,
        status: AlertStatus::Open,
        status_by: None,
        status_at: None,
        run: None,
    }
}

#[test]
fn assets_upsert_keeps_the_widest_time_span_and_filters_sort_and_page() {
    let (_dir, s) = store();
    s.upsert_assets(&[
        asset("mac:00:1b:1b:00:00:01", "plc", "Siemens", 100, 200),
        asset("mac:00:1d:9c:00:00:02", "plc", "Rockwell", 50, 300),
        asset("mac:00:0c:29:00:00:03", "it_host", "VMware_50%", 10, 20),
    ])
    .unwrap();
    // A later run sees the Siemens PLC again, later.
    let mut again = asset("mac:00:1b:1b:00:00:01", "plc", "Siemens AG", 150, 900);
    again.hostname = Some("PLC-1".into());
    s.upsert_assets(&[again]).unwrap();
    let got = s.asset("mac:00:1b:1b:00:00:01").unwrap().unwrap();
    assert_eq!((got.first_seen, got.last_seen), (100, 900));
    assert_eq!(got.vendor.as_deref(), Some("Siemens AG"));
    assert_eq!(got.hostname.as_deref(), Some("PLC-1"));
    assert_eq!(got.ips, ["10.0.0.5"]);

    let plcs = AssetQuery {
        role: Some("plc".into()),
        sort: AssetSort::LastSeen,
        descending: true,
        ..AssetQuery::default()
    };
    let keys: Vec<String> = s
        .assets(&plcs)
        .unwrap()
        .into_iter()
        .map(|a| a.key)
        .collect();
    assert_eq!(keys, ["mac:00:1b:1b:00:00:01", "mac:00:1d:9c:00:00:02"]);
    assert_eq!(s.asset_count(&plcs).unwrap(), 2);

    // Search is a literal substring: `%` in the text does not act as a wildcard.
    let search = |text: &str| AssetQuery {
        search: Some(text.into()),
        ..AssetQuery::default()
    };
    assert_eq!(s.asset_count(&search("rockWELL")).unwrap(), 1);
    assert_eq!(s.asset_count(&search("50%")).unwrap(), 1);
    assert_eq!(s.asset_count(&search("5%0")).unwrap(), 0);

    let page = AssetQuery {
        limit: Some(1),
        offset: 1,
        ..AssetQuery::default()
    };
    let keys: Vec<String> = s
        .assets(&page)
        .unwrap()
        .into_iter()
        .map(|a| a.key)
        .collect();
    assert_eq!(keys, ["mac:00:1b:1b:00:00:01"]);
}

#[test]
fn repeated_alerts_aggregate_and_keep_their_status() {
    let (_dir, s) = store();
    let ids = s
        .add_alerts(&[
            alert("w:9:5", 100, "ot_command"),
            alert("n:9", 50, "new_device"),
        ])
        .unwrap();
    assert!(
        s.set_alert_status(ids[0], AlertStatus::Acknowledged, "admin", 120)
            .unwrap()
    );
    let again = s.add_alerts(&[alert("w:9:5", 300, "ot_command")]).unwrap();
    assert_eq!(again, [ids[0]]);
    let a = s.alert(ids[0]).unwrap().unwrap();
    assert_eq!((a.ts, a.last_seen, a.count), (100, 300, 2));
    assert_eq!(a.status, AlertStatus::Acknowledged);
    assert_eq!(a.evidence, "{\"at\":300}");

    let newest: Vec<i64> = s
        .alerts(&AlertQuery::default())
        .unwrap()
        .into_iter()
        .map(|a| a.ts)
        .collect();
    assert_eq!(newest, [100, 50]);
    let by_host = AlertQuery {
        host: Some("10.0.0.5".into()),
        kind: Some("new_device".into()),
        ..AlertQuery::default()
    };
    assert_eq!(s.alert_count(&by_host).unwrap(), 1);
    let open = AlertQuery {
        status: Some(AlertStatus::Open),
        ..AlertQuery::default()
    };
    assert_eq!(s.alert_count(&open).unwrap(), 1);
    assert!(
        !s.set_alert_status(9999, AlertStatus::Accepted, "admin", 1)
            .unwrap()
    );
}

#[test]
fn baselines_are_versioned_and_the_newest_wins() {
    let (_dir, s) = store();
    assert!(s.latest_baseline().unwrap().is_none());
    let row = |note: &str| BaselineRow {
        version: 0,
        created_at: 1,
        run: None,
        window_start: Some(0),
        window_end: Some(10),
        note: note.into(),
        data: format!("{{\"note\":\"{note}\"}}"),
    };
    assert_eq!(s.save_baseline(&row("first")).unwrap(), 1);
    assert_eq!(s.save_baseline(&row("second")).unwrap(), 2);
    let latest = s.latest_baseline().unwrap().unwrap();
    assert_eq!((latest.version, latest.note.as_str()), (2, "second"));
    assert_eq!(latest.data, "{\"note\":\"second\"}");
    let all = s.baselines().unwrap();
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|b| b.data.is_empty()));
}
