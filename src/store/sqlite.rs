//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

use super::StoreResult;
use super::sql::{Backend, SqlStore, migrate};

const MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "initial",
    include_str!("../../migrations/sqlite/0001_initial.sql"),
)];

/// Per-connection settings. `synchronous = FULL` makes every acknowledged commit durable
/// across a crash of the process or the machine; `busy_timeout` makes writers queue instead
/// of failing while another connection writes.
const CONNECTION_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;";

/// Opens (creating if needed) the database at `url` (`sqlite://PATH`) and migrates it.
pub async fn open(url: &str) -> StoreResult<SqlStore> {
    sqlx::any::install_default_drivers();
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
    Ok(SqlStore {
        pool,
        backend: Backend::Sqlite,
    })
}
