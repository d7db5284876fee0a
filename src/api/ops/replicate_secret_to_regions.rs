//! ReplicateSecretToRegions.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, ReplicaRegionType, ReplicationStatusType};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateSecretToRegionsRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub add_replica_regions: Option<Vec<ReplicaRegionType>>,
    #[serde(default)]
    pub force_overwrite_replica_secret: Option<bool>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicateSecretToRegionsResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub replication_status: Vec<ReplicationStatusType>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: ReplicateSecretToRegionsRequest,
) -> Result<ReplicateSecretToRegionsResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.required("addReplicaRegions", req.add_replica_regions.as_ref());
    let regions = shapes::replica_regions_from_wire(
        "addReplicaRegions",
        req.add_replica_regions.as_deref().unwrap_or_default(),
        &mut c,
    );
    c.finish()?;
    let secret = svc
        .replicate_to_regions(
            p,
            req.secret_id.as_deref().unwrap_or_default(),
            &regions,
            req.force_overwrite_replica_secret.unwrap_or(false),
        )
        .await?;
    Ok(ReplicateSecretToRegionsResponse {
        arn: secret.arn.0.clone(),
        replication_status: shapes::replication_status(&secret.replicas).unwrap_or_default(),
    })
}
