//! awsJson1.1 mechanics: the target header, content type, body limit, request ids.

use axum::body::Body;
use axum::http::HeaderMap;
use http_body_util::BodyExt;

use super::error::ApiError;

/// The only content type AWS's JSON protocol uses; `application/json` is also taken, for
/// hand-written clients and test suites written for moto.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
pub const TARGET_PREFIX: &str = "secretsmanager.";

/// The largest body read. A SecretString of 65,536 characters can take up to six bytes each
/// once JSON-escaped (`\u0000`), so 1 MiB leaves room for every valid request.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Reads the body, refusing one over `limit` before reading it when Content-Length says so,
/// and while reading otherwise.
pub async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<bytes::Bytes, ApiError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::RequestTooLarge { limit });
    }
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::RequestTooLarge { limit })
        }
        Err(e) => Err(ApiError::Serialization(format!(
            "The request body could not be read: {e}"
        ))),
    }
}

/// Accepts `application/x-amz-json-1.1` and `application/json`, with or without parameters.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(axum::http::header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == CONTENT_TYPE || essence == "application/json" {
        Ok(())
    } else {
        Err(ApiError::UnsupportedContentType(if ct.is_empty() {
            "(none)".into()
        } else {
            ct
        }))
    }
}

/// Parses the request body as `T`, naming the member whose JSON type is wrong.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // An operation without input members may be sent an empty body.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    // The plain parser first; only a body it refuses is parsed again to name the member.
    if let Ok(parsed) = serde_json::from_slice(body) {
        return Ok(parsed);
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::Serialization(format!("The request body is not valid JSON: {inner}"))
        } else if path == "." {
            ApiError::Serialization(format!("The request body must be a JSON object: {inner}"))
        } else {
            ApiError::Serialization(format!("Invalid value for member {path}: {inner}"))
        }
    })
}
