//! THE table from errors to the wire: `__type`, HTTP status and message. Nothing else in the
//! code decides how an error looks to a client.

use axum::http::StatusCode;

use super::sigv4::AuthError;
use crate::error::Error;

/// Everything a request can fail with before, during or after the operation itself.
#[derive(Debug)]
pub enum ApiError {
    /// A failure of the operation, in the service's terms.
    Service(Error),
    Auth(AuthError),
    /// `X-Amz-Target` names no operation of this service (or is missing).
    UnknownOperation,
    /// The body is not JSON, or a member has the wrong JSON type.
    Serialization(String),
    /// The content type is not `application/x-amz-json-1.1` (or `application/json`).
    UnsupportedContentType(String),
    /// The body is over the size limit.
    RequestTooLarge {
        limit: usize,
    },
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Service(e)
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::Auth(e)
    }
}

/// Modelled errors use `Message`; the front end's protocol and authentication errors use
/// `message` (spec §1.3, §1.4). SDKs read either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKey {
    Upper,
    Lower,
}

pub struct IamWireError {
    pub status: StatusCode,
    /// `Sender` (the caller's fault) or `Receiver`.
    pub fault: &'static str,
    pub code: &'static str,
    pub message: String,
}

pub struct WireError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Option<String>,
    pub key: MessageKey,
}

const INTERNAL_MESSAGE: &str = "An error occurred on the server side.";

impl ApiError {
    pub fn to_wire(&self) -> WireError {
        use MessageKey::{Lower, Upper};
        let bad = StatusCode::BAD_REQUEST;
        let (status, code, message, key) = match self {
            ApiError::Service(e) => match e {
                Error::ResourceNotFound(m) => {
                    (bad, "ResourceNotFoundException", Some(m.clone()), Upper)
                }
                Error::InvalidRequest(m) => {
                    (bad, "InvalidRequestException", Some(m.clone()), Upper)
                }
                Error::InvalidParameter(m) => {
                    (bad, "InvalidParameterException", Some(m.clone()), Upper)
                }
                Error::ResourceExists(m) => {
                    (bad, "ResourceExistsException", Some(m.clone()), Upper)
                }
                Error::LimitExceeded(m) => (bad, "LimitExceededException", Some(m.clone()), Upper),
                Error::Validation(m) => (bad, "ValidationException", Some(m.clone()), Upper),
                Error::AccessDenied(m) => (bad, "AccessDeniedException", Some(m.clone()), Upper),
                Error::MalformedPolicyDocument(m) => (
                    bad,
                    "MalformedPolicyDocumentException",
                    Some(m.clone()),
                    Upper,
                ),
                Error::PublicPolicy(m) => (bad, "PublicPolicyException", Some(m.clone()), Upper),
                Error::InvalidNextToken(m) => {
                    (bad, "InvalidNextTokenException", Some(m.clone()), Upper)
                }
                Error::DecryptionFailure(m) => (bad, "DecryptionFailure", Some(m.clone()), Upper),
                Error::EncryptionFailure(m) => (bad, "EncryptionFailure", Some(m.clone()), Upper),
                // IAM's errors, should a Secrets Manager call meet one: their nearest kin.
                Error::NoSuchEntity(m) => {
                    (bad, "ResourceNotFoundException", Some(m.clone()), Upper)
                }
                Error::EntityAlreadyExists(m) => {
                    (bad, "ResourceExistsException", Some(m.clone()), Upper)
                }
                Error::DeleteConflict(m) => {
                    (bad, "InvalidRequestException", Some(m.clone()), Upper)
                }
                Error::InvalidInput(m) => {
                    (bad, "InvalidParameterException", Some(m.clone()), Upper)
                }
                // The cause is logged by the caller with the request id; the client gets none.
                Error::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalServiceError",
                    Some(INTERNAL_MESSAGE.into()),
                    Upper,
                ),
            },
            ApiError::Auth(a) => match a {
                AuthError::MissingAuthenticationToken => (
                    bad,
                    "MissingAuthenticationTokenException",
                    Some("Missing Authentication Token".into()),
                    Lower,
                ),
                AuthError::IncompleteSignature(m) => {
                    (bad, "IncompleteSignatureException", Some(m.clone()), Lower)
                }
                AuthError::InvalidSignature(m) => {
                    (bad, "InvalidSignatureException", Some(m.clone()), Lower)
                }
                AuthError::UnrecognizedClient => (
                    bad,
                    "UnrecognizedClientException",
                    Some("The security token included in the request is invalid.".into()),
                    Lower,
                ),
                AuthError::ExpiredToken => (
                    bad,
                    "ExpiredTokenException",
                    Some("The security token included in the request is expired".into()),
                    Lower,
                ),
            },
            // AWS's front end sends this one without a message (spec §1.3).
            ApiError::UnknownOperation => (bad, "UnknownOperationException", None, Lower),
            ApiError::Serialization(m) => (bad, "SerializationException", Some(m.clone()), Lower),
            ApiError::UnsupportedContentType(ct) => (
                bad,
                "UnknownOperationException",
                Some(format!(
                    "Unsupported content type '{ct}': send application/x-amz-json-1.1."
                )),
                Lower,
            ),
            ApiError::RequestTooLarge { limit } => (
                bad,
                "SerializationException",
                Some(format!(
                    "The request body is larger than the limit of {limit} bytes."
                )),
                Lower,
            ),
        };
        WireError {
            status,
            code,
            message,
            key,
        }
    }

    /// IAM's form of the error (awsQuery's `<ErrorResponse>`): its HTTP status, fault type,
    /// code and message. IAM's codes differ from Secrets Manager's for the same condition.
    pub fn to_iam_wire(&self) -> IamWireError {
        let sender = |status: StatusCode, code: &'static str, message: &str| IamWireError {
            status,
            fault: "Sender",
            code,
            message: message.to_owned(),
        };
        let bad = StatusCode::BAD_REQUEST;
        let forbidden = StatusCode::FORBIDDEN;
        let conflict = StatusCode::CONFLICT;
        match self {
            ApiError::Service(e) => match e {
                Error::NoSuchEntity(m) => sender(StatusCode::NOT_FOUND, "NoSuchEntity", m),
                Error::EntityAlreadyExists(m) => sender(conflict, "EntityAlreadyExists", m),
                Error::DeleteConflict(m) => sender(conflict, "DeleteConflict", m),
                Error::LimitExceeded(m) => sender(conflict, "LimitExceeded", m),
                Error::MalformedPolicyDocument(m) => sender(bad, "MalformedPolicyDocument", m),
                Error::AccessDenied(m) => sender(forbidden, "AccessDenied", m),
                Error::Validation(m) => sender(bad, "ValidationError", m),
                Error::InvalidInput(m) if m.starts_with("Could not find operation") => {
                    sender(bad, "InvalidAction", m)
                }
                Error::InvalidInput(m)
                | Error::InvalidParameter(m)
                | Error::InvalidRequest(m)
                | Error::InvalidNextToken(m) => sender(bad, "InvalidInput", m),
                Error::Internal(_) => IamWireError {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    fault: "Receiver",
                    code: "ServiceFailure",
                    message: INTERNAL_MESSAGE.into(),
                },
                other => {
                    let w = self.to_wire();
                    sender(
                        w.status,
                        w.code,
                        &w.message.unwrap_or_else(|| other.to_string()),
                    )
                }
            },
            ApiError::Auth(a) => match a {
                AuthError::MissingAuthenticationToken => sender(
                    forbidden,
                    "MissingAuthenticationToken",
                    "Request is missing Authentication Token",
                ),
                AuthError::IncompleteSignature(m) => sender(bad, "IncompleteSignature", m),
                AuthError::InvalidSignature(m) => sender(forbidden, "SignatureDoesNotMatch", m),
                AuthError::UnrecognizedClient => sender(
                    forbidden,
                    "InvalidClientTokenId",
                    "The security token included in the request is invalid.",
                ),
                AuthError::ExpiredToken => sender(
                    forbidden,
                    "ExpiredToken",
                    "The security token included in the request is expired",
                ),
            },
            other => {
                let w = other.to_wire();
                sender(w.status, w.code, &w.message.unwrap_or_default())
            }
        }
    }

    /// The error code, as metrics and logs name it.
    pub fn code(&self) -> &'static str {
        self.to_wire().code
    }

    /// The body, built with serde_json so every message is escaped correctly.
    pub fn body(&self) -> Vec<u8> {
        let w = self.to_wire();
        let mut obj = serde_json::Map::new();
        obj.insert("__type".into(), w.code.into());
        if let Some(m) = w.message {
            let key = match w.key {
                MessageKey::Upper => "Message",
                MessageKey::Lower => "message",
            };
            obj.insert(key.into(), m.into());
        }
        serde_json::to_vec(&obj).expect("a map of strings serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modelled_errors_are_400_with_capital_message() {
        let e = ApiError::Service(Error::secret_not_found());
        assert_eq!(e.to_wire().status, StatusCode::BAD_REQUEST);
        assert_eq!(
            String::from_utf8(e.body()).unwrap(),
            // `__type` first, as AWS writes it.
            r#"{"__type":"ResourceNotFoundException","Message":"Secrets Manager can't find the specified secret."}"#
        );
    }

    #[test]
    fn internal_errors_are_500_and_hide_their_cause() {
        let e = ApiError::Service(Error::internal("disk on fire at /var/lib/x"));
        assert_eq!(e.to_wire().status, StatusCode::INTERNAL_SERVER_ERROR);
        let body = String::from_utf8(e.body()).unwrap();
        assert!(body.contains("InternalServiceError"));
        assert!(!body.contains("disk on fire"));
    }

    #[test]
    fn unknown_operation_has_no_message() {
        assert_eq!(
            String::from_utf8(ApiError::UnknownOperation.body()).unwrap(),
            r#"{"__type":"UnknownOperationException"}"#
        );
    }

    #[test]
    fn auth_errors_use_lowercase_message() {
        let body = String::from_utf8(ApiError::Auth(AuthError::UnrecognizedClient).body()).unwrap();
        assert_eq!(
            body,
            r#"{"__type":"UnrecognizedClientException","message":"The security token included in the request is invalid."}"#
        );
    }
}
