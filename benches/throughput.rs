//! GetSecretValue throughput and latency, beside `GET /health` on the same server as the
//! baseline of its HTTP stack. Signature verification is on: each GetSecretValue request is
//! signed once by `aws-sigv4` and replayed (the server verifies every one).
//!
//! `cargo bench --bench throughput` runs SQLite, and PostgreSQL when one answers at
//! TUMBLER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432). Knobs:
//! BENCH_SECONDS (per round, default 5), BENCH_CONCURRENCY (default 32), BENCH_ROUNDS
//! (default 3). The load generator shares the machine with the server, as a sidecar would.

use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use tumbler::config::{Config, FileConfig, Overrides};
use tumbler::server::Tumbler;
use zeroize::Zeroizing;

mod common;
use common::{drop_database, postgres_url};

const KEY_ID: &str = "AKIATUMBLERBENCH0001";
const SECRET: &str = "tumbler-bench-secret-key-000000000000000";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Round {
    requests: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Round {
    fn rps(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut l = self.latencies.clone();
        l.sort();
        l[((l.len() as f64 - 1.0) * p).round() as usize]
    }
}

/// A request ready to send: method, url, headers, body.
#[derive(Clone)]
struct Prepared {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    post: bool,
}

fn presign_get_secret_value(endpoint: &str, secret_id: &str) -> Prepared {
    let host = endpoint.trim_start_matches("http://").to_owned();
    let body = format!(r#"{{"SecretId":"{secret_id}"}}"#).into_bytes();
    let headers = vec![
        ("host".to_owned(), host),
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            "secretsmanager.GetSecretValue".to_owned(),
        ),
    ];
    let identity = Credentials::new(KEY_ID, SECRET, None, None, "bench").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("secretsmanager")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("{endpoint}/");
    let signable = SignableRequest::new(
        "POST",
        url.clone(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(&body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut all: Vec<(String, String)> = headers.into_iter().filter(|(k, _)| k != "host").collect();
    for (k, v) in instructions.headers() {
        all.push((k.to_owned(), v.to_owned()));
    }
    Prepared {
        url,
        headers: all,
        body,
        post: true,
    }
}

impl Prepared {
    /// The request as bytes on the wire (HTTP/1.1, keep-alive), serialized once and replayed:
    /// the load generator then costs the same for every endpoint, and little.
    fn wire_bytes(&self) -> Vec<u8> {
        let rest = self.url.trim_start_matches("http://");
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut out = format!(
            "{} {} HTTP/1.1\r\nhost: {host}\r\n",
            if self.post { "POST" } else { "GET" },
            if path.is_empty() { "/" } else { path }
        );
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("content-length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// Reads one HTTP/1.1 response from `conn` into `buf`; returns its status.
async fn read_response(
    conn: &mut tokio::net::TcpStream,
    buf: &mut Vec<u8>,
    chunk: &mut [u8],
) -> u16 {
    use tokio::io::AsyncReadExt;
    buf.clear();
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).expect("ASCII head");
            let status: u16 = head[9..12].parse().expect("status");
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .expect("content-length");
            while buf.len() < end + 4 + length {
                let n = conn.read(chunk).await.expect("read");
                assert!(n > 0, "connection closed");
                buf.extend_from_slice(&chunk[..n]);
            }
            return status;
        }
        let n = conn.read(chunk).await.expect("read");
        assert!(n > 0, "connection closed");
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn run_round(addr: &str, req: &Prepared, concurrency: usize, seconds: f64) -> Round {
    use tokio::io::AsyncWriteExt;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let wire = std::sync::Arc::new(req.wire_bytes());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let wire = wire.clone();
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect");
            conn.set_nodelay(true).expect("nodelay");
            let mut buf = Vec::with_capacity(16 * 1024);
            let mut chunk = vec![0u8; 8192];
            let mut latencies = Vec::with_capacity(100_000);
            while Instant::now() < deadline {
                let t = Instant::now();
                conn.write_all(&wire).await.expect("write");
                let status = read_response(&mut conn, &mut buf, &mut chunk).await;
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&buf));
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Round {
        requests: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

async fn bench_backend(label: &str, database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::merge(
        FileConfig::default(),
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(tumbler.serve(listener, async {
        let _ = rx.await;
    }));

    // One secret with a realistic value and a few versions behind it.
    let sdk = aws_sdk_secretsmanager::Client::from_conf(
        aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .endpoint_url(&endpoint)
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .credentials_provider(Credentials::new(KEY_ID, SECRET, None, None, "bench"))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build(),
    );
    let name = "bench/db";
    sdk.create_secret()
        .name(name)
        .secret_string(r#"{"username":"app","password":"x"}"#)
        .send()
        .await
        .unwrap();
    for i in 0..3 {
        sdk.put_secret_value()
            .secret_id(name)
            .secret_string(format!(r#"{{"username":"app","password":"{i}"}}"#))
            .send()
            .await
            .unwrap();
    }

    let seconds: f64 = env_or("BENCH_SECONDS", 5.0);
    let concurrency: usize = env_or("BENCH_CONCURRENCY", 32);
    let rounds: usize = env_or("BENCH_ROUNDS", 3);
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let health = Prepared {
        url: format!("{endpoint}/health"),
        headers: vec![],
        body: vec![],
        post: false,
    };
    let get = presign_get_secret_value(&endpoint, name);
    // Warm up both paths.
    run_round(&addr, &health, concurrency, 0.5).await;
    run_round(&addr, &get, concurrency, 0.5).await;

    let mut ratios = Vec::new();
    let (mut h_rps, mut h_p50, mut h_p99, mut g_rps, mut g_p50, mut g_p99) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..rounds {
        // Alternate, so drift on a shared machine hits both alike.
        let h = run_round(&addr, &health, concurrency, seconds).await;
        let g = run_round(&addr, &get, concurrency, seconds).await;
        ratios.push(g.rps() / h.rps());
        h_rps.push(h.rps());
        h_p50.push(h.percentile(0.50).as_secs_f64() * 1e3);
        h_p99.push(h.percentile(0.99).as_secs_f64() * 1e3);
        g_rps.push(g.rps());
        g_p50.push(g.percentile(0.50).as_secs_f64() * 1e3);
        g_p99.push(g.percentile(0.99).as_secs_f64() * 1e3);
    }
    let (hr, gr) = (median(h_rps), median(g_rps));
    println!("== {label}: {rounds} rounds of {seconds}s, {concurrency} connections, medians");
    println!(
        "  GET /health      {hr:>9.0} req/s   p50 {:>6.3} ms   p99 {:>6.3} ms",
        median(h_p50),
        median(h_p99)
    );
    println!(
        "  GetSecretValue   {gr:>9.0} req/s   p50 {:>6.3} ms   p99 {:>6.3} ms",
        median(g_p50),
        median(g_p99)
    );
    println!(
        "  GetSecretValue / health throughput: {:.1}% (median of per-round ratios {:.1}%)",
        100.0 * gr / hr,
        100.0 * median(ratios)
    );

    let _ = tx.send(());
    let _ = server.await;
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` builds and starts this too, and
    // a test run has no business taking a minute of load.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: skipped outside `cargo bench`");
        return;
    }
    // Logging as `tumbler serve` sets it up (info level), so span costs are counted.
    tumbler::telemetry::init_logging(tumbler::telemetry::LogFormat::Text);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        bench_backend("SQLite", None).await;
        match postgres_url().await {
            Some(url) => {
                bench_backend("PostgreSQL", Some(url.clone())).await;
                drop_database(&url).await;
            }
            None => println!(
                "== PostgreSQL: SKIPPED (no server at TUMBLER_TEST_POSTGRES_URL or 127.0.0.1:5432)"
            ),
        }
    });
}
