//! Rotations survive their server: a server killed with SIGKILL in the middle of a rotation
//! finishes it after restart, and of two servers on one PostgreSQL, the survivor finishes the
//! rotation the other was running when it died. The function is the Python template under
//! awslambdaric (`tests/functions/template_rotation`), run through the `process` kind.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::RotationRulesType;
use tumbler::clock::{ManualClock, Millis};

use crate::harness::{
    Backend, ChildServer, TestServer, drop_postgres, list_rotations, postgres_url, unique,
};

const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:PyRotation";

/// Whether python3 with awslambdaric and boto3 is here; in CI it must be.
pub fn python_runtime_available(test: &str) -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import awslambdaric, boto3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        if std::env::var_os("CI").is_some() {
            panic!("python3 with awslambdaric and boto3 is required in CI");
        }
        eprintln!(
            "SKIPPED {test}: python3 with awslambdaric and boto3 is not installed (pip install awslambdaric boto3)"
        );
    }
    ok
}

fn template_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/functions/template_rotation")
}

/// A config file with the Python template as `PyRotation`, hanging once in setSecret.
fn write_config(dir: &Path, lease_seconds: u64) -> PathBuf {
    let config = format!(
        r#"[rotation]
poll_interval_ms = 100
lease_seconds = {lease_seconds}
max_attempts = 3
retry_delay_ms = 100

[[functions]]
name = "PyRotation"
kind = "process"
command = ["python3", "-m", "awslambdaric", "lambda_function.lambda_handler"]
workdir = "{workdir}"
timeout_seconds = 120
env = {{ TARGET_FILE = "{target}", STEP_LOG = "{steps}", HANG_ONCE_FILE = "{hang}" }}
"#,
        workdir = template_dir().display(),
        target = dir.join("target.json").display(),
        steps = dir.join("steps.log").display(),
        hang = dir.join("hang-once").display(),
    );
    let path = dir.join("tumbler.toml");
    std::fs::write(&path, config).unwrap();
    path
}

async fn wait_for(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..secs * 20 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for: {what}");
}

async fn wait_current(c: &Client, name: &str, token: &str, secs: u64) {
    for _ in 0..secs * 10 {
        let d = c.describe_secret().secret_id(name).send().await.unwrap();
        if d.version_ids_to_stages()
            .and_then(|m| m.get(token))
            .is_some_and(|s| s.contains(&"AWSCURRENT".to_owned()))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{token} did not become AWSCURRENT within {secs} s");
}

fn steps(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("steps.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Creates a secret and starts its rotation; returns (name, token).
async fn start_rotation(c: &Client) -> (String, String) {
    let name = unique("durable");
    c.create_secret()
        .name(&name)
        .secret_string(r#"{"username":"app","password":"old"}"#)
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(FUNCTION_ARN)
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(30)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    (name, token)
}

async fn check_finished(c: &Client, dir: &Path, name: &str) {
    let value: serde_json::Value = serde_json::from_str(
        c.get_secret_value()
            .secret_id(name)
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_ne!(value["password"], "old");
    // The service (the credential file) has the new password.
    let target: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("target.json")).unwrap()).unwrap();
    assert_eq!(target["password"], value["password"]);
    // createSecret's success was persisted before the kill, so it was not run again; the
    // interrupted setSecret was.
    assert_eq!(
        steps(dir),
        [
            "createSecret",
            "setSecret",
            "setSecret",
            "testSecret",
            "finishSecret"
        ]
    );
}

async fn a_server_killed_mid_rotation_finishes_it_after_restart(database_url: Option<&str>) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let config = write_config(tmp.path(), 2);
    let mut args = vec!["--config".to_owned(), config.display().to_string()];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = ChildServer::spawn(&data, &args, &[]).await;
    let c = server.client();
    let (name, token) = start_rotation(&c).await;
    wait_for(30, "the function to hang in setSecret", || {
        tmp.path().join("hang-once").exists()
    })
    .await;
    server.kill_9();

    let again = ChildServer::spawn(&data, &args, &[]).await;
    let c = again.client();
    wait_current(&c, &name, &token, 60).await;
    check_finished(&c, tmp.path(), &name).await;
    wait_for(30, "the restarted server to record the success", || {
        again.logs().contains("rotation succeeded")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_server_killed_mid_rotation_finishes_it_after_restart() {
    if python_runtime_available("a_sqlite_server_killed_mid_rotation_finishes_it_after_restart") {
        a_server_killed_mid_rotation_finishes_it_after_restart(None).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_server_killed_mid_rotation_finishes_it_after_restart() {
    let test = "a_postgres_server_killed_mid_rotation_finishes_it_after_restart";
    if !python_runtime_available(test) {
        return;
    }
    if let Some(url) = postgres_url("killed_mid_rotation").await {
        a_server_killed_mid_rotation_finishes_it_after_restart(Some(&url)).await;
        drop_postgres(&url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_servers_on_one_postgres_the_survivor_finishes_the_rotation_of_the_killed_one() {
    let test =
        "of_two_servers_on_one_postgres_the_survivor_finishes_the_rotation_of_the_killed_one";
    if !python_runtime_available(test) {
        return;
    }
    let Some(url) = postgres_url("two_servers").await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), 2);
    // Two servers, each with its own data directory, sharing the database and master key.
    let key = tmp.path().join("master.key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--database-url",
        &url,
        "--master-key-file",
        key.to_str().unwrap(),
    ];
    let a = ChildServer::spawn(&tmp.path().join("a"), &args, &[]).await;
    let c = a.client();
    let (name, token) = start_rotation(&c).await;
    wait_for(30, "server A's function to hang in setSecret", || {
        tmp.path().join("hang-once").exists()
    })
    .await;
    let b = ChildServer::spawn(&tmp.path().join("b"), &args, &[]).await;
    a.kill_9();
    // B takes over once A's lease (2 s) has run out.
    let c = b.client();
    wait_current(&c, &name, &token, 60).await;
    check_finished(&c, tmp.path(), &name).await;
    wait_for(30, "server B to record the success", || {
        b.logs().contains("rotation succeeded")
    })
    .await;
    drop(b);
    drop_postgres(&url).await;
}

/// Two in-process servers on one PostgreSQL and one manual clock: when rotations fall due,
/// each runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_rotation_runs_exactly_once_across_two_servers() {
    let Some(url) = postgres_url("due_exactly_once").await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("master.key");
    std::fs::write(&key, [9u8; 32]).unwrap();
    let file = format!(
        "master_key_file = \"{}\"\n[rotation]\npoll_interval_ms = 20\nscheduler_interval_ms = 20\n[[functions]]\nname = \"Builtin\"\nkind = \"builtin\"\nbuiltin = \"random-password\"\n",
        key.display()
    );
    let start = Millis(1_772_359_200_000);
    let clock = ManualClock::new(start);
    let one = TestServer::start_with(
        Backend::Postgres(url.clone()),
        Arc::new(clock.clone()),
        &file,
    )
    .await;
    let two = TestServer::start_with(
        Backend::Postgres(url.clone()),
        Arc::new(clock.clone()),
        &file,
    )
    .await;
    let c = one.client();
    let mut names = Vec::new();
    for _ in 0..20 {
        let name = unique("due");
        c.create_secret()
            .name(&name)
            .secret_string("v1")
            .send()
            .await
            .unwrap();
        let token = c
            .rotate_secret()
            .secret_id(&name)
            .rotation_lambda_arn("arn:aws:lambda:us-east-1:123456789012:function:Builtin")
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(1)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .version_id()
            .unwrap()
            .to_owned();
        wait_current(&c, &name, &token, 10).await;
        names.push(name);
    }
    // Three days on, every secret is due; both schedulers and drivers race for them.
    clock.set(start.plus_days(3));
    for name in &names {
        let mut done = false;
        for _ in 0..200 {
            let history = history(&one, name).await;
            let succeeded = history["Events"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["Event"] == "RotationSucceeded")
                .count();
            if succeeded >= 2 {
                done = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(done, "{name} was not rotated on schedule");
    }
    // Let any duplicate show itself, then count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for name in &names {
        let h = history(&two, name).await;
        let started = h["Events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["Event"] == "RotationStarted")
            .count();
        assert_eq!(started, 2, "{name}: {h}");
        assert_eq!(h["Rotations"].as_array().unwrap().len(), 2);
    }
    one.stop().await;
    two.stop().await;
    drop_postgres(&url).await;
}

async fn history(server: &TestServer, secret_id: &str) -> serde_json::Value {
    list_rotations(&server.endpoint, secret_id).await
}
