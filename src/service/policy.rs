//! Resource policies: stored, returned and checked by IAM's grammar and for public access.
//! `service::authorization` evaluates them with the caller's identity policies.

use super::Service;
use super::policy_document::{self, PolicyKind};
use crate::auth::Principal;
use crate::domain::Secret;
use crate::domain::policy::{Effect, Policy, PrincipalList};
use crate::error::{Error, Result};

/// What ValidateResourcePolicy reports.
pub struct PolicyValidation {
    pub passed: bool,
    /// (CheckName, ErrorMessage)
    pub errors: Vec<(String, String)>,
}

const MAX_POLICY_LEN: usize = 20_480;

impl Service {
    pub async fn put_resource_policy(
        &self,
        p: &Principal,
        secret_id: &str,
        policy: &str,
        block_public: bool,
    ) -> Result<Secret> {
        let doc = parse_policy(policy).map_err(Error::MalformedPolicyDocument)?;
        if block_public && grants_public_access(&doc) {
            return Err(Error::PublicPolicy(
                "You can't attach a resource-based policy that allows broad access to the secret."
                    .into(),
            ));
        }
        let (secret, ()) = self
            .modify(p, secret_id, |secret, now| {
                secret.resource_policy = Some(policy.to_owned());
                secret.last_changed_at = now;
                Ok(())
            })
            .await?;
        Ok(secret)
    }

    pub async fn get_resource_policy(&self, p: &Principal, secret_id: &str) -> Result<Secret> {
        let r = self.resolve(p, secret_id).await?;
        if r.row().is_scheduled_for_deletion() {
            return Err(Error::marked_for_deletion());
        }
        Ok(r.into_view())
    }

    pub async fn delete_resource_policy(&self, p: &Principal, secret_id: &str) -> Result<Secret> {
        let (secret, ()) = self
            .modify(p, secret_id, |secret, now| {
                if secret.resource_policy.take().is_some() {
                    secret.last_changed_at = now;
                }
                Ok(())
            })
            .await?;
        Ok(secret)
    }

    pub async fn validate_resource_policy(
        &self,
        p: &Principal,
        secret_id: Option<&str>,
        policy: &str,
    ) -> Result<PolicyValidation> {
        match secret_id {
            Some(id) => {
                self.resolve(p, id).await?;
            }
            None => self.authorize_operation(p, "secretsmanager")?,
        }
        let mut errors = Vec::new();
        match parse_policy(policy) {
            Err(m) => errors.push(("SYNTAX_CHECKING".to_owned(), m)),
            Ok(doc) => {
                if grants_public_access(&doc) {
                    errors.push((
                        "BROAD_ACCESS_CHECKING".to_owned(),
                        "This resource policy grants access to everyone (Principal \"*\") without a condition.".to_owned(),
                    ));
                }
            }
        }
        Ok(PolicyValidation {
            passed: errors.is_empty(),
            errors,
        })
    }
}

/// Parses a resource policy by IAM's grammar (`policy_document`), within Secrets Manager's
/// size limit.
fn parse_policy(policy: &str) -> std::result::Result<Policy, String> {
    if policy.len() > MAX_POLICY_LEN {
        return Err(format!(
            "The resource policy is longer than {MAX_POLICY_LEN} characters."
        ));
    }
    policy_document::parse(policy, PolicyKind::Resource)
}

/// An Allow for everyone (`"*"` or `{"AWS": "*"}`) with no Condition.
fn grants_public_access(doc: &Policy) -> bool {
    doc.statements.iter().any(|s| {
        let everyone = match &s.principals {
            Some(PrincipalList::Everyone) => true,
            Some(PrincipalList::Matching(p)) => p.iter().any(|p| p == "*"),
            Some(PrincipalList::NotMatching(_)) => true,
            None => false,
        };
        s.effect == Effect::Allow && everyone && s.conditions.is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_json_and_missing_parts_are_refused() {
        assert!(parse_policy("{").is_err());
        assert!(parse_policy(r#"{"Version":"2012-10-17"}"#).is_err());
        assert!(
            parse_policy(r#"{"Statement":[{"Effect":"Maybe","Action":"*","Principal":"*"}]}"#)
                .is_err()
        );
    }

    #[test]
    fn everyone_without_condition_is_public_and_with_condition_is_not() {
        let public = parse_policy(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}"#).unwrap();
        assert!(grants_public_access(&public));
        let scoped = parse_policy(r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}]}"#).unwrap();
        assert!(!grants_public_access(&scoped));
    }
}
