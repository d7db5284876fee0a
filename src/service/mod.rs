//! Use cases, one per operation: each resolves the secret, applies a domain rule and saves the
//! result in one store transaction. This is the only layer that combines the store, the clock
//! and encryption; it knows nothing of HTTP or JSON.

mod access_keys;
mod audit;
mod authorization;
mod iam;
mod listing;
mod policy;
pub mod policy_document;
mod replication;
mod rotation;
mod secrets;
mod sessions;

pub use access_keys::{ADMIN_USER, AdminKey};
pub use audit::ApiCallRecord;
pub use iam::{AccessKeyMetadata, IamUser, NewAccessKey};
pub use listing::{ListSecretsQuery, SortBy};
pub use rotation::{RotateSecretInput, RotationProgress, RotationWriteError, default_role_policy};
pub use secrets::{BatchGetOutput, CreateSecretInput, SecretValueOutput};
pub use sessions::SessionCredentials;
pub(crate) use sessions::SessionLookup;

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::auth::Principal;
use crate::clock::{Clock, Millis};
use crate::crypto::{self, MasterKey};
use crate::domain::secret::{SealedValue, ValueKind};
use crate::domain::{AccountId, Secret, SecretRef, SecretValue};
use crate::error::{Error, Result};
use crate::store::{DynStore, Lookup, StoreError, VersionChanges};

/// How often a save is retried when another writer changed the secret in between.
const MAX_SAVE_ATTEMPTS: usize = 8;

pub struct Service {
    store: DynStore,
    master_key: MasterKey,
    clock: Arc<dyn Clock>,
    account: AccountId,
    access_keys: access_keys::AccessKeyCache,
    identities: iam::IdentityCache,
    audit: audit::AuditLog,
    sessions: sessions::Sessions,
    /// Woken when a rotation is started here, so the driver picks it up at once.
    rotation_wakeup: Arc<tokio::sync::Notify>,
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::internal(e)
    }
}

/// A secret as one Region sees it. For a replica, `view` is the primary's secret presented
/// under the replica's ARN and Region, and `row` is the replica's own row.
pub(crate) struct Resolved {
    /// The secret as this Region shows it; shared with the store's cache, not copied.
    pub view: Arc<Secret>,
    /// For a replica, its own row; the view shows its primary's data under its ARN.
    pub replica_row: Option<Arc<Secret>>,
}

impl Resolved {
    /// The row the lookup found: the replica's own, or the secret itself.
    pub fn row(&self) -> &Secret {
        self.replica_row.as_deref().unwrap_or(&self.view)
    }

    /// The row, to change: copied only if a cache still shares it.
    pub fn into_row(self) -> Secret {
        Arc::unwrap_or_clone(self.replica_row.unwrap_or(self.view))
    }

    pub fn into_view(self) -> Secret {
        Arc::unwrap_or_clone(self.view)
    }
}

impl Service {
    pub fn new(
        store: DynStore,
        master_key: MasterKey,
        clock: Arc<dyn Clock>,
        account: AccountId,
        audit_file: Option<std::path::PathBuf>,
    ) -> Service {
        let audit = audit::AuditLog::new(audit_file);
        Service {
            store,
            master_key,
            clock,
            account,
            access_keys: Default::default(),
            identities: Default::default(),
            audit,
            sessions: Default::default(),
            rotation_wakeup: Arc::new(tokio::sync::Notify::new()),
        }
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn account(&self) -> &AccountId {
        &self.account
    }

    pub fn store(&self) -> &DynStore {
        &self.store
    }

    pub fn master_key(&self) -> &MasterKey {
        &self.master_key
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// What the rotation driver waits on besides its timer.
    pub fn rotation_wakeup(&self) -> Arc<tokio::sync::Notify> {
        self.rotation_wakeup.clone()
    }

    fn seal(&self, secret: &Secret, version_id: &str, value: &SecretValue) -> SealedValue {
        SealedValue {
            kind: value.kind(),
            ciphertext: self.master_key.seal(
                value.as_bytes(),
                &crypto::value_aad(&secret.arn.0, version_id),
            ),
        }
    }

    /// Decrypts a version's value. `arn` is the ARN it was sealed under: the primary's.
    fn open(&self, arn: &str, version_id: &str, sealed: &SealedValue) -> Result<SecretValue> {
        let bytes = self
            .master_key
            .open(&sealed.ciphertext, &crypto::value_aad(arn, version_id))
            .map_err(|_| Error::DecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.".into()))?;
        Ok(match sealed.kind {
            ValueKind::Binary => SecretValue::Binary(Zeroizing::new(bytes.to_vec())),
            ValueKind::String => SecretValue::String(Zeroizing::new(
                String::from_utf8(bytes.to_vec())
                    .map_err(|_| Error::internal("stored string is not UTF-8"))?,
            )),
        })
    }

    /// Finds the secret `secret_id` names in the caller's Region, scheduled for deletion or not.
    async fn find(&self, p: &Principal, secret_id: &str) -> Result<Option<Resolved>> {
        let region = p.region();
        let row = match SecretRef::parse(secret_id)? {
            SecretRef::Name(name) => {
                self.store
                    .find_secret(region, Lookup::Name(name.as_str()))
                    .await?
            }
            SecretRef::FullArn(arn) => self.store.find_secret(region, Lookup::Arn(&arn.0)).await?,
            SecretRef::PartialArn {
                region: r,
                account,
                name,
            } => {
                if &r != region || account != self.account {
                    None
                } else {
                    self.store
                        .find_secret(region, Lookup::Name(name.as_str()))
                        .await?
                }
            }
        };
        // Whether the caller may act on the secret is asked before whether it exists, so a
        // caller without permission cannot tell which secrets exist.
        let Some(row) = row else {
            let arn = if secret_id.starts_with("arn:") {
                secret_id.to_owned()
            } else {
                format!(
                    "arn:aws:secretsmanager:{}:{}:secret:{secret_id}",
                    region.0, self.account.0
                )
            };
            self.authorize_secret(p, secret_id, &arn, None)?;
            return Ok(None);
        };
        let resolved = self.resolve_row(row).await?;
        self.authorize_secret(p, secret_id, &resolved.view.arn.0, Some(&resolved.view))?;
        Ok(Some(resolved))
    }

    /// A replica shows its primary's metadata and versions under its own ARN and Region.
    async fn view_of(&self, row: &Secret) -> Result<Secret> {
        let Some(primary_id) = &row.replica_of else {
            return Ok(row.clone());
        };
        let primary = self
            .store
            .find_secret_by_id(primary_id)
            .await?
            .ok_or_else(|| Error::internal(format!("replica {} lost its primary", row.arn.0)))?;
        Ok(Secret {
            id: row.id.clone(),
            region: row.region.clone(),
            arn: row.arn.clone(),
            last_accessed_at: row.last_accessed_at,
            primary_region: Some(primary.region.clone()),
            replica_of: Some(primary.id.clone()),
            replicas: Vec::new(),
            revision: row.revision,
            ..primary
        })
    }

    /// Wraps a found row, adding its primary's view if it is a replica.
    async fn resolve_row(&self, row: Arc<Secret>) -> Result<Resolved> {
        if row.is_replica() {
            Ok(Resolved {
                view: Arc::new(self.view_of(&row).await?),
                replica_row: Some(row),
            })
        } else {
            Ok(Resolved {
                view: row,
                replica_row: None,
            })
        }
    }

    async fn resolve(&self, p: &Principal, secret_id: &str) -> Result<Resolved> {
        self.find(p, secret_id)
            .await?
            .ok_or_else(Error::secret_not_found)
    }

    /// Resolves a secret that a write may change: it must exist, not be scheduled for deletion,
    /// and not be a replica.
    async fn resolve_writable(&self, p: &Principal, secret_id: &str) -> Result<Secret> {
        let r = self.resolve(p, secret_id).await?;
        if r.row().is_replica() {
            return Err(replica_is_read_only());
        }
        if r.row().is_scheduled_for_deletion() {
            return Err(Error::marked_for_deletion());
        }
        Ok(r.into_row())
    }

    /// Read, change, save; again from a fresh read if another writer saved in between.
    /// `change` gets the secret as stored and returns what the caller wants back.
    async fn modify<T>(
        &self,
        p: &Principal,
        secret_id: &str,
        mut change: impl FnMut(&mut Secret, Millis) -> Result<T>,
    ) -> Result<(Secret, T)> {
        for _ in 0..MAX_SAVE_ATTEMPTS {
            let before = self.resolve_writable(p, secret_id).await?;
            let mut after = before.clone();
            let out = change(&mut after, self.now())?;
            if after == before {
                return Ok((after, out));
            }
            let changes = VersionChanges::between(&before.versions, &after.versions);
            match self.store.save_secret(&after, &changes).await {
                Ok(()) => {
                    after.revision += 1;
                    return Ok((after, out));
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal("too many concurrent changes to one secret"))
    }
}

pub(crate) fn replica_is_read_only() -> Error {
    Error::InvalidRequest("Operation not permitted on a replica secret. Call must be made in primary secret's region.".into())
}

pub fn missing_token() -> Error {
    Error::InvalidRequest(
        "You must provide a ClientRequestToken value. We recommend a UUID-type value.".into(),
    )
}

/// Opaque pagination tokens: the offset into a listing, so a bad token is recognisable.
pub(crate) mod page_token {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use crate::error::{Error, Result};

    const PREFIX: &str = "tumbler-page-v1:";

    pub fn encode(offset: usize) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{offset}"))
    }

    pub fn decode(token: &str) -> Result<usize> {
        let bad = || Error::InvalidNextToken("The NextToken value is invalid.".into());
        let raw = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
        let text = String::from_utf8(raw).map_err(|_| bad())?;
        text.strip_prefix(PREFIX)
            .and_then(|n| n.parse().ok())
            .ok_or_else(bad)
    }

    /// Cuts `items` to one page starting at `token`, returning the next token if more remain.
    pub fn page<T>(
        items: Vec<T>,
        token: Option<&str>,
        max: usize,
    ) -> Result<(Vec<T>, Option<String>)> {
        let start = token.map(decode).transpose()?.unwrap_or(0);
        if start > items.len() {
            return Err(Error::InvalidNextToken(
                "The NextToken value is invalid.".into(),
            ));
        }
        let end = (start + max).min(items.len());
        let next = (end < items.len()).then(|| encode(end));
        Ok((
            items.into_iter().skip(start).take(end - start).collect(),
            next,
        ))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn pages_walk_the_whole_list_and_end_without_a_token() {
            let (p1, t1) = page((0..5).collect(), None, 2).unwrap();
            assert_eq!(p1, [0, 1]);
            let (p2, t2) = page((0..5).collect(), t1.as_deref(), 2).unwrap();
            assert_eq!(p2, [2, 3]);
            let (p3, t3) = page((0..5).collect(), t2.as_deref(), 2).unwrap();
            assert_eq!(p3, [4]);
            assert_eq!(t3, None);
        }

        #[test]
        fn a_forged_token_is_invalid_next_token() {
            assert!(matches!(
                page(vec![1], Some("garbage!"), 2),
                Err(Error::InvalidNextToken(_))
            ));
            assert!(matches!(
                page(vec![1], Some(&encode(99)), 2),
                Err(Error::InvalidNextToken(_))
            ));
        }
    }
}
