//! The service's error type. Every variant is named after the AWS exception it becomes on the
//! wire; `api/error.rs` is the single table that turns it into `__type`, HTTP status and message.
//! Messages here never contain a secret value.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    #[error("InvalidRequestException: {0}")]
    InvalidRequest(String),
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(String),
    #[error("ResourceExistsException: {0}")]
    ResourceExists(String),
    #[error("LimitExceededException: {0}")]
    LimitExceeded(String),
    /// Not modelled, but what AWS answers for a bad name and for model-constraint failures.
    #[error("ValidationException: {0}")]
    Validation(String),
    #[error("AccessDeniedException: {0}")]
    AccessDenied(String),
    #[error("MalformedPolicyDocumentException: {0}")]
    MalformedPolicyDocument(String),
    #[error("PublicPolicyException: {0}")]
    PublicPolicy(String),
    #[error("InvalidNextTokenException: {0}")]
    InvalidNextToken(String),
    #[error("DecryptionFailure: {0}")]
    DecryptionFailure(String),
    #[error("EncryptionFailure: {0}")]
    EncryptionFailure(String),
    /// IAM: the user, key or policy named does not exist.
    #[error("NoSuchEntity: {0}")]
    NoSuchEntity(String),
    /// IAM: a user of that name exists.
    #[error("EntityAlreadyExists: {0}")]
    EntityAlreadyExists(String),
    /// IAM: the user still has access keys or policies.
    #[error("DeleteConflict: {0}")]
    DeleteConflict(String),
    /// IAM: a parameter's value is not allowed (AccessKey status, ...).
    #[error("InvalidInput: {0}")]
    InvalidInput(String),
    /// Anything unexpected. The text goes to the log only; the client sees a generic message.
    #[error("internal: {0}")]
    Internal(Internal),
}

/// The cause of an internal error, kept for the log. Wrapped so that `Error::Internal` can only be
/// built on purpose, through [`Error::internal`].
#[derive(Clone, PartialEq, Eq)]
pub struct Internal(pub String);

impl fmt::Debug for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Internal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error {
    pub fn internal(cause: impl fmt::Display) -> Self {
        Error::Internal(Internal(cause.to_string()))
    }

    /// "Secrets Manager can't find the specified secret."
    pub fn secret_not_found() -> Self {
        Error::ResourceNotFound("Secrets Manager can't find the specified secret.".into())
    }

    /// The text AWS sends for any operation on a secret scheduled for deletion.
    pub fn marked_for_deletion() -> Self {
        Error::InvalidRequest(
            "You can't perform this operation on the secret because it was marked for deletion."
                .into(),
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
