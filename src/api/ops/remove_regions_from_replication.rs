//! RemoveRegionsFromReplication.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, ReplicationStatusType};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::domain::Region;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveRegionsFromReplicationRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub remove_replica_regions: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RemoveRegionsFromReplicationResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub replication_status: Vec<ReplicationStatusType>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: RemoveRegionsFromReplicationRequest,
) -> Result<RemoveRegionsFromReplicationResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.required("removeReplicaRegions", req.remove_replica_regions.as_ref())
        .list_length(
            "removeReplicaRegions",
            req.remove_replica_regions.as_deref(),
            1,
            usize::MAX,
        );
    for (i, r) in req.remove_replica_regions.iter().flatten().enumerate() {
        c.length(
            &format!("removeReplicaRegions.{}.member", i + 1),
            Some(r),
            1,
            128,
        );
    }
    c.finish()?;
    let regions: Vec<Region> = req
        .remove_replica_regions
        .unwrap_or_default()
        .into_iter()
        .map(Region)
        .collect();
    let secret = svc
        .remove_regions_from_replication(p, req.secret_id.as_deref().unwrap_or_default(), &regions)
        .await?;
    Ok(RemoveRegionsFromReplicationResponse {
        arn: secret.arn.0.clone(),
        replication_status: shapes::replication_status(&secret.replicas).unwrap_or_default(),
    })
}
