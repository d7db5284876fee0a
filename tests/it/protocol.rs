//! The wire, byte for byte: what AWS's front end answers for malformed, unsigned or badly
//! signed requests, and the shape of every response.

use std::time::{Duration, SystemTime};

use crate::harness::{
    ACCESS_KEY_ID, Backend, SECRET_ACCESS_KEY, TestServer, signed_post, signed_post_at, unique,
};

const JSON: Option<&str> = Some("application/x-amz-json-1.1");

async fn json_of(r: reqwest::Response) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.bytes().await.unwrap();
    let value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)));
    (status, value, headers)
}

async fn call(
    server: &TestServer,
    op: &str,
    body: &str,
) -> (u16, serde_json::Value, reqwest::header::HeaderMap) {
    json_of(
        signed_post(
            &server.endpoint,
            Some(&format!("secretsmanager.{op}")),
            JSON,
            body.as_bytes(),
            SECRET_ACCESS_KEY,
        )
        .await,
    )
    .await
}

#[tokio::test]
async fn an_unknown_target_is_unknown_operation_without_a_message() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (status, body, headers) = call(&server, "StealSecrets", "{}").await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        serde_json::json!({"__type": "UnknownOperationException"})
    );
    assert!(headers.contains_key("x-amzn-requestid"));
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_and_wrong_member_types_are_serialization_exceptions() {
    let server = TestServer::start(Backend::Sqlite).await;
    for body in [
        "{",
        "[1,2]",
        "\"x\"",
        "{\"SecretId\": 5}",
        "{\"SecretId\": {\"a\": 1}}",
    ] {
        let (status, v, _) = call(&server, "GetSecretValue", body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(v["__type"], "SerializationException", "{body}");
    }
    let (_, v, _) = call(&server, "GetSecretValue", "{\"SecretId\": 5}").await;
    assert!(v["message"].as_str().unwrap().contains("SecretId"), "{v}");
    server.stop().await;
}

#[tokio::test]
async fn a_missing_required_member_is_a_validation_exception_in_aws_words() {
    let server = TestServer::start(Backend::Sqlite).await;
    let (status, v, _) = call(&server, "GetSecretValue", "{}").await;
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "ValidationException");
    assert_eq!(
        v["Message"],
        "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null"
    );
    let (_, v, _) = call(&server, "GetRandomPassword", "{\"PasswordLength\": 5000}").await;
    assert_eq!(
        v["Message"],
        "1 validation error detected: Value '5000' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096"
    );
    server.stop().await;
}

#[tokio::test]
async fn raw_writes_without_a_client_request_token_are_refused_before_lookup() {
    let server = TestServer::start(Backend::Sqlite).await;
    let text = "You must provide a ClientRequestToken value. We recommend a UUID-type value.";
    let missing = unique("nope");
    for (op, body, code) in [
        (
            "CreateSecret",
            format!(r#"{{"Name":"{missing}","SecretString":"x"}}"#),
            "InvalidRequestException",
        ),
        (
            "PutSecretValue",
            format!(r#"{{"SecretId":"{missing}","SecretString":"x"}}"#),
            "InvalidRequestException",
        ),
        (
            "UpdateSecret",
            format!(r#"{{"SecretId":"{missing}","SecretString":"x"}}"#),
            "InvalidRequestException",
        ),
        (
            "RotateSecret",
            format!(r#"{{"SecretId":"{missing}"}}"#),
            "InvalidParameterException",
        ),
    ] {
        let (status, v, _) = call(&server, op, &body).await;
        assert_eq!(
            (
                status,
                v["__type"].as_str().unwrap(),
                v["Message"].as_str().unwrap()
            ),
            (400, code, text),
            "{op}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn responses_carry_numbers_for_timestamps_and_never_null() {
    let server = TestServer::start(Backend::Sqlite).await;
    let name = unique("shape");
    let (status, v, headers) = call(
        &server,
        "CreateSecret",
        &format!(
            r#"{{"Name":"{name}","SecretString":"x","ClientRequestToken":"{}"}}"#,
            uuid::Uuid::new_v4()
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-amz-json-1.1");
    assert!(v.get("ReplicationStatus").is_none());
    let r = signed_post(
        &server.endpoint,
        Some("secretsmanager.DescribeSecret"),
        JSON,
        format!(r#"{{"SecretId":"{name}"}}"#).as_bytes(),
        SECRET_ACCESS_KEY,
    )
    .await;
    let text = r.text().await.unwrap();
    assert!(!text.contains("null"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let created = v["CreatedDate"].as_f64().unwrap();
    assert!(
        created > 1.7e9 && created < 1e10,
        "epoch seconds: {created}"
    );
    server.stop().await;
}

#[tokio::test]
async fn unsigned_requests_are_missing_authentication_token() {
    let server = TestServer::start(Backend::Sqlite).await;
    let r = reqwest::Client::new()
        .post(format!("{}/", server.endpoint))
        .header("x-amz-target", "secretsmanager.ListSecrets")
        .header("content-type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, v, headers) = json_of(r).await;
    assert_eq!(status, 400);
    assert_eq!(
        v,
        serde_json::json!({"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"})
    );
    assert!(headers.contains_key("x-amzn-requestid"));
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_secret_key_is_invalid_signature_with_the_canonical_request() {
    let server = TestServer::start(Backend::Sqlite).await;
    let r = signed_post(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        JSON,
        b"{}",
        "not-the-secret",
    )
    .await;
    let (status, v, _) = json_of(r).await;
    assert_eq!(status, 400);
    assert_eq!(v["__type"], "InvalidSignatureException");
    let m = v["message"].as_str().unwrap();
    assert!(m.starts_with(
        "The request signature we calculated does not match the signature you provided."
    ));
    assert!(m.contains("The Canonical String for this request should have been\n'POST\n/\n"));
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_access_key_is_unrecognized_client() {
    let server = TestServer::start(Backend::Sqlite).await;
    let r = signed_post_at(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        JSON,
        b"{}",
        "AKIANOBODY0000000000",
        "x",
        SystemTime::now(),
    )
    .await;
    let (status, v, _) = json_of(r).await;
    assert_eq!(
        (status, v["__type"].as_str().unwrap()),
        (400, "UnrecognizedClientException")
    );
    assert_eq!(
        v["message"],
        "The security token included in the request is invalid."
    );
    server.stop().await;
}

#[tokio::test]
async fn requests_signed_more_than_fifteen_minutes_away_are_refused() {
    let server = TestServer::start(Backend::Sqlite).await;
    let old = SystemTime::now() - Duration::from_secs(16 * 60);
    let r = signed_post_at(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        JSON,
        b"{}",
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        old,
    )
    .await;
    let (_, v, _) = json_of(r).await;
    assert_eq!(v["__type"], "InvalidSignatureException");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired: "),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().ends_with(" - 15 min.)"),
        "{v}"
    );
    let future = SystemTime::now() + Duration::from_secs(16 * 60);
    let r = signed_post_at(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        JSON,
        b"{}",
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        future,
    )
    .await;
    let (_, v, _) = json_of(r).await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature not yet current: "),
        "{v}"
    );
    let near = SystemTime::now() - Duration::from_secs(14 * 60);
    let r = signed_post_at(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        JSON,
        b"{}",
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        near,
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_authorization_header_is_incomplete_signature() {
    let server = TestServer::start(Backend::Sqlite).await;
    let r = reqwest::Client::new()
        .post(format!("{}/", server.endpoint))
        .header("x-amz-target", "secretsmanager.ListSecrets")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", "20260101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/secretsmanager/aws4_request",
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, v, _) = json_of(r).await;
    assert_eq!(
        (status, v["__type"].as_str().unwrap()),
        (400, "IncompleteSignatureException")
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Authorization header requires 'Signature' parameter.")
    );
    server.stop().await;
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_refused() {
    let server = TestServer::start(Backend::Sqlite).await;
    for ct in [None, Some("text/plain")] {
        let r = signed_post(
            &server.endpoint,
            Some("secretsmanager.ListSecrets"),
            ct,
            b"{}",
            SECRET_ACCESS_KEY,
        )
        .await;
        let (status, v, _) = json_of(r).await;
        assert_eq!(
            (status, v["__type"].as_str().unwrap()),
            (400, "UnknownOperationException"),
            "{ct:?}"
        );
    }
    // Plain application/json is accepted too.
    let r = signed_post(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        Some("application/json"),
        b"{}",
        SECRET_ACCESS_KEY,
    )
    .await;
    assert_eq!(r.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_without_reading_it() {
    let server = TestServer::start(Backend::Sqlite).await;
    let big = vec![b' '; (1 << 20) + 1];
    let r = signed_post(
        &server.endpoint,
        Some("secretsmanager.ListSecrets"),
        JSON,
        &big,
        SECRET_ACCESS_KEY,
    )
    .await;
    let (status, v, _) = json_of(r).await;
    assert_eq!(
        (status, v["__type"].as_str().unwrap()),
        (400, "SerializationException")
    );
    assert!(v["message"].as_str().unwrap().contains("1048576"));
    server.stop().await;
}

#[tokio::test]
async fn arbitrary_bodies_never_cause_a_server_error() {
    use rand::{Rng, SeedableRng};
    let server = TestServer::start(Backend::Sqlite).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let ops = [
        "CreateSecret",
        "GetSecretValue",
        "PutSecretValue",
        "ListSecrets",
        "UpdateSecretVersionStage",
        "BatchGetSecretValue",
        "GetRandomPassword",
        "TagResource",
    ];
    let fragments = [
        "{",
        "}",
        "\"SecretId\":",
        "\"Name\":",
        "\"x\"",
        "null",
        "[",
        "]",
        ",",
        "1e999",
        "-1",
        "true",
        "\"\\u0000\"",
        "{\"Key\":1}",
        "\"Filters\":",
        "\"PasswordLength\":",
    ];
    for i in 0..300 {
        let body: String = (0..rng.random_range(0..12))
            .map(|_| fragments[rng.random_range(0..fragments.len())])
            .collect();
        let op = ops[i % ops.len()];
        let r = signed_post(
            &server.endpoint,
            Some(&format!("secretsmanager.{op}")),
            JSON,
            body.as_bytes(),
            SECRET_ACCESS_KEY,
        )
        .await;
        assert!(
            r.status().as_u16() < 500,
            "{op} {body:?} gave {}",
            r.status()
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn health_and_metrics_are_served() {
    let server = TestServer::start(Backend::Sqlite).await;
    call(&server, "ListSecrets", "{}").await;
    call(&server, "GetSecretValue", "{\"SecretId\":\"missing-one\"}").await;
    let health = reqwest::get(format!("{}/health", server.endpoint))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let metrics = reqwest::get(format!("{}/metrics", server.endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tumbler_requests_total{operation=\"ListSecrets\",error_code=\"\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("tumbler_requests_total{operation=\"GetSecretValue\",error_code=\"ResourceNotFoundException\"} 1"));
    assert!(
        metrics.contains("tumbler_request_duration_seconds_count{operation=\"ListSecrets\"} 1")
    );
    server.stop().await;
}
