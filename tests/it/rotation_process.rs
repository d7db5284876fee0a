//! The `process` kind: what an unmodified awslambdaric function sees (the Lambda Runtime API
//! and environment, credentials, deadlines), one process reused across a rotation's steps,
//! a crashed process started again, a function that overruns its timeout killed, and its
//! output in the server's log with the request id. The function is
//! `tests/functions/runtime_probe`, which rotates with the AWS-style template.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aws_sdk_secretsmanager::Client;

use crate::harness::{ChildServer, list_rotations, unique};
use crate::rotation_durability::python_runtime_available;

fn probe_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/functions/runtime_probe")
}

/// A server whose `Probe` function has `env` (TOML inline-table entries) and `timeout`.
async fn server(dir: &Path, env: &str, timeout_seconds: u64) -> ChildServer {
    let config = format!(
        r#"[rotation]
poll_interval_ms = 100
max_attempts = 2
retry_delay_ms = 100

[[functions]]
name = "Probe"
kind = "process"
command = ["python3", "-m", "awslambdaric", "lambda_function.lambda_handler"]
workdir = "{workdir}"
timeout_seconds = {timeout_seconds}
memory_size = 256
env = {{ TARGET_FILE = "{target}", PROBE_FILE = "{probe}"{env} }}
"#,
        workdir = probe_dir().display(),
        target = dir.join("target.json").display(),
        probe = dir.join("probe.jsonl").display(),
    );
    let path = dir.join("tumbler.toml");
    std::fs::write(&path, config).unwrap();
    ChildServer::spawn(
        &dir.join("data"),
        &["--config", path.to_str().unwrap()],
        &[("RUST_LOG", "info")],
    )
    .await
}

fn probes(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("probe.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn rotate(c: &Client) -> (String, String, String) {
    let name = unique("probe");
    let arn = c
        .create_secret()
        .name(&name)
        .secret_string(r#"{"username":"app","password":"old"}"#)
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn("arn:aws:lambda:eu-west-1:123456789012:function:Probe:$LATEST")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    (name, arn, token)
}

async fn history(server: &ChildServer, name: &str) -> serde_json::Value {
    list_rotations(&server.endpoint, name).await
}

/// Waits until the rotation's last event is `event`.
async fn wait_event(server: &ChildServer, name: &str, event: &str) -> serde_json::Value {
    for _ in 0..300 {
        let h = history(server, name).await;
        if h["Events"].as_array().unwrap().last().map(|e| &e["Event"]) == Some(&event.into()) {
            return h;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no {event} for {name}: {}\n{}",
        history(server, name).await,
        server.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_function_gets_the_lambda_environment_and_one_process_serves_all_steps() {
    if !python_runtime_available("a_process_function_gets_the_lambda_environment") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let server = server(tmp.path(), "", 30).await;
    let c = server.client();
    let (name, arn, _token) = rotate(&c).await;
    wait_event(&server, &name, "RotationSucceeded").await;
    let seen = probes(tmp.path());
    let steps: Vec<&str> = seen.iter().map(|p| p["step"].as_str().unwrap()).collect();
    assert_eq!(
        steps,
        ["createSecret", "setSecret", "testSecret", "finishSecret"]
    );
    // One process for the whole rotation.
    assert!(seen.iter().all(|p| p["pid"] == seen[0]["pid"]), "{seen:?}");
    let env = &seen[0]["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "Probe");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["_HANDLER"], "lambda_function.lambda_handler");
    assert_eq!(env["LAMBDA_TASK_ROOT"], probe_dir().to_str().unwrap());
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    for k in [
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "SECRETS_MANAGER_ENDPOINT",
    ] {
        assert_eq!(env[k], server.endpoint.as_str(), "{k}");
    }
    assert!(
        env["AWS_LAMBDA_RUNTIME_API"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );
    assert!(
        env["AWS_ACCESS_KEY_ID"]
            .as_str()
            .unwrap()
            .starts_with("ASIA")
    );
    assert!(env["AWS_SESSION_TOKEN"].as_str().is_some());
    // The deadline and the invoked ARN come through the Runtime API's headers.
    let remaining = seen[0]["remaining_ms"].as_i64().unwrap();
    assert!((20_000..=30_000).contains(&remaining), "{remaining}");
    assert_eq!(
        seen[0]["function_arn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:Probe:$LATEST"
    );
    // The rotated value, and the process's output in the log under its request id.
    let v: serde_json::Value = serde_json::from_str(
        c.get_secret_value()
            .secret_id(&arn)
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_ne!(v["password"], "old");
    let request_id = seen[1]["request_id"].as_str().unwrap();
    let log = server.logs();
    assert!(
        log.lines()
            .any(|l| l.contains("PROBE-MARKER step=setSecret")
                && l.contains(request_id)
                && l.contains("function=Probe")),
        "{log}"
    );
    assert!(log.contains("started function process"));
    // No function process outlives the rotation.
    let pid = seen[0]["pid"].as_i64().unwrap();
    for _ in 0..50 {
        if !Path::new(&format!("/proc/{pid}")).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "process {pid} still runs"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_function_process_is_started_again_and_the_rotation_retried() {
    if !python_runtime_available("a_crashed_function_process_is_started_again") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let crash = tmp.path().join("crash-once");
    let server = server(
        tmp.path(),
        &format!(", CRASH_ONCE_FILE = \"{}\"", crash.display()),
        30,
    )
    .await;
    let c = server.client();
    let (name, _, token) = rotate(&c).await;
    let h = wait_event(&server, &name, "RotationSucceeded").await;
    assert!(crash.exists());
    assert_eq!(h["Rotations"][0]["Attempt"], 2);
    let seen = probes(tmp.path());
    // The first process died in createSecret; a second one ran the rotation.
    assert_ne!(seen[0]["pid"], seen[1]["pid"]);
    assert!(
        server.logs().contains("Runtime.ExitError"),
        "{}",
        server.logs()
    );
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(
        d.version_ids_to_stages().unwrap()[&token],
        ["AWSCURRENT".to_owned()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_that_overruns_its_timeout_is_killed_and_reported() {
    if !python_runtime_available("a_function_that_overruns_its_timeout") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let server = server(
        tmp.path(),
        ", SLEEP_IN_STEP = \"setSecret\", SLEEP_SECONDS = \"60\"",
        1,
    )
    .await;
    let c = server.client();
    let (name, _, token) = rotate(&c).await;
    let h = wait_event(&server, &name, "RotationFailed").await;
    let failed = h["Events"].as_array().unwrap().last().unwrap();
    assert_eq!(failed["Step"], "setSecret");
    assert_eq!(failed["Error"], "Task timed out after 1.00 seconds");
    // Each run's process was killed at its deadline, not left sleeping.
    for p in probes(tmp.path()) {
        let pid = p["pid"].as_i64().unwrap();
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} still runs"
        );
    }
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(
        d.version_ids_to_stages().unwrap()[&token],
        ["AWSPENDING".to_owned()]
    );
}
