//! The embedded SQLite back end.
//!
//! One connection behind a mutex. The store has one writer (the
//! [`StoreWriter`](crate::StoreWriter) thread) and occasional readers, so a
//! second connection would buy little; WAL mode still lets other processes
//! (a `mamori serve` next to a running `analyze`) read while this one writes.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Row, Transaction, params};

use crate::error::StoreError;
use crate::ledger::{AlertQuery, AlertRow, AlertStatus, AssetQuery, AssetRow, BaselineRow};
use crate::migrate::{self, SCHEMA_VERSION};
use crate::model::{
    FlowFilter, FlowHourly, FlowKey, FlowSums, FlowTotals, NewRun, RunFinish, RunId, RunInput,
    RunRecord, RunStatus,
};
use crate::portal::{ApiTokenRow, AssetLabel, FlowBucket, FlowEdge, SessionRow, UserRow};
use crate::sqlite_ledger;
use crate::sqlite_portal as sp;
use crate::{LedgerStore, PortalStore, Store};

/// How long a statement waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per connection; comfortably more than we have.
const STATEMENT_CACHE: usize = 32;

/// A mamori store in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema up
    /// to date.
    ///
    /// Sets WAL journaling, `synchronous = NORMAL` (a power cut may lose the
    /// last transactions but never corrupts the file), a busy timeout and
    /// foreign keys. Refuses a store written by a newer mamori with
    /// [`StoreError::NewerSchema`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let mut conn = Connection::open(&path).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        // journal_mode cannot change inside a transaction, so it comes first.
        // An in-memory database answers "memory"; that is fine.
        let _mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        migrate::migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// Opens an existing store for reading only; every write fails.
    ///
    /// The schema must be exactly this build's: an older one cannot be
    /// upgraded without writing ([`StoreError::OutdatedSchema`]), a newer one
    /// is refused ([`StoreError::NewerSchema`]).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        let found = migrate::current_version(&conn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < SCHEMA_VERSION {
            return Err(StoreError::OutdatedSchema {
                found,
                required: SCHEMA_VERSION,
            });
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The path the store was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the database (this build's after `open`).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrate::current_version(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave a half-written
        // transaction behind: rusqlite rolls back a transaction on drop, also
        // while unwinding. So the connection is safe to use again.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Settings every connection gets, read-only or not.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

const INSERT_RUN: &str = "INSERT INTO runs (command, started_at, status, threads, version)
     VALUES (?1, ?2, 'running', ?3, ?4)";

const INSERT_INPUT: &str = "INSERT INTO run_inputs (run_id, seq, path, packets, bytes, error)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

const FINISH_RUN: &str = "UPDATE runs SET finished_at = ?2, status = ?3, packets = ?4,
     bytes = ?5, flows = ?6, duplicates = ?7, decode_errors = ?8, evictions = ?9,
     elapsed_secs = ?10
     WHERE id = ?1";

const SELECT_RUNS: &str = "SELECT id, command, started_at, finished_at, status, packets, bytes,
     flows, duplicates, decode_errors, evictions, elapsed_secs, threads, version
     FROM runs WHERE (?1 IS NULL OR id = ?1) ORDER BY id";

const SELECT_INPUTS: &str = "SELECT run_id, path, packets, bytes, error
     FROM run_inputs WHERE (?1 IS NULL OR run_id = ?1) ORDER BY run_id, seq";

const UPSERT_FLOW: &str = "INSERT INTO flow_hourly (hour, orig_h, resp_h, proto, resp_p,
     service, vlan, conns, orig_pkts, resp_pkts, orig_bytes, resp_bytes, orig_ip_bytes,
     resp_ip_bytes, duration, first_seen, last_seen, last_run_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)
     ON CONFLICT (hour, orig_h, resp_h, proto, resp_p, service, vlan) DO UPDATE SET
       conns         = conns         + excluded.conns,
       orig_pkts     = orig_pkts     + excluded.orig_pkts,
       resp_pkts     = resp_pkts     + excluded.resp_pkts,
       orig_bytes    = orig_bytes    + excluded.orig_bytes,
       resp_bytes    = resp_bytes    + excluded.resp_bytes,
       orig_ip_bytes = orig_ip_bytes + excluded.orig_ip_bytes,
       resp_ip_bytes = resp_ip_bytes + excluded.resp_ip_bytes,
       duration      = duration      + excluded.duration,
       first_seen    = min(first_seen, excluded.first_seen),
       last_seen     = max(last_seen, excluded.last_seen),
       last_run_id   = coalesce(excluded.last_run_id, last_run_id)";

/// The filter of [`FlowFilter`] as a WHERE clause over ?1 (from), ?2 (to)
/// and ?3 (host); static, so the statements that use it are cached.
macro_rules! flow_where {
    () => {
        "(?1 IS NULL OR hour >= ?1) AND (?2 IS NULL OR hour < ?2)
         AND (?3 IS NULL OR orig_h = ?3 OR resp_h = ?3)"
    };
}

const SELECT_FLOWS: &str = concat!(
    "SELECT hour, orig_h, resp_h, proto, resp_p, service, vlan, conns, orig_pkts,
     resp_pkts, orig_bytes, resp_bytes, orig_ip_bytes, resp_ip_bytes, duration,
     first_seen, last_seen, last_run_id
     FROM flow_hourly WHERE ",
    flow_where!(),
    " ORDER BY hour, orig_h, resp_h, proto, resp_p, service, vlan LIMIT ?4"
);

const FLOW_TOTALS: &str = concat!(
    "SELECT count(*), coalesce(sum(conns), 0), coalesce(sum(orig_pkts), 0),
     coalesce(sum(resp_pkts), 0), coalesce(sum(orig_bytes), 0),
     coalesce(sum(resp_bytes), 0), coalesce(sum(orig_ip_bytes), 0),
     coalesce(sum(resp_ip_bytes), 0), min(first_seen), max(last_seen)
     FROM flow_hourly WHERE ",
    flow_where!()
);

/// A counter as the signed integer SQLite stores.
pub(crate) fn to_i64(field: &'static str, value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field, value })
}

/// Reads column `idx` as a counter.
pub(crate) fn get_u64(
    row: &Row<'_>,
    idx: usize,
    table: &'static str,
    column: &'static str,
) -> Result<u64, StoreError> {
    let v: i64 = get(row, idx, table, column)?;
    u64::try_from(v).map_err(|_| StoreError::Corrupt {
        table,
        column,
        detail: format!("negative counter {v}"),
    })
}

/// Reads column `idx`, naming the column if the type is wrong.
pub(crate) fn get<T: rusqlite::types::FromSql>(
    row: &Row<'_>,
    idx: usize,
    table: &'static str,
    column: &'static str,
) -> Result<T, StoreError> {
    row.get(idx).map_err(|e| StoreError::Corrupt {
        table,
        column,
        detail: e.to_string(),
    })
}

fn get_ip(row: &Row<'_>, idx: usize, column: &'static str) -> Result<IpAddr, StoreError> {
    let text: String = get(row, idx, "flow_hourly", column)?;
    text.parse().map_err(|_| StoreError::Corrupt {
        table: "flow_hourly",
        column,
        detail: format!("{text:?} is not an IP address"),
    })
}

fn insert_inputs(tx: &Transaction<'_>, id: RunId, inputs: &[RunInput]) -> Result<(), StoreError> {
    let ctx = "recording the run's inputs";
    let mut stmt = tx
        .prepare_cached(INSERT_INPUT)
        .map_err(StoreError::sqlite(ctx))?;
    for (seq, input) in inputs.iter().enumerate() {
        let seq = to_i64("input index", seq as u64)?;
        stmt.execute(params![
            id.0,
            seq,
            input.path,
            to_i64("input packets", input.packets)?,
            to_i64("input bytes", input.bytes)?,
            input.error,
        ])
        .map_err(StoreError::sqlite(ctx))?;
    }
    Ok(())
}

fn read_runs(conn: &mut Connection, only: Option<RunId>) -> Result<Vec<RunRecord>, StoreError> {
    let ctx = "reading runs";
    // One read transaction, so both queries see the same snapshot.
    let conn = conn.transaction().map_err(StoreError::sqlite(ctx))?;
    let only = only.map(|id| id.0);
    let mut runs = Vec::new();
    {
        let mut stmt = conn
            .prepare_cached(SELECT_RUNS)
            .map_err(StoreError::sqlite(ctx))?;
        let mut rows = stmt.query(params![only]).map_err(StoreError::sqlite(ctx))?;
        while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
            let status: String = get(row, 4, "runs", "status")?;
            let status = status
                .parse::<RunStatus>()
                .map_err(|e| StoreError::Corrupt {
                    table: "runs",
                    column: "status",
                    detail: e.to_string(),
                })?;
            let threads: i64 = get(row, 12, "runs", "threads")?;
            runs.push(RunRecord {
                id: RunId(get(row, 0, "runs", "id")?),
                command: get(row, 1, "runs", "command")?,
                started_at: get(row, 2, "runs", "started_at")?,
                finished_at: get(row, 3, "runs", "finished_at")?,
                inputs: Vec::new(),
                packets: get_u64(row, 5, "runs", "packets")?,
                bytes: get_u64(row, 6, "runs", "bytes")?,
                flows: get_u64(row, 7, "runs", "flows")?,
                duplicates: get_u64(row, 8, "runs", "duplicates")?,
                decode_errors: get_u64(row, 9, "runs", "decode_errors")?,
                evictions: get_u64(row, 10, "runs", "evictions")?,
                elapsed_secs: get(row, 11, "runs", "elapsed_secs")?,
                threads: u32::try_from(threads).map_err(|_| StoreError::Corrupt {
                    table: "runs",
                    column: "threads",
                    detail: format!("{threads} threads"),
                })?,
                status,
                version: get(row, 13, "runs", "version")?,
            });
        }
    }
    // Both queries are ordered by run id, so the inputs merge in one pass.
    let mut stmt = conn
        .prepare_cached(SELECT_INPUTS)
        .map_err(StoreError::sqlite(ctx))?;
    let mut rows = stmt.query(params![only]).map_err(StoreError::sqlite(ctx))?;
    let mut cursor = runs.iter_mut().peekable();
    while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
        let run_id = RunId(get(row, 0, "run_inputs", "run_id")?);
        let input = RunInput {
            path: get(row, 1, "run_inputs", "path")?,
            packets: get_u64(row, 2, "run_inputs", "packets")?,
            bytes: get_u64(row, 3, "run_inputs", "bytes")?,
            error: get(row, 4, "run_inputs", "error")?,
        };
        while cursor.peek().is_some_and(|r| r.id < run_id) {
            cursor.next();
        }
        // The foreign key guarantees the run exists.
        if let Some(run) = cursor.peek_mut().filter(|r| r.id == run_id) {
            run.inputs.push(input);
        }
    }
    drop(rows);
    drop(stmt);
    // Nothing was written; ending the transaction either way is fine.
    conn.commit().map_err(StoreError::sqlite(ctx))?;
    Ok(runs)
}

fn read_flow(row: &Row<'_>) -> Result<FlowHourly, StoreError> {
    const T: &str = "flow_hourly";
    let proto: i64 = get(row, 3, T, "proto")?;
    let resp_p: i64 = get(row, 4, T, "resp_p")?;
    let service: String = get(row, 5, T, "service")?;
    let vlan: i64 = get(row, 6, T, "vlan")?;
    let corrupt = |column, v: i64| StoreError::Corrupt {
        table: T,
        column,
        detail: format!("{v} is out of range"),
    };
    let key = FlowKey {
        hour: get(row, 0, T, "hour")?,
        orig_h: get_ip(row, 1, "orig_h")?,
        resp_h: get_ip(row, 2, "resp_h")?,
        proto: u8::try_from(proto).map_err(|_| corrupt("proto", proto))?,
        resp_p: u16::try_from(resp_p).map_err(|_| corrupt("resp_p", resp_p))?,
        service: (!service.is_empty()).then_some(service),
        vlan: match vlan {
            -1 => None,
            v => Some(u16::try_from(v).map_err(|_| corrupt("vlan", v))?),
        },
    };
    let sums = FlowSums {
        conns: get_u64(row, 7, T, "conns")?,
        orig_pkts: get_u64(row, 8, T, "orig_pkts")?,
        resp_pkts: get_u64(row, 9, T, "resp_pkts")?,
        orig_bytes: get_u64(row, 10, T, "orig_bytes")?,
        resp_bytes: get_u64(row, 11, T, "resp_bytes")?,
        orig_ip_bytes: get_u64(row, 12, T, "orig_ip_bytes")?,
        resp_ip_bytes: get_u64(row, 13, T, "resp_ip_bytes")?,
        duration_nanos: get_u64(row, 14, T, "duration")?,
        first_seen: get(row, 15, T, "first_seen")?,
        last_seen: get(row, 16, T, "last_seen")?,
    };
    let last_run: Option<i64> = get(row, 17, T, "last_run_id")?;
    Ok(FlowHourly {
        key,
        sums,
        last_run: last_run.map(RunId),
    })
}

/// The filter's parameters ?1 to ?3 as SQL values.
fn filter_params(filter: &FlowFilter) -> (Option<i64>, Option<i64>, Option<String>) {
    (filter.from, filter.to, filter.host.map(|h| h.to_string()))
}

impl Store for SqliteStore {
    fn start_run(&self, run: &NewRun) -> Result<RunId, StoreError> {
        let ctx = "recording the start of a run";
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(StoreError::sqlite(ctx))?;
        tx.prepare_cached(INSERT_RUN)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    run.command,
                    run.started_at,
                    run.threads,
                    run.version
                ])
            })
            .map_err(StoreError::sqlite(ctx))?;
        let id = RunId(tx.last_insert_rowid());
        let inputs: Vec<RunInput> = run.inputs.iter().map(RunInput::unread).collect();
        insert_inputs(&tx, id, &inputs)?;
        tx.commit().map_err(StoreError::sqlite(ctx))?;
        Ok(id)
    }

    fn finish_run(&self, id: RunId, finish: &RunFinish) -> Result<(), StoreError> {
        let ctx = "recording the end of a run";
        if finish.status == RunStatus::Running {
            return Err(StoreError::FinishedAsRunning);
        }
        let values = [
            to_i64("packets", finish.packets)?,
            to_i64("bytes", finish.bytes)?,
            to_i64("flows", finish.flows)?,
            to_i64("duplicates", finish.duplicates)?,
            to_i64("decode_errors", finish.decode_errors)?,
            to_i64("evictions", finish.evictions)?,
        ];
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(StoreError::sqlite(ctx))?;
        let changed = tx
            .prepare_cached(FINISH_RUN)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id.0,
                    finish.finished_at,
                    finish.status.as_str(),
                    values[0],
                    values[1],
                    values[2],
                    values[3],
                    values[4],
                    values[5],
                    finish.elapsed_secs,
                ])
            })
            .map_err(StoreError::sqlite(ctx))?;
        if changed == 0 {
            return Err(StoreError::UnknownRun(id));
        }
        tx.execute("DELETE FROM run_inputs WHERE run_id = ?1", params![id.0])
            .map_err(StoreError::sqlite(ctx))?;
        insert_inputs(&tx, id, &finish.inputs)?;
        tx.commit().map_err(StoreError::sqlite(ctx))
    }

    fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        read_runs(&mut self.lock(), None)
    }

    fn run(&self, id: RunId) -> Result<Option<RunRecord>, StoreError> {
        Ok(read_runs(&mut self.lock(), Some(id))?.into_iter().next())
    }

    fn add_flow_hourly(&self, rows: &[FlowHourly]) -> Result<u64, StoreError> {
        let ctx = "writing flow aggregates";
        let mut conn = self.lock();
        let tx = conn.transaction().map_err(StoreError::sqlite(ctx))?;
        {
            let mut stmt = tx
                .prepare_cached(UPSERT_FLOW)
                .map_err(StoreError::sqlite(ctx))?;
            for row in rows {
                let (k, s) = (&row.key, &row.sums);
                stmt.execute(params![
                    k.hour,
                    k.orig_h.to_string(),
                    k.resp_h.to_string(),
                    k.proto,
                    k.resp_p,
                    k.service.as_deref().unwrap_or(""),
                    k.vlan.map_or(-1, i64::from),
                    to_i64("conns", s.conns)?,
                    to_i64("orig_pkts", s.orig_pkts)?,
                    to_i64("resp_pkts", s.resp_pkts)?,
                    to_i64("orig_bytes", s.orig_bytes)?,
                    to_i64("resp_bytes", s.resp_bytes)?,
                    to_i64("orig_ip_bytes", s.orig_ip_bytes)?,
                    to_i64("resp_ip_bytes", s.resp_ip_bytes)?,
                    to_i64("duration", s.duration_nanos)?,
                    s.first_seen,
                    s.last_seen,
                    row.last_run.map(|r| r.0),
                ])
                .map_err(StoreError::sqlite(ctx))?;
            }
        }
        // An early return above drops `tx`, which rolls the batch back.
        tx.commit().map_err(StoreError::sqlite(ctx))?;
        Ok(rows.len() as u64)
    }

    fn flow_hourly(&self, filter: &FlowFilter) -> Result<Vec<FlowHourly>, StoreError> {
        let ctx = "reading flow aggregates";
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(SELECT_FLOWS)
            .map_err(StoreError::sqlite(ctx))?;
        let (from, to, host) = filter_params(filter);
        // SQLite reads a negative LIMIT as "no limit".
        let limit = filter.limit.map_or(-1, i64::from);
        let mut rows = stmt
            .query(params![from, to, host, limit])
            .map_err(StoreError::sqlite(ctx))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? {
            out.push(read_flow(row)?);
        }
        Ok(out)
    }

    fn flow_totals(&self, filter: &FlowFilter) -> Result<FlowTotals, StoreError> {
        let ctx = "summing flow aggregates";
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(FLOW_TOTALS)
            .map_err(StoreError::sqlite(ctx))?;
        let (from, to, host) = filter_params(filter);
        let mut rows = stmt
            .query(params![from, to, host])
            .map_err(StoreError::sqlite(ctx))?;
        let Some(row) = rows.next().map_err(StoreError::sqlite(ctx))? else {
            return Ok(FlowTotals::default());
        };
        const T: &str = "flow_hourly";
        Ok(FlowTotals {
            rows: get_u64(row, 0, T, "count(*)")?,
            conns: get_u64(row, 1, T, "sum(conns)")?,
            orig_pkts: get_u64(row, 2, T, "sum(orig_pkts)")?,
            resp_pkts: get_u64(row, 3, T, "sum(resp_pkts)")?,
            orig_bytes: get_u64(row, 4, T, "sum(orig_bytes)")?,
            resp_bytes: get_u64(row, 5, T, "sum(resp_bytes)")?,
            orig_ip_bytes: get_u64(row, 6, T, "sum(orig_ip_bytes)")?,
            resp_ip_bytes: get_u64(row, 7, T, "sum(resp_ip_bytes)")?,
            first_seen: get(row, 8, T, "min(first_seen)")?,
            last_seen: get(row, 9, T, "max(last_seen)")?,
        })
    }
}

impl LedgerStore for SqliteStore {
    fn upsert_assets(&self, rows: &[AssetRow]) -> Result<u64, StoreError> {
        sqlite_ledger::upsert_assets(&mut self.lock(), rows)
    }

    fn assets(&self, query: &AssetQuery) -> Result<Vec<AssetRow>, StoreError> {
        sqlite_ledger::assets(&self.lock(), query)
    }

    fn asset_count(&self, query: &AssetQuery) -> Result<u64, StoreError> {
        sqlite_ledger::asset_count(&self.lock(), query)
    }

    fn asset(&self, key: &str) -> Result<Option<AssetRow>, StoreError> {
        sqlite_ledger::asset(&self.lock(), key)
    }

    fn add_alerts(&self, rows: &[AlertRow]) -> Result<Vec<i64>, StoreError> {
        sqlite_ledger::add_alerts(&mut self.lock(), rows)
    }

    fn alerts(&self, query: &AlertQuery) -> Result<Vec<AlertRow>, StoreError> {
        sqlite_ledger::alerts(&self.lock(), query)
    }

    fn alert_count(&self, query: &AlertQuery) -> Result<u64, StoreError> {
        sqlite_ledger::alert_count(&self.lock(), query)
    }

    fn alert(&self, id: i64) -> Result<Option<AlertRow>, StoreError> {
        sqlite_ledger::alert(&self.lock(), id)
    }

    fn set_alert_status(
        &self,
        id: i64,
        status: AlertStatus,
        by: &str,
        at: i64,
    ) -> Result<bool, StoreError> {
        sqlite_ledger::set_alert_status(&self.lock(), id, status, by, at)
    }

    fn save_baseline(&self, baseline: &BaselineRow) -> Result<i64, StoreError> {
        sqlite_ledger::save_baseline(&self.lock(), baseline)
    }

    fn latest_baseline(&self) -> Result<Option<BaselineRow>, StoreError> {
        Ok(sqlite_ledger::baselines(&self.lock(), true, true)?
            .into_iter()
            .next())
    }

    fn baselines(&self) -> Result<Vec<BaselineRow>, StoreError> {
        sqlite_ledger::baselines(&self.lock(), false, false)
    }
}

impl PortalStore for SqliteStore {
    fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        sp::users(&self.lock())
    }

    fn user(&self, id: i64) -> Result<Option<UserRow>, StoreError> {
        sp::user(&self.lock(), Some(id), None)
    }

    fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        sp::user(&self.lock(), None, Some(username))
    }

    fn create_user(&self, user: &UserRow) -> Result<Option<i64>, StoreError> {
        sp::create_user(&self.lock(), user)
    }

    fn update_user(&self, user: &UserRow) -> Result<bool, StoreError> {
        sp::update_user(&self.lock(), user)
    }

    fn delete_user(&self, id: i64) -> Result<bool, StoreError> {
        sp::delete_user(&self.lock(), id)
    }

    fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        sp::accept_totp_step(&self.lock(), user_id, step)
    }

    fn create_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        sp::create_session(&self.lock(), session)
    }

    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        sp::session(&self.lock(), id_hash)
    }

    fn touch_session(
        &self,
        id_hash: &str,
        last_used: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sp::touch_session(&self.lock(), id_hash, last_used, expires_at)
    }

    fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let sql = "DELETE FROM sessions WHERE id_hash = ?1";
        sp::exec1(&self.lock(), "ending a session", sql, id_hash).map(|_| ())
    }

    fn delete_user_sessions(&self, user_id: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM sessions WHERE user_id = ?1";
        sp::exec1(&self.lock(), "ending sessions", sql, user_id)
    }

    fn purge_expired(&self, now: i64, attempts_before: i64) -> Result<u64, StoreError> {
        sp::purge_expired(&self.lock(), now, attempts_before)
    }

    fn create_api_token(&self, token: &ApiTokenRow) -> Result<i64, StoreError> {
        sp::create_api_token(&self.lock(), token)
    }

    fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>, StoreError> {
        Ok(sp::api_tokens(&self.lock(), Some(token_hash))?
            .into_iter()
            .next())
    }

    fn api_tokens(&self) -> Result<Vec<ApiTokenRow>, StoreError> {
        sp::api_tokens(&self.lock(), None)
    }

    fn delete_api_token(&self, id: i64) -> Result<bool, StoreError> {
        let sql = "DELETE FROM api_tokens WHERE id = ?1";
        Ok(sp::exec1(&self.lock(), "deleting an API token", sql, id)? > 0)
    }

    fn touch_api_token(&self, id: i64, at: i64) -> Result<(), StoreError> {
        self.lock()
            .execute(
                "UPDATE api_tokens SET last_used = ?2 WHERE id = ?1",
                params![id, at],
            )
            .map_err(StoreError::sqlite("recording an API token's use"))?;
        Ok(())
    }

    fn record_login_attempt(
        &self,
        ts: i64,
        username: &str,
        ip: &str,
        ok: bool,
    ) -> Result<(), StoreError> {
        sp::record_login_attempt(&self.lock(), ts, username, ip, ok)
    }

    fn failed_logins_for_user(&self, username: &str, since: i64) -> Result<u64, StoreError> {
        sp::failed_logins_for_user(&self.lock(), username, since)
    }

    fn failed_logins_from_ip(&self, ip: &str, since: i64) -> Result<u64, StoreError> {
        sp::failed_logins_from_ip(&self.lock(), ip, since)
    }

    fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sp::setting(&self.lock(), key)
    }

    fn set_setting(&self, key: &str, value: &str, by: &str, at: i64) -> Result<(), StoreError> {
        sp::set_setting(&self.lock(), key, value, by, at)
    }

    fn flow_edges(&self, filter: &FlowFilter) -> Result<Vec<FlowEdge>, StoreError> {
        sp::flow_edges(&self.lock(), filter)
    }

    fn flow_buckets(&self, filter: &FlowFilter) -> Result<Vec<FlowBucket>, StoreError> {
        sp::flow_buckets(&self.lock(), filter)
    }

    fn asset_labels(&self) -> Result<Vec<AssetLabel>, StoreError> {
        sp::asset_labels(&self.lock())
    }
}
