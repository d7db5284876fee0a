//! Rotation, measured end to end with the builtin `random-password` function:
//! - rotations per second: many secrets rotated at once, from the first RotateSecret until the
//!   last new version is AWSCURRENT (as a client polling DescribeSecret sees it);
//! - latency: one RotateSecret at a time, until DescribeSecret shows the new AWSCURRENT;
//! - the scheduler's cost to find due work, with 1,000 and with 100,000 secrets stored, none
//!   or 100 of them due: it must follow the number due, not the number stored.
//!
//! `cargo bench --bench rotation` runs SQLite, and PostgreSQL when one answers at
//! TUMBLER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432). Knobs:
//! BENCH_ROTATIONS (secrets rotated at once, default 500), BENCH_LATENCY_SAMPLES (default 100),
//! BENCH_ROUNDS (default 3), BENCH_STORED (default 100000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_secretsmanager::Client;
use tumbler::clock::{Clock, Millis, SystemClock};
use tumbler::config::{Config, FileConfig, Overrides};
use tumbler::server::Tumbler;
use zeroize::Zeroizing;

mod common;
use common::{drop_database, postgres_url};

const KEY_ID: &str = "AKIATUMBLERBENCH0001";
const SECRET: &str = "tumbler-bench-secret-key-000000000000000";
const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:Builtin";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Server {
    client: Client,
    app: Arc<tumbler::api::App>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

async fn start(database_url: Option<String>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let file: FileConfig = toml::from_str(
        "[rotation]\nworkers = 16\n[[functions]]\nname = \"Builtin\"\nkind = \"builtin\"\nbuiltin = \"random-password\"\n",
    )
    .unwrap();
    let config = Config::merge(
        file,
        Overrides {
            data_dir: Some(dir.path().to_path_buf()),
            database_url,
            admin_access_key_id: Some(KEY_ID.into()),
            admin_secret_access_key: Some(Zeroizing::new(SECRET.into())),
            ..Default::default()
        },
    )
    .unwrap();
    let tumbler = Tumbler::open(&config).await.unwrap();
    let app = tumbler.app.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(tumbler.serve(listener, async {
        let _ = rx.await;
    }));
    let client = Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new(KEY_ID, SECRET, None, None, "bench"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    Server {
        client,
        app,
        stop,
        task,
        _dir: dir,
    }
}

async fn is_current(c: &Client, name: &str, token: &str) -> bool {
    c.describe_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap()
        .version_ids_to_stages()
        .and_then(|m| m.get(token))
        .is_some_and(|s| s.iter().any(|l| l == "AWSCURRENT"))
}

async fn create(c: &Client, name: &str) {
    c.create_secret()
        .name(name)
        .secret_string(r#"{"username":"app","password":"initial"}"#)
        .send()
        .await
        .unwrap();
}

/// Rotates `n` secrets at once; returns rotations per second.
async fn throughput_round(c: &Client, round: usize, n: usize) -> f64 {
    let names: Vec<String> = (0..n).map(|i| format!("bench/tp/{round}/{i}")).collect();
    for chunk in names.chunks(64) {
        let creates = chunk.iter().map(|name| {
            let c = c.clone();
            let name = name.clone();
            tokio::spawn(async move { create(&c, &name).await })
        });
        for t in creates {
            t.await.unwrap();
        }
    }
    let started = Instant::now();
    let calls = names.iter().map(|name| {
        let c = c.clone();
        let name = name.clone();
        tokio::spawn(async move {
            let token = c
                .rotate_secret()
                .secret_id(&name)
                .rotation_lambda_arn(FUNCTION_ARN)
                .send()
                .await
                .unwrap()
                .version_id()
                .unwrap()
                .to_owned();
            (name, token)
        })
    });
    let mut pending = Vec::new();
    for t in calls {
        pending.push(t.await.unwrap());
    }
    // Wait for the last one, as a client would see it.
    for (name, token) in &pending {
        while !is_current(c, name, token).await {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    n as f64 / started.elapsed().as_secs_f64()
}

/// One rotation at a time: RotateSecret until DescribeSecret shows the new AWSCURRENT, in ms.
async fn latency_samples(c: &Client, samples: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        // A secret per sample: AWS's limit of 100 versions a day applies here too.
        let name = &format!("bench/latency/{i}");
        create(c, name).await;
        let started = Instant::now();
        let token = c
            .rotate_secret()
            .secret_id(name)
            .rotation_lambda_arn(FUNCTION_ARN)
            .send()
            .await
            .unwrap()
            .version_id()
            .unwrap()
            .to_owned();
        while !is_current(c, name, &token).await {
            tokio::task::yield_now().await;
        }
        out.push(started.elapsed().as_secs_f64() * 1e3);
    }
    out
}

/// Writes `count` secrets straight into the database, in bulk, each with a next rotation time:
/// `due` of them in the past, the rest a year ahead.
async fn fill(url: &str, prefix: &str, count: usize, due: usize) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    let now = SystemClock.now().0;
    let mut tx = conn.begin().await.unwrap();
    for start in (0..count).step_by(500) {
        let end = (start + 500).min(count);
        let mut sql = String::from(
            "INSERT INTO secrets (id, region, name, arn, replica_of, created_at, deleted_at, last_accessed_at, revision, metadata, rotation_due_at) VALUES ",
        );
        for i in start..end {
            let due_at = if i < due {
                now - 1000
            } else {
                now + 365 * 86_400_000
            };
            if i > start {
                sql.push(',');
            }
            sql.push_str(&format!(
                "('{prefix}-{i}', 'us-east-1', '{prefix}/{i}', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:{prefix}/{i}-abcdef', NULL, {now}, NULL, NULL, 0, '{{\"last_changed_at\":{now},\"rotation_enabled\":true}}', {due_at})"
            ));
        }
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// The median time of the scheduler's query for due work, in microseconds.
async fn due_query_micros(app: &tumbler::api::App, repeats: usize) -> (f64, usize) {
    let store = app.service.store();
    let now = Millis(SystemClock.now().0);
    let mut times = Vec::with_capacity(repeats);
    let mut found = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        found = store
            .secrets_due_for_rotation(now, 100)
            .await
            .unwrap()
            .len();
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    (median(times), found)
}

/// The scheduler's query against `stored` secrets with `due` of them due, on a fresh database.
async fn scheduler_cost(label: &str, database_url: Option<String>, stored: usize, due: usize) {
    let server = start(database_url.clone()).await;
    let url = database_url.unwrap_or_else(|| {
        format!(
            "sqlite://{}",
            server._dir.path().join("tumbler.db").display()
        )
    });
    fill(&url, &format!("s{stored}d{due}"), stored, due).await;
    if url.starts_with("postgres") {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
        sqlx::raw_sql("ANALYZE secrets")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    due_query_micros(&server.app, 20).await; // warm
    let (micros, found) = due_query_micros(&server.app, 200).await;
    assert_eq!(found, due.min(100));
    println!(
        "  {label:<10} {stored:>7} stored, {due:>3} due: find due work in {micros:>8.1} µs (median of 200)"
    );
    let _ = server.stop.send(());
    let _ = server.task.await;
}

async fn bench_backend(label: &str, database_url: Option<String>) {
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    let n: usize = env_or("BENCH_ROTATIONS", 500);
    let samples: usize = env_or("BENCH_LATENCY_SAMPLES", 100);
    let server = start(database_url.clone()).await;
    let c = server.client.clone();
    // Warm up.
    throughput_round(&c, 999, 20).await;
    let mut rates = Vec::new();
    for round in 0..rounds {
        rates.push(throughput_round(&c, round, n).await);
    }
    let latencies = latency_samples(&c, samples).await;
    println!("== {label}: builtin random-password, {rounds} rounds");
    println!(
        "  throughput  {:>8.0} rotations/s (median; {n} secrets rotated at once; rounds {})",
        median(rates.clone()),
        rates
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  latency     RotateSecret -> new AWSCURRENT: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({samples} one at a time)",
        percentile(latencies.clone(), 0.5),
        percentile(latencies.clone(), 0.95),
        percentile(latencies, 1.0)
    );
    let _ = server.stop.send(());
    let _ = server.task.await;
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("rotation: skipped outside `cargo bench`");
        return;
    }
    sqlx::any::install_default_drivers();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let stored: usize = env_or("BENCH_STORED", 100_000);
        bench_backend("SQLite", None).await;
        println!("== SQLite: scheduler");
        for (s, d) in [(1_000, 0), (stored, 0), (1_000, 100), (stored, 100)] {
            scheduler_cost("SQLite", None, s, d).await;
        }
        match postgres_url().await {
            Some(url) => {
                bench_backend("PostgreSQL", Some(url.clone())).await;
                drop_database(&url).await;
                println!("== PostgreSQL: scheduler");
                for (s, d) in [(1_000, 0), (stored, 0), (1_000, 100), (stored, 100)] {
                    let url = postgres_url().await.unwrap();
                    scheduler_cost("PostgreSQL", Some(url.clone()), s, d).await;
                    drop_database(&url).await;
                }
            }
            None => println!(
                "== PostgreSQL: SKIPPED (no server at TUMBLER_TEST_POSTGRES_URL or 127.0.0.1:5432)"
            ),
        }
    });
}
