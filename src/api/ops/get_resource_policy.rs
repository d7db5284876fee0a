//! GetResourcePolicy.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: GetResourcePolicyRequest,
) -> Result<GetResourcePolicyResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.finish()?;
    let secret = svc
        .get_resource_policy(p, req.secret_id.as_deref().unwrap_or_default())
        .await?;
    Ok(GetResourcePolicyResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
        resource_policy: secret.resource_policy.clone(),
    })
}
