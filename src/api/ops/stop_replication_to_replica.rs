//! StopReplicationToReplica.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StopReplicationToReplicaRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StopReplicationToReplicaResponse {
    #[serde(rename = "ARN")]
    pub arn: String,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: StopReplicationToReplicaRequest,
) -> Result<StopReplicationToReplicaResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.finish()?;
    let secret = svc
        .stop_replication_to_replica(p, req.secret_id.as_deref().unwrap_or_default())
        .await?;
    Ok(StopReplicationToReplicaResponse {
        arn: secret.arn.0.clone(),
    })
}
