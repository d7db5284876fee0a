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
    pub data_dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::start_with_clock(backend, Arc::new(SystemClock)).await
    }

    pub async fn start_with_clock(backend: Backend, clock: Arc<dyn Clock>) -> TestServer {
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
        let config = Config::merge(FileConfig::default(), overrides).unwrap();
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
            data_dir,
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
    let db = format!("tumbler_it_{}_{}", test, uuid::Uuid::new_v4().simple())
        .chars()
        .take(60)
        .collect::<String>();
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
