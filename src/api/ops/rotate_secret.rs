//! RotateSecret.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, RotationRules};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::{RotateSecretInput, Service};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotateSecretRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub client_request_token: Option<String>,
    #[serde(default, rename = "RotationLambdaARN")]
    pub rotation_lambda_arn: Option<String>,
    #[serde(default)]
    pub rotation_rules: Option<RotationRules>,
    #[serde(default)]
    pub rotate_immediately: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotateSecretResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: RotateSecretRequest,
) -> Result<RotateSecretResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    shapes::check_token(&mut c, req.client_request_token.as_deref());
    c.length(
        "rotationLambdaARN",
        req.rotation_lambda_arn.as_deref(),
        0,
        2048,
    );
    if let Some(r) = &req.rotation_rules {
        r.check(&mut c);
    }
    c.finish()?;
    let (secret, version_id) = svc
        .rotate_secret(
            p,
            RotateSecretInput {
                secret_id: req.secret_id.as_deref().unwrap_or_default(),
                client_request_token: req.client_request_token.as_deref(),
                rotation_lambda_arn: req.rotation_lambda_arn.as_deref(),
                rotation_rules: req.rotation_rules.map(RotationRules::into_domain),
                rotate_immediately: req.rotate_immediately,
            },
        )
        .await?;
    Ok(RotateSecretResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
        version_id,
    })
}
