//! DeleteSecret.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, Timestamp};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub recovery_window_in_days: Option<i64>,
    #[serde(default)]
    pub force_delete_without_recovery: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteSecretResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    pub deletion_date: Timestamp,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: DeleteSecretRequest,
) -> Result<DeleteSecretResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.finish()?;
    let (arn, name, deletion) = svc
        .delete_secret(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            req.recovery_window_in_days,
            req.force_delete_without_recovery.unwrap_or(false),
        )
        .await?;
    Ok(DeleteSecretResponse {
        arn,
        name,
        deletion_date: shapes::ts(deletion),
    })
}
