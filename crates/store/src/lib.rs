//! mamori's storage, behind one trait.
//!
//! # What the store holds
//!
//! The store is what outlives a run. Today it holds two things:
//!
//! - **Runs** (`runs`, `run_inputs`): one record per `analyze` (or, later,
//!   `sensor`) invocation: the command, its inputs with what was read from
//!   each and why reading stopped, the packet/byte/flow counters, elapsed
//!   time, thread count, program version and an outcome (`ok`,
//!   `damaged input`, `failed`). A run is recorded as `running` when it
//!   starts, so a run that crashed still shows up. This is what a portal lists
//!   and what tells a user which captures a baseline came from.
//! - **Hourly flow aggregates** (`flow_hourly`): connections summed per hour
//!   of their start time and per originator, responder, IP protocol,
//!   responder port, service and VLAN. Per-connection records go to
//!   `conn.jsonl`; the store keeps the size that a traffic page, a period diff
//!   or a volume baseline needs, and that stays small for months of capture.
//!   Rows only ever add: a later run over the same hour adds to the row (so
//!   analysing the same capture twice counts it twice, as the run list will
//!   show).
//!
//! Later stages (asset ledger, baseline and alerts, portal settings) extend
//! the schema with new migrations in `migrations/NNNN_name.sql` and the
//! [`Store`] trait with methods for their records.
//!
//! # Time and numbers
//!
//! Timestamps are `i64` nanoseconds since the Unix epoch, UTC. Packet
//! timestamps drive everything derived from traffic (hour buckets, first and
//! last seen); only a run's `started_at`/`finished_at` are wall-clock.
//! Counters are `u64` in the API and signed 64-bit in SQL; a value above
//! `i64::MAX` is refused, never wrapped.
//!
//! # Why one writer thread
//!
//! SQLite allows one writer at a time, and each commit costs a lock and a
//! journal append (and, at checkpoints, an fsync): far more than a row. So the
//! packet path never writes: it hands finished connections to a
//! [`StoreWriter`], a single thread behind a bounded queue, which sums them
//! in memory and writes each batch in one transaction with cached prepared
//! statements. That gives:
//!
//! - no lock contention between worker threads, and no `SQLITE_BUSY` inside
//!   the process;
//! - few large transactions instead of many small ones;
//! - bounded memory: a full queue blocks the producers (backpressure) rather
//!   than growing;
//! - all-or-nothing batches: a failed write rolls back its own batch only,
//!   what was committed before stays, and the error reaches the caller through
//!   [`StoreWriter::finish`] instead of a panic on a worker thread.
//!
//! # Example
//!
//! ```
//! use std::net::{IpAddr, Ipv4Addr};
//! use std::sync::Arc;
//! use mamori_store::*;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("mamori.db");
//! let store = Arc::new(SqliteStore::open(&path)?);
//! let run = store.start_run(&NewRun {
//!     command: "analyze".into(),
//!     started_at: unix_nanos_now(),
//!     inputs: vec!["plant.pcapng".into()],
//!     threads: 2,
//!     version: env!("CARGO_PKG_VERSION").into(),
//! })?;
//!
//! let writer = StoreWriter::spawn(store.clone(), WriterConfig::default())?;
//! writer.send(ConnSummary {
//!     ts: 1_777_593_600_000_000_000,
//!     orig_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)),
//!     resp_h: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 20)),
//!     proto: 6,
//!     resp_p: 502,
//!     service: Some("modbus".into()),
//!     vlan: None,
//!     orig_pkts: 4, resp_pkts: 4, orig_bytes: 24, resp_bytes: 22,
//!     orig_ip_bytes: 232, resp_ip_bytes: 230,
//!     duration_nanos: 1_500_000,
//!     run_id: run,
//! })?;
//! let stats = writer.finish()?; // writes what is pending; returns any error
//! assert_eq!(stats.conns, 1);
//!
//! store.finish_run(run, &RunFinish {
//!     finished_at: unix_nanos_now(),
//!     inputs: vec![RunInput { path: "plant.pcapng".into(), packets: 8, bytes: 600, error: None }],
//!     packets: 8, bytes: 600, flows: 1, duplicates: 0, decode_errors: 0, evictions: 0,
//!     elapsed_secs: 0.01,
//!     status: RunStatus::Ok,
//! })?;
//! assert_eq!(store.flow_totals(&FlowFilter::default())?.conns, 1);
//! assert_eq!(store.runs()?[0].status, RunStatus::Ok);
//! # Ok(())
//! # }
//! ```
//!
//! # Back ends
//!
//! [`SqliteStore`] is the embedded default: one file, WAL journaling (readers
//! in other processes do not block the writer), versioned migrations applied
//! on open in one transaction, and refusal to open a store written by a newer
//! mamori. A PostgreSQL back end will implement the same [`Store`] trait; the
//! schema avoids SQLite-only constructs where it can (sentinel values instead
//! of NULL in key columns, plain `INSERT .. ON CONFLICT .. DO UPDATE`).

mod error;
mod ledger;
mod migrate;
mod model;
mod portal;
mod sqlite;
mod sqlite_ledger;
mod sqlite_portal;
mod writer;

pub use error::StoreError;
pub use ledger::{AlertQuery, AlertRow, AlertStatus, AssetQuery, AssetRow, AssetSort, BaselineRow};
pub use migrate::SCHEMA_VERSION;
pub use model::{
    ConnSummary, FlowFilter, FlowHourly, FlowKey, FlowSums, FlowTotals, HOUR_NANOS, NewRun,
    RunFinish, RunId, RunInput, RunRecord, RunStatus, UnknownRunStatus, hour_bucket,
    unix_nanos_now,
};
pub use portal::{ApiTokenRow, AssetLabel, FlowBucket, FlowEdge, Role, SessionRow, UserRow};
pub use sqlite::SqliteStore;
pub use writer::{StoreWriter, WriteStats, WriterConfig};

/// What every storage back end provides.
///
/// Object-safe, so the CLI and the writer hold an `Arc<dyn Store>` and do not
/// care which back end is behind it. Every method is a complete unit of work:
/// it commits or changes nothing.
pub trait Store: Send + Sync {
    /// Records the start of a run (status `running`) and returns its id.
    fn start_run(&self, run: &NewRun) -> Result<RunId, StoreError>;

    /// Records the end of run `id`: counters, status and the inputs with
    /// their counts (replacing the list given at the start).
    ///
    /// Fails with [`StoreError::UnknownRun`] if there is no such run and with
    /// [`StoreError::FinishedAsRunning`] if `finish.status` is `Running`.
    fn finish_run(&self, id: RunId, finish: &RunFinish) -> Result<(), StoreError>;

    /// Every run, oldest first, with its inputs.
    fn runs(&self) -> Result<Vec<RunRecord>, StoreError>;

    /// One run, with its inputs.
    fn run(&self, id: RunId) -> Result<Option<RunRecord>, StoreError>;

    /// Adds each row's sums to the stored row with the same key, inserting
    /// the rows that are new, in one transaction. `first_seen` keeps the
    /// minimum, `last_seen` the maximum, and `last_run` is replaced when the
    /// row gives one. Returns the number of rows written.
    ///
    /// A row whose `last_run` names no run fails the whole batch.
    fn add_flow_hourly(&self, rows: &[FlowHourly]) -> Result<u64, StoreError>;

    /// The hourly flow rows that `filter` selects, in key order (hour,
    /// originator, responder, protocol, port, service, VLAN).
    fn flow_hourly(&self, filter: &FlowFilter) -> Result<Vec<FlowHourly>, StoreError>;

    /// Sums over the rows that `filter` selects (its `limit` is ignored).
    fn flow_totals(&self, filter: &FlowFilter) -> Result<FlowTotals, StoreError>;
}

/// The asset ledger, alerts and baselines: what the ledger, the detectors and the
/// portal read and write. A separate trait from [`Store`] so that flow-only tools and
/// test doubles need not implement it.
pub trait LedgerStore: Store {
    /// Writes assets, replacing the stored row with the same key (its `first_seen`
    /// keeps the earlier time, `last_seen` the later), in one transaction.
    fn upsert_assets(&self, rows: &[AssetRow]) -> Result<u64, StoreError>;

    /// The assets `query` selects, in its order.
    fn assets(&self, query: &AssetQuery) -> Result<Vec<AssetRow>, StoreError>;

    /// How many assets `query` selects (ignoring its limit and offset).
    fn asset_count(&self, query: &AssetQuery) -> Result<u64, StoreError>;

    /// One asset by key (`mac:...` or `ip:...`).
    fn asset(&self, key: &str) -> Result<Option<AssetRow>, StoreError>;

    /// Adds alerts; a row whose fingerprint is stored already adds its count to the
    /// stored one and widens its time span (the status stays). Returns the ids.
    fn add_alerts(&self, rows: &[AlertRow]) -> Result<Vec<i64>, StoreError>;

    /// The alerts `query` selects, newest first.
    fn alerts(&self, query: &AlertQuery) -> Result<Vec<AlertRow>, StoreError>;

    /// How many alerts `query` selects (ignoring its limit and offset).
    fn alert_count(&self, query: &AlertQuery) -> Result<u64, StoreError>;

    /// One alert by id.
    fn alert(&self, id: i64) -> Result<Option<AlertRow>, StoreError>;

    /// Sets an alert's status (acknowledged, accepted) with who and when; false when
    /// there is no such alert.
    fn set_alert_status(
        &self,
        id: i64,
        status: AlertStatus,
        by: &str,
        at: i64,
    ) -> Result<bool, StoreError>;

    /// Saves a baseline as the next version; returns the version.
    fn save_baseline(&self, baseline: &BaselineRow) -> Result<i64, StoreError>;

    /// The newest baseline with its data.
    fn latest_baseline(&self) -> Result<Option<BaselineRow>, StoreError>;

    /// Every baseline, newest first, without its data.
    fn baselines(&self) -> Result<Vec<BaselineRow>, StoreError>;
}

/// What the web portal keeps beyond the ledger: users, sessions, API tokens, login
/// attempts and settings, and the flow summaries its pages draw (see
/// [`UserRow`] and its neighbours). A trait of its own, like [`LedgerStore`], so that
/// tools without a portal need not implement it.
pub trait PortalStore: LedgerStore {
    /// Every user, by name.
    fn users(&self) -> Result<Vec<UserRow>, StoreError>;

    /// One user by id.
    fn user(&self, id: i64) -> Result<Option<UserRow>, StoreError>;

    /// One user by login name.
    fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError>;

    /// Adds a user; `None` when the name is taken.
    fn create_user(&self, user: &UserRow) -> Result<Option<i64>, StoreError>;

    /// Rewrites user `user.id` (all but its name and creation time); false when
    /// there is no such user.
    fn update_user(&self, user: &UserRow) -> Result<bool, StoreError>;

    /// Deletes a user with its sessions and tokens; false when there is none.
    fn delete_user(&self, id: i64) -> Result<bool, StoreError>;

    /// Records TOTP time step `step` as used by the user if it is newer than the
    /// last one recorded; false for a step already used (a replayed code).
    fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError>;

    /// Stores a new session.
    fn create_session(&self, session: &SessionRow) -> Result<(), StoreError>;

    /// One session by the hash of its id (expired ones too: the caller checks).
    fn session(&self, id_hash: &str) -> Result<Option<SessionRow>, StoreError>;

    /// Moves a session's last use and expiry.
    fn touch_session(
        &self,
        id_hash: &str,
        last_used: i64,
        expires_at: i64,
    ) -> Result<(), StoreError>;

    /// Ends one session.
    fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;

    /// Ends every session of a user; returns how many.
    fn delete_user_sessions(&self, user_id: i64) -> Result<u64, StoreError>;

    /// Deletes expired sessions and tokens, and login attempts older than
    /// `attempts_before`; returns the rows deleted.
    fn purge_expired(&self, now: i64, attempts_before: i64) -> Result<u64, StoreError>;

    /// Stores an API token; returns its id.
    fn create_api_token(&self, token: &ApiTokenRow) -> Result<i64, StoreError>;

    /// One API token by the hash of the token.
    fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRow>, StoreError>;

    /// Every API token, newest first.
    fn api_tokens(&self) -> Result<Vec<ApiTokenRow>, StoreError>;

    /// Deletes an API token; false when there is none.
    fn delete_api_token(&self, id: i64) -> Result<bool, StoreError>;

    /// Records a use of an API token.
    fn touch_api_token(&self, id: i64, at: i64) -> Result<(), StoreError>;

    /// Records a login attempt, failed or not.
    fn record_login_attempt(
        &self,
        ts: i64,
        username: &str,
        ip: &str,
        ok: bool,
    ) -> Result<(), StoreError>;

    /// Failed logins for `username` at or after `since` and after its last
    /// successful one.
    fn failed_logins_for_user(&self, username: &str, since: i64) -> Result<u64, StoreError>;

    /// Failed logins from `ip` at or after `since`.
    fn failed_logins_from_ip(&self, ip: &str, since: i64) -> Result<u64, StoreError>;

    /// A setting's JSON text.
    fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Writes a setting's JSON text, with who and when.
    fn set_setting(&self, key: &str, value: &str, by: &str, at: i64) -> Result<(), StoreError>;

    /// Communications summed over the hours `filter` selects, most bytes first,
    /// at most `filter.limit`.
    fn flow_edges(&self, filter: &FlowFilter) -> Result<Vec<FlowEdge>, StoreError>;

    /// Traffic per hour and service over the hours `filter` selects, in hour order.
    fn flow_buckets(&self, filter: &FlowFilter) -> Result<Vec<FlowBucket>, StoreError>;

    /// Every asset's label columns (no detail), by key.
    fn asset_labels(&self) -> Result<Vec<AssetLabel>, StoreError>;
}
