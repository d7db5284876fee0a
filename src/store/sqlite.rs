//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

use super::sql::{Backend, SqlStore, migrate};
use super::{Store, StoreError, StoreResult};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "rotation",
        include_str!("../../migrations/sqlite/0002_rotation.sql"),
    ),
    (
        3,
        "iam_audit",
        include_str!("../../migrations/sqlite/0003_iam_audit.sql"),
    ),
];

/// Per-connection settings. `synchronous = FULL` makes every acknowledged commit durable
/// across a crash of the process or the machine; `busy_timeout` makes writers queue instead
/// of failing while another connection writes.
const CONNECTION_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;";

/// Opens (creating if needed) the database at `url` (`sqlite://PATH`) and migrates it.
pub async fn open(url: &str) -> StoreResult<SqlStore> {
    sqlx::any::install_default_drivers();
    let lock = lock_database(url)?;
    let url = if url.contains('?') {
        url.to_owned()
    } else {
        format!("{url}?mode=rwc")
    };
    let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
    {
        let mut conn = sqlx::AnyConnection::connect_with(&options).await?;
        // WAL lets readers proceed while one writer commits; it is a property of the file.
        conn.execute("PRAGMA journal_mode = WAL;").await?;
        conn.execute(CONNECTION_PRAGMAS).await?;
        migrate(&mut conn, MIGRATIONS).await?;
        conn.close().await?;
    }
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(CONNECTION_PRAGMAS).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    let store = SqlStore {
        pool,
        backend: Backend::Sqlite,
        _owner_lock: Some(lock),
    };
    // This process owns the file (the lock above), so any rotation lease in it is a previous
    // run's: its rotations resume at once instead of waiting for the lease to run out.
    store.release_rotation_leases(None).await?;
    Ok(store)
}

/// Takes an exclusive lock on `<database>.lock`, so that a second server on the same file
/// refuses to start instead of silently sharing it (reads are cached in the owning process).
fn lock_database(url: &str) -> StoreResult<std::fs::File> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    let lock_path = format!("{path}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| StoreError::Corrupt(format!("{lock_path}: {e}")))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(_) => Err(StoreError::Corrupt(format!(
            "{path} is in use by another Tumbler server ({lock_path} is locked); several servers share a PostgreSQL database, never one SQLite file"
        ))),
    }
}
