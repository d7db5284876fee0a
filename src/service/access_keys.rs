//! Access keys: the admin key made on first start, and the look-up SigV4 verification needs.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;
use rand::distr::Alphanumeric;
use zeroize::Zeroizing;

use super::Service;
use crate::crypto;
use crate::error::{Error, Result};
use crate::store::{AccessKeyRecord, StoreError};

/// How long a verified access key's secret is kept in memory. A key deleted or deactivated on
/// another node stops working here within this time.
const ACCESS_KEY_CACHE_TTL: Duration = Duration::from_secs(10);

/// Active access keys recently read from the store: SigV4 needs the secret on every request.
#[derive(Default)]
pub(crate) struct AccessKeyCache {
    entries: Mutex<HashMap<String, CachedAccessKey>>,
}

struct CachedAccessKey {
    read_at: Instant,
    user_name: String,
    secret: Zeroizing<Vec<u8>>,
}

/// The user the first-start key belongs to.
pub const ADMIN_USER: &str = "admin";

/// An access key pair. The secret part is zeroized on drop and never printed.
pub struct AdminKey {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
}

impl std::fmt::Debug for AdminKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// An id in AWS's shape: `prefix` (`AKIA` for access keys, `ASIA` for temporary ones, `AIDA`
/// for users) and `len` characters of upper-case letters and the digits 2-7.
pub(crate) fn aws_id(prefix: &str, len: usize) -> String {
    const SET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let tail: String = (0..len)
        .map(|_| SET[rng.random_range(0..SET.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

impl AdminKey {
    /// A new key in AWS's shapes: `AKIA` + 16 upper-case alphanumerics, and 40 characters.
    pub fn generate() -> AdminKey {
        let secret: String = (0..40)
            .map(|_| rand::rng().sample(Alphanumeric) as char)
            .collect();
        AdminKey {
            access_key_id: aws_id("AKIA", 16),
            secret_access_key: Zeroizing::new(secret),
        }
    }
}

impl Service {
    /// Stores `key` as the admin's unless a key with that id exists. Returns whether it was new.
    pub async fn ensure_admin_key(&self, key: &AdminKey) -> Result<bool> {
        self.ensure_admin_user().await?;
        let record = AccessKeyRecord {
            access_key_id: key.access_key_id.clone(),
            user_name: ADMIN_USER.to_owned(),
            sealed_secret: self.master_key.seal(
                key.secret_access_key.as_bytes(),
                &crypto::access_key_aad(&key.access_key_id),
            ),
            active: true,
            created_at: self.now(),
        };
        match self.store.insert_access_key(&record).await {
            Ok(()) => Ok(true),
            Err(StoreError::AlreadyExists) => {
                // The same id with another secret (changed env vars) must not leave the old
                // secret working: replace it.
                if let Some((_, existing)) = self.read_access_key_secret(&key.access_key_id).await?
                    && existing.as_slice() != key.secret_access_key.as_bytes()
                {
                    self.store.delete_access_key(&key.access_key_id).await?;
                    self.store.insert_access_key(&record).await?;
                    self.forget_access_key(&key.access_key_id);
                }
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets a key read before, after it was changed here.
    pub(crate) fn forget_access_key(&self, access_key_id: &str) {
        self.access_keys
            .entries
            .lock()
            .expect("cache lock")
            .remove(access_key_id);
    }

    /// The user name and secret access key of an active access key.
    pub async fn access_key_secret(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, Zeroizing<Vec<u8>>)>> {
        if let Some(hit) = self
            .access_keys
            .entries
            .lock()
            .expect("cache lock")
            .get(access_key_id)
            && hit.read_at.elapsed() < ACCESS_KEY_CACHE_TTL
        {
            return Ok(Some((hit.user_name.clone(), hit.secret.clone())));
        }
        let found = self.read_access_key_secret(access_key_id).await?;
        let mut entries = self.access_keys.entries.lock().expect("cache lock");
        match &found {
            Some((user, secret)) => {
                let entry = CachedAccessKey {
                    read_at: Instant::now(),
                    user_name: user.clone(),
                    secret: secret.clone(),
                };
                entries.insert(access_key_id.to_owned(), entry);
            }
            None => {
                entries.remove(access_key_id);
            }
        }
        Ok(found)
    }

    async fn read_access_key_secret(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(String, Zeroizing<Vec<u8>>)>> {
        let Some(rec) = self.store.access_key(access_key_id).await? else {
            return Ok(None);
        };
        if !rec.active {
            return Ok(None);
        }
        let secret = self
            .master_key
            .open(&rec.sealed_secret, &crypto::access_key_aad(access_key_id))
            .map_err(|e| Error::internal(format!("access key {access_key_id}: {e}")))?;
        Ok(Some((rec.user_name, secret)))
    }

    /// Refuses to run with a master key other than the one the store was written with.
    pub async fn check_master_key(&self) -> Result<()> {
        let probe = self
            .master_key
            .seal(crypto::KEY_CHECK_PLAINTEXT, crypto::KEY_CHECK_AAD);
        let stored = self.store.meta_init("master_key_check", &probe).await?;
        match self.master_key.open(&stored, crypto::KEY_CHECK_AAD) {
            Ok(p) if p.as_slice() == crypto::KEY_CHECK_PLAINTEXT => Ok(()),
            _ => Err(Error::internal(
                "the master key does not match the one this database was written with; refusing to start",
            )),
        }
    }
}
