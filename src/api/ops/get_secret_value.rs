//! GetSecretValue.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, Timestamp, ValueMembers};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::{SecretValueOutput, Service};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub version_id: Option<String>,
    #[serde(default)]
    pub version_stage: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetSecretValueResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    pub version_id: String,
    #[serde(flatten)]
    pub value: ValueMembers,
    pub version_stages: Vec<String>,
    pub created_date: Timestamp,
}

impl GetSecretValueResponse {
    pub fn of(out: &SecretValueOutput) -> Self {
        GetSecretValueResponse {
            arn: out.arn.0.clone(),
            name: out.name.as_str().to_owned(),
            version_id: out.version.id.clone(),
            value: ValueMembers::of(&out.value),
            version_stages: out.version.stages.iter().cloned().collect(),
            created_date: shapes::ts(out.version.created_at),
        }
    }
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: GetSecretValueRequest,
) -> Result<GetSecretValueResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.length("versionId", req.version_id.as_deref(), 32, 64)
        .length("versionStage", req.version_stage.as_deref(), 1, 256)
        .finish()?;
    let out = svc
        .get_secret_value(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            req.version_id.as_deref(),
            req.version_stage.as_deref(),
        )
        .await?;
    Ok(GetSecretValueResponse::of(&out))
}
