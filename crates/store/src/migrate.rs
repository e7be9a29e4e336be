//! Versioned schema migrations, embedded from `migrations/NNNN_name.sql`.
//!
//! A migration is applied once and recorded in `schema_version`; all pending
//! migrations run in one transaction, so a failure leaves the database at the
//! version it had. Migrations only ever add: a released migration is never
//! edited, a change is a new file with the next number.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::StoreError;
use crate::model::unix_nanos_now;

/// One schema step.
pub(crate) struct Migration {
    /// 1, 2, 3, ... without gaps; the `NNNN` of the file name.
    pub(crate) version: u32,
    /// The `name` of the file name.
    pub(crate) name: &'static str,
    /// The SQL, without BEGIN/COMMIT (the caller holds the transaction).
    pub(crate) sql: &'static str,
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs_and_flows",
        sql: include_str!("../migrations/0001_runs_and_flows.sql"),
    },
    Migration {
        version: 2,
        name: "assets_alerts_baselines",
        sql: include_str!("../migrations/0002_assets_alerts_baselines.sql"),
    },
    Migration {
        version: 3,
        name: "portal",
        sql: include_str!("../migrations/0003_portal.sql"),
    },
];

/// The schema version this build writes and reads.
pub const SCHEMA_VERSION: u32 = match MIGRATIONS.last() {
    Some(m) => m.version,
    None => 0,
};

const CREATE_VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
)";

/// The version recorded in the database; 0 when it has no `schema_version`.
pub(crate) fn current_version(conn: &Connection) -> Result<u32, StoreError> {
    let has_table: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(StoreError::sqlite("reading the schema version"))?;
    if has_table.is_none() {
        return Ok(0);
    }
    let version: i64 = conn
        .query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |row| row.get(0),
        )
        .map_err(StoreError::sqlite("reading the schema version"))?;
    u32::try_from(version).map_err(|_| StoreError::Corrupt {
        table: "schema_version",
        column: "version",
        detail: format!("{version} is not a schema version"),
    })
}

/// Brings the database to [`SCHEMA_VERSION`], or refuses a newer one.
///
/// Returns the version the database had before.
pub(crate) fn migrate(conn: &mut Connection) -> Result<u32, StoreError> {
    // IMMEDIATE takes the write lock up front, so two processes opening a
    // fresh store at once do not both try to apply migration 1.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(StoreError::sqlite("starting the migration transaction"))?;
    let found = current_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found == SCHEMA_VERSION {
        // Nothing to write; dropping the transaction ends it.
        return Ok(found);
    }
    tx.execute_batch(CREATE_VERSION_TABLE)
        .map_err(StoreError::sqlite("creating schema_version"))?;
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        let failed = |source| StoreError::Migration {
            version: m.version,
            name: m.name,
            source,
        };
        tx.execute_batch(m.sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)",
            params![m.version, m.name, unix_nanos_now()],
        )
        .map_err(failed)?;
    }
    tx.commit()
        .map_err(StoreError::sqlite("committing the migrations"))?;
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_contiguous_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "migration {}", m.name);
        }
        assert_eq!(SCHEMA_VERSION as usize, MIGRATIONS.len());
    }

    /// A file added to `migrations/` but not to `MIGRATIONS` would never run.
    #[test]
    fn every_migration_file_is_listed() -> std::io::Result<()> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = MIGRATIONS
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
        Ok(())
    }
}
