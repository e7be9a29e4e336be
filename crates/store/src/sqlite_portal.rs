//! SQLite statements for the portal's rows (see [`crate::portal`]).

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::error::StoreError;
use crate::model::FlowFilter;
use crate::portal::{ApiTokenRow, AssetLabel, FlowBucket, FlowEdge, Role, SessionRow, UserRow};
use crate::sqlite::{get, get_u64};

const USER_COLUMNS: &str = "id, username, role, password_hash, totp_secret, totp_last_step, \
     must_change_password, disabled, created_at, last_login";

fn read_user(row: &Row<'_>) -> Result<UserRow, StoreError> {
    const T: &str = "users";
    let role: String = get(row, 2, T, "role")?;
    let role: Role = role.parse().map_err(|detail| StoreError::Corrupt {
        table: T,
        column: "role",
        detail,
    })?;
    Ok(UserRow {
        id: get(row, 0, T, "id")?,
        username: get(row, 1, T, "username")?,
        role,
        password_hash: get(row, 3, T, "password_hash")?,
        totp_secret: get(row, 4, T, "totp_secret")?,
        totp_last_step: get(row, 5, T, "totp_last_step")?,
        must_change_password: get(row, 6, T, "must_change_password")?,
        disabled: get(row, 7, T, "disabled")?,
        created_at: get(row, 8, T, "created_at")?,
        last_login: get(row, 9, T, "last_login")?,
    })
}

/// Every user, by name.
pub(crate) fn users(conn: &Connection) -> Result<Vec<UserRow>, StoreError> {
    let ctx = "reading users";
    let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt.query([]).map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        out.push(read_user(row)?);
    }
    Ok(out)
}

/// One user by id or by name.
pub(crate) fn user(
    conn: &Connection,
    id: Option<i64>,
    name: Option<&str>,
) -> Result<Option<UserRow>, StoreError> {
    let ctx = "reading a user";
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users WHERE id = ?1 OR username = ?2 ORDER BY id LIMIT 1"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt
        .query(params![id, name])
        .map_err(StoreError::sqlite(ctx))?;
    match rows.next().map_err(StoreError::sqlite(ctx))? {
        Some(row) => Ok(Some(read_user(row)?)),
        None => Ok(None),
    }
}

/// Inserts a user; `None` when the name is taken.
pub(crate) fn create_user(conn: &Connection, u: &UserRow) -> Result<Option<i64>, StoreError> {
    let changed = conn
        .execute(
            "INSERT INTO users (username, role, password_hash, totp_secret, totp_last_step,
                 must_change_password, disabled, created_at, last_login)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (username) DO NOTHING",
            params![
                u.username,
                u.role.as_str(),
                u.password_hash,
                u.totp_secret,
                u.totp_last_step,
                u.must_change_password,
                u.disabled,
                u.created_at,
                u.last_login
            ],
        )
        .map_err(StoreError::sqlite("creating a user"))?;
    Ok((changed > 0).then(|| conn.last_insert_rowid()))
}

/// Rewrites every field of user `u.id` but its name and creation time.
pub(crate) fn update_user(conn: &Connection, u: &UserRow) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE users SET role = ?2, password_hash = ?3, totp_secret = ?4,
                 totp_last_step = ?5, must_change_password = ?6, disabled = ?7, last_login = ?8
             WHERE id = ?1",
            params![
                u.id,
                u.role.as_str(),
                u.password_hash,
                u.totp_secret,
                u.totp_last_step,
                u.must_change_password,
                u.disabled,
                u.last_login
            ],
        )
        .map_err(StoreError::sqlite("updating a user"))?;
    Ok(changed > 0)
}

/// Deletes a user (sessions and tokens go with it).
pub(crate) fn delete_user(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    let changed = conn
        .execute("DELETE FROM users WHERE id = ?1", params![id])
        .map_err(StoreError::sqlite("deleting a user"))?;
    Ok(changed > 0)
}

/// Records `step` as the user's last TOTP step if it is newer than the stored
/// one; false when it is not (a replayed code).
pub(crate) fn accept_totp_step(conn: &Connection, id: i64, step: i64) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE users SET totp_last_step = ?2
             WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
            params![id, step],
        )
        .map_err(StoreError::sqlite("recording a TOTP step"))?;
    Ok(changed > 0)
}

/// Inserts a session.
pub(crate) fn create_session(conn: &Connection, s: &SessionRow) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO sessions (id_hash, user_id, created_at, last_used, expires_at, ip)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            s.id_hash,
            s.user_id,
            s.created_at,
            s.last_used,
            s.expires_at,
            s.ip
        ],
    )
    .map_err(StoreError::sqlite("creating a session"))?;
    Ok(())
}

/// One session by the hash of its id.
pub(crate) fn session(conn: &Connection, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
    const T: &str = "sessions";
    let mut stmt = conn
        .prepare_cached(
            "SELECT id_hash, user_id, created_at, last_used, expires_at, ip
             FROM sessions WHERE id_hash = ?1",
        )
        .map_err(StoreError::sqlite("reading a session"))?;
    let mut rows = stmt
        .query(params![id_hash])
        .map_err(StoreError::sqlite("reading a session"))?;
    let Some(row) = rows
        .next()
        .map_err(StoreError::sqlite("reading a session"))?
    else {
        return Ok(None);
    };
    Ok(Some(SessionRow {
        id_hash: get(row, 0, T, "id_hash")?,
        user_id: get(row, 1, T, "user_id")?,
        created_at: get(row, 2, T, "created_at")?,
        last_used: get(row, 3, T, "last_used")?,
        expires_at: get(row, 4, T, "expires_at")?,
        ip: get(row, 5, T, "ip")?,
    }))
}

/// Moves a session's last use and expiry.
pub(crate) fn touch_session(
    conn: &Connection,
    id_hash: &str,
    last_used: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE sessions SET last_used = ?2, expires_at = ?3 WHERE id_hash = ?1")
        .and_then(|mut s| s.execute(params![id_hash, last_used, expires_at]))
        .map_err(StoreError::sqlite("touching a session"))?;
    Ok(())
}

/// Runs one statement with one parameter; returns the rows changed.
pub(crate) fn exec1(
    conn: &Connection,
    ctx: &'static str,
    sql: &str,
    p: impl rusqlite::ToSql,
) -> Result<u64, StoreError> {
    let n = conn
        .prepare_cached(sql)
        .and_then(|mut s| s.execute(params![p]))
        .map_err(StoreError::sqlite(ctx))?;
    Ok(n as u64)
}

/// Deletes expired sessions and login attempts older than `attempts_before`.
pub(crate) fn purge_expired(
    conn: &Connection,
    now: i64,
    attempts_before: i64,
) -> Result<u64, StoreError> {
    let ctx = "purging expired sessions";
    let a = exec1(
        conn,
        ctx,
        "DELETE FROM sessions WHERE expires_at <= ?1",
        now,
    )?;
    let b = exec1(
        conn,
        ctx,
        "DELETE FROM login_attempts WHERE ts < ?1",
        attempts_before,
    )?;
    let c = exec1(
        conn,
        ctx,
        "DELETE FROM api_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        now,
    )?;
    Ok(a + b + c)
}

const TOKEN_COLUMNS: &str = "id, token_hash, user_id, name, created_at, last_used, expires_at";

fn read_token(row: &Row<'_>) -> Result<ApiTokenRow, StoreError> {
    const T: &str = "api_tokens";
    Ok(ApiTokenRow {
        id: get(row, 0, T, "id")?,
        token_hash: get(row, 1, T, "token_hash")?,
        user_id: get(row, 2, T, "user_id")?,
        name: get(row, 3, T, "name")?,
        created_at: get(row, 4, T, "created_at")?,
        last_used: get(row, 5, T, "last_used")?,
        expires_at: get(row, 6, T, "expires_at")?,
    })
}

/// Inserts an API token.
pub(crate) fn create_api_token(conn: &Connection, t: &ApiTokenRow) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO api_tokens (token_hash, user_id, name, created_at, last_used, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            t.token_hash,
            t.user_id,
            t.name,
            t.created_at,
            t.last_used,
            t.expires_at
        ],
    )
    .map_err(StoreError::sqlite("creating an API token"))?;
    Ok(conn.last_insert_rowid())
}

/// API tokens: one by hash, or all (newest first).
pub(crate) fn api_tokens(
    conn: &Connection,
    hash: Option<&str>,
) -> Result<Vec<ApiTokenRow>, StoreError> {
    let ctx = "reading API tokens";
    let sql = format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ?1 IS NULL OR token_hash = ?1
         ORDER BY id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt.query(params![hash]).map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        out.push(read_token(row)?);
    }
    Ok(out)
}

/// Records a login attempt.
pub(crate) fn record_login_attempt(
    conn: &Connection,
    ts: i64,
    username: &str,
    ip: &str,
    ok: bool,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO login_attempts (ts, username, ip, ok) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut s| s.execute(params![ts, username, ip, ok]))
    .map_err(StoreError::sqlite("recording a login attempt"))?;
    Ok(())
}

/// Failed logins for `username` since `since` and after its last success.
pub(crate) fn failed_logins_for_user(
    conn: &Connection,
    username: &str,
    since: i64,
) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM login_attempts
             WHERE username = ?1 AND ok = 0 AND ts >= ?2 AND ts > coalesce(
                 (SELECT max(ts) FROM login_attempts WHERE username = ?1 AND ok = 1), ?2 - 1)",
        )
        .and_then(|mut s| s.query_row(params![username, since], |r| r.get(0)))
        .map_err(StoreError::sqlite("counting failed logins"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Failed logins from `ip` since `since`.
pub(crate) fn failed_logins_from_ip(
    conn: &Connection,
    ip: &str,
    since: i64,
) -> Result<u64, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM login_attempts WHERE ip = ?1 AND ok = 0 AND ts >= ?2")
        .and_then(|mut s| s.query_row(params![ip, since], |r| r.get(0)))
        .map_err(StoreError::sqlite("counting failed logins"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One setting's JSON.
pub(crate) fn setting(conn: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")
        .and_then(|mut s| s.query_row(params![key], |r| r.get(0)).optional())
        .map_err(StoreError::sqlite("reading a setting"))
}

/// Writes one setting's JSON.
pub(crate) fn set_setting(
    conn: &Connection,
    key: &str,
    value: &str,
    by: &str,
    at: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        params![key, value, at, by],
    )
    .map_err(StoreError::sqlite("writing a setting"))?;
    Ok(())
}

/// The WHERE clause of a flow filter over parameters ?1 (from), ?2 (to), ?3 (host).
const FLOW_WHERE: &str = "(?1 IS NULL OR hour >= ?1) AND (?2 IS NULL OR hour < ?2)
     AND (?3 IS NULL OR orig_h = ?3 OR resp_h = ?3)";

/// Communications summed over the selected hours, by bytes, largest first.
pub(crate) fn flow_edges(conn: &Connection, f: &FlowFilter) -> Result<Vec<FlowEdge>, StoreError> {
    let ctx = "summing communications";
    const T: &str = "flow_hourly";
    let sql = format!(
        "SELECT orig_h, resp_h, proto, resp_p, service, sum(conns),
             sum(orig_pkts + resp_pkts), sum(orig_ip_bytes + resp_ip_bytes),
             min(first_seen), max(last_seen)
         FROM flow_hourly WHERE {FLOW_WHERE}
         GROUP BY orig_h, resp_h, proto, resp_p, service
         ORDER BY 8 DESC, orig_h, resp_h, proto, resp_p, service LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let host = f.host.map(|h| h.to_string());
    let limit = f.limit.map_or(-1, i64::from);
    let mut rows = stmt
        .query(params![f.from, f.to, host, limit])
        .map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        let service: String = get(row, 4, T, "service")?;
        out.push(FlowEdge {
            orig_h: get(row, 0, T, "orig_h")?,
            resp_h: get(row, 1, T, "resp_h")?,
            proto: get(row, 2, T, "proto")?,
            resp_p: get(row, 3, T, "resp_p")?,
            service: (!service.is_empty()).then_some(service),
            conns: get_u64(row, 5, T, "sum(conns)")?,
            pkts: get_u64(row, 6, T, "sum(pkts)")?,
            bytes: get_u64(row, 7, T, "sum(bytes)")?,
            first_seen: get(row, 8, T, "min(first_seen)")?,
            last_seen: get(row, 9, T, "max(last_seen)")?,
        });
    }
    Ok(out)
}

/// Traffic per hour and service over the selected hours, in hour order.
pub(crate) fn flow_buckets(
    conn: &Connection,
    f: &FlowFilter,
) -> Result<Vec<FlowBucket>, StoreError> {
    let ctx = "summing traffic per hour";
    const T: &str = "flow_hourly";
    let sql = format!(
        "SELECT hour, proto, service, sum(conns), sum(orig_pkts + resp_pkts),
             sum(orig_ip_bytes + resp_ip_bytes)
         FROM flow_hourly WHERE {FLOW_WHERE}
         GROUP BY hour, proto, service ORDER BY hour, proto, service LIMIT ?4"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let host = f.host.map(|h| h.to_string());
    let limit = f.limit.map_or(-1, i64::from);
    let mut rows = stmt
        .query(params![f.from, f.to, host, limit])
        .map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        let service: String = get(row, 2, T, "service")?;
        out.push(FlowBucket {
            hour: get(row, 0, T, "hour")?,
            proto: get(row, 1, T, "proto")?,
            service: (!service.is_empty()).then_some(service),
            conns: get_u64(row, 3, T, "sum(conns)")?,
            pkts: get_u64(row, 4, T, "sum(pkts)")?,
            bytes: get_u64(row, 5, T, "sum(bytes)")?,
        });
    }
    Ok(out)
}

/// Every asset's label columns, by key.
pub(crate) fn asset_labels(conn: &Connection) -> Result<Vec<AssetLabel>, StoreError> {
    let ctx = "reading asset labels";
    const T: &str = "assets";
    let mut stmt = conn
        .prepare_cached(
            "SELECT asset_key, mac, ips, vendor, hostname, os, role, first_seen, last_seen
             FROM assets ORDER BY asset_key",
        )
        .map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt.query([]).map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        let ips: String = get(row, 2, T, "ips")?;
        let ips: Vec<String> = serde_json::from_str(&ips).map_err(|e| StoreError::Corrupt {
            table: T,
            column: "ips",
            detail: e.to_string(),
        })?;
        out.push(AssetLabel {
            key: get(row, 0, T, "asset_key")?,
            mac: get(row, 1, T, "mac")?,
            ips,
            vendor: get(row, 3, T, "vendor")?,
            hostname: get(row, 4, T, "hostname")?,
            os: get(row, 5, T, "os")?,
            role: get(row, 6, T, "role")?,
            first_seen: get(row, 7, T, "first_seen")?,
            last_seen: get(row, 8, T, "last_seen")?,
        });
    }
    Ok(out)
}
