//! UpdateSecret.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub client_request_token: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub secret_binary: Option<String>,
    #[serde(default)]
    pub secret_string: Option<String>,
    #[serde(default)]
    pub r#type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: UpdateSecretRequest,
) -> Result<UpdateSecretResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    shapes::check_token(&mut c, req.client_request_token.as_deref());
    c.length("description", req.description.as_deref(), 0, 2048)
        .length("kmsKeyId", req.kms_key_id.as_deref(), 0, 2048)
        .length("type", req.r#type.as_deref(), 0, 256);
    let value = shapes::secret_value_from_wire(req.secret_string, req.secret_binary, &mut c)?;
    let (secret, version_id) = svc
        .update_secret(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            req.client_request_token.as_deref(),
            req.description.as_deref(),
            req.kms_key_id.as_deref(),
            value,
        )
        .await?;
    Ok(UpdateSecretResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
        version_id,
    })
}
