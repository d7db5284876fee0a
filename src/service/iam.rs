//! IAM's users, access keys and inline user policies, with IAM's validation and errors; and
//! the identity (user id and parsed policies) a request is evaluated with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::Service;
use super::access_keys::{ADMIN_USER, AdminKey, aws_id};
use super::authorization::Target;
use super::policy_document::{self, PolicyKind};
use crate::auth::{Principal, UserIdentity};
use crate::clock::Millis;
use crate::crypto;
use crate::domain::policy::{Effect, PatternList, Policy, Statement};
use crate::error::{Error, Result};
use crate::store::{AccessKeyRecord, StoreError, UserPolicyRecord, UserRecord};

/// How long a user's policies are kept in memory. A policy changed on another node applies
/// here within this time; on this node, at once.
const IDENTITY_CACHE_TTL: Duration = Duration::from_secs(10);
/// IAM's quotas.
const MAX_ACCESS_KEYS_PER_USER: usize = 2;
const MAX_USERS: usize = 5000;
/// The aggregate size of a user's inline policies, whitespace not counted.
const MAX_INLINE_POLICY_CHARS: usize = 2048;

#[derive(Default)]
pub(crate) struct IdentityCache {
    entries: Mutex<HashMap<String, (Instant, Arc<UserIdentity>)>>,
}

/// A user, as IAM's GetUser shows it.
#[derive(Debug, Clone)]
pub struct IamUser {
    pub user_name: String,
    pub user_id: String,
    pub path: String,
    pub arn: String,
    pub created_at: Millis,
}

/// An access key as ListAccessKeys shows it (never its secret).
#[derive(Debug, Clone)]
pub struct AccessKeyMetadata {
    pub user_name: String,
    pub access_key_id: String,
    pub active: bool,
    pub created_at: Millis,
}

/// A new key: the only time its secret is shown.
pub struct NewAccessKey {
    pub metadata: AccessKeyMetadata,
    pub secret_access_key: Zeroizing<String>,
}

/// The policy the admin user has besides any of its own: everything.
fn administrator_access() -> Policy {
    Policy {
        statements: vec![Statement {
            sid: Some("AdministratorAccess".into()),
            effect: Effect::Allow,
            principals: None,
            actions: PatternList::Matching(vec!["*".into()]),
            resources: Some(PatternList::Matching(vec!["*".into()])),
            conditions: Vec::new(),
        }],
    }
}

/// IAM's `[\w+=,.@-]+` with a length range, as a ValidationError names it.
fn check_name(member: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.chars().count() > max {
        return Err(Error::Validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    if !value
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c))
    {
        return Err(Error::Validation(format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(())
}

fn check_path(path: &str) -> Result<()> {
    let ok = path == "/"
        || (path.len() <= 512
            && path.len() >= 3
            && path.starts_with('/')
            && path.ends_with('/')
            && path[1..path.len() - 1]
                .chars()
                .all(|c| ('\u{21}'..='\u{7e}').contains(&c)));
    if ok {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "1 validation error detected: Value '{path}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)"
        )))
    }
}

fn no_such_user(name: &str) -> Error {
    Error::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

fn no_such_key(id: &str) -> Error {
    Error::NoSuchEntity(format!("The Access Key with id {id} cannot be found."))
}

/// IAM's user ids: `AIDA` and 17 upper-case letters and digits.
fn new_user_id() -> String {
    aws_id("AIDA", 17)
}

impl Service {
    fn user_arn(&self, path: &str, name: &str) -> String {
        format!("arn:aws:iam::{}:user{path}{name}", self.account.0)
    }

    fn iam_user(&self, r: UserRecord) -> IamUser {
        IamUser {
            arn: self.user_arn(&r.path, &r.user_name),
            user_name: r.user_name,
            user_id: r.user_id,
            path: r.path,
            created_at: r.created_at,
        }
    }

    /// `iam:<operation>` on a user: the caller's own user when the request names none.
    fn authorize_iam(&self, p: &Principal, user_arn: &str) -> Result<()> {
        let action = format!("iam:{}", p.operation());
        self.authorize(
            p,
            &Target {
                action: &action,
                resource: user_arn,
                shown: Some(user_arn),
                secret: None,
            },
        )
    }

    /// The user a request names, or the caller when it names none (IAM's default for the
    /// access key operations and GetUser); authorized, and found.
    async fn target_user(&self, p: &Principal, user_name: Option<&str>) -> Result<UserRecord> {
        let name = match user_name {
            Some(n) => {
                check_name("userName", n, 64)?;
                n.to_owned()
            }
            None if p.scope().is_some() => {
                return Err(Error::Validation(
                    "Must specify userName when calling with non-User credentials".into(),
                ));
            }
            None => p.user_name().to_owned(),
        };
        let found = self.store.user(&name).await?;
        let arn = match &found {
            Some(u) => self.user_arn(&u.path, &u.user_name),
            None => self.user_arn("/", &name),
        };
        self.authorize_iam(p, &arn)?;
        found.ok_or_else(|| no_such_user(&name))
    }

    /// Makes the admin user if it is missing (first start, or a store from before users).
    pub async fn ensure_admin_user(&self) -> Result<()> {
        if self.store.user(ADMIN_USER).await?.is_some() {
            return Ok(());
        }
        match self
            .store
            .insert_user(&UserRecord {
                user_name: ADMIN_USER.into(),
                user_id: new_user_id(),
                path: "/".into(),
                created_at: self.now(),
            })
            .await
        {
            Ok(()) | Err(StoreError::AlreadyExists) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn create_user(
        &self,
        p: &Principal,
        user_name: &str,
        path: Option<&str>,
    ) -> Result<IamUser> {
        check_name("userName", user_name, 64)?;
        let path = path.unwrap_or("/");
        check_path(path)?;
        self.authorize_iam(p, &self.user_arn(path, user_name))?;
        if self.store.list_users().await?.len() >= MAX_USERS {
            return Err(Error::LimitExceeded(format!(
                "Cannot exceed quota for UsersPerAccount: {MAX_USERS}"
            )));
        }
        let record = UserRecord {
            user_name: user_name.to_owned(),
            user_id: new_user_id(),
            path: path.to_owned(),
            created_at: self.now(),
        };
        match self.store.insert_user(&record).await {
            Ok(()) => Ok(self.iam_user(record)),
            Err(StoreError::AlreadyExists) => Err(Error::EntityAlreadyExists(format!(
                "User with name {user_name} already exists."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_user(&self, p: &Principal, user_name: Option<&str>) -> Result<IamUser> {
        Ok(self.iam_user(self.target_user(p, user_name).await?))
    }

    /// Every user whose path starts with `path_prefix`, in name order.
    pub async fn list_users(
        &self,
        p: &Principal,
        path_prefix: Option<&str>,
    ) -> Result<Vec<IamUser>> {
        self.authorize_iam(p, &self.user_arn("/", ""))?;
        let prefix = path_prefix.unwrap_or("/");
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| u.path.starts_with(prefix))
            .map(|u| self.iam_user(u))
            .collect())
    }

    /// IAM refuses to delete a user that still has access keys or inline policies.
    pub async fn delete_user(&self, p: &Principal, user_name: &str) -> Result<()> {
        let user = self.target_user(p, Some(user_name)).await?;
        if !self.store.access_keys_of(&user.user_name).await?.is_empty() {
            return Err(Error::DeleteConflict(
                "Cannot delete entity, must delete access keys first.".into(),
            ));
        }
        if !self.store.user_policies(&user.user_name).await?.is_empty() {
            return Err(Error::DeleteConflict(
                "Cannot delete entity, must delete policies first.".into(),
            ));
        }
        self.store.delete_user(&user.user_name).await?;
        self.forget_identity(&user.user_name);
        Ok(())
    }

    pub async fn create_access_key(
        &self,
        p: &Principal,
        user_name: Option<&str>,
    ) -> Result<NewAccessKey> {
        let user = self.target_user(p, user_name).await?;
        if self.store.access_keys_of(&user.user_name).await?.len() >= MAX_ACCESS_KEYS_PER_USER {
            return Err(Error::LimitExceeded(format!(
                "Cannot exceed quota for AccessKeysPerUser: {MAX_ACCESS_KEYS_PER_USER}"
            )));
        }
        let key = AdminKey::generate();
        let record = AccessKeyRecord {
            access_key_id: key.access_key_id.clone(),
            user_name: user.user_name.clone(),
            sealed_secret: self.master_key.seal(
                key.secret_access_key.as_bytes(),
                &crypto::access_key_aad(&key.access_key_id),
            ),
            active: true,
            created_at: self.now(),
        };
        self.store.insert_access_key(&record).await?;
        Ok(NewAccessKey {
            metadata: AccessKeyMetadata {
                user_name: record.user_name,
                access_key_id: record.access_key_id,
                active: true,
                created_at: record.created_at,
            },
            secret_access_key: key.secret_access_key,
        })
    }

    pub async fn list_access_keys(
        &self,
        p: &Principal,
        user_name: Option<&str>,
    ) -> Result<Vec<AccessKeyMetadata>> {
        let user = self.target_user(p, user_name).await?;
        Ok(self
            .store
            .access_keys_of(&user.user_name)
            .await?
            .into_iter()
            .map(|k| AccessKeyMetadata {
                user_name: k.user_name,
                access_key_id: k.access_key_id,
                active: k.active,
                created_at: k.created_at,
            })
            .collect())
    }

    /// A key of the named (or calling) user; another user's key is "not found".
    async fn key_of(
        &self,
        p: &Principal,
        user_name: Option<&str>,
        access_key_id: &str,
    ) -> Result<AccessKeyRecord> {
        let user = self.target_user(p, user_name).await?;
        match self.store.access_key(access_key_id).await? {
            Some(k) if k.user_name == user.user_name => Ok(k),
            _ => Err(no_such_key(access_key_id)),
        }
    }

    pub async fn update_access_key(
        &self,
        p: &Principal,
        user_name: Option<&str>,
        access_key_id: &str,
        status: &str,
    ) -> Result<()> {
        let active = match status {
            "Active" => true,
            "Inactive" => false,
            other => {
                return Err(Error::Validation(format!(
                    "1 validation error detected: Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
                )));
            }
        };
        let key = self.key_of(p, user_name, access_key_id).await?;
        self.store
            .set_access_key_status(&key.access_key_id, active)
            .await?;
        self.forget_access_key(&key.access_key_id);
        Ok(())
    }

    pub async fn delete_access_key(
        &self,
        p: &Principal,
        user_name: Option<&str>,
        access_key_id: &str,
    ) -> Result<()> {
        let key = self.key_of(p, user_name, access_key_id).await?;
        self.store.delete_access_key(&key.access_key_id).await?;
        self.forget_access_key(&key.access_key_id);
        Ok(())
    }

    pub async fn put_user_policy(
        &self,
        p: &Principal,
        user_name: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<()> {
        check_name("policyName", policy_name, 128)?;
        let user = self.target_user(p, Some(user_name)).await?;
        policy_document::parse(document, PolicyKind::Identity)
            .map_err(Error::MalformedPolicyDocument)?;
        let size = |d: &str| d.chars().filter(|c| !c.is_whitespace()).count();
        let others: usize = self
            .store
            .user_policies(&user.user_name)
            .await?
            .iter()
            .filter(|p| p.policy_name != policy_name)
            .map(|p| size(&p.document))
            .sum();
        if others + size(document) > MAX_INLINE_POLICY_CHARS {
            return Err(Error::LimitExceeded(format!(
                "Maximum policy size of {MAX_INLINE_POLICY_CHARS} bytes exceeded for user {}",
                user.user_name
            )));
        }
        self.store
            .put_user_policy(&UserPolicyRecord {
                user_name: user.user_name.clone(),
                policy_name: policy_name.to_owned(),
                document: document.to_owned(),
            })
            .await?;
        self.forget_identity(&user.user_name);
        Ok(())
    }

    /// The user's name as stored, and the document.
    pub async fn get_user_policy(
        &self,
        p: &Principal,
        user_name: &str,
        policy_name: &str,
    ) -> Result<(String, String)> {
        check_name("policyName", policy_name, 128)?;
        let user = self.target_user(p, Some(user_name)).await?;
        self.store
            .user_policies(&user.user_name)
            .await?
            .into_iter()
            .find(|r| r.policy_name == policy_name)
            .map(|r| (r.user_name, r.document))
            .ok_or_else(|| no_such_policy(policy_name))
    }

    pub async fn list_user_policies(&self, p: &Principal, user_name: &str) -> Result<Vec<String>> {
        let user = self.target_user(p, Some(user_name)).await?;
        Ok(self
            .store
            .user_policies(&user.user_name)
            .await?
            .into_iter()
            .map(|r| r.policy_name)
            .collect())
    }

    pub async fn delete_user_policy(
        &self,
        p: &Principal,
        user_name: &str,
        policy_name: &str,
    ) -> Result<()> {
        check_name("policyName", policy_name, 128)?;
        let user = self.target_user(p, Some(user_name)).await?;
        if !self
            .store
            .delete_user_policy(&user.user_name, policy_name)
            .await?
        {
            return Err(no_such_policy(policy_name));
        }
        self.forget_identity(&user.user_name);
        Ok(())
    }

    /// The identity a request signed by `user_name`'s key is evaluated with: its id and its
    /// inline policies (the admin user also has [`administrator_access`]).
    pub async fn user_identity(&self, user_name: &str) -> Result<Arc<UserIdentity>> {
        if let Some((at, identity)) = self
            .identities
            .entries
            .lock()
            .expect("identity cache lock")
            .get(user_name)
            && at.elapsed() < IDENTITY_CACHE_TTL
        {
            return Ok(identity.clone());
        }
        let user =
            self.store.user(user_name).await?.ok_or_else(|| {
                Error::internal(format!("access key of a missing user {user_name}"))
            })?;
        let mut policies = Vec::new();
        if user.user_name == ADMIN_USER {
            policies.push(administrator_access());
        }
        for record in self.store.user_policies(&user.user_name).await? {
            // Checked when put; one that no longer parses fails closed.
            policies.push(
                policy_document::parse(&record.document, PolicyKind::Identity).map_err(|e| {
                    Error::internal(format!(
                        "stored policy {} of {} does not parse: {e}",
                        record.policy_name, record.user_name
                    ))
                })?,
            );
        }
        let identity = Arc::new(UserIdentity {
            user_name: user.user_name,
            user_id: user.user_id,
            path: user.path,
            policies: Arc::new(policies),
        });
        self.identities
            .entries
            .lock()
            .expect("identity cache lock")
            .insert(user_name.to_owned(), (Instant::now(), identity.clone()));
        Ok(identity)
    }

    fn forget_identity(&self, user_name: &str) {
        self.identities
            .entries
            .lock()
            .expect("identity cache lock")
            .retain(|name, _| !name.eq_ignore_ascii_case(user_name));
    }
}

fn no_such_policy(name: &str) -> Error {
    Error::NoSuchEntity(format!("The user policy with name {name} cannot be found."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_iams_pattern_and_length() {
        assert!(check_name("userName", "alice.ops+ci@example,com=x_-", 64).is_ok());
        let spaced = check_name("userName", "has space", 64).unwrap_err();
        assert!(
            spaced
                .to_string()
                .contains("Member must satisfy regular expression pattern: [\\w+=,.@-]+")
        );
        assert!(check_name("userName", &"a".repeat(65), 64).is_err());
        assert!(check_name("userName", "", 64).is_err());
    }

    #[test]
    fn paths_start_and_end_with_a_slash() {
        assert!(check_path("/").is_ok());
        assert!(check_path("/division/team/").is_ok());
        assert!(check_path("division/").is_err());
        assert!(check_path("/division").is_err());
    }

    #[test]
    fn user_ids_look_like_iams() {
        let id = new_user_id();
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AIDA"));
    }
}
