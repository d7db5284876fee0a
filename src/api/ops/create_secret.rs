//! CreateSecret.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, ReplicaRegionType, ReplicationStatusType, Tag};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::{CreateSecretInput, Service};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub client_request_token: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
    #[serde(default)]
    pub secret_binary: Option<String>,
    #[serde(default)]
    pub secret_string: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
    #[serde(default)]
    pub add_replica_regions: Option<Vec<ReplicaRegionType>>,
    #[serde(default)]
    pub force_overwrite_replica_secret: Option<bool>,
    #[serde(default)]
    pub r#type: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateSecretResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replication_status: Option<Vec<ReplicationStatusType>>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: CreateSecretRequest,
) -> Result<CreateSecretResponse> {
    crate::api::record_secret_id(req.name.as_deref());
    let mut c = Constraints::new();
    c.required("name", req.name.as_ref())
        .length("name", req.name.as_deref(), 1, 512)
        .length("description", req.description.as_deref(), 0, 2048)
        .length("kmsKeyId", req.kms_key_id.as_deref(), 0, 2048)
        .length("type", req.r#type.as_deref(), 0, 256);
    shapes::check_token(&mut c, req.client_request_token.as_deref());
    let tags = req
        .tags
        .as_deref()
        .map(|t| shapes::tags_from_wire("tags", t, &mut c));
    let replicas = req
        .add_replica_regions
        .as_deref()
        .map(|r| shapes::replica_regions_from_wire("addReplicaRegions", r, &mut c))
        .unwrap_or_default();
    let value = shapes::secret_value_from_wire(req.secret_string, req.secret_binary, &mut c)?;
    let (secret, version_id) = svc
        .create_secret(
            p,
            CreateSecretInput {
                name: req.name.unwrap_or_default(),
                client_request_token: req.client_request_token,
                description: req.description,
                kms_key_id: req.kms_key_id,
                value,
                tags,
                add_replica_regions: replicas,
                force_overwrite_replica_secret: req.force_overwrite_replica_secret.unwrap_or(false),
                secret_type: req.r#type,
            },
        )
        .await?;
    Ok(CreateSecretResponse {
        arn: secret.arn.0.clone(),
        name: secret.name.as_str().to_owned(),
        version_id,
        replication_status: shapes::replication_status(&secret.replicas),
    })
}
