//! Who is calling. A [`Principal`] can only be made by the request authenticator in
//! `api::sigv4` (or the `--dev` server's stand-in), so every service method that takes
//! `&Principal` is unreachable from an unauthenticated path.

use crate::domain::{AccountId, Region};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    access_key_id: String,
    user_name: String,
    account: AccountId,
    region: Region,
    /// Set for a rotation function's session: it may act only on this secret.
    scope: Option<RotationScope>,
    /// The operation being called, for AccessDeniedException texts.
    operation: &'static str,
}

/// What a rotation function's execution role allows on AWS (spec §4.3): the calls its steps
/// make, on the one secret being rotated, plus GetRandomPassword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationScope {
    /// The secret's internal id.
    pub secret_id: String,
    pub function_name: String,
    /// A secret this session may also read (DescribeSecret, GetSecretValue): the master
    /// secret (`masterarn`) an alternating-users builtin logs in with, as AWS's template's
    /// execution role must be allowed to read it.
    pub readable_secret_arn: Option<String>,
}

/// The operations a rotation function's credentials may call.
pub const ROTATION_SESSION_OPERATIONS: &[&str] = &[
    "DescribeSecret",
    "GetSecretValue",
    "PutSecretValue",
    "UpdateSecretVersionStage",
    "ListSecretVersionIds",
    "GetRandomPassword",
];

impl Principal {
    /// Only `api::sigv4` calls this, after the signature has been verified (or, on a `--dev`
    /// server, after the credentials were found well-formed).
    pub(crate) fn authenticated(
        access_key_id: String,
        user_name: String,
        account: AccountId,
        region: Region,
    ) -> Principal {
        Principal {
            access_key_id,
            user_name,
            account,
            region,
            scope: None,
            operation: "",
        }
    }

    /// A rotation function acting on the secret it rotates: built by `api::authenticate`
    /// for the short-lived credentials a process function gets, and by the driver for the
    /// builtin functions, which run inside Tumbler with the same limits.
    pub(crate) fn rotation_session(
        access_key_id: String,
        account: AccountId,
        region: Region,
        scope: RotationScope,
    ) -> Principal {
        Principal {
            access_key_id,
            user_name: format!("rotation/{}", scope.function_name),
            account,
            region,
            scope: Some(scope),
            operation: "",
        }
    }

    /// The same caller, calling `operation`.
    pub fn for_operation(self, operation: &'static str) -> Principal {
        Principal { operation, ..self }
    }

    pub fn operation(&self) -> &'static str {
        self.operation
    }

    pub fn scope(&self) -> Option<&RotationScope> {
        self.scope.as_ref()
    }

    /// Whether this caller may call `operation` at all.
    pub fn may_call(&self, operation: &str) -> bool {
        self.scope.is_none() || ROTATION_SESSION_OPERATIONS.contains(&operation)
    }

    /// Whether this caller may make its current operation on the secret with internal id
    /// `secret_id` and ARN `secret_arn`.
    pub fn may_access(&self, secret_id: &str, secret_arn: &str) -> bool {
        self.scope.as_ref().is_none_or(|s| {
            s.secret_id == secret_id
                || (s.readable_secret_arn.as_deref() == Some(secret_arn)
                    && matches!(self.operation, "DescribeSecret" | "GetSecretValue"))
        })
    }

    /// Whether this is an administrator (not a rotation session): Tumbler's own admin API.
    pub fn is_admin(&self) -> bool {
        self.scope.is_none()
    }

    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub fn user_name(&self) -> &str {
        &self.user_name
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// The Region of the credential scope: the namespace the call works in.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The same caller in another Region (for work on replicas).
    pub fn in_region(&self, region: &Region) -> Principal {
        Principal {
            region: region.clone(),
            ..self.clone()
        }
    }

    pub fn arn(&self) -> String {
        match &self.scope {
            Some(s) => format!(
                "arn:aws:sts::{}:assumed-role/tumbler-rotation/{}",
                self.account.0, s.function_name
            ),
            None => format!("arn:aws:iam::{}:user/{}", self.account.0, self.user_name),
        }
    }

    /// AWS's AccessDeniedException text for an action this caller may not take.
    pub fn not_authorized(&self, action: &str, resource: Option<&str>) -> String {
        match resource {
            Some(r) => format!(
                "User: {} is not authorized to perform: secretsmanager:{action} on resource: {r} because no identity-based policy allows the secretsmanager:{action} action",
                self.arn()
            ),
            None => format!(
                "User: {} is not authorized to perform: secretsmanager:{action} because no identity-based policy allows the secretsmanager:{action} action",
                self.arn()
            ),
        }
    }
}
