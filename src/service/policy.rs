//! Resource policies: stored, returned and checked for syntax and public access. They are
//! evaluated once access control lands (issue 6); until then every authenticated caller is the
//! account's administrator.

use super::Service;
use crate::auth::Principal;
use crate::domain::Secret;
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
        if let Some(id) = secret_id {
            self.resolve(p, id).await?;
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

/// Checks the IAM policy grammar's outline: a JSON object with a non-empty Statement whose
/// entries have an Effect of Allow or Deny, an Action or NotAction, and a Principal.
fn parse_policy(policy: &str) -> std::result::Result<serde_json::Value, String> {
    if policy.len() > MAX_POLICY_LEN {
        return Err(format!(
            "The resource policy is longer than {MAX_POLICY_LEN} characters."
        ));
    }
    let doc: serde_json::Value = serde_json::from_str(policy)
        .map_err(|e| format!("This resource policy contains a syntax error: {e}."))?;
    let statements = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) if !a.is_empty() => a.clone(),
        Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
        _ => {
            return Err(
                "This resource policy contains a syntax error: the policy needs a Statement."
                    .into(),
            );
        }
    };
    for s in &statements {
        match s.get("Effect").and_then(|e| e.as_str()) {
            Some("Allow" | "Deny") => {}
            _ => return Err("This resource policy contains a syntax error: each statement needs an Effect of Allow or Deny.".into()),
        }
        if s.get("Action").is_none() && s.get("NotAction").is_none() {
            return Err("This resource policy contains a syntax error: each statement needs an Action or NotAction.".into());
        }
        if s.get("Principal").is_none() && s.get("NotPrincipal").is_none() {
            return Err("This resource policy contains an unsupported principal.".into());
        }
    }
    Ok(doc)
}

/// An Allow for everyone (`"*"` or `{"AWS": "*"}`) with no Condition.
fn grants_public_access(doc: &serde_json::Value) -> bool {
    let statements: Vec<&serde_json::Value> = match doc.get("Statement") {
        Some(serde_json::Value::Array(a)) => a.iter().collect(),
        Some(o) => vec![o],
        None => vec![],
    };
    statements.iter().any(|s| {
        let allow = s.get("Effect").and_then(|e| e.as_str()) == Some("Allow");
        let everyone = match s.get("Principal") {
            Some(serde_json::Value::String(p)) => p == "*",
            Some(serde_json::Value::Object(o)) => o.get("AWS").is_some_and(|a| match a {
                serde_json::Value::String(s) => s == "*",
                serde_json::Value::Array(v) => v.iter().any(|x| x == "*"),
                _ => false,
            }),
            _ => false,
        };
        allow && everyone && s.get("Condition").is_none()
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
