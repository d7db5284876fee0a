//! A read cache in front of a store that one process owns alone (SQLite: the server holds an
//! exclusive lock on its data directory). GetSecretValue then reads no database at all.
//!
//! Correctness rests on two rules. Every write goes through this wrapper, which evicts the
//! secret it touched after the write commits. And a reader only fills the cache if no write
//! finished while it read (a generation counter), so a read that raced a write can't put the
//! old secret back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::{
    AccessKeyRecord, AuditQuery, AuditRecord, DynStore, FunctionRecord, Lookup, RotationChanges,
    Store, StoreResult, UserPolicyRecord, UserRecord, VersionChanges,
};
use crate::clock::Millis;
use crate::domain::rotation::{RotationEvent, RotationJob};
use crate::domain::{Region, Secret};

#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    Name(Region, String),
    Arn(Region, String),
}

/// Entries beyond this many are dropped wholesale; a cache, not a second database.
const MAX_ENTRIES: usize = 100_000;

pub struct CachedStore {
    inner: DynStore,
    entries: Mutex<HashMap<Key, Arc<Secret>>>,
    generation: AtomicU64,
}

impl CachedStore {
    pub fn new(inner: DynStore) -> CachedStore {
        CachedStore {
            inner,
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }

    fn key(region: &Region, lookup: Lookup<'_>) -> Key {
        match lookup {
            Lookup::Name(n) => Key::Name(region.clone(), n.to_owned()),
            Lookup::Arn(a) => Key::Arn(region.clone(), a.to_owned()),
        }
    }

    /// After a write commits: a new generation, and the secret's entries gone.
    fn evict(&self, secret_id: Option<&str>) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut entries = self.entries.lock().expect("cache lock");
        match secret_id {
            // Replica rows show their primary's data: evict them with it.
            Some(id) => entries.retain(|_, s| s.id != id && s.replica_of.as_deref() != Some(id)),
            None => entries.clear(),
        }
    }
}

#[async_trait]
impl Store for CachedStore {
    fn backend_name(&self) -> &'static str {
        self.inner.backend_name()
    }

    async fn find_secret(
        &self,
        region: &Region,
        lookup: Lookup<'_>,
    ) -> StoreResult<Option<Arc<Secret>>> {
        let key = CachedStore::key(region, lookup);
        if let Some(hit) = self.entries.lock().expect("cache lock").get(&key) {
            return Ok(Some(hit.clone()));
        }
        let before = self.generation.load(Ordering::SeqCst);
        let found = self.inner.find_secret(region, lookup).await?;
        if let Some(secret) = &found {
            let mut entries = self.entries.lock().expect("cache lock");
            if self.generation.load(Ordering::SeqCst) == before {
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(key, Arc::clone(secret));
            }
        }
        Ok(found)
    }

    async fn find_secret_by_id(&self, id: &str) -> StoreResult<Option<Secret>> {
        self.inner.find_secret_by_id(id).await
    }

    async fn list_secrets(&self, region: &Region) -> StoreResult<Vec<Secret>> {
        self.inner.list_secrets(region).await
    }

    async fn replicas_of(&self, primary_id: &str) -> StoreResult<Vec<Secret>> {
        self.inner.replicas_of(primary_id).await
    }

    async fn insert_secret(&self, secret: &Secret) -> StoreResult<()> {
        let r = self.inner.insert_secret(secret).await;
        self.evict(Some(&secret.id));
        r
    }

    async fn save_secret_and_rotation(
        &self,
        secret: Option<(&Secret, &VersionChanges)>,
        rotation: &RotationChanges,
    ) -> StoreResult<()> {
        let r = self.inner.save_secret_and_rotation(secret, rotation).await;
        if let Some((secret, _)) = secret {
            self.evict(Some(&secret.id));
        }
        r
    }

    async fn delete_secret(&self, id: &str) -> StoreResult<()> {
        let r = self.inner.delete_secret(id).await;
        self.evict(Some(id));
        r
    }

    async fn touch_accessed(
        &self,
        secret_id: &str,
        version_id: &str,
        day: Millis,
    ) -> StoreResult<()> {
        let r = self.inner.touch_accessed(secret_id, version_id, day).await;
        self.evict(Some(secret_id));
        r
    }

    async fn secrets_due_for_purge(&self, now: Millis) -> StoreResult<Vec<String>> {
        self.inner.secrets_due_for_purge(now).await
    }

    async fn insert_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()> {
        self.inner.insert_access_key(key).await
    }

    async fn access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        self.inner.access_key(access_key_id).await
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()> {
        self.inner.delete_access_key(access_key_id).await
    }

    async fn access_keys_of(&self, user_name: &str) -> StoreResult<Vec<AccessKeyRecord>> {
        self.inner.access_keys_of(user_name).await
    }

    async fn set_access_key_status(&self, access_key_id: &str, active: bool) -> StoreResult<bool> {
        self.inner
            .set_access_key_status(access_key_id, active)
            .await
    }

    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        self.inner.insert_user(user).await
    }

    async fn user(&self, user_name: &str) -> StoreResult<Option<UserRecord>> {
        self.inner.user(user_name).await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.inner.list_users().await
    }

    async fn delete_user(&self, user_name: &str) -> StoreResult<bool> {
        self.inner.delete_user(user_name).await
    }

    async fn put_user_policy(&self, policy: &UserPolicyRecord) -> StoreResult<()> {
        self.inner.put_user_policy(policy).await
    }

    async fn user_policies(&self, user_name: &str) -> StoreResult<Vec<UserPolicyRecord>> {
        self.inner.user_policies(user_name).await
    }

    async fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> StoreResult<bool> {
        self.inner.delete_user_policy(user_name, policy_name).await
    }

    async fn insert_audit_records(&self, records: &[AuditRecord]) -> StoreResult<()> {
        self.inner.insert_audit_records(records).await
    }

    async fn delete_audit_records_before(&self, before: Millis) -> StoreResult<u64> {
        self.inner.delete_audit_records_before(before).await
    }

    async fn audit_records(&self, query: &AuditQuery) -> StoreResult<Vec<(i64, AuditRecord)>> {
        self.inner.audit_records(query).await
    }

    async fn meta_init(&self, key: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
        self.inner.meta_init(key, value).await
    }

    async fn delete_all_secrets(&self) -> StoreResult<()> {
        let r = self.inner.delete_all_secrets().await;
        self.evict(None);
        r
    }

    async fn secrets_due_for_rotation(&self, now: Millis, limit: i64) -> StoreResult<Vec<String>> {
        self.inner.secrets_due_for_rotation(now, limit).await
    }

    async fn claim_rotation(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<RotationJob>> {
        self.inner.claim_rotation(owner, now, lease_until).await
    }

    async fn renew_rotation_lease(
        &self,
        id: &str,
        owner: &str,
        until: Millis,
    ) -> StoreResult<bool> {
        self.inner.renew_rotation_lease(id, owner, until).await
    }

    async fn release_rotation_leases(&self, owner: Option<&str>) -> StoreResult<()> {
        self.inner.release_rotation_leases(owner).await
    }

    async fn active_rotation(&self, secret_id: &str) -> StoreResult<Option<RotationJob>> {
        self.inner.active_rotation(secret_id).await
    }

    async fn rotations_of(&self, secret_id: &str) -> StoreResult<Vec<RotationJob>> {
        self.inner.rotations_of(secret_id).await
    }

    async fn rotation_events_of(&self, secret_id: &str) -> StoreResult<Vec<RotationEvent>> {
        self.inner.rotation_events_of(secret_id).await
    }

    async fn next_rotation_attempt(&self) -> StoreResult<Option<Millis>> {
        self.inner.next_rotation_attempt().await
    }

    async fn put_function(&self, record: &FunctionRecord) -> StoreResult<()> {
        self.inner.put_function(record).await
    }

    async fn function(&self, name: &str) -> StoreResult<Option<FunctionRecord>> {
        self.inner.function(name).await
    }

    async fn list_functions(&self) -> StoreResult<Vec<FunctionRecord>> {
        self.inner.list_functions().await
    }

    async fn delete_function(&self, name: &str) -> StoreResult<bool> {
        self.inner.delete_function(name).await
    }
}
