//! PutSecretValue.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::service::{Service, missing_token};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSecretValueRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub client_request_token: Option<String>,
    #[serde(default)]
    pub secret_binary: Option<String>,
    #[serde(default)]
    pub secret_string: Option<String>,
    #[serde(default)]
    pub version_stages: Option<Vec<String>>,
    #[serde(default)]
    pub rotation_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutSecretValueResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    pub version_id: String,
    pub version_stages: Vec<String>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: PutSecretValueRequest,
) -> Result<PutSecretValueResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    shapes::check_token(&mut c, req.client_request_token.as_deref());
    c.list_length("versionStages", req.version_stages.as_deref(), 1, 20)
        .length("rotationToken", req.rotation_token.as_deref(), 36, 256);
    for (i, s) in req.version_stages.iter().flatten().enumerate() {
        c.length(&format!("versionStages.{}.member", i + 1), Some(s), 1, 256);
    }
    let value = shapes::secret_value_from_wire(req.secret_string, req.secret_binary, &mut c)?;
    // Raw calls without a token are refused before the secret is looked up (spec §9.2).
    let token = req.client_request_token.ok_or_else(missing_token)?;
    let value = value.ok_or_else(|| {
        Error::InvalidRequest("You must provide either SecretString or SecretBinary.".into())
    })?;
    let (secret, version_id, outcome) = svc
        .put_secret_value(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            &token,
            value,
            req.version_stages.as_deref(),
        )
        .await?;
    Ok(PutSecretValueResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
        version_id,
        version_stages: outcome.stages.into_iter().collect(),
    })
}
