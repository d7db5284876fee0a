//! Persistence. [`Store`] is what the service needs; [`sql::SqlStore`] implements it for both
//! backends, which differ only in how they open, their migrations and their SQL types:
//! [`sqlite`] (the default, one file) and [`postgres`] (shared by several servers).
//!
//! Invariant: a secret and its versions change only through [`Store::save_secret`], one
//! transaction that refuses a save made from a stale read (optimistic concurrency on
//! `revision`), so concurrent writers on any node never lose each other's label moves.

mod cache;
pub mod postgres;
mod rows;
pub mod sql;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

use crate::clock::Millis;
use crate::domain::rotation::{RotationEvent, RotationJob};
use crate::domain::{Region, Secret, Version};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (a secret name in its Region, an access key id).
    #[error("already exists")]
    AlreadyExists,
    /// The row changed since it was read; read again and retry.
    #[error("concurrent modification")]
    Conflict,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A lease-guarded rotation write found the job no longer held by this node or no
    /// longer active (cancelled, abandoned, or taken over after the lease ran out).
    #[error("rotation lease lost")]
    LeaseLost,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How a request names a secret, once its Region is known.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    Name(&'a str),
    Arn(&'a str),
}

/// An access key as stored: the secret part sealed under the master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub user_name: String,
    pub sealed_secret: Vec<u8>,
    pub active: bool,
    pub created_at: Millis,
}

/// A rotation function as stored: its name and its definition document, which only
/// `rotation::functions` reads.
/// An IAM user. `user_id` is IAM's unique id (`AIDA...`), which outlives a user of the same
/// name deleted and created again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub user_name: String,
    pub user_id: String,
    pub path: String,
    pub created_at: Millis,
}

/// An inline policy of a user, as the caller sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPolicyRecord {
    pub user_name: String,
    pub policy_name: String,
    pub document: String,
}

/// One audit record: the CloudTrail-shaped JSON and the fields it is filtered by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub event_id: String,
    pub event_time: Millis,
    pub event_name: String,
    pub user_name: Option<String>,
    pub secret_arn: Option<String>,
    pub secret_name: Option<String>,
    pub error_code: Option<String>,
    pub record: String,
}

/// Which audit records to read, oldest first; every filter present must hold.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// A secret's name or ARN.
    pub secret: Option<String>,
    /// When `secret` is an ARN, its name: records that know only the name match it too.
    pub secret_name_of_arn: Option<String>,
    pub user_name: Option<String>,
    pub event_name: Option<String>,
    pub since: Option<Millis>,
    pub until: Option<Millis>,
    pub errors_only: bool,
    /// Records after this position (for paging).
    pub after_seq: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    pub name: String,
    pub definition: String,
    pub updated_at: Millis,
}

/// Rotation rows written in the same transaction as a secret.
#[derive(Debug, Default, Clone)]
pub struct RotationChanges {
    /// A new job; `AlreadyExists` if the secret already has an active one.
    pub insert: Option<RotationJob>,
    /// A job's new state. With `lease_owner`, only if that node still holds the job's lease
    /// and the job is still active (`LeaseLost` otherwise).
    pub update: Option<RotationJob>,
    pub lease_owner: Option<String>,
    /// Keep the lease (the job is still being worked on); otherwise it is released.
    pub keep_lease: bool,
    pub events: Vec<RotationEvent>,
}

impl RotationChanges {
    pub fn is_empty(&self) -> bool {
        self.insert.is_none() && self.update.is_none() && self.events.is_empty()
    }
}

/// The version rows a save writes and deletes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VersionChanges {
    pub upserts: Vec<Version>,
    pub deletes: Vec<String>,
}

impl VersionChanges {
    /// What turns `before`'s versions into `after`'s.
    pub fn between(before: &[Version], after: &[Version]) -> VersionChanges {
        let upserts = after
            .iter()
            .filter(|v| before.iter().find(|b| b.id == v.id) != Some(*v))
            .cloned()
            .collect();
        let deletes = before
            .iter()
            .filter(|b| !after.iter().any(|a| a.id == b.id))
            .map(|b| b.id.clone())
            .collect();
        VersionChanges { upserts, deletes }
    }
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// "sqlite" or "postgres", for logs.
    fn backend_name(&self) -> &'static str;

    /// A secret (scheduled for deletion or not) with its versions. Shared, so a cache can hand
    /// out what it holds without copying it.
    async fn find_secret(
        &self,
        region: &Region,
        lookup: Lookup<'_>,
    ) -> StoreResult<Option<Arc<Secret>>>;
    async fn find_secret_by_id(&self, id: &str) -> StoreResult<Option<Secret>>;
    /// Every secret of a Region, with versions.
    async fn list_secrets(&self, region: &Region) -> StoreResult<Vec<Secret>>;
    /// Replica rows that point at `primary_id`.
    async fn replicas_of(&self, primary_id: &str) -> StoreResult<Vec<Secret>>;
    /// Inserts a new secret and its versions; `AlreadyExists` when the name is taken.
    async fn insert_secret(&self, secret: &Secret) -> StoreResult<()>;
    /// Writes `secret` if the stored revision is still `secret.revision` (the one it was read
    /// at), storing `revision + 1`; `Conflict` when another writer got there first.
    async fn save_secret(&self, secret: &Secret, changes: &VersionChanges) -> StoreResult<()> {
        self.save_secret_and_rotation(Some((secret, changes)), &RotationChanges::default())
            .await
    }
    /// [`Store::save_secret`] (when `secret` is given) and rotation rows, in one transaction.
    async fn save_secret_and_rotation(
        &self,
        secret: Option<(&Secret, &VersionChanges)>,
        rotation: &RotationChanges,
    ) -> StoreResult<()>;
    /// Removes a secret, its versions and any replica rows pointing at it.
    async fn delete_secret(&self, id: &str) -> StoreResult<()>;
    /// Records a read at day granularity without taking part in optimistic concurrency.
    async fn touch_accessed(
        &self,
        secret_id: &str,
        version_id: &str,
        day: Millis,
    ) -> StoreResult<()>;
    /// Ids of secrets whose recovery window ended at or before `now`.
    async fn secrets_due_for_purge(&self, now: Millis) -> StoreResult<Vec<String>>;

    async fn insert_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()>;
    async fn access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>>;
    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()>;

    /// Sets `key` to `value` unless it has a value already; returns the value now stored.
    async fn access_keys_of(&self, user_name: &str) -> StoreResult<Vec<AccessKeyRecord>>;
    /// Returns whether the key existed.
    async fn set_access_key_status(&self, access_key_id: &str, active: bool) -> StoreResult<bool>;

    /// Refuses a name taken in any letter case with `AlreadyExists`.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user(&self, user_name: &str) -> StoreResult<Option<UserRecord>>;
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Returns whether the user existed.
    async fn delete_user(&self, user_name: &str) -> StoreResult<bool>;
    /// Creates or replaces.
    async fn put_user_policy(&self, policy: &UserPolicyRecord) -> StoreResult<()>;
    /// In name order.
    async fn user_policies(&self, user_name: &str) -> StoreResult<Vec<UserPolicyRecord>>;
    /// Returns whether the policy existed.
    async fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> StoreResult<bool>;

    /// Appends records as one stored batch; a batch already stored (retried after an unknown
    /// outcome) is not stored again.
    async fn insert_audit_records(&self, records: &[AuditRecord]) -> StoreResult<()>;
    /// Removes stored batches whose records are all older than `before`; how many batches.
    async fn delete_audit_records_before(&self, before: Millis) -> StoreResult<u64>;
    /// Oldest first, with each record's position (for `after_seq`).
    async fn audit_records(&self, query: &AuditQuery) -> StoreResult<Vec<(i64, AuditRecord)>>;

    async fn meta_init(&self, key: &str, value: &[u8]) -> StoreResult<Vec<u8>>;

    /// Deletes every secret and its rotations (the dev server's reset); access keys, functions
    /// and meta stay.
    async fn delete_all_secrets(&self) -> StoreResult<()>;

    /// Ids of secrets whose next rotation is due at or before `now`, soonest first, through
    /// the `rotation_due_at` index: secrets that are not due are not read.
    async fn secrets_due_for_rotation(&self, now: Millis, limit: i64) -> StoreResult<Vec<String>>;
    /// Takes one active job that is ready (`next_attempt_at <= now`) and that no live lease
    /// holds, leasing it to `owner` until `lease_until`. Several nodes may call this at once;
    /// each job goes to one of them.
    async fn claim_rotation(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<RotationJob>>;
    /// Extends `owner`'s lease on job `id`; false if the lease is lost or the job is no longer
    /// active.
    async fn renew_rotation_lease(&self, id: &str, owner: &str, until: Millis)
    -> StoreResult<bool>;
    /// Gives up the leases `owner` holds (all leases when `None`: a SQLite database has one
    /// server, so at its start every lease is a dead process's).
    async fn release_rotation_leases(&self, owner: Option<&str>) -> StoreResult<()>;
    /// The secret's rotation in flight, if any.
    async fn active_rotation(&self, secret_id: &str) -> StoreResult<Option<RotationJob>>;
    /// A secret's rotations, oldest first.
    async fn rotations_of(&self, secret_id: &str) -> StoreResult<Vec<RotationJob>>;
    /// A secret's rotation events, oldest first.
    async fn rotation_events_of(&self, secret_id: &str) -> StoreResult<Vec<RotationEvent>>;
    /// When the soonest active job may run, for the driver's sleep.
    async fn next_rotation_attempt(&self) -> StoreResult<Option<Millis>>;

    async fn put_function(&self, record: &FunctionRecord) -> StoreResult<()>;
    async fn function(&self, name: &str) -> StoreResult<Option<FunctionRecord>>;
    async fn list_functions(&self) -> StoreResult<Vec<FunctionRecord>>;
    /// False when there was no such function.
    async fn delete_function(&self, name: &str) -> StoreResult<bool>;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store a URL names: `sqlite://PATH` or `postgres://...`. SQLite belongs to one
/// process (the server locks its data directory), so its reads are cached; PostgreSQL is
/// shared by several servers, so every read goes to the database.
pub async fn open(url: &str) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::open(url).await?))
    } else {
        let sqlite: DynStore = Arc::new(sqlite::open(url).await?);
        Ok(Arc::new(cache::CachedStore::new(sqlite)))
    }
}
