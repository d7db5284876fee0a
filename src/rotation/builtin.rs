//! Rotation functions inside Tumbler. They follow AWS's published templates step by step,
//! calling the service as a rotation function's credentials would (limited to the secret being
//! rotated), so they behave exactly like a Lambda would against the same state.

use std::sync::Arc;

use zeroize::Zeroizing;

use super::definition::Builtin;
use super::runner::InvokeError;
use crate::domain::password::PasswordRules;
use crate::domain::rotation::{RotationJob, RotationStep};
use crate::domain::{AWSCURRENT, AWSPENDING, Region, SecretValue};
use crate::error::Error;
use crate::service::Service;

fn fail(e: Error) -> InvokeError {
    InvokeError(e.to_string())
}

/// The Region of a secret ARN (`arn:aws:secretsmanager:<region>:...`).
fn region_of(arn: &str) -> Region {
    Region(arn.split(':').nth(3).unwrap_or_default().to_owned())
}

pub async fn run(
    builtin: &Builtin,
    service: &Arc<Service>,
    job: &RotationJob,
    step: RotationStep,
) -> Result<(), InvokeError> {
    let p = service.rotation_principal(job, region_of(&job.secret_arn));
    let p = p.for_operation("DescribeSecret");
    let secret_id = job.secret_arn.as_str();
    let token = job.token.as_str();
    // The template's checks, made before every step.
    let secret = service.describe_secret(&p, secret_id).await.map_err(fail)?;
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
    match (builtin, step) {
        (
            Builtin::RandomPassword {
                length,
                exclude_characters,
            },
            RotationStep::CreateSecret,
        ) => {
            if version.value.is_some() {
                return Ok(());
            }
            let current = service
                .get_secret_value(
                    &p.clone().for_operation("GetSecretValue"),
                    secret_id,
                    None,
                    Some(AWSCURRENT),
                )
                .await
                .map_err(fail)?;
            let password = service
                .get_random_password(
                    &p,
                    &PasswordRules {
                        length: *length,
                        exclude_characters: exclude_characters.clone(),
                        ..Default::default()
                    },
                )
                .map_err(fail)?;
            let new_value = with_new_password(&current.value, &password)?;
            service
                .put_secret_value(
                    &p.clone().for_operation("PutSecretValue"),
                    secret_id,
                    token,
                    new_value,
                    Some(&[AWSPENDING.to_owned()]),
                )
                .await
                .map_err(fail)?;
            Ok(())
        }
        // No external system holds this password.
        (Builtin::RandomPassword { .. }, RotationStep::SetSecret) => Ok(()),
        (Builtin::RandomPassword { .. }, RotationStep::TestSecret) => {
            // The pending value must be readable.
            service
                .get_secret_value(
                    &p.clone().for_operation("GetSecretValue"),
                    secret_id,
                    Some(token),
                    Some(AWSPENDING),
                )
                .await
                .map_err(fail)?;
            Ok(())
        }
        (Builtin::RandomPassword { .. }, RotationStep::FinishSecret) => {
            let current = secret.version_with_stage(AWSCURRENT).map(|v| v.id.clone());
            service
                .update_secret_version_stage(
                    &p.clone().for_operation("UpdateSecretVersionStage"),
                    secret_id,
                    AWSCURRENT,
                    current.as_deref(),
                    Some(token),
                )
                .await
                .map_err(fail)?;
            Ok(())
        }
    }
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
