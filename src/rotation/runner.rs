//! Invoking a rotation function: one synchronous invocation per step with the event AWS sends
//! (spec §4.3), through whichever kind of function the secret's Lambda ARN names. A
//! [`FunctionSession`] lives for one run of a rotation, so a `process` function's process is
//! reused across its steps.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::builtin;
use super::definition::{FunctionKind, FunctionSpec, HttpSpec};
use super::process::ProcessSession;
use crate::domain::policy::Policy;
use crate::domain::rotation::{RotationJob, RotationStep};
use crate::service::Service;
use crate::signing::Signer;

/// A step that did not succeed, in words fit for the rotation's record and the log (never a
/// secret value: functions' own error messages are passed on as they gave them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeError(pub String);

impl std::fmt::Display for InvokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lambda's words for a function that ran past its deadline.
pub fn timed_out(timeout: Duration) -> InvokeError {
    InvokeError(format!(
        "Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    ))
}

/// The event, exactly the four members AWS sends.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationEventPayload<'a> {
    pub step: &'a str,
    pub secret_id: &'a str,
    pub client_request_token: &'a str,
    pub rotation_token: &'a str,
}

impl<'a> RotationEventPayload<'a> {
    pub fn new(job: &'a RotationJob, step: RotationStep) -> Self {
        RotationEventPayload {
            step: step.as_str(),
            secret_id: &job.secret_arn,
            client_request_token: &job.token,
            // Opaque to the function, which passes it back to PutSecretValue.
            rotation_token: &job.id,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("the event serializes")
    }
}

/// What every runner needs: the service (builtins call it directly), the endpoint functions
/// call back to, and an HTTP client.
pub struct Runners {
    pub service: Arc<Service>,
    /// Tumbler's own endpoint, as a function reaches it (`http://127.0.0.1:4584`).
    pub endpoint: String,
    http: reqwest::Client,
}

impl Runners {
    pub fn new(service: Arc<Service>, endpoint: String) -> Runners {
        Runners {
            service,
            endpoint,
            http: reqwest::Client::new(),
        }
    }

    /// A session with `spec` for one run of `job`.
    pub fn open(&self, spec: &FunctionSpec, job: &RotationJob) -> FunctionSession {
        match &spec.kind {
            FunctionKind::Builtin(b) => FunctionSession::Builtin {
                builtin: b.clone(),
                service: self.service.clone(),
                timeout: spec.timeout,
                role_policy: spec.role_policy.clone(),
            },
            FunctionKind::Process(p) => FunctionSession::Process(Box::new(ProcessSession::new(
                spec.name.clone(),
                p.clone(),
                spec.timeout,
                self.service.clone(),
                self.endpoint.clone(),
                job,
                spec.role_policy.clone(),
            ))),
            FunctionKind::Http(h) => FunctionSession::Http {
                spec: h.clone(),
                timeout: spec.timeout,
                client: self.http.clone(),
            },
        }
    }
}

pub enum FunctionSession {
    Builtin {
        builtin: super::definition::Builtin,
        service: Arc<Service>,
        timeout: Duration,
        role_policy: Option<Arc<Policy>>,
    },
    Process(Box<ProcessSession>),
    Http {
        spec: HttpSpec,
        timeout: Duration,
        client: reqwest::Client,
    },
}

impl FunctionSession {
    /// Runs one step; `Ok` when the function returned normally.
    pub async fn invoke(
        &mut self,
        job: &RotationJob,
        step: RotationStep,
    ) -> Result<(), InvokeError> {
        match self {
            FunctionSession::Builtin {
                builtin,
                service,
                timeout,
                role_policy,
            } => {
                // A database can block a statement (a lock on the role, a server that stopped
                // answering mid-step): the function's deadline holds for builtins too.
                tokio::time::timeout(
                    *timeout,
                    builtin::run(builtin, service, job, role_policy.as_ref(), step),
                )
                .await
                .unwrap_or_else(|_| Err(timed_out(*timeout)))
            }
            FunctionSession::Process(p) => {
                p.invoke(&RotationEventPayload::new(job, step).to_bytes())
                    .await
            }
            FunctionSession::Http {
                spec,
                timeout,
                client,
            } => {
                invoke_http(
                    client,
                    spec,
                    *timeout,
                    &RotationEventPayload::new(job, step).to_bytes(),
                )
                .await
            }
        }
    }

    /// Ends the session: stops a process and revokes its credentials.
    pub async fn close(self) {
        if let FunctionSession::Process(p) = self {
            p.close().await;
        }
    }
}

/// The Lambda Invoke API (`POST .../invocations`, RequestResponse): a 2xx without
/// `X-Amz-Function-Error` is success; the function's error payload is the failure's text.
async fn invoke_http(
    client: &reqwest::Client,
    spec: &HttpSpec,
    timeout: Duration,
    event: &[u8],
) -> Result<(), InvokeError> {
    let url = reqwest::Url::parse(&spec.url)
        .map_err(|e| InvokeError(format!("function url {}: {e}", spec.url)))?;
    let mut request = client
        .post(url.clone())
        .timeout(timeout)
        .header("content-type", "application/json")
        .header("x-amz-invocation-type", "RequestResponse")
        .body(event.to_vec());
    if let Some(s) = &spec.signing {
        let signer = Signer {
            access_key_id: &s.access_key_id,
            secret_access_key: &s.secret_access_key,
            region: &s.region,
            service: "lambda",
            session_token: None,
        };
        let headers = signer
            .sign(
                "POST",
                &url,
                &[
                    ("content-type", "application/json"),
                    ("x-amz-invocation-type", "RequestResponse"),
                ],
                event,
            )
            .map_err(InvokeError)?;
        for (k, v) in headers {
            request = request.header(k, v);
        }
    }
    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            timed_out(timeout)
        } else {
            InvokeError(format!("invoking {}: {e}", spec.url))
        }
    })?;
    let status = response.status();
    let function_error = response
        .headers()
        .get("x-amz-function-error")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await.unwrap_or_default();
    if let Some(kind) = function_error {
        return Err(InvokeError(function_error_text(&kind, &body)));
    }
    if !status.is_success() {
        return Err(InvokeError(format!(
            "{} answered HTTP {status}: {}",
            spec.url,
            String::from_utf8_lossy(&body[..body.len().min(512)])
        )));
    }
    Ok(())
}

/// `errorType: errorMessage` from a Lambda error payload, or the payload itself.
pub fn function_error_text(fallback_type: &str, payload: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct LambdaError {
        #[serde(rename = "errorType")]
        error_type: Option<String>,
        #[serde(rename = "errorMessage")]
        error_message: Option<String>,
    }
    match serde_json::from_slice::<LambdaError>(payload) {
        Ok(LambdaError {
            error_type,
            error_message: Some(message),
        }) => format!(
            "{}: {message}",
            error_type.as_deref().unwrap_or(fallback_type)
        ),
        _ => format!(
            "{fallback_type}: {}",
            String::from_utf8_lossy(&payload[..payload.len().min(512)])
        ),
    }
}
