//! Tumbler's own admin API, beside the AWS operations: `X-Amz-Target: TumblerAdmin.<Op>`,
//! awsJson1.1 and SigV4 like the rest, callable by the admin user and by users a policy
//! allows (never by a rotation function's credentials). `tumbler admin ...` is its client.
//!
//! - `PutFunction` (a function definition, as in the config file) -> `{Function}`
//! - `GetFunction {Name}` -> `{Function, UpdatedDate}`
//! - `ListFunctions {}` -> `{Functions: [{Function, UpdatedDate}]}`
//! - `DeleteFunction {Name}` -> `{}`
//! - `ListRotations {SecretId}` -> `{ARN, Name, Rotations: [...], Events: [...]}`
//! - `ListAuditEvents {SecretId?, UserName?, EventName?, StartTime?, EndTime?, ErrorsOnly?,
//!   MaxResults?, NextToken?}` -> `{Events: [<CloudTrail record>], NextToken?}`, oldest first
//!
//! Each is authorized as the action `tumbler:<Operation>` on `*`.

use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::protocol::parse_json;
use super::shapes::{Timestamp, ts, ts_opt};
use crate::auth::Principal;
use crate::domain::rotation::{RotationEvent, RotationJob};
use crate::error::Error;
use crate::rotation::definition::FunctionDefinition;
use crate::service::Service;

pub const ADMIN_TARGET_PREFIX: &str = "TumblerAdmin.";

/// The admin operations, by target name.
pub fn operation_name(target: &str) -> Option<&'static str> {
    let name = target.strip_prefix(ADMIN_TARGET_PREFIX)?;
    [
        "PutFunction",
        "GetFunction",
        "ListFunctions",
        "DeleteFunction",
        "ListRotations",
        "ListAuditEvents",
    ]
    .into_iter()
    .find(|op| *op == name)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NameRequest {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretIdRequest {
    secret_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionEntry {
    function: FunctionDefinition,
    updated_date: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RotationEntry {
    rotation_id: String,
    /// The ClientRequestToken: the new version's id.
    version_id: String,
    kind: &'static str,
    function: String,
    #[serde(rename = "RotationLambdaARN")]
    rotation_lambda_arn: String,
    state: &'static str,
    step: &'static str,
    attempt: u32,
    created_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_attempt_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

impl From<RotationJob> for RotationEntry {
    fn from(j: RotationJob) -> Self {
        let active = j.finished_at.is_none();
        RotationEntry {
            rotation_id: j.id,
            version_id: j.token,
            kind: j.kind.as_str(),
            function: j.function_name,
            rotation_lambda_arn: j.lambda_arn,
            state: j.state.as_str(),
            step: j.step.as_str(),
            attempt: j.attempt,
            created_date: ts(j.created_at),
            next_attempt_date: active.then(|| ts(j.next_attempt_at)),
            finished_date: ts_opt(j.finished_at),
            error: j.error,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventEntry {
    event: &'static str,
    rotation_id: String,
    version_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'static str>,
    attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    date: Timestamp,
}

impl From<RotationEvent> for EventEntry {
    fn from(e: RotationEvent) -> Self {
        EventEntry {
            event: e.kind.as_str(),
            rotation_id: e.rotation_id,
            version_id: e.token,
            step: e.step.map(|s| s.as_str()),
            attempt: e.attempt,
            duration_ms: e.duration_ms,
            error: e.error,
            date: ts(e.at),
        }
    }
}

fn to_json(v: serde_json::Value) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(&v).map_err(|e| ApiError::Service(Error::internal(e)))
}

pub async fn dispatch(
    svc: &Service,
    p: &Principal,
    operation: &'static str,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    // `tumbler:<Operation>` on `*`: the admin user has it; other users only if a policy
    // grants it; rotation functions never.
    svc.authorize_operation(p, "tumbler")?;
    let not_found = |name: &str| {
        ApiError::Service(Error::ResourceNotFound(format!(
            "No rotation function named {name} is registered."
        )))
    };
    match operation {
        "PutFunction" => {
            let def: FunctionDefinition = parse_json(body)?;
            svc.put_function(&def).await?;
            to_json(serde_json::json!({ "Function": def.redacted() }))
        }
        "GetFunction" => {
            let req: NameRequest = parse_json(body)?;
            let found = svc
                .function_definition(&req.name)
                .await?
                .ok_or_else(|| not_found(&req.name))?;
            let entry = FunctionEntry {
                function: found.0.redacted(),
                updated_date: ts(found.1),
            };
            serde_json::to_vec(&entry).map_err(|e| ApiError::Service(Error::internal(e)))
        }
        "ListFunctions" => {
            let functions: Vec<FunctionEntry> = svc
                .list_functions()
                .await?
                .into_iter()
                .map(|(d, at)| FunctionEntry {
                    function: d.redacted(),
                    updated_date: ts(at),
                })
                .collect();
            to_json(serde_json::json!({ "Functions": functions }))
        }
        "DeleteFunction" => {
            let req: NameRequest = parse_json(body)?;
            if !svc.delete_function(&req.name).await? {
                return Err(not_found(&req.name));
            }
            to_json(serde_json::json!({}))
        }
        "ListRotations" => {
            let req: SecretIdRequest = parse_json(body)?;
            let (secret, jobs, events) = svc.rotation_history(p, &req.secret_id).await?;
            let rotations: Vec<RotationEntry> = jobs.into_iter().map(Into::into).collect();
            let events: Vec<EventEntry> = events.into_iter().map(Into::into).collect();
            to_json(serde_json::json!({
                "ARN": secret.arn.0,
                "Name": secret.name.as_str(),
                "Rotations": rotations,
                "Events": events,
            }))
        }
        "ListAuditEvents" => {
            let req: AuditEventsRequest = parse_json(body)?;
            let limit = req.max_results.unwrap_or(100);
            if !(1..=1000).contains(&limit) {
                return Err(ApiError::Service(Error::InvalidParameter(
                    "MaxResults must be between 1 and 1000.".into(),
                )));
            }
            let after_seq = match &req.next_token {
                None => None,
                Some(t) => Some(t.parse::<i64>().map_err(|_| {
                    ApiError::Service(Error::InvalidNextToken(
                        "The NextToken value is invalid.".into(),
                    ))
                })?),
            };
            let query = crate::store::AuditQuery {
                secret: req.secret_id,
                user_name: req.user_name,
                event_name: req.event_name,
                secret_name_of_arn: None,
                since: req.start_time.map(seconds_to_millis),
                until: req.end_time.map(seconds_to_millis),
                errors_only: req.errors_only.unwrap_or(false),
                after_seq,
                // One more than asked, to know whether a next page exists.
                limit: limit + 1,
            };
            let mut found = svc.audit_records(&query).await?;
            let next = (found.len() as i64 > limit).then(|| {
                found.truncate(limit as usize);
                found.last().map(|(seq, _)| seq.to_string())
            });
            let events = found
                .into_iter()
                .map(|(_, r)| {
                    serde_json::from_str::<serde_json::Value>(&r.record)
                        .map_err(|e| ApiError::Service(Error::internal(e)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let mut out = serde_json::json!({ "Events": events });
            if let Some(Some(token)) = next {
                out["NextToken"] = serde_json::json!(token);
            }
            to_json(out)
        }
        _ => Err(ApiError::UnknownOperation),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AuditEventsRequest {
    #[serde(default)]
    secret_id: Option<String>,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default)]
    event_name: Option<String>,
    /// Epoch seconds, as the AWS SDKs send timestamps.
    #[serde(default)]
    start_time: Option<f64>,
    #[serde(default)]
    end_time: Option<f64>,
    #[serde(default)]
    errors_only: Option<bool>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
}

fn seconds_to_millis(s: f64) -> crate::clock::Millis {
    crate::clock::Millis((s * 1000.0) as i64)
}
