//! The audit trail: every call leaves a CloudTrail-shaped record in the file and the store,
//! and a record whose write fails is kept and retried, never dropped.

use std::sync::Arc;
use std::time::Duration;

use tumbler::clock::SystemClock;
use tumbler::store::AuditQuery;

use crate::harness::{Backend, TestServer, eventually, unique};

async fn stored(server: &TestServer, event_name: &str) -> Vec<serde_json::Value> {
    server
        .app
        .service
        .audit_records(&AuditQuery {
            event_name: Some(event_name.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|(_, r)| serde_json::from_str(&r.record).unwrap())
        .collect()
}

fn file_records(path: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_write_that_fails_is_kept_and_retried_until_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    // A directory where the file should be: every append fails until it is gone.
    std::fs::create_dir(&path).unwrap();
    let config = format!("audit_log_file = {:?}\n", path.display().to_string());
    let server = TestServer::start_with(Backend::Sqlite, Arc::new(SystemClock), &config).await;
    let c = server.client();
    let names: Vec<String> = (0..3).map(|_| unique("audited")).collect();
    for name in &names {
        // The calls themselves succeed: their records wait in the spool.
        c.create_secret()
            .name(name)
            .secret_string("v")
            .send()
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(stored(&server, "CreateSecret").await.is_empty());
    std::fs::remove_dir(&path).unwrap();
    eventually(10, "the spooled records to be written", || async {
        file_records(&path)
            .iter()
            .filter(|r| r["eventName"] == "CreateSecret")
            .count()
            == 3
    })
    .await;
    eventually(5, "the spooled records to be stored", || async {
        stored(&server, "CreateSecret").await.len() == 3
    })
    .await;
    // In call order, each once, in the file and the store alike.
    let in_file: Vec<String> = file_records(&path)
        .iter()
        .filter(|r| r["eventName"] == "CreateSecret")
        .map(|r| r["requestParameters"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(in_file, names);
    let in_store: Vec<String> = stored(&server, "CreateSecret")
        .await
        .iter()
        .map(|r| r["requestParameters"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(in_store, names);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_have_cloudtrails_shape_and_rotations_leave_service_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail.log");
    let config = format!(
        "audit_log_file = {:?}\n[rotation]\npoll_interval_ms = 50\n[[functions]]\nname = \"R\"\nkind = \"builtin\"\nbuiltin = \"random-password\"\n",
        path.display().to_string()
    );
    let server = TestServer::start_with(Backend::Sqlite, Arc::new(SystemClock), &config).await;
    let c = server.client();
    let name = unique("trail");
    c.create_secret()
        .name(&name)
        .secret_string("first-value")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn("arn:aws:lambda:us-east-1:123456789012:function:R")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    crate::harness::wait_for_rotation(&server.endpoint, &name, &token, "succeeded", 20).await;
    eventually(5, "the rotation's events to be recorded", || async {
        stored(&server, "RotationSucceeded").await.iter().any(|r| {
            r["serviceEventDetails"]["secretId"]
                .as_str()
                .is_some_and(|s| s.contains(&name))
        })
    })
    .await;
    let created = stored(&server, "CreateSecret")
        .await
        .into_iter()
        .find(|r| r["requestParameters"]["name"] == name.as_str())
        .unwrap();
    for key in [
        "eventVersion",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "userIdentity",
        "requestParameters",
        "responseElements",
        "requestID",
        "eventID",
        "eventType",
        "readOnly",
    ] {
        assert!(created.get(key).is_some(), "{key} missing from {created}");
    }
    assert_eq!(created["eventSource"], "secretsmanager.amazonaws.com");
    assert_eq!(created["eventType"], "AwsApiCall");
    assert_eq!(created["readOnly"], false);
    assert_eq!(created["sourceIPAddress"], "127.0.0.1");
    assert_eq!(created["userIdentity"]["type"], "IAMUser");
    assert_eq!(created["userIdentity"]["userName"], "admin");
    assert!(
        created["responseElements"]["aRN"]
            .as_str()
            .unwrap()
            .contains(&name)
    );
    let started = stored(&server, "RotationStarted").await;
    let started = started
        .iter()
        .find(|r| r["serviceEventDetails"]["clientRequestToken"] == token.as_str())
        .unwrap();
    assert_eq!(started["eventType"], "AwsServiceEvent");
    // The value never reaches a record.
    server.stop().await;
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(&name));
    assert!(!text.contains("first-value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_records_past_their_retention_are_removed_and_the_file_keeps_them() {
    let clock = Arc::new(tumbler::clock::ManualClock::new(tumbler::clock::Millis(
        1_795_000_000_000,
    )));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let config = format!("audit_log_file = {:?}\n", path.display().to_string());
    let server = TestServer::start_with(Backend::Sqlite, clock.clone(), &config).await;
    let c = server.client();
    let old = unique("old");
    c.create_secret()
        .name(&old)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    // Stored before the clock moves, so that the two records are in different batches.
    eventually(5, "the first record to be stored", || async {
        stored(&server, "CreateSecret").await.len() == 1
    })
    .await;
    clock.advance_millis(91 * 24 * 3600 * 1000);
    let new = unique("new");
    c.create_secret()
        .name(&new)
        .secret_string("v")
        .send()
        .await
        .unwrap();
    eventually(5, "both records to be stored", || async {
        stored(&server, "CreateSecret").await.len() == 2
    })
    .await;
    let removed = server
        .app
        .service
        .purge_audit_records(Duration::from_secs(90 * 24 * 3600))
        .await
        .unwrap();
    assert!(removed >= 1);
    let left: Vec<String> = stored(&server, "CreateSecret")
        .await
        .iter()
        .map(|r| r["requestParameters"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(left, vec![new.clone()]);
    let in_file = std::fs::read_to_string(&path).unwrap();
    assert!(in_file.contains(&old) && in_file.contains(&new));
    server.stop().await;
}
