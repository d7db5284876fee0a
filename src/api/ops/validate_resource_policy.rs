//! ValidateResourcePolicy.

use serde::{Deserialize, Serialize};

use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateResourcePolicyRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub resource_policy: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidationErrorsEntry {
    pub check_name: String,
    pub error_message: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ValidateResourcePolicyResponse {
    pub policy_validation_passed: bool,
    pub validation_errors: Vec<ValidationErrorsEntry>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: ValidateResourcePolicyRequest,
) -> Result<ValidateResourcePolicyResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    Constraints::new()
        .length("secretId", req.secret_id.as_deref(), 1, 2048)
        .required("resourcePolicy", req.resource_policy.as_ref())
        .length("resourcePolicy", req.resource_policy.as_deref(), 1, 20_480)
        .finish()?;
    let v = svc
        .validate_resource_policy(
            p,
            req.secret_id.as_deref(),
            req.resource_policy.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(ValidateResourcePolicyResponse {
        policy_validation_passed: v.passed,
        validation_errors: v
            .errors
            .into_iter()
            .map(|(check_name, error_message)| ValidationErrorsEntry {
                check_name,
                error_message,
            })
            .collect(),
    })
}
