//! DescribeSecret.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, ReplicationStatusType, SecretMetadata};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSecretRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSecretResponse {
    #[serde(flatten)]
    pub metadata: SecretMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_ids_to_stages: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_status: Option<Vec<ReplicationStatusType>>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: DescribeSecretRequest,
) -> Result<DescribeSecretResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.finish()?;
    let secret = svc
        .describe_secret(p, req.secret_id.as_deref().unwrap_or_default())
        .await?;
    Ok(DescribeSecretResponse {
        metadata: SecretMetadata::of(&secret),
        version_ids_to_stages: shapes::versions_to_stages(&secret),
        replication_status: shapes::replication_status(&secret.replicas),
    })
}
