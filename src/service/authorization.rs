//! Access control: every call is evaluated against the caller's identity policies and, for a
//! secret, the secret's resource policy, as AWS does within one account
//! (`domain::policy::evaluate`). This module gathers what the evaluation needs: the caller,
//! the global condition keys, the request's own keys and the secret's.

use crate::auth::Principal;
use crate::domain::Secret;
use crate::domain::policy::{Decision, Policy, RequestContext, evaluate};
use crate::error::{Error, Result};
use crate::service::policy_document::{self, PolicyKind};

use super::Service;

/// What a call acts on, as policies and AccessDeniedException see it.
pub(crate) struct Target<'a> {
    /// `secretsmanager:GetSecretValue`, `lambda:InvokeFunction`, `iam:CreateUser`.
    pub action: &'a str,
    /// The resource's ARN (`*` for actions without one).
    pub resource: &'a str,
    /// The resource as the error names it: the SecretId as the caller sent it (spec §1.3).
    pub shown: Option<&'a str>,
    /// The secret, when it exists: its tags, rotation function and resource policy.
    pub secret: Option<&'a Secret>,
}

impl Service {
    /// Allows the call or answers AccessDeniedException in AWS's words.
    pub(crate) fn authorize(&self, p: &Principal, target: &Target<'_>) -> Result<()> {
        let resource_policy = target.secret.and_then(resource_policy_of);
        // Gathering the keys costs more than most evaluations: only when a policy asks.
        let ctx = if p
            .identity_policies()
            .iter()
            .chain(resource_policy.iter())
            .any(Policy::uses_condition_keys)
        {
            self.request_context(p, target)
        } else {
            RequestContext::bare(target.action, target.resource, p.caller())
        };
        match evaluate(p.identity_policies(), resource_policy.as_ref(), &ctx) {
            Decision::Allow => Ok(()),
            denied => Err(Error::AccessDenied(access_denied_message(
                p, target, denied,
            ))),
        }
    }

    /// The action on a secret named by `secret_id` (found or not): `secretsmanager:<operation>`.
    pub(crate) fn authorize_secret(
        &self,
        p: &Principal,
        secret_id: &str,
        resource: &str,
        secret: Option<&Secret>,
    ) -> Result<()> {
        let action = format!("secretsmanager:{}", p.operation());
        self.authorize(
            p,
            &Target {
                action: &action,
                resource,
                shown: Some(secret_id),
                secret,
            },
        )
    }

    /// An operation without a resource (ListSecrets, GetRandomPassword, BatchGetSecretValue,
    /// Tumbler's admin API): evaluated against `*`.
    pub fn authorize_operation(&self, p: &Principal, service_prefix: &str) -> Result<()> {
        let action = format!("{service_prefix}:{}", p.operation());
        self.authorize(
            p,
            &Target {
                action: &action,
                resource: "*",
                shown: None,
                secret: None,
            },
        )
    }

    fn request_context(&self, p: &Principal, target: &Target<'_>) -> RequestContext {
        let now = self.now();
        let mut ctx = RequestContext::new(target.action, target.resource, p.caller())
            .with("aws:CurrentTime", vec![now.to_iso8601_seconds()])
            .with("aws:EpochTime", vec![(now.0 / 1000).to_string()])
            .with(
                "aws:SecureTransport",
                vec![p.request().secure_transport.to_string()],
            )
            .with("aws:RequestedRegion", vec![p.region().0.clone()]);
        if let Some(ip) = p.request().source_ip {
            ctx = ctx.with("aws:SourceIp", vec![ip.to_string()]);
        }
        for (key, values) in p.request().keys() {
            ctx = ctx.with(key, values.clone());
        }
        if let Some(secret) = target.secret {
            for tag in secret.tags.iter().flatten() {
                ctx = ctx
                    .with(
                        &format!("aws:ResourceTag/{}", tag.key),
                        vec![tag.value.clone()],
                    )
                    .with(
                        &format!("secretsmanager:ResourceTag/{}", tag.key),
                        vec![tag.value.clone()],
                    );
            }
            if let Some(arn) = &secret.rotation.lambda_arn {
                ctx = ctx.with(
                    "secretsmanager:resource/AllowRotationLambdaArn",
                    vec![arn.clone()],
                );
            }
            // The request names the secret however it likes; the key is its ARN.
            if ctx.keys.contains_key("secretsmanager:secretid") {
                ctx = ctx.with("secretsmanager:SecretId", vec![secret.arn.0.clone()]);
            }
            if let Some(region) = &secret.primary_region {
                ctx = ctx.with("secretsmanager:SecretPrimaryRegion", vec![region.0.clone()]);
            }
        }
        ctx
    }
}

/// The secret's resource policy. A stored policy was checked when it was put; one that no
/// longer parses (written by an older, looser check) grants nothing, and is logged.
fn resource_policy_of(secret: &Secret) -> Option<Policy> {
    let text = secret.resource_policy.as_deref()?;
    match policy_document::parse(text, PolicyKind::Resource) {
        Ok(p) => Some(p),
        Err(e) => {
            tracing::error!(secret = %secret.arn.0, cause = %e, "stored resource policy does not parse; ignored");
            None
        }
    }
}

/// AWS's three AccessDenied texts: no allow, an explicit deny in an identity-based policy, an
/// explicit deny in a resource-based policy.
fn access_denied_message(p: &Principal, target: &Target<'_>, decision: Decision) -> String {
    let on = match target.shown {
        Some(r) => format!(" on resource: {r}"),
        None => String::new(),
    };
    let why = match decision {
        Decision::DenyByIdentityPolicy => {
            "with an explicit deny in an identity-based policy".to_owned()
        }
        Decision::DenyByResourcePolicy => {
            "with an explicit deny in a resource-based policy".to_owned()
        }
        _ => format!(
            "because no identity-based policy allows the {} action",
            target.action
        ),
    };
    format!(
        "User: {} is not authorized to perform: {}{on} {why}",
        p.arn(),
        target.action
    )
}
