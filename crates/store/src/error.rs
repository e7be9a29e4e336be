//! The one error type of the store.

use std::path::PathBuf;

use crate::model::RunId;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened or set up.
    #[error("cannot open the store at {path}: {source}")]
    Open {
        /// The path given.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer mamori; this one will not touch it.
    #[error(
        "the store has schema version {found}, newer than this mamori understands \
         (up to {supported}); upgrade mamori or use another --db"
    )]
    NewerSchema {
        /// Version recorded in the database.
        found: u32,
        /// Highest version this build knows.
        supported: u32,
    },
    /// A read-only store is older than this build and cannot be upgraded
    /// without writing to it.
    #[error(
        "the store has schema version {found} but this mamori needs {required}; \
         open it once for writing to upgrade it"
    )]
    OutdatedSchema {
        /// Version recorded in the database.
        found: u32,
        /// Version this build needs.
        required: u32,
    },
    /// Applying a schema migration failed; the database is left as it was.
    #[error("schema migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's version.
        version: u32,
        /// The migration's name.
        name: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A statement failed.
    #[error("{context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// A stored value does not decode (e.g. an address that is not one).
    #[error("corrupt value in {table}.{column}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// A counter is too large for the store's 64-bit signed integers.
    #[error("{field} = {value} is out of range for the store (max {max})", max = i64::MAX)]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value.
        value: u64,
    },
    /// No run has this id.
    #[error("no run with id {0}")]
    UnknownRun(RunId),
    /// A run cannot be finished with [`RunStatus::Running`](crate::RunStatus::Running).
    #[error("a run cannot be finished with status \"running\"")]
    FinishedAsRunning,
    /// The store writer thread has stopped (after an error); call
    /// [`StoreWriter::finish`](crate::StoreWriter::finish) for the cause.
    #[error("the store writer has stopped; its error is returned by finish()")]
    WriterStopped,
    /// The store writer thread panicked (a bug).
    #[error("the store writer thread panicked")]
    WriterPanicked,
    /// The store writer thread could not be started.
    #[error("cannot start the store writer thread: {0}")]
    Spawn(#[source] std::io::Error),
    /// A thread panicked while it held the database connection.
    #[error("the store connection lock is poisoned by an earlier panic")]
    Poisoned,
}

impl StoreError {
    /// Wraps a SQLite error with what the store was doing.
    pub(crate) fn sqlite(context: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite { context, source }
    }
}
