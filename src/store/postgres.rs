//! PostgreSQL, for several Tumbler servers sharing one database.

use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor};

use super::StoreResult;
use super::sql::{Backend, SqlStore, migrate};

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "rotation",
        include_str!("../../migrations/postgres/0002_rotation.sql"),
    ),
    (
        3,
        "iam_audit",
        include_str!("../../migrations/postgres/0003_iam_audit.sql"),
    ),
];

/// Servers starting together take this advisory lock so that one of them migrates.
const MIGRATION_LOCK: i64 = 0x7475_6d62_6c65_7200; // "tumbler\0"

pub async fn open(url: &str) -> StoreResult<SqlStore> {
    sqlx::any::install_default_drivers();
    let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    {
        let mut conn = sqlx::AnyConnection::connect_with(&options).await?;
        conn.execute(sqlx::query("SELECT pg_advisory_lock($1)").bind(MIGRATION_LOCK))
            .await?;
        let migrated = migrate(&mut conn, MIGRATIONS).await;
        conn.execute(sqlx::query("SELECT pg_advisory_unlock($1)").bind(MIGRATION_LOCK))
            .await?;
        migrated?;
        conn.close().await?;
    }
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await?;
    Ok(SqlStore {
        pool,
        backend: Backend::Postgres,
        _owner_lock: None,
    })
}
