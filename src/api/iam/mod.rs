//! IAM's API at the same endpoint: the awsQuery protocol (form-encoded `Action=...` requests
//! signed for service `iam`, XML responses and `<ErrorResponse>` errors), for the user, access
//! key and inline user policy operations, one file each. `aws iam ...`, boto3 and Terraform's
//! AWS provider talk to it as to IAM.

mod create_access_key;
mod create_user;
mod delete_access_key;
mod delete_user;
mod delete_user_policy;
mod get_user;
mod get_user_policy;
mod list_access_keys;
mod list_user_policies;
mod list_users;
mod put_user_policy;
mod update_access_key;

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::audit::camel;
use super::error::{ApiError, IamWireError};
use super::{App, Call, authenticate, protocol};
use crate::auth::{Principal, RequestFacts};
use crate::error::{Error, Result};
use crate::service::{ApiCallRecord, IamUser, Service};

const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
/// IAM is global; its requests are signed for this Region.
const IAM_REGION: &str = "us-east-1";

/// The operations served, by `Action`.
const OPERATIONS: &[&str] = &[
    "CreateUser",
    "GetUser",
    "ListUsers",
    "DeleteUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "PutUserPolicy",
    "GetUserPolicy",
    "ListUserPolicies",
    "DeleteUserPolicy",
];

/// A form-encoded request without a target header is an awsQuery call.
pub fn is_query_request(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// A request's parameters (`UserName=alice&...`).
pub struct Params(BTreeMap<String, String>);

impl Params {
    fn parse(body: &[u8]) -> Params {
        Params(form_urlencoded::parse(body).into_owned().collect())
    }

    /// IAM's text for a missing required member names it in camelCase.
    pub fn required(&self, name: &str) -> Result<&str> {
        self.optional(name).ok_or_else(|| {
            Error::Validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                camel(name)
            ))
        })
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The request for the audit record: every parameter but the protocol's own.
    fn recorded(&self) -> Value {
        Value::Object(
            self.0
                .iter()
                .filter(|(k, _)| !matches!(k.as_str(), "Action" | "Version"))
                .map(|(k, v)| (camel(k), Value::String(v.clone())))
                .collect(),
        )
    }
}

/// XML text with the five entities escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// `<name>text</name>`.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

pub fn user_xml(user: &IamUser) -> String {
    format!(
        "{}{}{}{}{}",
        element("Path", &user.path),
        element("UserName", &user.user_name),
        element("UserId", &user.user_id),
        element("Arn", &user.arn),
        element("CreateDate", &user.created_at.to_iso8601_seconds()),
    )
}

/// One page of a listing by IAM's `Marker`/`MaxItems` (default 100, at most 1000), with
/// `<IsTruncated>` and the next `<Marker>`.
pub fn page<T>(items: Vec<T>, params: &Params) -> Result<(Vec<T>, String)> {
    let max = match params.optional("MaxItems") {
        None => 100,
        Some(m) => match m.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(Error::Validation(format!(
                    "1 validation error detected: Value '{m}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
                )));
            }
        },
    };
    let (page, next) = crate::service::page_token::page(items, params.optional("Marker"), max)
        .map_err(|_| Error::Validation("Invalid Marker.".into()))?;
    let tail = match next {
        Some(marker) => format!(
            "<IsTruncated>true</IsTruncated>{}",
            element("Marker", &marker)
        ),
        None => "<IsTruncated>false</IsTruncated>".to_owned(),
    };
    Ok((page, tail))
}

/// `<member>`s of a list.
pub fn members(items: impl IntoIterator<Item = String>) -> String {
    items
        .into_iter()
        .map(|i| format!("<member>{i}</member>"))
        .collect()
}

async fn dispatch(
    svc: &Service,
    p: &Principal,
    action: &str,
    params: &Params,
) -> Result<Option<String>> {
    match action {
        "CreateUser" => create_user::handle(svc, p, params).await,
        "GetUser" => get_user::handle(svc, p, params).await,
        "ListUsers" => list_users::handle(svc, p, params).await,
        "DeleteUser" => delete_user::handle(svc, p, params).await,
        "CreateAccessKey" => create_access_key::handle(svc, p, params).await,
        "ListAccessKeys" => list_access_keys::handle(svc, p, params).await,
        "UpdateAccessKey" => update_access_key::handle(svc, p, params).await,
        "DeleteAccessKey" => delete_access_key::handle(svc, p, params).await,
        "PutUserPolicy" => put_user_policy::handle(svc, p, params).await,
        "GetUserPolicy" => get_user_policy::handle(svc, p, params).await,
        "ListUserPolicies" => list_user_policies::handle(svc, p, params).await,
        "DeleteUserPolicy" => delete_user_policy::handle(svc, p, params).await,
        _ => unreachable!("dispatch is called with a served action"),
    }
}

/// IAM's `<ErrorResponse>` for an error.
fn error_response(e: &ApiError, request_id: &str) -> (StatusCode, String, IamWireError) {
    let wire = e.to_iam_wire();
    let xml = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\"><Error>{}{}{}</Error>{}</ErrorResponse>",
        element("Type", wire.fault),
        element("Code", wire.code),
        element("Message", &wire.message),
        element("RequestId", request_id)
    );
    (wire.status, xml, wire)
}

/// An awsQuery request, end to end: parse, authenticate, dispatch, answer in XML, audit.
pub(crate) async fn handle(app: &App, call: &Call<'_>, body: Body, started: Instant) -> Response {
    let mut caller: Option<Principal> = None;
    let mut params = Params(BTreeMap::new());
    let mut action_name = "Unknown".to_owned();
    let result: Result<Option<String>, ApiError> = async {
        let bytes = protocol::read_body(body, call.headers, app.config.max_body_bytes).await?;
        params = Params::parse(&bytes);
        let action = params.optional("Action").unwrap_or_default().to_owned();
        action_name = action.clone();
        let principal = authenticate(app, call, &bytes, "iam").await?;
        let Some(operation) = OPERATIONS.iter().find(|o| **o == action) else {
            return Err(ApiError::Service(Error::InvalidInput(format!(
                "Could not find operation {action} for version 2010-05-08"
            ))));
        };
        let principal = principal
            .with_request(RequestFacts::new(call.source_ip, false, Vec::new))
            .for_operation(operation);
        caller = Some(principal.clone());
        Ok(dispatch(&app.service, &principal, operation, &params).await?)
    }
    .await;
    let (status, xml, error) = match result {
        Ok(inner) => {
            let result = inner
                .map(|r| format!("<{action_name}Result>{r}</{action_name}Result>"))
                .unwrap_or_default();
            (
                StatusCode::OK,
                format!(
                    "<{action_name}Response xmlns=\"{XMLNS}\">{result}<ResponseMetadata>{}</ResponseMetadata></{action_name}Response>",
                    element("RequestId", call.request_id)
                ),
                None,
            )
        }
        Err(e) => {
            if let ApiError::Service(Error::Internal(cause)) = &e {
                tracing::error!(request_id = call.request_id, cause = %cause, "internal error");
            }
            let (status, xml, wire) = error_response(&e, call.request_id);
            (status, xml, Some((wire.code, wire.message)))
        }
    };
    let audited = app
        .service
        .audit_api_call(ApiCallRecord {
            event_source: "iam.amazonaws.com",
            event_name: &action_name,
            region: IAM_REGION,
            source_ip: call.source_ip,
            user_agent: call
                .headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok()),
            principal: caller.as_ref(),
            access_key_id: caller.is_none().then(|| call.access_key_id()).flatten(),
            request_parameters: params.recorded(),
            response_elements: Value::Null,
            error: error.as_ref().map(|(c, m)| (*c, Some(m.as_str()))),
            request_id: call.request_id,
            read_only: action_name.starts_with("Get") || action_name.starts_with("List"),
            secret: None,
        })
        .await;
    let (status, xml) = match audited {
        Ok(()) => (status, xml),
        Err(e) => {
            tracing::error!(cause = %e, "call refused: its audit record cannot be kept");
            let (status, xml, _) = error_response(&ApiError::Service(e), call.request_id);
            (status, xml)
        }
    };
    app.metrics.record_request(
        OPERATIONS
            .iter()
            .find(|o| **o == action_name)
            .copied()
            .unwrap_or("Unknown"),
        error.as_ref().map(|(c, _)| *c),
        started.elapsed(),
    );
    let mut response = (status, xml).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(call.request_id) {
        h.insert("x-amzn-requestid", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(
            element("Message", "a<b & \"c\""),
            "<Message>a&lt;b &amp; &quot;c&quot;</Message>"
        );
    }

    #[test]
    fn missing_members_are_named_in_camel_case() {
        let p = Params::parse(b"Action=GetUserPolicy&UserName=alice");
        assert_eq!(p.required("UserName").unwrap(), "alice");
        let e = p.required("PolicyName").unwrap_err();
        assert!(e.to_string().contains("Value null at 'policyName'"));
    }

    #[test]
    fn form_values_are_percent_decoded() {
        let p = Params::parse(b"PolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D");
        assert_eq!(
            p.optional("PolicyDocument"),
            Some("{\"Version\":\"2012-10-17\"}")
        );
    }
}
