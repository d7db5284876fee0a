//! ListSecretVersionIds.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, Timestamp};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretVersionIdsRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub max_results: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub include_deprecated: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretVersionsListEntry {
    pub version_id: String,
    /// Left out for deprecated versions, as AWS does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_stages: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed_date: Option<Timestamp>,
    pub created_date: Timestamp,
    pub kms_key_ids: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretVersionIdsResponse {
    pub versions: Vec<SecretVersionsListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: ListSecretVersionIdsRequest,
) -> Result<ListSecretVersionIdsResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.range("maxResults", req.max_results, 1, 100)
        .length("nextToken", req.next_token.as_deref(), 1, 4096)
        .finish()?;
    let (secret, versions, next_token) = svc
        .list_secret_version_ids(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            req.include_deprecated.unwrap_or(false),
            req.max_results.map(|m| m as usize),
            req.next_token.as_deref(),
        )
        .await?;
    // AWS names the AWS-managed key this way in version listings (spec §3).
    let kms = secret
        .kms_key_id
        .clone()
        .unwrap_or_else(|| "DefaultEncryptionKey".into());
    Ok(ListSecretVersionIdsResponse {
        versions: versions
            .iter()
            .map(|v| SecretVersionsListEntry {
                version_id: v.id.clone(),
                version_stages: (!v.is_deprecated()).then(|| v.stages.iter().cloned().collect()),
                last_accessed_date: shapes::ts_opt(v.last_accessed_at),
                created_date: shapes::ts(v.created_at),
                kms_key_ids: vec![kms.clone()],
            })
            .collect(),
        next_token,
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
    })
}
