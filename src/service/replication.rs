//! Replication to other Regions. A replica is a read-only row in the replica Region's namespace
//! (same name, the ARN with that Region) that shows its primary's versions, so it is always in
//! step: there is nothing to copy and nothing to fall behind.

use uuid::Uuid;

use super::Service;
use crate::auth::Principal;
use crate::domain::secret::ReplicaStatus;
use crate::domain::{Region, Replica, Secret};
use crate::error::{Error, Result};
use crate::store::{Lookup, StoreError, VersionChanges};

impl Service {
    pub async fn replicate_to_regions(
        &self,
        p: &Principal,
        secret_id: &str,
        regions: &[(Region, Option<String>)],
        force_overwrite: bool,
    ) -> Result<Secret> {
        for (region, _) in regions {
            if region == p.region() || !region.is_well_formed() {
                return Err(Error::InvalidParameter("Invalid replica region.".into()));
            }
        }
        let primary = self.resolve_writable(p, secret_id).await?;
        let mut new_replicas = Vec::new();
        for (region, kms_key_id) in regions {
            if primary.replicas.iter().any(|r| &r.region == region) {
                continue;
            }
            let mut status = ReplicaStatus::InSync;
            let mut status_message = None;
            if let Some(clash) = self
                .store
                .find_secret(region, Lookup::Name(primary.name.as_str()))
                .await?
            {
                if force_overwrite && clash.replica_of.is_none() && clash.replicas.is_empty() {
                    self.store.delete_secret(&clash.id).await?;
                } else {
                    status = ReplicaStatus::Failed;
                    status_message = Some(
                        "Replication failed: Secret name already exists in the destination Region. To overwrite it, set ForceOverwriteReplicaSecret."
                            .into(),
                    );
                }
            }
            if status == ReplicaStatus::InSync {
                let row = replica_row(&primary, region);
                match self.store.insert_secret(&row).await {
                    Ok(()) => {}
                    Err(StoreError::AlreadyExists) => {
                        status = ReplicaStatus::Failed;
                        status_message = Some("Replication failed: Secret name already exists in the destination Region.".into());
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            new_replicas.push(Replica {
                region: region.clone(),
                kms_key_id: kms_key_id.clone(),
                status,
                status_message,
                last_accessed_at: None,
            });
        }
        let (secret, ()) = self
            .modify(p, secret_id, |secret, now| {
                for r in &new_replicas {
                    if !secret.replicas.iter().any(|x| x.region == r.region) {
                        secret.replicas.push(r.clone());
                        secret.last_changed_at = now;
                    }
                }
                Ok(())
            })
            .await?;
        Ok(secret)
    }

    pub async fn remove_regions_from_replication(
        &self,
        p: &Principal,
        secret_id: &str,
        regions: &[Region],
    ) -> Result<Secret> {
        let primary = self.resolve_writable(p, secret_id).await?;
        for region in regions {
            if let Some(row) = self
                .store
                .find_secret(region, Lookup::Name(primary.name.as_str()))
                .await?
                && row.replica_of.as_deref() == Some(primary.id.as_str())
            {
                self.store.delete_secret(&row.id).await?;
            }
        }
        let (secret, ()) = self
            .modify(p, secret_id, |secret, now| {
                let before = secret.replicas.len();
                secret.replicas.retain(|r| !regions.contains(&r.region));
                if secret.replicas.len() != before {
                    secret.last_changed_at = now;
                }
                Ok(())
            })
            .await?;
        Ok(secret)
    }

    /// Promotes a replica (named in its own Region) to a standalone secret with copies of the
    /// primary's versions, re-sealed under the new secret's ARN.
    pub async fn stop_replication_to_replica(
        &self,
        p: &Principal,
        secret_id: &str,
    ) -> Result<Secret> {
        let resolved = self.resolve(p, secret_id).await?;
        let view: Secret = (*resolved.view).clone();
        let row = resolved.into_row();
        let Some(primary_id) = row.replica_of.clone() else {
            return Err(Error::InvalidRequest("StopReplicationToReplica must be called on a replica secret, in the replica's Region.".into()));
        };
        let primary = self
            .store
            .find_secret_by_id(&primary_id)
            .await?
            .ok_or_else(|| Error::internal("replica without primary"))?;
        let mut standalone = Secret {
            primary_region: None,
            replica_of: None,
            replicas: Vec::new(),
            ..view.clone()
        };
        standalone.versions.clear();
        for v in &primary.versions {
            let mut copy = v.clone();
            if let Some(sealed) = &v.value {
                let plain = self.open(&primary.arn.0, &v.id, sealed)?;
                copy.value = Some(self.seal(&standalone, &v.id, &plain));
            }
            standalone.versions.push(copy);
        }
        standalone.last_changed_at = self.now();
        // The replica row becomes the standalone secret in one save, then the primary forgets it.
        let changes = VersionChanges::between(&[], &standalone.versions);
        standalone.revision = row.revision;
        self.store.save_secret(&standalone, &changes).await?;
        let primary_principal = p.in_region(&primary.region);
        let region = row.region.clone();
        self.modify(&primary_principal, &primary.arn.0, |secret, now| {
            secret.replicas.retain(|r| r.region != region);
            secret.last_changed_at = now;
            Ok(())
        })
        .await?;
        Ok(standalone)
    }
}

fn replica_row(primary: &Secret, region: &Region) -> Secret {
    let arn = primary.arn.in_region(region);
    let id = Uuid::new_v4().to_string();
    Secret {
        last_changed_at: primary.last_changed_at,
        primary_region: Some(primary.region.clone()),
        replica_of: Some(primary.id.clone()),
        ..Secret::new(
            id,
            region.clone(),
            primary.name.clone(),
            arn,
            primary.created_at,
        )
    }
}
