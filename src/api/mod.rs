//! THE WIRE. The only module that knows HTTP, awsJson1.1, SigV4 and AWS's spellings.
//!
//! A request goes: body (size limit) -> SigV4 ([`sigv4`]) -> `X-Amz-Target` ([`operation`]) ->
//! content type -> JSON into the operation's request shape ([`ops`]) -> service -> JSON out.
//! Any failure on the way becomes an [`error::ApiError`], whose wire form has one table.

pub mod admin;
pub mod error;
pub mod operation;
pub mod ops;
pub mod protocol;
pub mod shapes;
pub mod sigv4;
pub mod validate;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tracing::Instrument;

use self::error::ApiError;
use self::operation::Operation;
use self::sigv4::{AuthError, SignedRequest};
use crate::auth::Principal;
use crate::clock::{Clock, SystemClock};
use crate::service::Service;
use crate::telemetry::metrics::Metrics;

/// Settings of the wire layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Accept any well-formed credentials as the admin, and answer the reset endpoints.
    pub dev: bool,
    /// How far `X-Amz-Date` may be from the server's clock, either way.
    pub max_clock_skew_secs: i64,
    pub max_body_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            dev: false,
            max_clock_skew_secs: 15 * 60,
            max_body_bytes: protocol::MAX_BODY_BYTES,
        }
    }
}

pub struct App {
    /// Shared with the rotation driver and scheduler.
    pub service: Arc<Service>,
    pub config: ApiConfig,
    pub metrics: Arc<Metrics>,
    pub signing_keys: sigv4::SigningKeyCache,
}

pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", post(aws_request))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/_tumbler/reset", post(reset))
        .route("/moto-api/reset", post(reset))
        .fallback(fallback)
        .with_state(app)
}

/// Notes the SecretId (a name or ARN, never a value) on the request's log span.
pub fn record_secret_id(secret_id: Option<&str>) {
    if let Some(id) = secret_id {
        tracing::Span::current().record("secret_id", id);
    }
}

async fn aws_request(State(app): State<Arc<App>>, request: axum::extract::Request) -> Response {
    let started = Instant::now();
    // Taken apart rather than extracted piecewise, which would copy the headers.
    let (parts, body) = request.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    // From the thread's CSPRNG rather than a system call per request.
    let request_id = uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string();
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let operation = target.and_then(Operation::from_target);
    let admin_operation = target.and_then(admin::operation_name);
    let op_name = operation
        .map(Operation::name)
        .or(admin_operation)
        .unwrap_or("Unknown");
    let span = tracing::info_span!(
        "request",
        request_id = request_id.as_str(),
        operation = op_name,
        secret_id = tracing::field::Empty
    );
    let result = async {
        let bytes = protocol::read_body(body, &headers, app.config.max_body_bytes).await?;
        let principal = authenticate(&app, &method, &uri, &headers, &bytes).await?;
        if let Some(admin_op) = admin_operation {
            protocol::check_content_type(&headers)?;
            let principal = principal.for_operation(admin_op);
            return admin::dispatch(&app.service, &principal, admin_op, &bytes).await;
        }
        let operation = operation.ok_or(ApiError::UnknownOperation)?;
        protocol::check_content_type(&headers)?;
        if !principal.may_call(operation.name()) {
            return Err(ApiError::Service(crate::error::Error::AccessDenied(
                principal.not_authorized(operation.name(), None),
            )));
        }
        let principal = principal.for_operation(operation.name());
        operation.dispatch(&app.service, &principal, &bytes).await
    }
    .instrument(span.clone())
    .await;

    let elapsed = started.elapsed();
    let (status, body, code) = match result {
        Ok(body) => (StatusCode::OK, body, None),
        Err(e) => {
            let wire = e.to_wire();
            let _enter = span.enter();
            match &e {
                ApiError::Service(crate::error::Error::Internal(cause)) => {
                    tracing::error!(error_code = wire.code, cause = %cause, "internal error");
                }
                _ => tracing::info!(error_code = wire.code, "client error"),
            }
            (wire.status, e.body(), Some(wire.code))
        }
    };
    app.metrics.record_request(op_name, code, elapsed);
    {
        let _enter = span.enter();
        tracing::debug!(
            status = status.as_u16(),
            elapsed_us = elapsed.as_micros() as u64,
            "done"
        );
    }
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(protocol::CONTENT_TYPE),
    );
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

/// Verifies the request's SigV4 signature and says who signed it.
async fn authenticate(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Principal, ApiError> {
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthError::MissingAuthenticationToken.into());
    };
    let raw = raw.to_str().map_err(|_| {
        AuthError::IncompleteSignature("The Authorization header is not valid ASCII.".into())
    })?;
    let auth = sigv4::parse_authorization(raw, "secretsmanager")?;
    let (amz_date, request_secs) = sigv4::request_time(headers)?;
    if !amz_date.starts_with(&auth.date) {
        return Err(AuthError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8]
        ))
        .into());
    }
    // Signature freshness is about real time, whatever clock the service runs on.
    let now_secs = SystemClock.now().0 / 1000;
    sigv4::check_skew(
        &amz_date,
        request_secs,
        now_secs,
        app.config.max_clock_skew_secs,
    )?;
    let account = app.service.account().clone();
    let region = crate::domain::Region(auth.region.clone());
    if app.config.dev {
        return Ok(Principal::authenticated(
            auth.access_key_id.clone(),
            "admin".into(),
            account,
            region,
        ));
    }
    // Session tokens are issued only to rotation functions, scoped to one secret.
    if let Some(token) = headers.get("x-amz-security-token") {
        let token = token.to_str().map_err(|_| AuthError::UnrecognizedClient)?;
        let Some((secret, scope)) = app.service.session(&auth.access_key_id, token) else {
            return Err(AuthError::UnrecognizedClient.into());
        };
        SignedRequest {
            method: method.as_str(),
            path: uri.path(),
            query: uri.query(),
            headers,
            body,
            auth: &auth,
            amz_date: &amz_date,
        }
        .verify(&secret)?;
        return Ok(Principal::rotation_session(
            auth.access_key_id,
            account,
            region,
            scope,
        ));
    }
    let Some((user, secret)) = app.service.access_key_secret(&auth.access_key_id).await? else {
        return Err(AuthError::UnrecognizedClient.into());
    };
    SignedRequest {
        method: method.as_str(),
        path: uri.path(),
        query: uri.query(),
        headers,
        body,
        auth: &auth,
        amz_date: &amz_date,
    }
    .verify_with_key(&app.signing_keys.key_for(&auth, &secret))?;
    Ok(Principal::authenticated(
        auth.access_key_id,
        user,
        account,
        region,
    ))
}

async fn health() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"status":"ok"}"#,
    )
        .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

/// Wipes every secret: only on a `--dev` server.
async fn reset(State(app): State<Arc<App>>) -> Response {
    if !app.config.dev {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"message":"Not Found"}"#,
        )
            .into_response();
    }
    match app.service.store().delete_all_secrets().await {
        Ok(()) => {
            tracing::warn!("dev reset: every secret was deleted");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"reset"}"#,
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(cause = %e, "dev reset failed");
            (StatusCode::INTERNAL_SERVER_ERROR, r#"{"status":"failed"}"#).into_response()
        }
    }
}

/// Anything but `POST /` and the operational endpoints.
async fn fallback(headers: HeaderMap) -> Response {
    let e = if headers.contains_key(header::AUTHORIZATION) {
        ApiError::UnknownOperation
    } else {
        ApiError::Auth(AuthError::MissingAuthenticationToken)
    };
    let wire = e.to_wire();
    (
        wire.status,
        [(header::CONTENT_TYPE, protocol::CONTENT_TYPE)],
        e.body(),
    )
        .into_response()
}
