//! `process` functions: Tumbler starts the function's command and serves it the AWS Lambda
//! Runtime API on a loopback port of its own, so unmodified functions built on awslambdaric
//! (Python) or lambda_runtime (Rust) run as they do on AWS. One process serves the steps of one
//! rotation run; a process that crashes is started again for the next step, and one that
//! overruns its deadline is killed and the step reported as timed out.
//!
//! The process gets what an execution role and the Lambda environment give it on AWS:
//! `AWS_LAMBDA_RUNTIME_API` and the runtime's variables, Tumbler's endpoint, and short-lived
//! credentials that may act only on the secret being rotated.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

use super::definition::ProcessSpec;
use super::runner::{InvokeError, function_error_text};
use crate::clock::{Clock, SystemClock};
use crate::domain::policy::Policy;
use crate::domain::rotation::RotationJob;
use crate::service::{Service, SessionCredentials};

/// Extra time the credentials outlive the four steps' deadlines.
const CREDENTIALS_SLACK: Duration = Duration::from_secs(300);

/// One invocation waiting for the runtime to fetch it.
struct Invocation {
    request_id: String,
    event: Vec<u8>,
    deadline_ms: i64,
    reply: oneshot::Sender<Outcome>,
}

enum Outcome {
    Response,
    Error(String),
}

/// The Runtime API's side of one process.
struct RuntimeState {
    function_arn: String,
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    pending: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    init_error: Mutex<Option<oneshot::Sender<String>>>,
}

/// A running process and the Runtime API server it talks to.
struct Instance {
    child: Child,
    invocations: mpsc::Sender<Invocation>,
    init_error: oneshot::Receiver<String>,
    server: tokio::task::JoinHandle<()>,
    current_request: Arc<Mutex<Option<String>>>,
}

impl Instance {
    async fn stop(mut self) {
        let _ = self.child.kill().await;
        self.server.abort();
    }
}

pub struct ProcessSession {
    name: String,
    spec: ProcessSpec,
    timeout: Duration,
    service: Arc<Service>,
    endpoint: String,
    region: String,
    function_arn: String,
    credentials: SessionCredentials,
    instance: Option<Instance>,
}

impl ProcessSession {
    pub fn new(
        name: String,
        spec: ProcessSpec,
        timeout: Duration,
        service: Arc<Service>,
        endpoint: String,
        job: &RotationJob,
        role_policy: Option<Arc<Policy>>,
    ) -> ProcessSession {
        let region = job
            .secret_arn
            .split(':')
            .nth(3)
            .unwrap_or("us-east-1")
            .to_owned();
        let credentials = service.issue_rotation_session(
            service.rotation_scope(job, role_policy.as_ref(), None),
            timeout * 4 + CREDENTIALS_SLACK,
        );
        ProcessSession {
            name,
            spec,
            timeout,
            service,
            endpoint,
            region,
            function_arn: job.lambda_arn.clone(),
            credentials,
            instance: None,
        }
    }

    pub async fn close(mut self) {
        if let Some(i) = self.instance.take() {
            i.stop().await;
        }
        self.service.revoke_session(&self.credentials.access_key_id);
    }

    /// Sends `event` to the function and waits for its answer, its crash or its deadline.
    pub async fn invoke(&mut self, event: &[u8]) -> Result<(), InvokeError> {
        if self.instance.is_none() {
            self.instance = Some(self.start().await?);
        }
        let instance = self.instance.as_mut().expect("started above");
        let request_id = uuid::Uuid::new_v4().to_string();
        let (reply, answer) = oneshot::channel();
        let deadline_ms = SystemClock.now().0 + self.timeout.as_millis() as i64;
        *instance.current_request.lock().expect("request lock") = Some(request_id.clone());
        if instance
            .invocations
            .send(Invocation {
                request_id: request_id.clone(),
                event: event.to_vec(),
                deadline_ms,
                reply,
            })
            .await
            .is_err()
        {
            self.discard().await;
            return Err(InvokeError("the function's runtime stopped".into()));
        }
        let outcome = tokio::select! {
            answer = answer => match answer {
                Ok(Outcome::Response) => Ok(()),
                Ok(Outcome::Error(text)) => Err(InvokeError(text)),
                Err(_) => Err(InvokeError("the function's runtime dropped the invocation".into())),
            },
            status = instance.child.wait() => {
                let status = status.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                Err(InvokeError(format!("Runtime.ExitError: Runtime exited with error: {status}")))
            }
            message = &mut instance.init_error => {
                Err(InvokeError(format!(
                    "Runtime.InitError: {}",
                    message.unwrap_or_else(|_| "the runtime failed to start".into())
                )))
            }
            _ = tokio::time::sleep(self.timeout) => Err(super::runner::timed_out(self.timeout)),
        };
        if let Some(i) = &self.instance {
            *i.current_request.lock().expect("request lock") = None;
        }
        if outcome.is_err() {
            // Whatever state the process is in, the next step gets a fresh one. A function
            // error proper (the handler raised) leaves the process healthy, as on Lambda,
            // but a fresh start costs little and rules out a poisoned runtime.
            self.discard().await;
            tracing::warn!(function = %self.name, request_id, "function invocation failed");
        }
        outcome
    }

    async fn discard(&mut self) {
        if let Some(i) = self.instance.take() {
            i.stop().await;
        }
    }

    async fn start(&self) -> Result<Instance, InvokeError> {
        let (invocations, next) = mpsc::channel(1);
        let (init_tx, init_error) = oneshot::channel();
        let current_request = Arc::new(Mutex::new(None));
        let state = Arc::new(RuntimeState {
            function_arn: self.function_arn.clone(),
            next: tokio::sync::Mutex::new(next),
            pending: Mutex::new(HashMap::new()),
            init_error: Mutex::new(Some(init_tx)),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| InvokeError(format!("runtime API listener: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| InvokeError(format!("runtime API listener: {e}")))?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, runtime_api(state)).await;
        });

        let mut command = Command::new(&self.spec.command[0]);
        command
            .args(&self.spec.command[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(dir) = &self.spec.workdir {
            command.current_dir(dir);
        }
        // The server's own credentials and settings are not the function's business.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("AWS_") || k.starts_with("TUMBLER_") || k == "_HANDLER" {
                command.env_remove(&key);
            }
        }
        let task_root = self
            .spec
            .workdir
            .clone()
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_default();
        let runtime_env: [(&str, &str); 20] = [
            ("AWS_LAMBDA_RUNTIME_API", &addr.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", &self.name),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                &self.spec.memory_size.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                &format!("/aws/lambda/{}", self.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "tumbler"),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_tumbler"),
            ("_HANDLER", &self.spec.handler),
            ("LAMBDA_TASK_ROOT", &task_root.to_string_lossy()),
            ("LAMBDA_RUNTIME_DIR", &task_root.to_string_lossy()),
            ("TZ", ":UTC"),
            ("AWS_REGION", &self.region),
            ("AWS_DEFAULT_REGION", &self.region),
            ("AWS_ENDPOINT_URL", &self.endpoint),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &self.endpoint),
            ("SECRETS_MANAGER_ENDPOINT", &self.endpoint),
            ("AWS_ACCESS_KEY_ID", &self.credentials.access_key_id),
            (
                "AWS_SECRET_ACCESS_KEY",
                self.credentials.secret_access_key.as_str(),
            ),
            ("AWS_SESSION_TOKEN", self.credentials.session_token.as_str()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ];
        for (k, v) in runtime_env {
            command.env(k, v);
        }
        // The function's own settings come last, as Lambda's environment variables do.
        command.envs(&self.spec.env);
        die_with_parent(&mut command);
        let mut child = command.spawn().map_err(|e| {
            server.abort();
            InvokeError(format!(
                "Runtime.InitError: cannot start {:?}: {e}",
                self.spec.command[0]
            ))
        })?;
        tracing::info!(function = %self.name, pid = child.id(), runtime_api = %addr, "started function process");
        if let Some(out) = child.stdout.take() {
            tokio::spawn(log_lines(
                out,
                self.name.clone(),
                current_request.clone(),
                "stdout",
            ));
        }
        if let Some(err) = child.stderr.take() {
            tokio::spawn(log_lines(
                err,
                self.name.clone(),
                current_request.clone(),
                "stderr",
            ));
        }
        Ok(Instance {
            child,
            invocations,
            init_error,
            server,
            current_request,
        })
    }
}

/// A function process must not outlive a server that is killed outright (SIGKILL runs no
/// destructors): on Linux the kernel kills it when its parent dies. The restarted server
/// starts a new one when it resumes the rotation.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent; it runs in the
    // forked child before exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// Copies what the process writes into Tumbler's log, line by line, with the request id.
async fn log_lines(
    stream: impl tokio::io::AsyncRead + Unpin,
    function: String,
    current_request: Arc<Mutex<Option<String>>>,
    which: &'static str,
) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let request_id = current_request
            .lock()
            .expect("request lock")
            .clone()
            .unwrap_or_default();
        tracing::info!(target: "tumbler::function", function = %function, request_id = %request_id, stream = which, "{line}");
    }
}

fn runtime_api(state: Arc<RuntimeState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
        .route(
            "/2018-06-01/runtime/invocation/{id}/response",
            post(invocation_response),
        )
        .route(
            "/2018-06-01/runtime/invocation/{id}/error",
            post(invocation_error),
        )
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .with_state(state)
}

fn accepted() -> Response {
    (StatusCode::ACCEPTED, r#"{"status":"OK"}"#).into_response()
}

/// The long poll: answers when there is an invocation to run.
async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> Response {
    let invocation = state.next.lock().await.recv().await;
    let Some(inv) = invocation else {
        return (StatusCode::GONE, "shutting down").into_response();
    };
    state
        .pending
        .lock()
        .expect("pending lock")
        .insert(inv.request_id.clone(), inv.reply);
    let mut response = (StatusCode::OK, inv.event).into_response();
    let h = response.headers_mut();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", &inv.request_id);
    set("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &state.function_arn);
    set(
        "lambda-runtime-trace-id",
        &format!(
            "Root=1-{:08x}-{};Sampled=0",
            inv.deadline_ms / 1000,
            &inv.request_id.replace('-', "")[..24]
        ),
    );
    set("content-type", "application/json");
    response
}

async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
) -> Response {
    match state.pending.lock().expect("pending lock").remove(&id) {
        Some(reply) => {
            let _ = reply.send(Outcome::Response);
            accepted()
        }
        None => unknown_request(&id),
    }
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Unhandled");
    match state.pending.lock().expect("pending lock").remove(&id) {
        Some(reply) => {
            let _ = reply.send(Outcome::Error(function_error_text(kind, &body)));
            accepted()
        }
        None => unknown_request(&id),
    }
}

async fn init_error(
    State(state): State<Arc<RuntimeState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("Runtime.Unknown");
    if let Some(tx) = state.init_error.lock().expect("init lock").take() {
        let _ = tx.send(function_error_text(kind, &body));
    }
    accepted()
}

fn unknown_request(id: &str) -> Response {
    let body = serde_json::json!({
        "errorMessage": format!("Invalid request ID: {id}"),
        "errorType": "InvalidRequestID"
    });
    (StatusCode::BAD_REQUEST, body.to_string()).into_response()
}
