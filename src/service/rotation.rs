//! RotateSecret's checks and CancelRotateSecret (spec §4.1, §4.8). Rotation functions arrive
//! with the rotation issue; until one is registered, every function ARN is one Secrets Manager
//! "cannot invoke", exactly as AWS answers for a function that does not exist.

use super::Service;
use crate::auth::Principal;
use crate::domain::schedule::RotationSchedule;
use crate::domain::{AWSCURRENT, AWSPENDING, RotationRules, Secret};
use crate::error::{Error, Result};

pub struct RotateSecretInput<'a> {
    pub secret_id: &'a str,
    pub client_request_token: Option<&'a str>,
    pub rotation_lambda_arn: Option<&'a str>,
    pub rotation_rules: Option<RotationRules>,
    pub rotate_immediately: Option<bool>,
}

impl Service {
    pub async fn rotate_secret(
        &self,
        p: &Principal,
        input: RotateSecretInput<'_>,
    ) -> Result<(Secret, Option<String>)> {
        // Checked before the secret is looked up, and answered with InvalidParameterException
        // for RotateSecret alone (spec §4.1 step 1).
        let Some(_token) = input.client_request_token else {
            return Err(Error::InvalidParameter(
                "You must provide a ClientRequestToken value. We recommend a UUID-type value."
                    .into(),
            ));
        };
        let secret = self.resolve_writable(p, input.secret_id).await?;
        // Rules are checked before the function (spec §4.1 steps 4 and 5).
        if let Some(rules) = &input.rotation_rules {
            RotationSchedule::parse(rules)?;
        }
        let lambda = input
            .rotation_lambda_arn
            .filter(|a| !a.is_empty())
            .or(secret.rotation.lambda_arn.as_deref());
        if lambda.is_none() {
            return Err(Error::InvalidRequest(
                "No Lambda rotation function ARN is associated with this secret.".into(),
            ));
        }
        // No rotation function can be registered yet, so none can be invoked; nothing is stored.
        Err(Error::AccessDenied(
            "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.".into(),
        ))
    }

    /// Turns rotation off, keeps its configuration, and names the version an unfinished
    /// rotation created, if any.
    pub async fn cancel_rotate_secret(
        &self,
        p: &Principal,
        secret_id: &str,
    ) -> Result<(Secret, Option<String>)> {
        let (secret, pending) = self
            .modify(p, secret_id, |secret, now| {
                let pending = secret
                    .version_with_stage(AWSPENDING)
                    .filter(|v| !v.stages.contains(AWSCURRENT))
                    .map(|v| v.id.clone());
                if secret.rotation.enabled == Some(true) {
                    secret.rotation.enabled = Some(false);
                    secret.rotation.next_rotation_at = None;
                    secret.last_changed_at = now;
                }
                Ok(pending)
            })
            .await?;
        Ok((secret, pending))
    }
}
