//! DeleteResourcePolicy.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteResourcePolicyRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteResourcePolicyResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: DeleteResourcePolicyRequest,
) -> Result<DeleteResourcePolicyResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.finish()?;
    let secret = svc
        .delete_resource_policy(p, req.secret_id.as_deref().unwrap_or_default())
        .await?;
    Ok(DeleteResourcePolicyResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
    })
}
