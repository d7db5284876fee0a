//! THE WIRE. The only module that knows HTTP, awsJson1.1, SigV4 and AWS's spellings.
//!
//! A request goes: body (size limit) -> SigV4 ([`sigv4`]) -> `X-Amz-Target` ([`operation`]) ->
//! content type -> JSON into the operation's request shape ([`ops`]) -> service -> JSON out.
//! Any failure on the way becomes an [`error::ApiError`], whose wire form has one table.

pub mod admin;
pub mod audit;
pub mod condition_keys;
pub mod error;
pub mod iam;
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
use crate::auth::{Identity, Principal, RequestFacts};
use crate::clock::{Clock, SystemClock};
use crate::service::Service;
use crate::service::{ADMIN_USER, ApiCallRecord, SessionLookup};
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
    let source_ip = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    // From the thread's CSPRNG rather than a system call per request.
    let request_id = uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string();
    let call = Call {
        method: &method,
        uri: &uri,
        headers: &headers,
        source_ip,
        request_id: &request_id,
    };
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    if target.is_none() && iam::is_query_request(&headers) {
        return iam::handle(&app, &call, body, started).await;
    }
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
    // Who called, and what they sent, for the audit record whatever the outcome.
    let mut caller: Option<Principal> = None;
    let mut sent = Arc::new(serde_json::Value::Null);
    let result = async {
        let bytes = protocol::read_body(body, &headers, app.config.max_body_bytes).await?;
        sent = Arc::new(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null));
        let principal = authenticate(&app, &call, &bytes, "secretsmanager").await?;
        let members = sent.clone();
        let principal = principal.with_request(RequestFacts::new(source_ip, false, move || {
            condition_keys::of_request(&members)
        }));
        if let Some(admin_op) = admin_operation {
            let principal = principal.for_operation(admin_op);
            caller = Some(principal.clone());
            protocol::check_content_type(&headers)?;
            return admin::dispatch(&app.service, &principal, admin_op, &bytes).await;
        }
        let operation = operation.ok_or(ApiError::UnknownOperation)?;
        let principal = principal.for_operation(operation.name());
        caller = Some(principal.clone());
        protocol::check_content_type(&headers)?;
        // Operations without a resource are authorized here; the others where their secret
        // is looked up (`Service::find`), with the secret's own policy and tags.
        if operation.has_no_resource() {
            app.service
                .authorize_operation(&principal, "secretsmanager")?;
        }
        operation.dispatch(&app.service, &principal, &bytes).await
    }
    .instrument(span.clone())
    .await;

    let elapsed = started.elapsed();
    let (status, body, code, message) = match result {
        Ok(body) => (StatusCode::OK, body, None, None),
        Err(e) => {
            let wire = e.to_wire();
            let _enter = span.enter();
            match &e {
                ApiError::Service(crate::error::Error::Internal(cause)) => {
                    tracing::error!(error_code = wire.code, cause = %cause, "internal error");
                }
                _ => tracing::info!(error_code = wire.code, "client error"),
            }
            (wire.status, e.body(), Some(wire.code), wire.message)
        }
    };
    // A write's response is kept in part; of a read's (which may hold a value), only the ARN
    // is read, for the record's secret.
    let response_value = match operation {
        Some(o) if code.is_none() && !o.is_read_only() => {
            serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null)
        }
        Some(_) if code.is_none() => audit::arn_only(&body),
        _ => serde_json::Value::Null,
    };
    let audited = app
        .service
        .audit_api_call(ApiCallRecord {
            event_source: if admin_operation.is_some() {
                "tumbler.amazonaws.com"
            } else {
                "secretsmanager.amazonaws.com"
            },
            event_name: op_name,
            region: caller
                .as_ref()
                .map(|p| p.region().0.as_str())
                .unwrap_or("us-east-1"),
            source_ip,
            user_agent: headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
            principal: caller.as_ref(),
            // Of a request that failed authentication: the key it named.
            access_key_id: caller.is_none().then(|| call.access_key_id()).flatten(),
            request_parameters: audit::request_parameters(&sent),
            response_elements: if operation.is_some_and(|o| !o.is_read_only()) {
                audit::response_elements(&response_value)
            } else {
                serde_json::Value::Null
            },
            error: code.map(|c| (c, message.as_deref())),
            request_id: &request_id,
            read_only: operation.is_none_or(|o| o.is_read_only()),
            // ListAuditEvents' SecretId is a filter over records, not an access to the secret.
            secret: if admin_operation == Some("ListAuditEvents") {
                None
            } else {
                audit::secret_of(&response_value, &sent)
            },
        })
        .await;
    let (status, body) = match audited {
        Ok(()) => (status, body),
        // Never a call without its record (service::audit): refuse it instead.
        Err(e) => {
            tracing::error!(cause = %e, "call refused: its audit record cannot be kept");
            let e = ApiError::Service(e);
            (e.to_wire().status, e.body())
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

/// One request as it arrived, for authentication and the audit record.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub source_ip: Option<std::net::IpAddr>,
    pub request_id: &'a str,
}

impl Call<'_> {
    /// The access key id the request names, signed or not.
    pub fn access_key_id(&self) -> Option<&str> {
        let raw = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let credential = raw.split("Credential=").nth(1)?;
        credential.split('/').next()
    }
}

/// Verifies the request's SigV4 signature and says who signed it.
pub(crate) async fn authenticate(
    app: &App,
    call: &Call<'_>,
    body: &[u8],
    service: &str,
) -> Result<Principal, ApiError> {
    let headers = call.headers;
    let Some(raw) = headers.get(header::AUTHORIZATION) else {
        return Err(AuthError::MissingAuthenticationToken.into());
    };
    let raw = raw.to_str().map_err(|_| {
        AuthError::IncompleteSignature("The Authorization header is not valid ASCII.".into())
    })?;
    let auth = sigv4::parse_authorization(raw, service)?;
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
    let signed = SignedRequest {
        method: call.method.as_str(),
        path: call.uri.path(),
        query: call.uri.query(),
        headers,
        body,
        auth: &auth,
        amz_date: &amz_date,
    };
    if app.config.dev {
        let admin = app.service.user_identity(ADMIN_USER).await?;
        return Ok(Principal::authenticated(
            auth.access_key_id.clone(),
            Identity::User(admin),
            account,
            region,
        ));
    }
    // Session tokens are issued only to rotation functions, each acting with its role.
    if let Some(token) = headers.get("x-amz-security-token") {
        let token = token.to_str().map_err(|_| AuthError::UnrecognizedClient)?;
        let (secret, scope) = match app.service.session(&auth.access_key_id, token) {
            SessionLookup::Live(secret, scope) => (secret, scope),
            SessionLookup::Expired => return Err(AuthError::ExpiredToken.into()),
            SessionLookup::Unknown => return Err(AuthError::UnrecognizedClient.into()),
        };
        signed.verify(&secret)?;
        return Ok(Principal::authenticated(
            auth.access_key_id,
            Identity::Rotation(scope),
            account,
            region,
        ));
    }
    let Some((user, secret)) = app.service.access_key_secret(&auth.access_key_id).await? else {
        return Err(AuthError::UnrecognizedClient.into());
    };
    signed.verify_with_key(&app.signing_keys.key_for(&auth, &secret))?;
    let identity = app.service.user_identity(&user).await?;
    Ok(Principal::authenticated(
        auth.access_key_id,
        Identity::User(identity),
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
