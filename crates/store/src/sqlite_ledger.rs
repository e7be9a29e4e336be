//! SQLite statements for assets, alerts and baselines (see [`crate::ledger`]).

use rusqlite::types::Value;
use rusqlite::{Connection, Row, params, params_from_iter};

use crate::error::StoreError;
use crate::ledger::{AlertQuery, AlertRow, AlertStatus, AssetQuery, AssetRow, BaselineRow};
use crate::model::RunId;
use crate::sqlite::{get, get_u64, to_i64};

const ASSET_COLUMNS: &str = "asset_key, mac, ips, vendor, hostname, os, os_eol, role, model, \
     firmware, behind, first_seen, last_seen, pkts, bytes, detail, updated_run";

const UPSERT_ASSET: &str = "INSERT INTO assets (asset_key, mac, ips, vendor, hostname, os, \
     os_eol, role, model, firmware, behind, first_seen, last_seen, pkts, bytes, detail, updated_run)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)
     ON CONFLICT (asset_key) DO UPDATE SET
       mac = excluded.mac, ips = excluded.ips, vendor = excluded.vendor,
       hostname = excluded.hostname, os = excluded.os, os_eol = excluded.os_eol,
       role = excluded.role, model = excluded.model, firmware = excluded.firmware,
       behind = excluded.behind, first_seen = min(first_seen, excluded.first_seen),
       last_seen = max(last_seen, excluded.last_seen), pkts = excluded.pkts,
       bytes = excluded.bytes, detail = excluded.detail, updated_run = excluded.updated_run";

const ALERT_COLUMNS: &str = "id, fingerprint, ts, last_seen, count, kind, severity, src_mac, \
     src_ip, dst_mac, dst_ip, protocol, summary, evidence, mitre_ics, learning, status, \
     status_by, status_at, run_id";

const UPSERT_ALERT: &str =
    "INSERT INTO alerts (fingerprint, ts, last_seen, count, kind, severity, \
     src_mac, src_ip, dst_mac, dst_ip, protocol, summary, evidence, mitre_ics, learning, run_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
     ON CONFLICT (fingerprint) DO UPDATE SET
       ts = min(ts, excluded.ts), last_seen = max(last_seen, excluded.last_seen),
       count = count + excluded.count,
       evidence = CASE WHEN excluded.last_seen >= last_seen THEN excluded.evidence
                       ELSE evidence END,
       learning = learning AND excluded.learning";

/// Writes or replaces assets by key, in one transaction.
pub(crate) fn upsert_assets(conn: &mut Connection, rows: &[AssetRow]) -> Result<u64, StoreError> {
    let ctx = "writing assets";
    let tx = conn.transaction().map_err(StoreError::sqlite(ctx))?;
    {
        let mut stmt = tx
            .prepare_cached(UPSERT_ASSET)
            .map_err(StoreError::sqlite(ctx))?;
        for a in rows {
            let ips = serde_json::to_string(&a.ips).unwrap_or_else(|_| "[]".into());
            stmt.execute(params![
                a.key,
                a.mac,
                ips,
                a.vendor,
                a.hostname,
                a.os,
                a.os_eol,
                a.role,
                a.model,
                a.firmware,
                a.behind,
                a.first_seen,
                a.last_seen,
                to_i64("asset pkts", a.pkts)?,
                to_i64("asset bytes", a.bytes)?,
                a.detail,
                a.updated_run.map(|r| r.0),
            ])
            .map_err(StoreError::sqlite(ctx))?;
        }
    }
    tx.commit().map_err(StoreError::sqlite(ctx))?;
    Ok(rows.len() as u64)
}

/// The WHERE clause and its parameters for an asset query.
fn asset_where(q: &AssetQuery) -> (String, Vec<Value>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut values = Vec::new();
    if let Some(role) = &q.role {
        values.push(Value::Text(role.clone()));
        clauses.push(format!("role = ?{}", values.len()));
    }
    if let Some(search) = &q.search {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        values.push(Value::Text(pattern));
        let n = values.len();
        clauses.push(format!(
            "(lower(asset_key) LIKE ?{n} ESCAPE '\\' OR lower(ips) LIKE ?{n} ESCAPE '\\' \
             OR lower(coalesce(vendor, '')) LIKE ?{n} ESCAPE '\\' \
             OR lower(coalesce(hostname, '')) LIKE ?{n} ESCAPE '\\' \
             OR lower(coalesce(os, '')) LIKE ?{n} ESCAPE '\\' \
             OR lower(coalesce(model, '')) LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(t) = q.seen_since {
        values.push(Value::Integer(t));
        clauses.push(format!("last_seen >= ?{}", values.len()));
    }
    if let Some(t) = q.first_seen_since {
        values.push(Value::Integer(t));
        clauses.push(format!("first_seen >= ?{}", values.len()));
    }
    (clauses.join(" AND "), values)
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Assets `q` selects, in its order.
pub(crate) fn assets(conn: &Connection, q: &AssetQuery) -> Result<Vec<AssetRow>, StoreError> {
    let ctx = "reading assets";
    let (clause, mut values) = asset_where(q);
    let order = if q.descending { "DESC" } else { "ASC" };
    values.push(Value::Integer(q.limit.map_or(-1, i64::from)));
    values.push(Value::Integer(i64::from(q.offset)));
    let n = values.len();
    let sql = format!(
        "SELECT {ASSET_COLUMNS} FROM assets WHERE {clause} \
         ORDER BY {} {order} NULLS LAST, asset_key {order} LIMIT ?{} OFFSET ?{n}",
        q.sort.column(),
        n - 1
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt
        .query(params_from_iter(values))
        .map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        out.push(read_asset(row)?);
    }
    Ok(out)
}

/// How many assets `q` selects (ignoring limit and offset).
pub(crate) fn asset_count(conn: &Connection, q: &AssetQuery) -> Result<u64, StoreError> {
    let ctx = "counting assets";
    let (clause, values) = asset_where(q);
    let sql = format!("SELECT count(*) FROM assets WHERE {clause}");
    let n: i64 = conn
        .query_row(&sql, params_from_iter(values), |r| r.get(0))
        .map_err(StoreError::sqlite(ctx))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One asset by key.
pub(crate) fn asset(conn: &Connection, key: &str) -> Result<Option<AssetRow>, StoreError> {
    let ctx = "reading an asset";
    let sql = format!("SELECT {ASSET_COLUMNS} FROM assets WHERE asset_key = ?1");
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt.query(params![key]).map_err(StoreError::sqlite(ctx))?;
    match rows.next().map_err(StoreError::sqlite(ctx))? {
        Some(row) => Ok(Some(read_asset(row)?)),
        None => Ok(None),
    }
}

fn read_asset(row: &Row<'_>) -> Result<AssetRow, StoreError> {
    const T: &str = "assets";
    let ips: String = get(row, 2, T, "ips")?;
    let ips: Vec<String> = serde_json::from_str(&ips).map_err(|e| StoreError::Corrupt {
        table: T,
        column: "ips",
        detail: e.to_string(),
    })?;
    let run: Option<i64> = get(row, 16, T, "updated_run")?;
    Ok(AssetRow {
        key: get(row, 0, T, "asset_key")?,
        mac: get(row, 1, T, "mac")?,
        ips,
        vendor: get(row, 3, T, "vendor")?,
        hostname: get(row, 4, T, "hostname")?,
        os: get(row, 5, T, "os")?,
        os_eol: get(row, 6, T, "os_eol")?,
        role: get(row, 7, T, "role")?,
        model: get(row, 8, T, "model")?,
        firmware: get(row, 9, T, "firmware")?,
        behind: get(row, 10, T, "behind")?,
        first_seen: get(row, 11, T, "first_seen")?,
        last_seen: get(row, 12, T, "last_seen")?,
        pkts: get_u64(row, 13, T, "pkts")?,
        bytes: get_u64(row, 14, T, "bytes")?,
        detail: get(row, 15, T, "detail")?,
        updated_run: run.map(RunId),
    })
}

/// Adds alerts, aggregating repeats by fingerprint, in one transaction. Returns the
/// ids of the rows written, in input order.
pub(crate) fn add_alerts(conn: &mut Connection, rows: &[AlertRow]) -> Result<Vec<i64>, StoreError> {
    let ctx = "writing alerts";
    let tx = conn.transaction().map_err(StoreError::sqlite(ctx))?;
    let mut ids = Vec::with_capacity(rows.len());
    {
        let mut stmt = tx
            .prepare_cached(UPSERT_ALERT)
            .map_err(StoreError::sqlite(ctx))?;
        let mut id_of = tx
            .prepare_cached("SELECT id FROM alerts WHERE fingerprint = ?1")
            .map_err(StoreError::sqlite(ctx))?;
        for a in rows {
            stmt.execute(params![
                a.fingerprint,
                a.ts,
                a.last_seen,
                to_i64("alert count", a.count.max(1))?,
                a.kind,
                a.severity,
                a.src_mac,
                a.src_ip,
                a.dst_mac,
                a.dst_ip,
                a.protocol,
                a.summary,
                a.evidence,
                a.mitre_ics,
                a.learning,
                a.run.map(|r| r.0),
            ])
            .map_err(StoreError::sqlite(ctx))?;
            let id: i64 = id_of
                .query_row(params![a.fingerprint], |r| r.get(0))
                .map_err(StoreError::sqlite(ctx))?;
            ids.push(id);
        }
    }
    tx.commit().map_err(StoreError::sqlite(ctx))?;
    Ok(ids)
}

fn alert_where(q: &AlertQuery) -> (String, Vec<Value>) {
    let mut clauses = vec!["1 = 1".to_string()];
    let mut values = Vec::new();
    let mut eq = |column: &str, v: &Option<String>, values: &mut Vec<Value>| {
        if let Some(v) = v {
            values.push(Value::Text(v.clone()));
            clauses.push(format!("{column} = ?{}", values.len()));
        }
    };
    eq("kind", &q.kind, &mut values);
    eq("severity", &q.severity, &mut values);
    eq(
        "status",
        &q.status.map(|s| s.as_str().to_string()),
        &mut values,
    );
    if let Some(host) = &q.host {
        values.push(Value::Text(host.clone()));
        let n = values.len();
        clauses.push(format!(
            "(src_ip = ?{n} OR dst_ip = ?{n} OR src_mac = ?{n} OR dst_mac = ?{n})"
        ));
    }
    if let Some(t) = q.since {
        values.push(Value::Integer(t));
        clauses.push(format!("last_seen >= ?{}", values.len()));
    }
    if let Some(t) = q.until {
        values.push(Value::Integer(t));
        clauses.push(format!("ts < ?{}", values.len()));
    }
    (clauses.join(" AND "), values)
}

/// Alerts `q` selects, newest first.
pub(crate) fn alerts(conn: &Connection, q: &AlertQuery) -> Result<Vec<AlertRow>, StoreError> {
    let ctx = "reading alerts";
    let (clause, mut values) = alert_where(q);
    values.push(Value::Integer(q.limit.map_or(-1, i64::from)));
    values.push(Value::Integer(i64::from(q.offset)));
    let n = values.len();
    let sql = format!(
        "SELECT {ALERT_COLUMNS} FROM alerts WHERE {clause} \
         ORDER BY ts DESC, id DESC LIMIT ?{} OFFSET ?{n}",
        n - 1
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt
        .query(params_from_iter(values))
        .map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        out.push(read_alert(row)?);
    }
    Ok(out)
}

/// How many alerts `q` selects (ignoring limit and offset).
pub(crate) fn alert_count(conn: &Connection, q: &AlertQuery) -> Result<u64, StoreError> {
    let ctx = "counting alerts";
    let (clause, values) = alert_where(q);
    let sql = format!("SELECT count(*) FROM alerts WHERE {clause}");
    let n: i64 = conn
        .query_row(&sql, params_from_iter(values), |r| r.get(0))
        .map_err(StoreError::sqlite(ctx))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One alert by id.
pub(crate) fn alert(conn: &Connection, id: i64) -> Result<Option<AlertRow>, StoreError> {
    let ctx = "reading an alert";
    let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1");
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt.query(params![id]).map_err(StoreError::sqlite(ctx))?;
    match rows.next().map_err(StoreError::sqlite(ctx))? {
        Some(row) => Ok(Some(read_alert(row)?)),
        None => Ok(None),
    }
}

/// Sets an alert's workflow status; false when there is no such alert.
pub(crate) fn set_alert_status(
    conn: &Connection,
    id: i64,
    status: AlertStatus,
    by: &str,
    at: i64,
) -> Result<bool, StoreError> {
    let changed = conn
        .execute(
            "UPDATE alerts SET status = ?2, status_by = ?3, status_at = ?4 WHERE id = ?1",
            params![id, status.as_str(), by, at],
        )
        .map_err(StoreError::sqlite("setting an alert's status"))?;
    Ok(changed > 0)
}

fn read_alert(row: &Row<'_>) -> Result<AlertRow, StoreError> {
    const T: &str = "alerts";
    let status: String = get(row, 16, T, "status")?;
    let status = status.parse().map_err(|detail| StoreError::Corrupt {
        table: T,
        column: "status",
        detail,
    })?;
    let run: Option<i64> = get(row, 19, T, "run_id")?;
    Ok(AlertRow {
        id: get(row, 0, T, "id")?,
        fingerprint: get(row, 1, T, "fingerprint")?,
        ts: get(row, 2, T, "ts")?,
        last_seen: get(row, 3, T, "last_seen")?,
        count: get_u64(row, 4, T, "count")?,
        kind: get(row, 5, T, "kind")?,
        severity: get(row, 6, T, "severity")?,
        src_mac: get(row, 7, T, "src_mac")?,
        src_ip: get(row, 8, T, "src_ip")?,
        dst_mac: get(row, 9, T, "dst_mac")?,
        dst_ip: get(row, 10, T, "dst_ip")?,
        protocol: get(row, 11, T, "protocol")?,
        summary: get(row, 12, T, "summary")?,
        evidence: get(row, 13, T, "evidence")?,
        mitre_ics: get(row, 14, T, "mitre_ics")?,
        learning: get(row, 15, T, "learning")?,
        status,
        status_by: get(row, 17, T, "status_by")?,
        status_at: get(row, 18, T, "status_at")?,
        run: run.map(RunId),
    })
}

/// Saves a baseline as the next version and returns it.
pub(crate) fn save_baseline(conn: &Connection, b: &BaselineRow) -> Result<i64, StoreError> {
    conn.execute(
        "INSERT INTO baselines (created_at, run_id, window_start, window_end, note, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            b.created_at,
            b.run.map(|r| r.0),
            b.window_start,
            b.window_end,
            b.note,
            b.data
        ],
    )
    .map_err(StoreError::sqlite("saving a baseline"))?;
    Ok(conn.last_insert_rowid())
}

/// The newest baseline, or every one (newest first) without their data when
/// `with_data` is false.
pub(crate) fn baselines(
    conn: &Connection,
    newest_only: bool,
    with_data: bool,
) -> Result<Vec<BaselineRow>, StoreError> {
    let ctx = "reading baselines";
    let data = if with_data { "data" } else { "''" };
    let limit = if newest_only { 1 } else { -1 };
    let sql = format!(
        "SELECT version, created_at, run_id, window_start, window_end, note, {data}
         FROM baselines ORDER BY version DESC LIMIT ?1"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt
        .query(params![limit])
        .map_err(StoreError::sqlite(ctx))?;
    let mut out = Vec::new();
    const T: &str = "baselines";
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        let run: Option<i64> = get(row, 2, T, "run_id")?;
        out.push(BaselineRow {
            version: get(row, 0, T, "version")?,
            created_at: get(row, 1, T, "created_at")?,
            run: run.map(RunId),
            window_start: get(row, 3, T, "window_start")?,
            window_end: get(row, 4, T, "window_end")?,
            note: get(row, 5, T, "note")?,
            data: get(row, 6, T, "data")?,
        });
    }
    Ok(out)
}
