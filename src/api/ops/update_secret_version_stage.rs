//! UpdateSecretVersionStage.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretVersionStageRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub version_stage: Option<String>,
    #[serde(default)]
    pub remove_from_version_id: Option<String>,
    #[serde(default)]
    pub move_to_version_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateSecretVersionStageResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: UpdateSecretVersionStageRequest,
) -> Result<UpdateSecretVersionStageResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.required("versionStage", req.version_stage.as_ref())
        .length("versionStage", req.version_stage.as_deref(), 1, 256)
        .length(
            "removeFromVersionId",
            req.remove_from_version_id.as_deref(),
            32,
            64,
        )
        .length("moveToVersionId", req.move_to_version_id.as_deref(), 32, 64)
        .finish()?;
    let secret = svc
        .update_secret_version_stage(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            req.version_stage.as_deref().unwrap_or_default(),
            req.remove_from_version_id.as_deref(),
            req.move_to_version_id.as_deref(),
        )
        .await?;
    Ok(UpdateSecretVersionStageResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
    })
}
