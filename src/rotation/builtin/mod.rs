//! Rotation functions inside Tumbler. They follow AWS's published templates step by step,
//! calling the service as a rotation function's credentials would (limited to the secret being
//! rotated), so they behave exactly like a Lambda would against the same state.

mod credentials;
mod database;
mod mysql;
mod postgres;
mod redis;

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::domain::policy::Policy;

use super::definition::{Builtin, DatabaseBuiltin, PasswordOptions, UserStrategy};
use super::runner::InvokeError;
use crate::auth::Principal;
use crate::domain::password::PasswordRules;
use crate::domain::rotation::{RotationJob, RotationStep};
use crate::domain::{AWSCURRENT, AWSPENDING, Region, Secret, SecretValue};
use crate::error::Error;
use crate::service::Service;
use credentials::{DatabaseCredentials, json_object};

fn fail(e: Error) -> InvokeError {
    InvokeError(e.to_string())
}

/// The Region of a secret ARN (`arn:aws:secretsmanager:<region>:...`).
fn region_of(arn: &str) -> Region {
    Region(arn.split(':').nth(3).unwrap_or_default().to_owned())
}

/// What a step works with: the service as the function's credentials reach it, and the
/// secret as DescribeSecret showed it before the step.
struct StepContext<'a> {
    service: &'a Service,
    job: &'a RotationJob,
    region: Region,
    principal: Principal,
    role_policy: Option<&'a Arc<Policy>>,
    secret: Secret,
    secret_id: &'a str,
    token: &'a str,
}

impl StepContext<'_> {
    fn as_operation(&self, operation: &'static str) -> Principal {
        self.principal.clone().for_operation(operation)
    }

    /// GetSecretValue of this secret by version id and/or stage.
    async fn value(&self, version_id: Option<&str>, stage: &str) -> Result<SecretValue, Error> {
        Ok(self
            .service
            .get_secret_value(
                &self.as_operation("GetSecretValue"),
                self.secret_id,
                version_id,
                Some(stage),
            )
            .await?
            .value)
    }

    /// The new version's value (GetSecretValue with the token and AWSPENDING, as the
    /// templates read it).
    async fn pending_value(&self) -> Result<SecretValue, InvokeError> {
        self.value(Some(self.token), AWSPENDING).await.map_err(fail)
    }

    /// The current value of the alternating-users master secret the rotated secret's
    /// `masterarn` names, read with a principal allowed that one extra secret.
    async fn master_value(&self, master_arn: &str) -> Result<SecretValue, Error> {
        let principal = self
            .service
            .rotation_principal(
                self.job,
                self.region.clone(),
                self.role_policy,
                Some(master_arn),
            )
            .for_operation("GetSecretValue");
        Ok(self
            .service
            .get_secret_value(&principal, master_arn, None, Some(AWSCURRENT))
            .await?
            .value)
    }
}

pub async fn run(
    builtin: &Builtin,
    service: &Arc<Service>,
    job: &RotationJob,
    role_policy: Option<&Arc<Policy>>,
    step: RotationStep,
) -> Result<(), InvokeError> {
    let region = region_of(&job.secret_arn);
    let principal = service.rotation_principal(job, region.clone(), role_policy, None);
    let secret_id = job.secret_arn.as_str();
    let token = job.token.as_str();
    // The template's checks, made before every step.
    let secret = service
        .describe_secret(
            &principal.clone().for_operation("DescribeSecret"),
            secret_id,
        )
        .await
        .map_err(fail)?;
    if secret.rotation.enabled != Some(true) {
        return Err(InvokeError(format!(
            "Secret {secret_id} is not enabled for rotation"
        )));
    }
    let Some(version) = secret.version(token) else {
        return Err(InvokeError(format!(
            "Secret version {token} has no stage for rotation of secret {secret_id}."
        )));
    };
    if version.stages.contains(AWSCURRENT) {
        // Already finished by an earlier run.
        return Ok(());
    }
    if !version.stages.contains(AWSPENDING) {
        return Err(InvokeError(format!(
            "Secret version {token} not set as AWSPENDING for rotation of secret {secret_id}."
        )));
    }
    let has_value = version.value.is_some();
    let ctx = StepContext {
        service,
        job,
        region,
        principal,
        role_policy,
        secret,
        secret_id,
        token,
    };
    match (builtin, step) {
        (_, RotationStep::CreateSecret) => {
            if has_value {
                // An earlier run made it; a rerun must not change it.
                return Ok(());
            }
            create_secret(&ctx, builtin).await
        }
        // No external system holds this password.
        (Builtin::RandomPassword(_), RotationStep::SetSecret) => Ok(()),
        (Builtin::RandomPassword(_), RotationStep::TestSecret) => {
            // The pending value must be readable.
            ctx.pending_value().await.map(drop)
        }
        (Builtin::Database(db), RotationStep::SetSecret) => database::set_secret(&ctx, db).await,
        (Builtin::Database(db), RotationStep::TestSecret) => database::test_secret(&ctx, db).await,
        (_, RotationStep::FinishSecret) => finish_secret(&ctx).await,
    }
}

/// createSecret: a new password by GetRandomPassword's rules, in a copy of the current value,
/// put as AWSPENDING with the rotation's token.
async fn create_secret(ctx: &StepContext<'_>, builtin: &Builtin) -> Result<(), InvokeError> {
    let current = ctx.value(None, AWSCURRENT).await.map_err(fail)?;
    let options = match builtin {
        Builtin::RandomPassword(o) => o,
        Builtin::Database(db) => &db.password,
    };
    let password = new_password(ctx, options)?;
    let new_value = match builtin {
        Builtin::RandomPassword(_) => with_new_password(&current, &password)?,
        Builtin::Database(db) => new_database_value(&current, db, &password)?,
    };
    ctx.service
        .put_secret_value(
            &ctx.as_operation("PutSecretValue"),
            ctx.secret_id,
            ctx.token,
            new_value,
            Some(&[AWSPENDING.to_owned()]),
        )
        .await
        .map_err(fail)?;
    Ok(())
}

fn new_password(
    ctx: &StepContext<'_>,
    options: &PasswordOptions,
) -> Result<Zeroizing<String>, InvokeError> {
    ctx.service
        .get_random_password(
            &ctx.as_operation("GetRandomPassword"),
            &PasswordRules {
                length: options.length,
                exclude_characters: options.exclude_characters.clone(),
                ..Default::default()
            },
        )
        .map_err(fail)
}

/// finishSecret: AWSCURRENT moves to the new version (and AWSPREVIOUS with it, by the
/// staging rules).
async fn finish_secret(ctx: &StepContext<'_>) -> Result<(), InvokeError> {
    let current = ctx
        .secret
        .version_with_stage(AWSCURRENT)
        .map(|v| v.id.clone());
    ctx.service
        .update_secret_version_stage(
            &ctx.as_operation("UpdateSecretVersionStage"),
            ctx.secret_id,
            AWSCURRENT,
            current.as_deref(),
            Some(ctx.token),
        )
        .await
        .map_err(fail)?;
    Ok(())
}

/// The current database credentials with a new password and, for alternating users, the
/// other user: `<username>_clone` after `<username>`, and back.
fn new_database_value(
    current: &SecretValue,
    db: &DatabaseBuiltin,
    password: &Zeroizing<String>,
) -> Result<SecretValue, InvokeError> {
    // Checked in full now, so that a secret missing a field fails at createSecret, before
    // anything is written.
    let credentials = DatabaseCredentials::parse(current, db.engine, "AWSCURRENT")?;
    let mut fields = json_object(current, "AWSCURRENT")?;
    if db.users == UserStrategy::Alternating {
        if credentials.masterarn.is_none() {
            return Err(database::no_master_arn());
        }
        fields.insert(
            "username".into(),
            serde_json::Value::String(database::other_user(&credentials.username)),
        );
    }
    fields.insert(
        "password".into(),
        serde_json::Value::String(password.as_str().to_owned()),
    );
    let text = serde_json::to_string(&fields).map_err(|e| InvokeError(e.to_string()))?;
    Ok(SecretValue::String(Zeroizing::new(text)))
}

/// The current value with a new password: the `password` field of a JSON object, or the whole
/// value of a plain string secret.
fn with_new_password(
    current: &SecretValue,
    password: &Zeroizing<String>,
) -> Result<SecretValue, InvokeError> {
    let SecretValue::String(text) = current else {
        return Err(InvokeError(
            "random-password rotates SecretString secrets; this secret holds SecretBinary".into(),
        ));
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(mut fields)) => {
            fields.insert(
                "password".into(),
                serde_json::Value::String(password.as_str().to_owned()),
            );
            let text = serde_json::to_string(&fields).map_err(|e| InvokeError(e.to_string()))?;
            // serde_json's copy of the password inside `fields` is dropped here unzeroized;
            // the serialized text is kept in a zeroizing buffer.
            Ok(SecretValue::String(Zeroizing::new(text)))
        }
        _ => Ok(SecretValue::String(password.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &SecretValue) -> String {
        String::from_utf8(v.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn a_json_secret_keeps_its_other_fields_and_gets_a_new_password() {
        let current = SecretValue::String(Zeroizing::new(
            r#"{"username":"app","password":"old","host":"db"}"#.into(),
        ));
        let new = with_new_password(&current, &Zeroizing::new("N3w".into())).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text(&new)).unwrap();
        assert_eq!(v["username"], "app");
        assert_eq!(v["host"], "db");
        assert_eq!(v["password"], "N3w");
    }

    #[test]
    fn a_plain_string_secret_is_replaced() {
        let current = SecretValue::String(Zeroizing::new("old".into()));
        let new = with_new_password(&current, &Zeroizing::new("N3w".into())).unwrap();
        assert_eq!(text(&new), "N3w");
    }

    #[test]
    fn a_binary_secret_is_refused() {
        let current = SecretValue::Binary(Zeroizing::new(vec![1, 2]));
        assert!(with_new_password(&current, &Zeroizing::new("x".into())).is_err());
    }
}
