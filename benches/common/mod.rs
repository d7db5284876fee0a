//! What the benchmarks share: a fresh PostgreSQL database per run, when one answers.

/// A new database at TUMBLER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432),
/// or `None` when there is no server.
pub async fn postgres_url() -> Option<String> {
    use sqlx::Connection;
    let base = std::env::var("TUMBLER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .ok()?;
    let db = format!("tumbler_bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut conn)
        .await
        .ok()?;
    Some(format!("{base}/{db}"))
}

pub async fn drop_database(url: &str) {
    use sqlx::Connection;
    let Some((base, db)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{base}/postgres")).await {
        let sql = format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)");
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await;
    }
}
