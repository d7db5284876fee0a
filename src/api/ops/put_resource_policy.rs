//! PutResourcePolicy.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub resource_policy: Option<String>,
    #[serde(default)]
    pub block_public_policy: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: PutResourcePolicyRequest,
) -> Result<PutResourcePolicyResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.required("resourcePolicy", req.resource_policy.as_ref())
        .length("resourcePolicy", req.resource_policy.as_deref(), 1, 20_480)
        .finish()?;
    let secret = svc
        .put_resource_policy(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            req.resource_policy.as_deref().unwrap_or_default(),
            req.block_public_policy.unwrap_or(false),
        )
        .await?;
    Ok(PutResourcePolicyResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
    })
}
