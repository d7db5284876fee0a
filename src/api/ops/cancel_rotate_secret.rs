//! CancelRotateSecret.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelRotateSecretRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelRotateSecretResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: CancelRotateSecretRequest,
) -> Result<CancelRotateSecretResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.finish()?;
    let (secret, version_id) = svc
        .cancel_rotate_secret(p, req.secret_id.as_deref().unwrap_or_default())
        .await?;
    Ok(CancelRotateSecretResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
        version_id,
    })
}
