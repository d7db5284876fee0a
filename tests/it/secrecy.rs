//! Secret values never rest in plaintext and never reach the logs.

use aws_sdk_secretsmanager::primitives::Blob;

use crate::harness::{Backend, ChildServer, TestServer, postgres_url, unique};

const MARKER: &str = "PLAINTEXT-MARKER-7f3a9c";

/// Writes values that contain MARKER in every way a value can arrive.
async fn write_marked_values(c: &aws_sdk_secretsmanager::Client) {
    let name = unique("secrecy");
    c.create_secret()
        .name(&name)
        .secret_string(format!("{{\"password\":\"{MARKER}-create\"}}"))
        .send()
        .await
        .unwrap();
    c.put_secret_value()
        .secret_id(&name)
        .secret_string(format!("{MARKER}-put"))
        .send()
        .await
        .unwrap();
    c.update_secret()
        .secret_id(&name)
        .secret_string(format!("{MARKER}-update"))
        .send()
        .await
        .unwrap();
    let bin = unique("secrecy-bin");
    c.create_secret()
        .name(&bin)
        .secret_binary(Blob::new(format!("{MARKER}-binary").into_bytes()))
        .send()
        .await
        .unwrap();
    c.get_secret_value().secret_id(&name).send().await.unwrap();
    c.batch_get_secret_value()
        .secret_id_list(&name)
        .secret_id_list(&bin)
        .send()
        .await
        .unwrap();
    // Failures that carry the value: an oversized one and a token clash.
    let _ = c
        .put_secret_value()
        .secret_id(&name)
        .secret_string(format!("{MARKER}{}", "x".repeat(65_536)))
        .send()
        .await;
    let t = uuid::Uuid::new_v4().to_string();
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(&t)
        .secret_string(format!("{MARKER}-a"))
        .send()
        .await
        .unwrap();
    let _ = c
        .put_secret_value()
        .secret_id(&name)
        .client_request_token(&t)
        .secret_string(format!("{MARKER}-b"))
        .send()
        .await;
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_files_never_hold_a_value_in_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let server = ChildServer::spawn(&dir.path().join("data"), &[], &[]).await;
    write_marked_values(&server.client()).await;
    let audit_log = dir.path().join("data").join("audit.log");
    crate::harness::eventually(5, "the calls' audit records to be written", || async {
        std::fs::read_to_string(&audit_log)
            .unwrap_or_default()
            .contains("PutSecretValue")
    })
    .await;
    server.kill_9();
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        scanned += bytes.len();
        assert!(
            !contains(&bytes, MARKER),
            "{} holds a value in plaintext",
            path.display()
        );
        assert!(!contains(&bytes, "-create"), "{}", path.display());
    }
    assert!(scanned > 10_000, "the database files were there to scan");
    let audit = std::fs::read_to_string(dir.path().join("data").join("audit.log")).unwrap();
    assert!(
        audit.contains("PutSecretValue"),
        "the audit trail was there to scan"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_postgres_tables_never_hold_a_value_in_plaintext() {
    let Some(url) = postgres_url("secrecy").await else {
        return;
    };
    let server = TestServer::start(Backend::Postgres(url.clone())).await;
    write_marked_values(&server.client()).await;
    server.stop().await;
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    // Every table, every row, as text: the marker must appear nowhere.
    let rows = sqlx::query(
        "SELECT string_agg(t::text, '|') AS dump FROM (
            SELECT s::text AS t FROM secrets s UNION ALL
            SELECT v::text FROM secret_versions v UNION ALL
            SELECT encode(value, 'escape') FROM secret_versions WHERE value IS NOT NULL UNION ALL
            SELECT a::text FROM access_keys a UNION ALL
            SELECT e::text FROM audit_batches e) x",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    let dump: String = rows.try_get("dump").unwrap();
    assert!(dump.len() > 1000);
    assert!(!dump.contains(MARKER));
    assert!(
        !dump.contains(crate::harness::SECRET_ACCESS_KEY),
        "access keys are sealed too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_at_trace_level_never_hold_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let server = ChildServer::spawn(
        &dir.path().join("data"),
        &["--log-format", "json"],
        &[("RUST_LOG", "trace")],
    )
    .await;
    write_marked_values(&server.client()).await;
    let logs = server.logs();
    server.kill_9();
    assert!(logs.len() > 1000, "trace logging produced output");
    assert!(logs.contains("request_id"), "logs carry request ids");
    assert!(logs.contains("secrecy-"), "logs carry secret names");
    assert!(!logs.contains(MARKER), "a value reached the logs");
    assert!(!logs.contains(crate::harness::SECRET_ACCESS_KEY));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_mode_accepts_any_credentials_and_reset_wipes_everything() {
    let dir = tempfile::tempdir().unwrap();
    let server = ChildServer::spawn(&dir.path().join("data"), &["--dev"], &[]).await;
    let anyone =
        crate::harness::client_with_keys(&server.endpoint, "us-east-1", "AKIAANYTHING", "whatever");
    let name = unique("dev");
    anyone
        .create_secret()
        .name(&name)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    assert!(server.logs().contains("DEVELOPMENT MODE"));
    for path in ["/_tumbler/reset", "/moto-api/reset"] {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", server.endpoint))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
    }
    assert!(
        anyone
            .list_secrets()
            .send()
            .await
            .unwrap()
            .secret_list()
            .is_empty()
    );
    server.kill_9();
}

#[tokio::test]
async fn reset_is_not_answered_outside_dev_mode() {
    let server = TestServer::start(Backend::Sqlite).await;
    let r = reqwest::Client::new()
        .post(format!("{}/_tumbler/reset", server.endpoint))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    server.stop().await;
}
