//! The portal's rows in SQLite: users, sessions, tokens, login attempts,
//! settings and the flow summaries.

use std::net::{IpAddr, Ipv4Addr};

use mamori_store::*;

fn store() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let s = SqliteStore::open(dir.path().join("m.db")).expect("open");
    (dir, s)
}

fn user(name: &str, role: Role) -> UserRow {
    UserRow {
        id: 0,
        username: name.into(),
        role,
        password_hash: "$argon2id$x".into(),
        totp_secret: None,
        totp_last_step: None,
        must_change_password: true,
        disabled: false,
        created_at: 5,
        last_login: None,
    }
}

#[test]
fn users_are_unique_by_name_and_round_trip() -> Result<(), StoreError> {
    let (_d, s) = store();
    let id = s.create_user(&user("alice", Role::Admin))?.expect("new");
    assert_eq!(s.create_user(&user("alice", Role::Viewer))?, None);
    let mut u = s.user_by_name("alice")?.expect("stored");
    assert_eq!(
        (u.id, u.role, u.must_change_password),
        (id, Role::Admin, true)
    );
    u.role = Role::Operator;
    u.totp_secret = Some("JBSWY3DPEHPK3PXP".into());
    u.must_change_password = false;
    assert!(s.update_user(&u)?);
    assert_eq!(s.user(id)?, Some(u.clone()));
    assert_eq!(s.users()?.len(), 1);
    // TOTP steps only move forward.
    assert!(s.accept_totp_step(id, 100)?);
    assert!(!s.accept_totp_step(id, 100)?);
    assert!(!s.accept_totp_step(id, 99)?);
    assert!(s.accept_totp_step(id, 101)?);
    assert!(s.delete_user(id)?);
    assert_eq!(s.user(id)?, None);
    Ok(())
}

#[test]
fn sessions_and_tokens_go_with_their_user() -> Result<(), StoreError> {
    let (_d, s) = store();
    let id = s.create_user(&user("bob", Role::Viewer))?.expect("new");
    let sess = SessionRow {
        id_hash: "ab".into(),
        user_id: id,
        created_at: 1,
        last_used: 1,
        expires_at: 100,
        ip: Some("127.0.0.1".into()),
    };
    s.create_session(&sess)?;
    s.touch_session("ab", 50, 150)?;
    let got = s.session("ab")?.expect("stored");
    assert_eq!((got.last_used, got.expires_at), (50, 150));
    let tok = ApiTokenRow {
        id: 0,
        token_hash: "cd".into(),
        user_id: id,
        name: "script".into(),
        created_at: 1,
        last_used: None,
        expires_at: None,
    };
    let tid = s.create_api_token(&tok)?;
    s.touch_api_token(tid, 9)?;
    assert_eq!(s.api_token("cd")?.and_then(|t| t.last_used), Some(9));
    assert_eq!(s.purge_expired(150, 0)?, 1);
    assert_eq!(s.session("ab")?, None);
    s.create_session(&sess)?;
    assert!(s.delete_user(id)?);
    assert_eq!(s.session("ab")?, None);
    assert!(s.api_tokens()?.is_empty());
    Ok(())
}

#[test]
fn failed_logins_count_since_the_last_success() -> Result<(), StoreError> {
    let (_d, s) = store();
    for ts in 10..13 {
        s.record_login_attempt(ts, "eve", "10.0.0.9", false)?;
    }
    assert_eq!(s.failed_logins_for_user("eve", 0)?, 3);
    assert_eq!(s.failed_logins_for_user("eve", 11)?, 2);
    s.record_login_attempt(20, "eve", "10.0.0.9", true)?;
    s.record_login_attempt(21, "eve", "10.0.0.9", false)?;
    assert_eq!(s.failed_logins_for_user("eve", 0)?, 1);
    assert_eq!(s.failed_logins_from_ip("10.0.0.9", 0)?, 4);
    assert_eq!(s.failed_logins_from_ip("10.0.0.8", 0)?, 0);
    Ok(())
}

#[test]
fn settings_are_replaced() -> Result<(), StoreError> {
    let (_d, s) = store();
    assert_eq!(s.setting("zones")?, None);
    s.set_setting("zones", "[]", "admin", 1)?;
    s.set_setting("zones", "[{\"name\":\"cell 1\"}]", "admin", 2)?;
    assert_eq!(
        s.setting("zones")?.as_deref(),
        Some("[{\"name\":\"cell 1\"}]")
    );
    Ok(())
}

#[test]
fn flow_summaries_sum_over_hours() -> Result<(), StoreError> {
    let (_d, s) = store();
    let a = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    let b = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
    let row = |hour: i64, service: Option<&str>, bytes: u64| FlowHourly {
        key: FlowKey {
            hour: hour * HOUR_NANOS,
            orig_h: a,
            resp_h: b,
            proto: 6,
            resp_p: 502,
            service: service.map(String::from),
            vlan: None,
        },
        sums: FlowSums {
            conns: 1,
            orig_pkts: 2,
            resp_pkts: 3,
            orig_bytes: 0,
            resp_bytes: 0,
            orig_ip_bytes: bytes,
            resp_ip_bytes: 1,
            duration_nanos: 0,
            first_seen: hour * HOUR_NANOS,
            last_seen: hour * HOUR_NANOS + 5,
        },
        last_run: None,
    };
    s.add_flow_hourly(&[
        row(0, Some("modbus"), 10),
        row(1, Some("modbus"), 20),
        row(1, None, 7),
    ])?;
    let edges = s.flow_edges(&FlowFilter::default())?;
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0].service.as_deref(), Some("modbus"));
    assert_eq!((edges[0].conns, edges[0].pkts, edges[0].bytes), (2, 10, 32));
    assert_eq!(edges[0].last_seen, HOUR_NANOS + 5);
    assert_eq!(edges[1].service, None);
    let later = FlowFilter {
        from: Some(HOUR_NANOS),
        ..FlowFilter::default()
    };
    let buckets = s.flow_buckets(&later)?;
    assert_eq!(buckets.len(), 2);
    assert!(buckets.iter().all(|b| b.hour == HOUR_NANOS));
    assert_eq!(buckets.iter().map(|b| b.bytes).sum::<u64>(), 21 + 8);
    Ok(())
}
