//! `aws-sigv4`, the signer the Rust SDK uses, as the oracle: whatever it signs, in whatever
//! shape, our verifier must accept, and must refuse when the request changes after signing.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use proptest::prelude::*;
use tumbler::api::sigv4::{self, SignedRequest};

struct Signed {
    headers: HeaderMap,
    path: String,
    query: Option<String>,
}

fn sign_with_oracle(
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    secret: &str,
    region: &str,
) -> Signed {
    let identity = Credentials::new("AKIDEXAMPLE", secret, None, None, "oracle").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("secretsmanager")
        .time(SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let uri = format!("https://secretsmanager.{region}.amazonaws.com{path_and_query}");
    let mut all: Vec<(String, String)> = vec![(
        "host".into(),
        format!("secretsmanager.{region}.amazonaws.com"),
    )];
    all.extend(headers.iter().cloned());
    let signable = SignableRequest::new(
        "POST",
        uri.clone(),
        all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _sig) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(&uri)
        .body(())
        .unwrap();
    for (k, v) in &all {
        request.headers_mut().append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    instructions.apply_to_request_http1x(&mut request);
    let mut out = HeaderMap::new();
    for (k, v) in request.headers() {
        out.append(
            HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    Signed {
        headers: out,
        path: request.uri().path().to_owned(),
        query: request.uri().query().map(str::to_owned),
    }
}

fn verify(s: &Signed, body: &[u8], secret: &str) -> Result<(), sigv4::AuthError> {
    let auth = sigv4::parse_authorization(
        s.headers.get("authorization").unwrap().to_str().unwrap(),
        "secretsmanager",
    )?;
    let (amz_date, _) = sigv4::request_time(&s.headers)?;
    SignedRequest {
        method: "POST",
        path: &s.path,
        query: s.query.as_deref(),
        headers: &s.headers,
        body,
        auth: &auth,
        amz_date: &amz_date,
    }
    .verify(secret.as_bytes())
}

#[test]
fn a_botocore_shaped_request_signed_by_aws_sigv4_verifies() {
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            "secretsmanager.GetSecretValue".to_owned(),
        ),
    ];
    let body = br#"{"SecretId":"prod/db"}"#;
    let s = sign_with_oracle("/", &headers, body, "secret-key", "us-east-1");
    verify(&s, body, "secret-key").unwrap();
    assert!(matches!(
        verify(&s, body, "other-key"),
        Err(sigv4::AuthError::InvalidSignature(_))
    ));
    assert!(verify(&s, br#"{"SecretId":"prod/dc"}"#, "secret-key").is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn whatever_aws_sigv4_signs_our_verifier_accepts(
        header_values in proptest::collection::vec("[ -~]{0,40}", 0..4),
        body in proptest::collection::vec(any::<u8>(), 0..200),
        path in "(/[a-zA-Z0-9._~-]{1,8}){0,3}/?",
        query in proptest::option::of("[a-z]{1,5}=[a-zA-Z0-9]{0,6}(&[a-z]{1,5}=[a-zA-Z0-9]{0,6}){0,2}"),
        region in "(us|eu|ap)-(east|west|south)-[1-3]",
        secret in "[A-Za-z0-9/+]{40}",
    ) {
        let headers: Vec<(String, String)> = header_values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("x-test-{i}"), v.trim().to_owned()))
            .collect();
        let path = if path.is_empty() { "/".to_owned() } else { path };
        let target = match &query { Some(q) => format!("{path}?{q}"), None => path.clone() };
        let s = sign_with_oracle(&target, &headers, &body, &secret, &region);
        prop_assert!(verify(&s, &body, &secret).is_ok(), "{:?}", verify(&s, &body, &secret));
        let mut other = body.clone();
        other.push(0);
        prop_assert!(verify(&s, &other, &secret).is_err());
    }
}
