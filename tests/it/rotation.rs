//! Rotation against a real server, on SQLite and PostgreSQL: RotateSecret's rules (spec §4),
//! the durable driver, the scheduler on a manual clock, functions of every kind, cancellation,
//! abandonment, and exactly one rotation under concurrent calls.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::RotationRulesType;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::{Mutex, mpsc, oneshot};
use tumbler::clock::{ManualClock, Millis, SystemClock};

use crate::harness::{Backend, TestServer, admin_call, err_of, eventually, list_rotations, unique};

const PREVIOUS_INCOMPLETE: &str =
    "A previous rotation isn't complete. That rotation will be reattempted.";

/// Fast retries and polling, so failures and schedules play out in a test's time.
const FAST: &str = "[rotation]\nmax_attempts = 2\nretry_delay_ms = 50\npoll_interval_ms = 50\nscheduler_interval_ms = 50\nlease_seconds = 3\n";

fn builtin(name: &str) -> String {
    format!("[[functions]]\nname = \"{name}\"\nkind = \"builtin\"\nbuiltin = \"random-password\"\n")
}

fn lambda_arn(name: &str) -> String {
    format!("arn:aws:lambda:us-west-2:1234566789012:function:{name}")
}

async fn stages_of(c: &Client, name: &str, version: &str) -> Vec<String> {
    let d = c.describe_secret().secret_id(name).send().await.unwrap();
    d.version_ids_to_stages()
        .and_then(|m| m.get(version).cloned())
        .unwrap_or_default()
}

async fn is_current(c: &Client, name: &str, version: &str) -> bool {
    stages_of(c, name, version)
        .await
        .contains(&"AWSCURRENT".to_owned())
}

async fn value_of(c: &Client, name: &str) -> String {
    c.get_secret_value()
        .secret_id(name)
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_owned()
}

/// Waits until the rotation that makes `token` is recorded as succeeded (the function moved
/// AWSCURRENT a moment before the driver records the end).
async fn wait_succeeded(server: &TestServer, name: &str, token: &str) {
    eventually(10, "the rotation to be recorded as succeeded", || async {
        rotations(server, name).await["Rotations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["VersionId"] == token && r["State"] == "succeeded")
    })
    .await;
}

/// The admin API's ListRotations for a secret.
async fn rotations(server: &TestServer, secret_id: &str) -> serde_json::Value {
    list_rotations(&server.endpoint, secret_id).await
}

fn events(history: &serde_json::Value) -> Vec<String> {
    history["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Event"].as_str().unwrap().to_owned())
        .collect()
}

/// A rotation function behind the Lambda Invoke API that the test answers by hand: each
/// invocation waits until the test replies, so a test can look at the secret mid-step.
struct HeldFunction {
    url: String,
    calls: mpsc::Receiver<Call>,
}

struct Call {
    event: serde_json::Value,
    body: Bytes,
    headers: HeaderMap,
    reply: oneshot::Sender<Option<String>>,
}

impl Call {
    fn step(&self) -> &str {
        self.event["Step"].as_str().unwrap()
    }
    fn ok(self) {
        let _ = self.reply.send(None);
    }
    fn fail(self, message: &str) {
        let _ = self.reply.send(Some(message.to_owned()));
    }
}

impl HeldFunction {
    async fn start() -> HeldFunction {
        let (tx, calls) = mpsc::channel(64);
        let state = Arc::new(Mutex::new(tx));
        async fn invoke(
            State(tx): State<Arc<Mutex<mpsc::Sender<Call>>>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Response {
            let (reply, answer) = oneshot::channel();
            let event = serde_json::from_slice(&body).unwrap();
            let body = body.clone();
            let tx = tx.lock().await.clone();
            if tx
                .send(Call {
                    event,
                    body,
                    headers,
                    reply,
                })
                .await
                .is_err()
            {
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            }
            match answer.await {
                Ok(None) => (StatusCode::OK, "null").into_response(),
                Ok(Some(message)) => {
                    let body =
                        serde_json::json!({"errorMessage": message, "errorType": "Exception"});
                    let mut r = (StatusCode::OK, body.to_string()).into_response();
                    r.headers_mut()
                        .insert("x-amz-function-error", "Unhandled".parse().unwrap());
                    r
                }
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        let app = axum::Router::new()
            .route(
                "/2015-03-31/functions/function/invocations",
                axum::routing::post(invoke),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/2015-03-31/functions/function/invocations",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HeldFunction { url, calls }
    }

    fn config(&self, name: &str) -> String {
        format!(
            "[[functions]]\nname = \"{name}\"\nkind = \"http\"\nurl = \"{}\"\ntimeout_seconds = 30\n",
            self.url
        )
    }

    async fn next(&mut self) -> Call {
        tokio::time::timeout(Duration::from_secs(20), self.calls.recv())
            .await
            .expect("no invocation within 20 s")
            .expect("function endpoint closed")
    }

    /// Answers the next call, as a function that does each step's work through the SDK the
    /// way AWS's template does.
    async fn serve_like_the_template(&mut self, c: &Client) -> String {
        let call = self.next().await;
        let step = call.step().to_owned();
        let arn = call.event["SecretId"].as_str().unwrap().to_owned();
        let token = call.event["ClientRequestToken"]
            .as_str()
            .unwrap()
            .to_owned();
        match step.as_str() {
            "createSecret" => {
                c.put_secret_value()
                    .secret_id(&arn)
                    .client_request_token(&token)
                    .secret_string(format!("value-{token}"))
                    .version_stages("AWSPENDING")
                    .send()
                    .await
                    .unwrap();
            }
            "finishSecret" => {
                let d = c.describe_secret().secret_id(&arn).send().await.unwrap();
                let current = d
                    .version_ids_to_stages()
                    .unwrap()
                    .iter()
                    .find(|(_, s)| s.contains(&"AWSCURRENT".to_owned()))
                    .map(|(v, _)| v.clone());
                c.update_secret_version_stage()
                    .secret_id(&arn)
                    .version_stage("AWSCURRENT")
                    .move_to_version_id(&token)
                    .set_remove_from_version_id(current)
                    .send()
                    .await
                    .unwrap();
            }
            _ => {}
        }
        call.ok();
        step
    }
}

on_both_backends!(
    the_builtin_rotates_at_once_in_the_background_and_sets_the_rotation_fields,
    a_function_sees_a_value_less_awspending_version_and_gets_the_documented_event,
    a_failing_function_is_retried_then_marked_failed_and_awspending_stays,
    rotate_immediately_false_runs_only_test_secret_on_a_temporary_copy,
    cancel_rotate_secret_stops_a_rotation_in_flight_and_keeps_the_configuration,
    a_value_put_by_hand_abandons_the_rotation_in_flight,
    fifty_concurrent_rotate_secret_calls_start_exactly_one_rotation,
    a_ten_day_schedule_fires_after_ten_days_of_a_manual_clock,
    schedules_are_validated_and_next_rotation_date_is_the_window_end,
    an_unregistered_function_is_access_denied_and_nothing_is_stored,
    rotation_credentials_reach_only_the_secret_being_rotated,
    admin_functions_are_stored_and_every_node_sees_them,
    an_http_function_is_invoked_with_a_sigv4_signature_for_lambda,
    a_function_acts_with_its_role_policy_and_fails_where_it_denies,
);

/// A function's `role_policy` replaces the default role: a role without PutSecretValue cannot
/// make the new version, and the rotation's record says so in AWS's words.
async fn a_function_acts_with_its_role_policy_and_fails_where_it_denies(backend: Backend) {
    let read_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:DescribeSecret","secretsmanager:GetSecretValue","secretsmanager:GetRandomPassword"],"Resource":"*"}]}"#;
    let allowed = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*","Condition":{"StringEquals":{"secretsmanager:resource/AllowRotationLambdaArn":"arn:aws:lambda:us-west-2:1234566789012:function:Tagged"}}},{"Effect":"Allow","Action":"secretsmanager:GetRandomPassword","Resource":"*"}]}"#;
    let config = format!(
        "{FAST}{}role_policy = '{read_only}'\n{}role_policy = '{allowed}'\n",
        builtin("ReadOnly"),
        builtin("Tagged")
    );
    let server = TestServer::start_with(backend, Arc::new(SystemClock), &config).await;
    let c = server.client();
    let name = unique("role");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("ReadOnly"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let failed =
        crate::harness::wait_for_rotation(&server.endpoint, &name, &token, "failed", 20).await;
    let error = failed["Error"].as_str().unwrap_or_default();
    assert!(
        error.contains("assumed-role/tumbler-rotation/ReadOnly is not authorized to perform: secretsmanager:PutSecretValue"),
        "{failed}"
    );
    // A role whose allow depends on the secret's rotation function (the condition AWS's
    // templates' roles use) works for the secrets that function rotates.
    c.cancel_rotate_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    let other = unique("role-ok");
    c.create_secret()
        .name(&other)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&other)
        .rotation_lambda_arn(lambda_arn("Tagged"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    crate::harness::wait_for_rotation(&server.endpoint, &other, &token, "succeeded", 20).await;
    assert!(
        stages_of(&c, &other, &token)
            .await
            .contains(&"AWSCURRENT".to_owned())
    );
    server.stop().await;
}

async fn an_http_function_is_invoked_with_a_sigv4_signature_for_lambda(backend: Backend) {
    let mut f = HeldFunction::start().await;
    let config = format!(
        "{FAST}{}sigv4 = {{ region = \"eu-west-1\", access_key_id = \"AKIDLAMBDAINVOKER01\", secret_access_key = \"lambda-invoke-secret\" }}\n",
        f.config("Signed")
    );
    let server = TestServer::start_with(backend, Arc::new(SystemClock), &config).await;
    let c = server.client();
    let name = unique("signed");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    c.rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Signed"))
        .send()
        .await
        .unwrap();
    let call = f.next().await;
    let header = |k: &str| call.headers.get(k).unwrap().to_str().unwrap().to_owned();
    let authorization = header("authorization");
    let amz_date = header("x-amz-date");
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDLAMBDAINVOKER01/{}/eu-west-1/lambda/aws4_request",
            &amz_date[..8]
        )),
        "{authorization}"
    );
    // The signature is the one aws-sigv4 computes for the same request.
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let time = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%S", &amz_date[..15])
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp();
    let time = std::time::UNIX_EPOCH + Duration::from_secs(time.as_second() as u64);
    let identity = aws_credential_types::Credentials::new(
        "AKIDLAMBDAINVOKER01",
        "lambda-invoke-secret",
        None,
        None,
        "oracle",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name("lambda")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let host = header("host");
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
        ("x-amz-invocation-type", "RequestResponse"),
    ];
    let signable = SignableRequest::new(
        "POST",
        f.url.clone(),
        headers.iter().copied(),
        SignableBody::Bytes(&call.body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let expected = instructions
        .headers()
        .find(|(k, _)| *k == "authorization")
        .map(|(_, v)| v.to_owned())
        .unwrap();
    assert_eq!(authorization, expected);
    // The secret is sealed in the database and never shown.
    let (_, shown) = admin_call(
        &server.endpoint,
        "GetFunction",
        serde_json::json!({"Name": "Signed"}),
    )
    .await;
    let shown = shown.to_string();
    assert!(shown.contains("AKIDLAMBDAINVOKER01") && !shown.contains("lambda-invoke-secret"));
    call.ok();
    server.stop().await;
}

async fn the_builtin_rotates_at_once_in_the_background_and_sets_the_rotation_fields(
    backend: Backend,
) {
    let clock = Arc::new(SystemClock);
    let server = TestServer::start_with(
        backend,
        clock,
        &format!("{FAST}{}", builtin("SecretsManagerTestRotationLambda")),
    )
    .await;
    let c = server.client();
    let name = unique("rot");
    c.create_secret()
        .name(&name)
        .secret_string(r#"{"username":"app","password":"old"}"#)
        .send()
        .await
        .unwrap();
    let r = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("SecretsManagerTestRotationLambda"))
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(10)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let token = r.version_id().unwrap().to_owned();
    assert_eq!(r.name(), Some(name.as_str()));
    eventually(10, "the new version to become AWSCURRENT", || {
        is_current(&c, &name, &token)
    })
    .await;
    wait_succeeded(&server, &name, &token).await;
    let value: serde_json::Value = serde_json::from_str(&value_of(&c, &name).await).unwrap();
    assert_eq!(value["username"], "app");
    assert_ne!(value["password"], "old");
    assert_eq!(value["password"].as_str().unwrap().len(), 32);

    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert_eq!(
        d.rotation_lambda_arn(),
        Some(lambda_arn("SecretsManagerTestRotationLambda").as_str())
    );
    assert_eq!(
        d.rotation_rules().unwrap().automatically_after_days(),
        Some(10)
    );
    let last = d
        .last_rotated_date()
        .expect("LastRotatedDate after a success");
    let next = d
        .next_rotation_date()
        .expect("NextRotationDate when enabled");
    // The whole UTC day ten days after the rotation; "on or before" its last second.
    let day = last.secs().div_euclid(86_400);
    assert_eq!(next.secs(), (day + 11) * 86_400 - 1);
    // The finished rotation's AWSPENDING is cleaned up; the old value is AWSPREVIOUS.
    assert_eq!(stages_of(&c, &name, &token).await, ["AWSCURRENT"]);

    // The second CLI example: no arguments, the stored configuration.
    let again = c
        .rotate_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    wait_succeeded(&server, &name, &again).await;
    assert_eq!(stages_of(&c, &name, &token).await, ["AWSPREVIOUS"]);

    let history = rotations(&server, &name).await;
    assert_eq!(
        events(&history),
        [
            "RotationStarted",
            "RotationSucceeded",
            "RotationStarted",
            "RotationSucceeded"
        ]
    );
    assert!(history["Events"][1]["DurationMs"].as_i64().is_some());
    let metrics = reqwest::get(format!("{}/metrics", server.endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tumbler_rotations_total{outcome=\"succeeded\"} 2"),
        "{metrics}"
    );
    server.stop().await;
}

async fn a_function_sees_a_value_less_awspending_version_and_gets_the_documented_event(
    backend: Backend,
) {
    let mut f = HeldFunction::start().await;
    let server = TestServer::start_with(
        backend,
        Arc::new(SystemClock),
        &format!("{FAST}{}", f.config("Held")),
    )
    .await;
    let c = server.client();
    let name = unique("held");
    let created = c
        .create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = "11111111-2222-3333-4444-555555555555";
    let r = c
        .rotate_secret()
        .secret_id(&name)
        .client_request_token(token)
        .rotation_lambda_arn(lambda_arn("Held"))
        .send()
        .await
        .unwrap();
    // The call returned before the function finished: the steps run in the background.
    assert_eq!(r.version_id(), Some(token));
    let call = f.next().await;
    assert_eq!(call.step(), "createSecret");
    // Exactly the four members AWS sends.
    let mut keys: Vec<&String> = call.event.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        ["ClientRequestToken", "RotationToken", "SecretId", "Step"]
    );
    assert_eq!(call.event["SecretId"], created.arn().unwrap());
    assert_eq!(call.event["ClientRequestToken"], token);
    assert_eq!(
        call.headers.get("x-amz-invocation-type").unwrap(),
        "RequestResponse"
    );
    // The placeholder: listed with AWSPENDING, no value to read.
    assert_eq!(stages_of(&c, &name, token).await, ["AWSPENDING"]);
    let (code, message) = err_of(
        c.get_secret_value()
            .secret_id(&name)
            .version_stage("AWSPENDING")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert!(message.contains("AWSPENDING"), "{message}");
    // A second rotation is refused while this one is unfinished.
    let (code, message) = err_of(c.rotate_secret().secret_id(&name).send().await.unwrap_err());
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("InvalidRequestException", PREVIOUS_INCOMPLETE)
    );
    // The function's PutSecretValue with the token fills the placeholder.
    c.put_secret_value()
        .secret_id(&name)
        .client_request_token(token)
        .secret_string("v2")
        .version_stages("AWSPENDING")
        .send()
        .await
        .unwrap();
    call.ok();
    for expected in ["setSecret", "testSecret"] {
        let call = f.next().await;
        assert_eq!(call.step(), expected);
        assert_eq!(call.event["ClientRequestToken"], token);
        call.ok();
    }
    assert_eq!(f.serve_like_the_template(&c).await, "finishSecret");
    eventually(10, "the rotation to succeed", || async {
        events(&rotations(&server, &name).await)
            .last()
            .map(String::as_str)
            == Some("RotationSucceeded")
    })
    .await;
    assert_eq!(value_of(&c, &name).await, "v2");
    server.stop().await;
}

async fn a_failing_function_is_retried_then_marked_failed_and_awspending_stays(backend: Backend) {
    let mut f = HeldFunction::start().await;
    let server = TestServer::start_with(
        backend,
        Arc::new(SystemClock),
        &format!("{FAST}{}", f.config("Failing")),
    )
    .await;
    let c = server.client();
    let name = unique("fail");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Failing"))
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
    // Two runs of the whole rotation (max_attempts = 2), each failing at setSecret.
    for _ in 0..2 {
        let call = f.next().await;
        assert_eq!(call.step(), "createSecret");
        call.ok();
        let call = f.next().await;
        assert_eq!(call.step(), "setSecret");
        call.fail("cannot reach the database");
    }
    eventually(10, "the rotation to be marked failed", || async {
        events(&rotations(&server, &name).await)
            .last()
            .map(String::as_str)
            == Some("RotationFailed")
    })
    .await;
    let history = rotations(&server, &name).await;
    let failed = history["Events"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(failed["Step"], "setSecret");
    assert_eq!(failed["Attempt"], 2);
    assert_eq!(failed["Error"], "Exception: cannot reach the database");
    assert_eq!(history["Rotations"][0]["State"], "failed");
    // As on AWS: the version keeps AWSPENDING, AWSCURRENT is untouched, a new rotation is
    // refused until someone cleans up.
    assert_eq!(stages_of(&c, &name, &token).await, ["AWSPENDING"]);
    assert_eq!(value_of(&c, &name).await, "v1");
    let (_, message) = err_of(c.rotate_secret().secret_id(&name).send().await.unwrap_err());
    assert_eq!(message, PREVIOUS_INCOMPLETE);
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert!(d.last_rotated_date().is_none(), "no success yet");
    let metrics = reqwest::get(format!("{}/metrics", server.endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("tumbler_rotations_total{outcome=\"failed\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tumbler_rotation_step_failures_total{step=\"setSecret\"} 2"),
        "{metrics}"
    );
    server.stop().await;
}

async fn rotate_immediately_false_runs_only_test_secret_on_a_temporary_copy(backend: Backend) {
    let mut f = HeldFunction::start().await;
    let server = TestServer::start_with(
        backend,
        Arc::new(SystemClock),
        &format!("{FAST}{}", f.config("Tester")),
    )
    .await;
    let c = server.client();
    let name = unique("test");
    let v1 = c
        .create_secret()
        .name(&name)
        .secret_string("current-value")
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let r = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Tester"))
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(7)
                .build(),
        )
        .rotate_immediately(false)
        .send()
        .await
        .unwrap();
    let temp = r.version_id().unwrap().to_owned();
    let call = f.next().await;
    assert_eq!(call.step(), "testSecret");
    assert_eq!(call.event["ClientRequestToken"], temp.as_str());
    // A temporary AWSPENDING version holding a copy of the current value.
    assert_eq!(stages_of(&c, &name, &temp).await, ["AWSPENDING"]);
    let pending = c
        .get_secret_value()
        .secret_id(&name)
        .version_stage("AWSPENDING")
        .send()
        .await
        .unwrap();
    assert_eq!(pending.secret_string(), Some("current-value"));
    assert_eq!(pending.version_id(), Some(temp.as_str()));
    call.ok();
    eventually(10, "the temporary version to go", || async {
        let d = c.describe_secret().secret_id(&name).send().await.unwrap();
        !d.version_ids_to_stages().unwrap().contains_key(&temp)
    })
    .await;
    assert_eq!(stages_of(&c, &name, &v1).await, ["AWSCURRENT"]);
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(true));
    assert!(d.next_rotation_date().is_some());
    assert!(d.last_rotated_date().is_none());
    // Nothing else was invoked.
    assert!(f.calls.try_recv().is_err());
    server.stop().await;
}

async fn cancel_rotate_secret_stops_a_rotation_in_flight_and_keeps_the_configuration(
    backend: Backend,
) {
    let mut f = HeldFunction::start().await;
    let server = TestServer::start_with(
        backend,
        Arc::new(SystemClock),
        &format!("{FAST}{}", f.config("Slow")),
    )
    .await;
    let c = server.client();
    let name = unique("cancel");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Slow"))
        .rotation_rules(
            RotationRulesType::builder()
                .schedule_expression("rate(10 days)")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    // The function hangs in createSecret.
    let call = f.next().await;
    let cancelled = c
        .cancel_rotate_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.version_id(), Some(token.as_str()));
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.rotation_enabled(), Some(false));
    assert_eq!(d.rotation_lambda_arn(), Some(lambda_arn("Slow").as_str()));
    assert_eq!(
        d.rotation_rules().unwrap().schedule_expression(),
        Some("rate(10 days)")
    );
    assert!(d.next_rotation_date().is_none());
    // The driver lets go of the function: the held invocation is dropped.
    eventually(10, "the invocation to be abandoned by the driver", || {
        let closed = call.reply.is_closed();
        async move { closed }
    })
    .await;
    let history = rotations(&server, &name).await;
    assert_eq!(history["Rotations"][0]["State"], "cancelled");
    assert_eq!(events(&history), ["RotationStarted", "RotationCancelled"]);
    // Labels stay for the caller to clean up; no further step was invoked.
    assert_eq!(stages_of(&c, &name, &token).await, ["AWSPENDING"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(f.calls.try_recv().is_err());
    server.stop().await;
}

async fn a_value_put_by_hand_abandons_the_rotation_in_flight(backend: Backend) {
    let mut f = HeldFunction::start().await;
    let server = TestServer::start_with(
        backend,
        Arc::new(SystemClock),
        &format!("{FAST}{}", f.config("Held")),
    )
    .await;
    let c = server.client();
    let name = unique("abandon");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Held"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    let call = f.next().await;
    c.put_secret_value()
        .secret_id(&name)
        .secret_string("by hand")
        .send()
        .await
        .unwrap();
    assert!(stages_of(&c, &name, &token).await.is_empty());
    let history = rotations(&server, &name).await;
    assert_eq!(history["Rotations"][0]["State"], "abandoned");
    assert_eq!(events(&history), ["RotationStarted", "RotationAbandoned"]);
    // The abandoned rotation no longer blocks a new one.
    drop(call);
    c.rotate_secret().secret_id(&name).send().await.unwrap();
    server.stop().await;
}

async fn fifty_concurrent_rotate_secret_calls_start_exactly_one_rotation(backend: Backend) {
    let mut f = HeldFunction::start().await;
    let server = TestServer::start_with(
        backend,
        Arc::new(SystemClock),
        &format!("{FAST}{}", f.config("Held")),
    )
    .await;
    let c = server.client();
    let name = unique("fifty");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    // Configure once, so every call below has a function.
    c.rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Held"))
        .rotate_immediately(false)
        .send()
        .await
        .unwrap();
    f.next().await.ok();
    eventually(10, "the test rotation to end", || async {
        rotations(&server, &name).await["Rotations"][0]["State"] == "succeeded"
    })
    .await;
    let calls = (0..50).map(|_| {
        let c = c.clone();
        let name = name.clone();
        tokio::spawn(async move { c.rotate_secret().secret_id(&name).send().await })
    });
    let mut started = 0;
    for call in calls {
        match call.await.unwrap() {
            Ok(_) => started += 1,
            Err(e) => {
                let (code, message) = err_of(e);
                assert_eq!(
                    (code.as_str(), message.as_str()),
                    ("InvalidRequestException", PREVIOUS_INCOMPLETE)
                );
            }
        }
    }
    assert_eq!(started, 1);
    let history = rotations(&server, &name).await;
    let rotate: Vec<_> = history["Rotations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["Kind"] == "rotate")
        .collect();
    assert_eq!(rotate.len(), 1);
    assert_eq!(f.next().await.step(), "createSecret");
    server.stop().await;
}

async fn a_ten_day_schedule_fires_after_ten_days_of_a_manual_clock(backend: Backend) {
    // 2026-03-01T10:00:00Z
    let start = Millis(1_772_359_200_000);
    let clock = ManualClock::new(start);
    let server = TestServer::start_with(
        backend,
        Arc::new(clock.clone()),
        &format!("{FAST}{}", builtin("Builtin")),
    )
    .await;
    let c = server.client();
    let name = unique("sched");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let first = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Builtin"))
        .rotation_rules(
            RotationRulesType::builder()
                .automatically_after_days(10)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    wait_succeeded(&server, &name, &first).await;
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.last_rotated_date().unwrap().secs(), start.0 / 1000);
    // 2026-03-11T23:59:59Z: the end of the UTC day ten days on.
    assert_eq!(d.next_rotation_date().unwrap().secs(), 1_773_273_599);
    let value = value_of(&c, &name).await;

    // Nine days on, nothing is due.
    clock.set(start.plus_days(9));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(value_of(&c, &name).await, value);
    assert_eq!(events(&rotations(&server, &name).await).len(), 2);

    // After the window's last second, the rotation has certainly fired.
    clock.set(Millis(1_773_273_600_000));
    // Recorded as succeeded, not only AWSCURRENT moved: LastRotatedDate is written then.
    eventually(10, "the scheduled rotation", || async {
        events(&rotations(&server, &name).await)
            .iter()
            .filter(|e| *e == "RotationSucceeded")
            .count()
            == 2
    })
    .await;
    assert_ne!(value_of(&c, &name).await, value);
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.last_rotated_date().unwrap().secs(), 1_773_273_600);
    assert_eq!(
        d.next_rotation_date().unwrap().secs(),
        1_773_273_600 + 11 * 86_400 - 1
    );
    assert_eq!(
        events(&rotations(&server, &name).await),
        [
            "RotationStarted",
            "RotationSucceeded",
            "RotationStarted",
            "RotationSucceeded"
        ]
    );
    server.stop().await;
}

async fn schedules_are_validated_and_next_rotation_date_is_the_window_end(backend: Backend) {
    // 2026-03-01T10:00:00Z
    let clock = ManualClock::new(Millis(1_772_359_200_000));
    let server = TestServer::start_with(
        backend,
        Arc::new(clock.clone()),
        &format!("{FAST}{}", builtin("Builtin")),
    )
    .await;
    let c = server.client();
    let name = unique("rules");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    for (expr, wanted) in [
        ("cron(0 12 * * ? *)", "Invalid schedule expression"),
        ("rate(2 hours)", "Rate in hour should be least 4"),
        (
            "cron(15 10 * * ? *)",
            "minutes field \"15\" of cron() must be 0",
        ),
        ("cron(0 10 * * MON *)", "?"),
        ("every tuesday", "Invalid schedule expression"),
    ] {
        let r = c
            .rotate_secret()
            .secret_id(&name)
            .rotation_lambda_arn(lambda_arn("Builtin"))
            .rotation_rules(
                RotationRulesType::builder()
                    .schedule_expression(expr)
                    .build(),
            )
            .send()
            .await;
        if expr == "cron(0 12 * * ? *)" {
            // Valid: rotates now, and the rules read back as given.
            let token = r.unwrap().version_id().unwrap().to_owned();
            wait_succeeded(&server, &name, &token).await;
            let d = c.describe_secret().secret_id(&name).send().await.unwrap();
            assert_eq!(
                d.rotation_rules().unwrap().schedule_expression(),
                Some(expr)
            );
            // As AWS does after a success: the days the schedule works out to.
            assert_eq!(
                d.rotation_rules().unwrap().automatically_after_days(),
                Some(1)
            );
            // Daily at 12:00 UTC; the window runs to the end of that day.
            assert_eq!(d.next_rotation_date().unwrap().secs(), 1_772_409_599);
            continue;
        }
        let (code, message) = err_of(r.unwrap_err());
        assert_eq!(code, "InvalidParameterException", "{expr}");
        assert!(message.contains(wanted), "{expr}: {message}");
    }
    let (code, message) = err_of(
        c.rotate_secret()
            .secret_id(&name)
            .rotation_rules(
                RotationRulesType::builder()
                    .automatically_after_days(3)
                    .schedule_expression("rate(3 days)")
                    .build(),
            )
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "You cannot specify both rotation frequency and schedule expression together."
    );
    // A Duration window: a four-hour window starting at 01:00 UTC ends at 04:59:59.
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_rules(
            RotationRulesType::builder()
                .schedule_expression("cron(0 1 * * ? *)")
                .duration("4h")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    wait_succeeded(&server, &name, &token).await;
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert_eq!(d.rotation_rules().unwrap().duration(), Some("4h"));
    assert_eq!(
        d.next_rotation_date().unwrap().secs(),
        1_772_409_600 + 5 * 3600 - 1
    );
    server.stop().await;
}

async fn an_unregistered_function_is_access_denied_and_nothing_is_stored(backend: Backend) {
    let server = TestServer::start_with(backend, Arc::new(SystemClock), &builtin("Known")).await;
    let c = server.client();
    let name = unique("denied");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    for arn in [
        lambda_arn("Unknown"),
        "not-an-arn".to_owned(),
        "arn:aws:lambda:us-east-1:123456789012:layer:Known".to_owned(),
    ] {
        let (code, message) = err_of(
            c.rotate_secret()
                .secret_id(&name)
                .rotation_lambda_arn(arn)
                .rotation_rules(
                    RotationRulesType::builder()
                        .automatically_after_days(3)
                        .build(),
                )
                .send()
                .await
                .unwrap_err(),
        );
        assert_eq!(code, "AccessDeniedException");
        assert_eq!(
            message,
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com."
        );
    }
    let d = c.describe_secret().secret_id(&name).send().await.unwrap();
    assert!(d.rotation_enabled().is_none() && d.rotation_rules().is_none());
    assert_eq!(d.version_ids_to_stages().unwrap().len(), 1);
    server.stop().await;
}

async fn rotation_credentials_reach_only_the_secret_being_rotated(backend: Backend) {
    let server = TestServer::start_with(backend, Arc::new(SystemClock), "").await;
    let c = server.client();
    let mine = c
        .create_secret()
        .name(unique("mine"))
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let other = unique("other");
    c.create_secret()
        .name(&other)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let secret = c
        .describe_secret()
        .secret_id(mine.arn().unwrap())
        .send()
        .await
        .unwrap();
    // What the driver gives a process function.
    let history = rotations(&server, mine.arn().unwrap()).await;
    assert_eq!(history["Name"], secret.name().unwrap());
    // The default role, as a process function without a role_policy gets it.
    let scope = tumbler::auth::RotationScope {
        function_name: "F".into(),
        policy: Arc::new(tumbler::service::default_role_policy(
            mine.arn().unwrap(),
            None,
        )),
    };
    let creds = server
        .app
        .service
        .issue_rotation_session(scope.clone(), Duration::from_secs(60));
    let session_client = |creds: &tumbler::service::SessionCredentials| {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .endpoint_url(&server.endpoint)
            .region(aws_sdk_secretsmanager::config::Region::new("us-east-1"))
            .credentials_provider(aws_credential_types::Credentials::new(
                &creds.access_key_id,
                creds.secret_access_key.as_str(),
                Some(creds.session_token.to_string()),
                None,
                "rotation",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        Client::from_conf(config)
    };
    let f = session_client(&creds);
    f.get_secret_value()
        .secret_id(mine.arn().unwrap())
        .send()
        .await
        .unwrap();
    f.get_random_password().send().await.unwrap();
    let (code, message) = err_of(
        f.get_secret_value()
            .secret_id(&other)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "AccessDeniedException");
    assert!(
        message.contains("is not authorized to perform: secretsmanager:GetSecretValue"),
        "{message}"
    );
    let (code, _) = err_of(f.list_secrets().send().await.unwrap_err());
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = err_of(
        f.delete_secret()
            .secret_id(mine.arn().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "AccessDeniedException");
    // Revoked with the rotation's end.
    server.app.service.revoke_session(&creds.access_key_id);
    let (code, _) = err_of(
        f.get_secret_value()
            .secret_id(mine.arn().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "UnrecognizedClientException");
    // Credentials past their expiry are refused as expired.
    let short = server
        .app
        .service
        .issue_rotation_session(scope, Duration::from_millis(200));
    let g = session_client(&short);
    g.describe_secret()
        .secret_id(mine.arn().unwrap())
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (code, message) = err_of(
        g.describe_secret()
            .secret_id(mine.arn().unwrap())
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "ExpiredTokenException");
    assert_eq!(
        message,
        "The security token included in the request is expired"
    );
    server.stop().await;
}

async fn admin_functions_are_stored_and_every_node_sees_them(backend: Backend) {
    let server = TestServer::start_with(backend, Arc::new(SystemClock), FAST).await;
    let call = |operation: &'static str, body: serde_json::Value| {
        admin_call(&server.endpoint, operation, body)
    };
    let (status, body) = call(
        "PutFunction",
        serde_json::json!({"name": "Rotator", "kind": "builtin", "builtin": "random-password"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        "PutFunction",
        serde_json::json!({"name": "Bad", "kind": "builtin", "builtin": "nope"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidParameterException");
    let (_, body) = call("ListFunctions", serde_json::json!({})).await;
    assert_eq!(body["Functions"][0]["Function"]["name"], "Rotator");
    // Registered through the API, usable at once.
    let c = server.client();
    let name = unique("adminfn");
    c.create_secret()
        .name(&name)
        .secret_string("v1")
        .send()
        .await
        .unwrap();
    let token = c
        .rotate_secret()
        .secret_id(&name)
        .rotation_lambda_arn(lambda_arn("Rotator"))
        .send()
        .await
        .unwrap()
        .version_id()
        .unwrap()
        .to_owned();
    wait_succeeded(&server, &name, &token).await;
    let (status, _) = call("DeleteFunction", serde_json::json!({"Name": "Rotator"})).await;
    assert_eq!(status, 200);
    let (status, body) = call("GetFunction", serde_json::json!({"Name": "Rotator"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ResourceNotFoundException");
    server.stop().await;
}
