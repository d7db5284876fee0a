//! The secret lifecycle: create, read, new values, labels, tags, deletion.

use uuid::Uuid;
use zeroize::Zeroizing;

use super::{Resolved, Service, missing_token, replica_is_read_only};
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::filter::Filter;
use crate::domain::password::{self, PasswordRules};
use crate::domain::secret::{PutOutcome, SealedValue};
use crate::domain::{AWSCURRENT, Arn, Region, Secret, SecretName, SecretValue, Tag, Version};
use crate::error::{Error, Result};
use crate::store::StoreError;

/// Tags a secret may carry, not counting the reserved `aws:` ones.
pub const MAX_TAGS: usize = 50;

pub struct CreateSecretInput {
    pub name: String,
    pub client_request_token: Option<String>,
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub value: Option<SecretValue>,
    pub tags: Option<Vec<Tag>>,
    pub add_replica_regions: Vec<(Region, Option<String>)>,
    pub force_overwrite_replica_secret: bool,
    pub secret_type: Option<String>,
}

pub struct SecretValueOutput {
    pub arn: Arn,
    pub name: SecretName,
    pub version: Version,
    pub value: SecretValue,
}

pub struct BatchGetOutput {
    pub values: Vec<SecretValueOutput>,
    /// (SecretId as sent, the error it met)
    pub errors: Vec<(String, Error)>,
    pub next_token: Option<String>,
}

fn validate_tags(tags: &[Tag]) -> Result<()> {
    for t in tags {
        if t.key.starts_with("aws:") {
            return Err(Error::InvalidParameter(format!(
                "Invalid tag key {}: the prefix aws: is reserved for AWS use.",
                t.key
            )));
        }
    }
    Ok(())
}

/// Appends tags in order; a key already present takes the new value in place.
fn merge_tags(existing: &mut Vec<Tag>, new: &[Tag]) -> Result<()> {
    validate_tags(new)?;
    for t in new {
        match existing.iter_mut().find(|e| e.key == t.key) {
            Some(e) => e.value = t.value.clone(),
            None => existing.push(t.clone()),
        }
    }
    if existing.len() > MAX_TAGS {
        return Err(Error::LimitExceeded(format!(
            "A secret can have at most {MAX_TAGS} tags; this request would leave it with {}.",
            existing.len()
        )));
    }
    Ok(())
}

fn token_in_use(token: &str, arn: &Arn) -> Error {
    Error::ResourceExists(format!(
        "You can't use ClientRequestToken {token} because that value is already in use for a version of secret {}.",
        arn.0
    ))
}

impl Service {
    pub async fn create_secret(
        &self,
        p: &Principal,
        input: CreateSecretInput,
    ) -> Result<(Secret, Option<String>)> {
        let name = SecretName::parse(&input.name)?;
        let token = input
            .client_request_token
            .clone()
            .ok_or_else(missing_token)?;
        if let Some(tags) = &input.tags {
            validate_tags(tags)?;
            if tags.len() > MAX_TAGS {
                return Err(Error::LimitExceeded(format!(
                    "A secret can have at most {MAX_TAGS} tags."
                )));
            }
        }
        for (region, _) in &input.add_replica_regions {
            if region == p.region() || !region.is_well_formed() {
                return Err(Error::InvalidParameter("Invalid replica region.".into()));
            }
        }
        // Two attempts: a concurrent create of the same name makes the insert fail, and the
        // second pass then answers as for an existing secret.
        for _ in 0..2 {
            if let Some(existing) = self
                .store
                .find_secret(p.region(), crate::store::Lookup::Name(name.as_str()))
                .await?
            {
                self.authorize_secret(p, name.as_str(), &existing.arn.0, Some(&existing))?;
                return self.create_over_existing(&existing, &token, input.value.as_ref());
            }
            let now = self.now();
            let region = p.region().clone();
            let arn = Arn::generate(&region, &self.account, &name, &mut rand::rng());
            self.authorize_secret(p, name.as_str(), &arn.0, None)?;
            // Tags and replicas need the permissions of the calls that would add them (spec §8).
            if input.tags.as_ref().is_some_and(|t| !t.is_empty()) {
                let p = p.clone().for_operation("TagResource");
                self.authorize_secret(&p, name.as_str(), &arn.0, None)?;
            }
            if !input.add_replica_regions.is_empty() {
                let p = p.clone().for_operation("ReplicateSecretToRegions");
                self.authorize_secret(&p, name.as_str(), &arn.0, None)?;
            }
            let mut secret = Secret {
                description: input.description.clone(),
                kms_key_id: input.kms_key_id.clone().filter(|k| !k.is_empty()),
                secret_type: input.secret_type.clone(),
                tags: input.tags.clone(),
                ..Secret::new(Uuid::new_v4().to_string(), region, name.clone(), arn, now)
            };
            if let Some(value) = &input.value {
                let sealed = self.seal(&secret, &token, value);
                secret.put_value(&token, sealed, None, now)?;
            }
            match self.store.insert_secret(&secret).await {
                Ok(()) => {}
                Err(StoreError::AlreadyExists) => continue,
                Err(e) => return Err(e.into()),
            }
            let version_id = input.value.as_ref().map(|_| token.clone());
            if !input.add_replica_regions.is_empty() {
                let replicated = self
                    .replicate_to_regions(
                        p,
                        secret.arn.0.as_str(),
                        &input.add_replica_regions,
                        input.force_overwrite_replica_secret,
                    )
                    .await?;
                return Ok((replicated, version_id));
            }
            return Ok((secret, version_id));
        }
        Err(Error::internal(
            "secret name kept appearing and disappearing",
        ))
    }

    /// CreateSecret of a name that exists: idempotent replay, token clash, or name taken.
    fn create_over_existing(
        &self,
        existing: &Secret,
        token: &str,
        value: Option<&SecretValue>,
    ) -> Result<(Secret, Option<String>)> {
        if existing.is_scheduled_for_deletion() {
            return Err(Error::InvalidRequest(
                "You can't create this secret because a secret with this name is already scheduled for deletion.".into(),
            ));
        }
        if let (Some(version), Some(value)) = (existing.version(token), value)
            && let Some(sealed) = &version.value
        {
            let stored = self.open(&existing.arn.0, token, sealed)?;
            if stored.ct_eq(value) {
                return Ok((existing.clone(), Some(token.to_owned())));
            }
            return Err(token_in_use(token, &existing.arn));
        }
        Err(Error::ResourceExists(format!(
            "The operation failed because the secret {} already exists.",
            existing.name.as_str()
        )))
    }

    pub async fn describe_secret(&self, p: &Principal, secret_id: &str) -> Result<Secret> {
        Ok(self.resolve(p, secret_id).await?.into_view())
    }

    pub async fn get_secret_value(
        &self,
        p: &Principal,
        secret_id: &str,
        version_id: Option<&str>,
        version_stage: Option<&str>,
    ) -> Result<SecretValueOutput> {
        let resolved = self.resolve(p, secret_id).await?;
        self.read_value(&resolved, version_id, version_stage).await
    }

    async fn read_value(
        &self,
        resolved: &Resolved,
        version_id: Option<&str>,
        version_stage: Option<&str>,
    ) -> Result<SecretValueOutput> {
        let (row, view) = (resolved.row(), &resolved.view);
        if row.is_scheduled_for_deletion() || view.is_scheduled_for_deletion() {
            return Err(Error::marked_for_deletion());
        }
        let version = match (version_id, version_stage) {
            (Some(id), stage) => {
                let v = view.version(id).filter(|v| v.value.is_some()).ok_or_else(|| {
                    Error::ResourceNotFound(format!("Secrets Manager can't find the specified secret value for VersionId: {id}"))
                })?;
                if let Some(stage) = stage
                    && !v.stages.contains(stage)
                {
                    return Err(Error::InvalidRequest(
                            "You provided a VersionStage that is not associated to the provided VersionId.".into(),
                        ));
                }
                v
            }
            (None, stage) => {
                let stage = stage.unwrap_or(AWSCURRENT);
                view.version_with_stage(stage).filter(|v| v.value.is_some()).ok_or_else(|| {
                    Error::ResourceNotFound(format!(
                        "Secrets Manager can't find the specified secret value for staging label: {stage}"
                    ))
                })?
            }
        };
        let sealed = version.value.as_ref().expect("filtered on value above");
        // Replicas show the primary's versions, sealed under the primary's ARN.
        let sealed_under = match &view.replica_of {
            Some(_) => self.primary_arn(view),
            None => view.arn.clone(),
        };
        let value = self.open(&sealed_under.0, &version.id, sealed)?;
        let today = self.now().start_of_day();
        if row.last_accessed_at != Some(today) || version.last_accessed_at != Some(today) {
            // Access dates are kept per day, so this write happens once a day per version.
            let version_owner = view.replica_of.as_deref().unwrap_or(&row.id);
            self.store
                .touch_accessed(version_owner, &version.id, today)
                .await?;
            if view.replica_of.is_some() {
                self.store
                    .touch_accessed(&row.id, &version.id, today)
                    .await?;
            }
        }
        // The output names the version; its sealed value stays behind.
        let version = Version {
            id: version.id.clone(),
            stages: version.stages.clone(),
            created_at: version.created_at,
            last_accessed_at: Some(today),
            value: None,
        };
        Ok(SecretValueOutput {
            arn: view.arn.clone(),
            name: view.name.clone(),
            version,
            value,
        })
    }

    /// The ARN a replica's primary has: the replica's ARN in the primary's Region.
    fn primary_arn(&self, view: &Secret) -> Arn {
        match &view.primary_region {
            Some(r) => view.arn.in_region(r),
            None => view.arn.clone(),
        }
    }

    pub async fn batch_get_secret_value(
        &self,
        p: &Principal,
        secret_ids: Option<&[String]>,
        filters: Option<&[Filter]>,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<BatchGetOutput> {
        match (secret_ids, filters) {
            (Some(ids), None) => {
                let mut out = BatchGetOutput {
                    values: Vec::new(),
                    errors: Vec::new(),
                    next_token: None,
                };
                // Each secret needs GetSecretValue besides the batch's own permission.
                let p = &p.clone().for_operation("GetSecretValue");
                for id in ids {
                    let got = match self.find(p, id).await {
                        Ok(Some(r)) => self.read_value(&r, None, None).await,
                        Ok(None) => Err(Error::secret_not_found()),
                        Err(e) => Err(e),
                    };
                    match got {
                        Ok(v) => out.values.push(v),
                        Err(Error::Internal(i)) => return Err(Error::Internal(i)),
                        Err(e) => out.errors.push((id.clone(), e)),
                    }
                }
                Ok(out)
            }
            (None, Some(filters)) => {
                let query = super::ListSecretsQuery {
                    filters: filters.to_vec(),
                    max_results,
                    next_token: next_token.map(str::to_owned),
                    ..Default::default()
                };
                let (secrets, next) = self.list_secrets(p, &query).await?;
                let mut out = BatchGetOutput {
                    values: Vec::new(),
                    errors: Vec::new(),
                    next_token: next,
                };
                let p = &p.clone().for_operation("GetSecretValue");
                for s in secrets {
                    let row = self.store.find_secret_by_id(&s.id).await?;
                    let Some(row) = row else { continue };
                    let resolved = self.resolve_row(std::sync::Arc::new(row)).await?;
                    let read = match self.authorize_secret(
                        p,
                        &resolved.view.arn.0,
                        &resolved.view.arn.0,
                        Some(&resolved.view),
                    ) {
                        Ok(()) => self.read_value(&resolved, None, None).await,
                        Err(e) => Err(e),
                    };
                    match read {
                        Ok(v) => out.values.push(v),
                        Err(Error::Internal(i)) => return Err(Error::Internal(i)),
                        Err(e) => out.errors.push((s.arn.0.clone(), e)),
                    }
                }
                Ok(out)
            }
            _ => Err(Error::InvalidParameter(
                "Either 'SecretIdList' or 'Filters' must be provided, but not both.".into(),
            )),
        }
    }

    /// PutSecretValue: a new version, or the idempotent replay of one.
    pub async fn put_secret_value(
        &self,
        p: &Principal,
        secret_id: &str,
        token: &str,
        value: SecretValue,
        stages: Option<&[String]>,
    ) -> Result<(Secret, String, PutOutcome)> {
        let (secret, outcome) = self
            .put_new_version(p, secret_id, token, &value, stages)
            .await?;
        Ok((secret, token.to_owned(), outcome))
    }

    async fn put_new_version(
        &self,
        p: &Principal,
        secret_id: &str,
        token: &str,
        value: &SecretValue,
        stages: Option<&[String]>,
    ) -> Result<(Secret, PutOutcome)> {
        let sealed = self.seal_for(p, secret_id, token, value).await?;
        let (secret, outcome) = self
            .modify(p, secret_id, |secret, now| {
                self.apply_value(secret, token, value, &sealed, stages, now)
            })
            .await?;
        if let Some(abandoned) = &outcome.abandoned_rotation_of {
            self.record_abandoned_rotation(&secret, abandoned).await;
        }
        Ok((secret, outcome))
    }

    /// Seals `value` for version `token` of the secret. The ARN in the associated data never
    /// changes, so one read is enough however often the save that follows is retried.
    async fn seal_for(
        &self,
        p: &Principal,
        secret_id: &str,
        token: &str,
        value: &SecretValue,
    ) -> Result<SealedValue> {
        let secret = self.resolve_writable(p, secret_id).await?;
        Ok(self.seal(&secret, token, value))
    }

    /// A new value as version `token`: the idempotent replay of the same value, a clash with
    /// another value under that token, or a new version with its label moves.
    fn apply_value(
        &self,
        secret: &mut Secret,
        token: &str,
        value: &SecretValue,
        sealed: &SealedValue,
        stages: Option<&[String]>,
        now: Millis,
    ) -> Result<PutOutcome> {
        if let Some(existing) = secret.version(token)
            && let Some(stored) = &existing.value
        {
            let stored = self.open(&secret.arn.0, token, stored)?;
            if stored.ct_eq(value) {
                return Ok(PutOutcome {
                    stages: existing.stages.clone(),
                    abandoned_rotation_of: None,
                });
            }
            return Err(token_in_use(token, &secret.arn));
        }
        let outcome = secret.put_value(token, sealed.clone(), stages, now)?;
        if outcome.stages.contains(crate::domain::AWSCURRENT) {
            self.reschedule_after_manual_change(secret, now);
        }
        Ok(outcome)
    }

    /// UpdateSecret: description, key and a new value, all in one save.
    pub async fn update_secret(
        &self,
        p: &Principal,
        secret_id: &str,
        token: Option<&str>,
        description: Option<&str>,
        kms_key_id: Option<&str>,
        value: Option<SecretValue>,
    ) -> Result<(Secret, Option<String>)> {
        let new_value = match &value {
            Some(v) => {
                let token = token.ok_or_else(missing_token)?;
                Some((token, v, self.seal_for(p, secret_id, token, v).await?))
            }
            None => None,
        };
        let (secret, abandoned) = self
            .modify(p, secret_id, |secret, now| {
                let mut abandoned = None;
                if let Some((token, value, sealed)) = &new_value {
                    abandoned = self
                        .apply_value(secret, token, value, sealed, None, now)?
                        .abandoned_rotation_of;
                }
                if let Some(d) = description
                    && secret.description.as_deref() != Some(d)
                {
                    secret.description = Some(d.to_owned());
                    secret.last_changed_at = now;
                }
                if let Some(k) = kms_key_id {
                    // An empty KmsKeyId goes back to the default key (spec §3 UpdateSecret).
                    let k = Some(k.to_owned()).filter(|k| !k.is_empty());
                    if secret.kms_key_id != k {
                        secret.kms_key_id = k;
                        secret.last_changed_at = now;
                    }
                }
                Ok(abandoned)
            })
            .await?;
        if let Some(abandoned) = &abandoned {
            self.record_abandoned_rotation(&secret, abandoned).await;
        }
        Ok((secret, new_value.map(|(t, _, _)| t.to_owned())))
    }

    pub async fn update_secret_version_stage(
        &self,
        p: &Principal,
        secret_id: &str,
        stage: &str,
        remove_from: Option<&str>,
        move_to: Option<&str>,
    ) -> Result<Secret> {
        let (secret, ()) = self
            .modify(p, secret_id, |secret, now| {
                secret.update_version_stage(stage, remove_from, move_to, now)
            })
            .await?;
        Ok(secret)
    }

    pub async fn list_secret_version_ids(
        &self,
        p: &Principal,
        secret_id: &str,
        include_deprecated: bool,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<(Secret, Vec<Version>, Option<String>)> {
        let view = self.resolve(p, secret_id).await?.into_view();
        // Newest first, as AWS lists them.
        let mut versions: Vec<Version> = view
            .versions
            .iter()
            .filter(|v| include_deprecated || !v.is_deprecated())
            .cloned()
            .collect();
        versions.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let (page, next) =
            super::page_token::page(versions, next_token, max_results.unwrap_or(100))?;
        Ok((view, page, next))
    }

    /// DeleteSecret: returns the secret's ARN, name and deletion date.
    pub async fn delete_secret(
        &self,
        p: &Principal,
        secret_id: &str,
        recovery_window_days: Option<i64>,
        force: bool,
    ) -> Result<(String, String, Millis)> {
        if force && recovery_window_days.is_some() {
            return Err(Error::InvalidParameter(
                "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.".into(),
            ));
        }
        let window = recovery_window_days.unwrap_or(30);
        if !(7..=30).contains(&window) {
            // AWS's current wording is unrecorded (spec §3); this one states the rule.
            return Err(Error::InvalidParameter(
                "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).".into(),
            ));
        }
        let Some(resolved) = self.find(p, secret_id).await? else {
            if force {
                // Force-deleting a secret that does not exist succeeds on AWS.
                let arn = if secret_id.starts_with("arn:") {
                    secret_id.to_owned()
                } else {
                    format!(
                        "arn:aws:secretsmanager:{}:{}:secret:{}",
                        p.region().0,
                        self.account.0,
                        secret_id
                    )
                };
                return Ok((arn, secret_id.to_owned(), self.now()));
            }
            return Err(Error::secret_not_found());
        };
        let row = resolved.into_row();
        if row.is_replica() {
            return Err(replica_is_read_only());
        }
        if !row.replicas.is_empty() {
            return Err(Error::InvalidRequest(format!(
                "You can't delete secret {} while it is replicated to other Regions. Remove the replicas first with RemoveRegionsFromReplication.",
                row.name.as_str()
            )));
        }
        if force {
            self.store.delete_secret(&row.id).await?;
            return Ok((row.arn.0, row.name.as_str().to_owned(), self.now()));
        }
        if row.is_scheduled_for_deletion() {
            // Unrecorded on AWS (spec §10); every recorded deleted-secret reply uses this text.
            return Err(Error::marked_for_deletion());
        }
        let (secret, deletion) = self
            .modify(p, secret_id, |secret, now| {
                let at = now.plus_days(window);
                secret.deleted_at = Some(at);
                Ok(at)
            })
            .await?;
        Ok((secret.arn.0, secret.name.as_str().to_owned(), deletion))
    }

    pub async fn restore_secret(&self, p: &Principal, secret_id: &str) -> Result<Secret> {
        for _ in 0..super::MAX_SAVE_ATTEMPTS {
            let row = self.resolve(p, secret_id).await?.into_row();
            if row.is_replica() {
                return Err(replica_is_read_only());
            }
            if !row.is_scheduled_for_deletion() {
                return Ok(row);
            }
            let mut after = row.clone();
            after.deleted_at = None;
            match self.store.save_secret(&after, &Default::default()).await {
                Ok(()) => return Ok(after),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal("too many concurrent changes to one secret"))
    }

    /// Removes secrets whose recovery window has ended. Returns how many went.
    pub async fn purge_deleted_secrets(&self) -> Result<usize> {
        let due = self.store.secrets_due_for_purge(self.now()).await?;
        for id in &due {
            self.store.delete_secret(id).await?;
            tracing::info!(secret_id = %id, "purged secret after its recovery window");
        }
        Ok(due.len())
    }

    pub async fn tag_resource(&self, p: &Principal, secret_id: &str, tags: &[Tag]) -> Result<()> {
        self.modify(p, secret_id, |secret, now| {
            let mut all = secret.tags.clone().unwrap_or_default();
            merge_tags(&mut all, tags)?;
            secret.tags = Some(all);
            secret.last_changed_at = now;
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub async fn untag_resource(
        &self,
        p: &Principal,
        secret_id: &str,
        keys: &[String],
    ) -> Result<()> {
        self.modify(p, secret_id, |secret, now| {
            if let Some(tags) = &mut secret.tags {
                tags.retain(|t| !keys.contains(&t.key));
                secret.last_changed_at = now;
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    pub fn get_random_password(
        &self,
        _p: &Principal,
        rules: &PasswordRules,
    ) -> Result<Zeroizing<String>> {
        password::generate(rules, &mut rand::rng())
    }
}
