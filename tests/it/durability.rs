//! What was acknowledged survives `kill -9`; a graceful stop exits cleanly.

use crate::harness::{ChildServer, postgres_url, unique};

async fn acknowledged_writes_survive_kill_9(extra_args: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = ChildServer::spawn(&data, extra_args, &[]).await;
    let c = server.client();
    let prefix = unique("durable");
    let mut acknowledged = Vec::new();
    for i in 0..40 {
        let name = format!("{prefix}/{i}");
        c.create_secret()
            .name(&name)
            .secret_string(format!("v{i}"))
            .send()
            .await
            .unwrap();
        c.put_secret_value()
            .secret_id(&name)
            .secret_string(format!("w{i}"))
            .send()
            .await
            .unwrap();
        acknowledged.push((name, format!("w{i}")));
    }
    // Killed the instant the last write was acknowledged: no shutdown, no flush.
    server.kill_9();
    let again = ChildServer::spawn(&data, extra_args, &[]).await;
    let c = again.client();
    for (name, value) in &acknowledged {
        let got = c.get_secret_value().secret_id(name).send().await.unwrap();
        assert_eq!(got.secret_string(), Some(value.as_str()), "{name}");
        let prev = c
            .get_secret_value()
            .secret_id(name)
            .version_stage("AWSPREVIOUS")
            .send()
            .await
            .unwrap();
        assert!(prev.secret_string().unwrap().starts_with('v'));
    }
    again.kill_9();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_sqlite() {
    acknowledged_writes_survive_kill_9(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgres() {
    if let Some(url) = postgres_url("durability").await {
        acknowledged_writes_survive_kill_9(&["--database-url", &url]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let server = ChildServer::spawn(&dir.path().join("data"), &[], &[]).await;
    server.client().list_secrets().send().await.unwrap();
    let logs_path = server.log_path.clone();
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
    let logs = std::fs::read_to_string(logs_path).unwrap();
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(logs.contains("stopped"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_creates_the_key_and_admin_credentials_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let child = std::process::Command::new(crate::harness::tumbler_bin())
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&data)
        .env_remove("TUMBLER_ADMIN_ACCESS_KEY_ID")
        .env_remove("TUMBLER_ADMIN_SECRET_ACCESS_KEY")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _guard = KillOnDrop(child);
    let creds = data.join("admin-credentials");
    for _ in 0..200 {
        if creds.exists()
            && reqwest::get(format!("http://127.0.0.1:{port}/health"))
                .await
                .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let text = std::fs::read_to_string(&creds).unwrap();
    assert!(text.contains("[tumbler]"));
    let id = text
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = "))
        .unwrap();
    let secret = text
        .lines()
        .find_map(|l| l.strip_prefix("aws_secret_access_key = "))
        .unwrap();
    assert!(id.starts_with("AKIA") && id.len() == 20);
    assert_eq!(secret.len(), 40);
    for f in ["admin-credentials", "master.key"] {
        assert_eq!(
            std::fs::metadata(data.join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o600,
            "{f}"
        );
    }
    // The written key works.
    let c = crate::harness::client_with_keys(
        &format!("http://127.0.0.1:{port}"),
        "us-east-1",
        id,
        secret,
    );
    c.list_secrets().send().await.unwrap();
    let logs = std::fs::read_to_string(dir.path().join("log")).unwrap();
    for what in ["master_key=", "admin_credentials=", "data_dir="] {
        assert!(logs.contains(what), "the start log names {what}: {logs}");
    }
    assert!(!logs.contains(secret), "the secret key is never logged");
}

#[test]
fn config_example_prints_every_key_and_parses_back() {
    let out = std::process::Command::new(crate::harness::tumbler_bin())
        .args(["config", "example"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let parsed: tumbler::config::FileConfig = toml::from_str(&text).unwrap();
    assert_eq!(parsed.listen.as_deref(), Some("127.0.0.1:4584"));
    assert_eq!(parsed.account_id.as_deref(), Some("123456789012"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_config_file_is_overridden_by_environment_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tumbler.toml");
    std::fs::write(
        &config,
        "account_id = \"111111111111\"\nlisten = \"127.0.0.1:1\"\n",
    )
    .unwrap();
    // The file's listen address is overridden by the flag ChildServer passes; the file's account
    // id by the environment.
    let server = ChildServer::spawn(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap()],
        &[("TUMBLER_ACCOUNT_ID", "222222222222")],
    )
    .await;
    let arn = server
        .client()
        .create_secret()
        .name(unique("cfg"))
        .secret_string("v")
        .send()
        .await
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert!(arn.contains(":222222222222:secret:"), "{arn}");
    let bad = std::process::Command::new(crate::harness::tumbler_bin())
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--account-id",
            "12",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("account_id"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_sqlite_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let first = ChildServer::spawn(&data, &[], &[]).await;
    let second = std::process::Command::new(crate::harness::tumbler_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use by another Tumbler server"), "{err}");
    // The first one is unharmed.
    first.client().list_secrets().send().await.unwrap();
}
