//! Starting servers for tests, and clients for them.

use std::path::PathBuf;
use std::sync::Arc;

use aws_credential_types::Credentials;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Region};
use tumbler::clock::{Clock, SystemClock};
use tumbler::config::{Config, FileConfig, Overrides};
use tumbler::server::Tumbler;
use zeroize::Zeroizing;

pub const ACCESS_KEY_ID: &str = "AKIATUMBLERTEST00001";
pub const SECRET_ACCESS_KEY: &str = "tumbler-test-secret-key-0000000000000000";

/// Which database a test server uses.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A fresh PostgreSQL database (created by [`postgres_url`]).
    Postgres(String),
}

pub struct TestServer {
    pub endpoint: String,
    /// The server's state, for driving background work (purges) directly.
    pub app: Arc<tumbler::api::App>,
    _data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with_clock(backend, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(backend: Backend, clock: Arc<dyn Clock>) -> TestServer {
        TestServer::start_with(backend, clock, "").await
    }

    /// A server with `file` (TOML, as in a config file: `[rotation]`, `[[functions]]`).
    pub async fn start_with(backend: Backend, clock: Arc<dyn Clock>, file: &str) -> TestServer {
        let data_dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            data_dir: Some(data_dir.path().to_path_buf()),
            listen: Some("127.0.0.1:0".into()),
            database_url: match &backend {
                Backend::Sqlite => None,
                Backend::Postgres(url) => Some(url.clone()),
            },
            admin_access_key_id: Some(ACCESS_KEY_ID.into()),
            admin_secret_access_key: Some(Zeroizing::new(SECRET_ACCESS_KEY.into())),
            ..Default::default()
        };
        let file: FileConfig = toml::from_str(file).unwrap();
        let config = Config::merge(file, overrides).unwrap();
        let tumbler = Tumbler::open_with_clock(&config, clock).await.unwrap();
        let app = tumbler.app.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tumbler
                .serve(listener, async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TestServer {
            endpoint,
            app,
            _data_dir: data_dir,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn client(&self) -> Client {
        client_for(&self.endpoint, "us-east-1")
    }

    pub fn client_in(&self, region: &str) -> Client {
        client_for(&self.endpoint, region)
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

pub fn client_for(endpoint: &str, region: &str) -> Client {
    client_with_keys(endpoint, region, ACCESS_KEY_ID, SECRET_ACCESS_KEY)
}

pub fn client_with_keys(endpoint: &str, region: &str, id: &str, secret: &str) -> Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(id, secret, None, None, "tumbler-tests"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    Client::from_conf(config)
}

/// A PostgreSQL database of its own for one test, or `None` (with a note) where there is no
/// server. In CI (`CI` set) a missing server fails the test instead.
pub async fn postgres_url(test: &str) -> Option<String> {
    let base = std::env::var("TUMBLER_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin_url = format!("{base}/postgres");
    use sqlx::Connection;
    let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
        Ok(c) => c,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("PostgreSQL is required in CI but {admin_url} is unreachable: {e}");
            }
            eprintln!(
                "SKIPPED {test}: no PostgreSQL at {admin_url} ({e}); set TUMBLER_TEST_POSTGRES_URL to run it"
            );
            return None;
        }
    };
    // The unique part first: PostgreSQL cuts identifiers at 63 bytes.
    let id = uuid::Uuid::new_v4().simple().to_string();
    let db: String = format!("tumbler_it_{}_{test}", &id[..12])
        .chars()
        .take(60)
        .collect();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{db}\"")))
        .execute(&mut conn)
        .await
        .unwrap();
    Some(format!("{base}/{db}"))
}

/// A unique secret name for a test.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}

/// The `tumbler` binary built for these tests.
pub fn tumbler_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tumbler"))
}

/// The error code and message of a failed SDK call.
pub fn err_of<E, R>(e: aws_sdk_secretsmanager::error::SdkError<E, R>) -> (String, String)
where
    E: aws_sdk_secretsmanager::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let meta = e
        .as_service_error()
        .map(|s| (s.code().map(str::to_owned), s.message().map(str::to_owned)));
    match meta {
        Some((code, message)) => (code.unwrap_or_default(), message.unwrap_or_default()),
        None => (format!("not a service error: {e:?}"), String::new()),
    }
}

/// A `tumbler serve` process, for tests that kill it or read its logs.
pub struct ChildServer {
    pub child: std::process::Child,
    pub endpoint: String,
    pub log_path: PathBuf,
}

impl ChildServer {
    /// Starts the binary on a free port with the test admin key, logging to `log_path`, and
    /// waits until `/health` answers.
    pub async fn spawn(
        data_dir: &std::path::Path,
        extra_args: &[&str],
        extra_env: &[(&str, &str)],
    ) -> ChildServer {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let log_path = data_dir.with_extension(format!("{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut cmd = std::process::Command::new(tumbler_bin());
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra_args)
            .env("TUMBLER_ADMIN_ACCESS_KEY_ID", ACCESS_KEY_ID)
            .env("TUMBLER_ADMIN_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
            .env_remove("TUMBLER_DATABASE_URL")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let endpoint = format!("http://127.0.0.1:{port}");
        let server = ChildServer {
            child,
            endpoint,
            log_path,
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(r) = client.get(format!("{}/health", self.endpoint)).send().await
                && r.status().is_success()
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "server did not become healthy: {}",
            std::fs::read_to_string(&self.log_path).unwrap_or_default()
        );
    }

    pub fn client(&self) -> Client {
        client_for(&self.endpoint, "us-east-1")
    }

    /// SIGKILL: no chance to flush or finish anything.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGTERM, then wait for a graceful exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        self.child.wait().unwrap()
    }
}

/// Tumbler's admin API: `TumblerAdmin.<operation>` with a JSON body, signed as the admin.
/// Returns the HTTP status and the JSON answer.
pub async fn admin_call(
    endpoint: &str,
    operation: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = signed_post(
        endpoint,
        Some(&format!("TumblerAdmin.{operation}")),
        Some("application/x-amz-json-1.1"),
        body.to_string().as_bytes(),
        SECRET_ACCESS_KEY,
    )
    .await;
    let status = r.status().as_u16();
    (
        status,
        serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

/// A secret's rotations and rotation events (`tumbler admin rotations`).
pub async fn list_rotations(endpoint: &str, secret_id: &str) -> serde_json::Value {
    let (status, body) = admin_call(
        endpoint,
        "ListRotations",
        serde_json::json!({ "SecretId": secret_id }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// A raw request to the server, signed by `aws-sigv4` the way botocore signs.
pub async fn signed_post(
    endpoint: &str,
    target: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
    secret: &str,
) -> reqwest::Response {
    signed_post_at(
        endpoint,
        target,
        content_type,
        body,
        ACCESS_KEY_ID,
        secret,
        std::time::SystemTime::now(),
    )
    .await
}

pub async fn signed_post_at(
    endpoint: &str,
    target: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
    access_key_id: &str,
    secret: &str,
    time: std::time::SystemTime,
) -> reqwest::Response {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let host = endpoint.trim_start_matches("http://").to_owned();
    let mut headers: Vec<(String, String)> = vec![("host".into(), host)];
    if let Some(t) = target {
        headers.push(("x-amz-target".into(), t.into()));
    }
    if let Some(ct) = content_type {
        headers.push(("content-type".into(), ct.into()));
    }
    let identity = Credentials::new(access_key_id, secret, None, None, "raw").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("secretsmanager")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("{endpoint}/");
    let signable = SignableRequest::new(
        "POST",
        url.clone(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(&url)
        .body(())
        .unwrap();
    for (k, v) in &headers {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    instructions.apply_to_request_http1x(&mut request);
    let mut builder = reqwest::Client::new().post(&url).body(body.to_vec());
    for (k, v) in request.headers() {
        if k.as_str() != "host" {
            builder = builder.header(k.as_str(), v.as_bytes());
        }
    }
    builder.send().await.unwrap()
}

impl Drop for ChildServer {
    /// A failing test must not leave its server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drops a database [`postgres_url`] made, once its test is done with it.
pub async fn drop_postgres(url: &str) {
    use sqlx::Connection;
    let Some((base, db)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{base}/postgres")).await {
        let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}

/// Polls `check` until it is true, for up to `secs` seconds.
pub async fn eventually<F, Fut>(secs: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Waits until the rotation making `version_id` is in `state` (`succeeded`, `failed`, ...) in
/// the admin API's ListRotations, and returns its entry. Ending in another state fails at
/// once, with the rotation's record.
pub async fn wait_for_rotation(
    endpoint: &str,
    secret_id: &str,
    version_id: &str,
    state: &str,
    secs: u64,
) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut last = serde_json::Value::Null;
    while tokio::time::Instant::now() < deadline {
        let history = list_rotations(endpoint, secret_id).await;
        if let Some(entry) = history["Rotations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["VersionId"] == version_id)
        {
            if entry["State"] == state {
                return entry.clone();
            }
            assert!(
                entry["State"] == "active",
                "the rotation ended {} instead of {state}: {entry}",
                entry["State"]
            );
            last = entry.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("timed out waiting for the rotation {version_id} to be {state}; last seen: {last}");
}
