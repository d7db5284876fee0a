//! The SQL both backends share, over sqlx's `Any` driver. Placeholders are `$N`, which SQLite
//! and PostgreSQL both read; times are epoch milliseconds in 64-bit integers.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::rows::{AuditEntry, AuditEntryFields, Metadata};

/// A stored audit record's position: its batch's seq times this, plus its index in the batch
/// (a batch holds fewer records than this).
const AUDIT_POSITIONS_PER_BATCH: i64 = 1_000_000;
use super::{
    AccessKeyRecord, AuditQuery, AuditRecord, FunctionRecord, Lookup, RotationChanges, Store,
    StoreError, StoreResult, UserPolicyRecord, UserRecord, VersionChanges,
};
use crate::clock::Millis;
use crate::domain::rotation::{
    RotationEvent, RotationEventKind, RotationJob, RotationKind, RotationState, RotationStep,
};
use crate::domain::secret::{SealedValue, ValueKind};
use crate::domain::{Arn, Region, Secret, SecretName, Version};

/// Which database is behind the pool; they differ only at open time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct SqlStore {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    /// SQLite: the exclusive lock that makes this process the database's only user.
    pub(super) _owner_lock: Option<std::fs::File>,
}

// Column lists as macros, so queries stay string literals (sqlx refuses SQL built at run time).
macro_rules! secret_columns {
    () => {
        "id, region, name, arn, replica_of, created_at, deleted_at, last_accessed_at, revision, metadata, rotation_due_at"
    };
}
/// A secret with its versions in one round trip, for the hot path.
macro_rules! joined_select {
    () => {
        "SELECT s.id, s.region, s.name, s.arn, s.replica_of, s.created_at, s.deleted_at,
                s.last_accessed_at, s.revision, s.metadata, s.rotation_due_at, v.version_id, v.stages,
                v.created_at AS v_created_at, v.last_accessed_at AS v_last_accessed_at,
                v.value_kind, v.value
         FROM secrets s LEFT JOIN secret_versions v ON v.secret_id = s.id "
    };
}
macro_rules! rotation_columns {
    () => {
        "id, secret_id, secret_arn, token, kind, function_name, lambda_arn, state, step, attempt, next_attempt_at, created_at, finished_at, error"
    };
}
macro_rules! event_columns {
    () => {
        "rotation_id, secret_id, secret_arn, token, event, step, attempt, duration_ms, error, at"
    };
}
macro_rules! version_columns {
    () => {
        "secret_id, version_id, stages, created_at, last_accessed_at, value_kind, value"
    };
}

fn map_unique(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::AlreadyExists,
        _ => StoreError::Database(e),
    }
}

fn access_key_from_row(r: &AnyRow) -> StoreResult<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: r.try_get("access_key_id")?,
        user_name: r.try_get("user_name")?,
        sealed_secret: r.try_get("secret_sealed")?,
        active: r.try_get::<String, _>("status")? == "Active",
        created_at: Millis(r.try_get("created_at")?),
    })
}

fn user_from_row(r: &AnyRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        user_name: r.try_get("user_name")?,
        user_id: r.try_get("user_id")?,
        path: r.try_get("path")?,
        created_at: Millis(r.try_get("created_at")?),
    })
}

fn secret_from_row(row: &AnyRow) -> StoreResult<Secret> {
    let metadata: String = row.try_get("metadata")?;
    let meta: Metadata = serde_json::from_str(&metadata)
        .map_err(|e| StoreError::Corrupt(format!("secret metadata: {e}")))?;
    let mut parts = meta.into_parts();
    parts.rotation.due_at = row
        .try_get::<Option<i64>, _>("rotation_due_at")?
        .map(Millis);
    let name: String = row.try_get("name")?;
    Ok(Secret {
        id: row.try_get("id")?,
        region: Region(row.try_get("region")?),
        name: SecretName::parse(&name)
            .map_err(|_| StoreError::Corrupt(format!("name {name:?}")))?,
        arn: Arn(row.try_get("arn")?),
        description: parts.description,
        kms_key_id: parts.kms_key_id,
        secret_type: parts.secret_type,
        tags: parts.tags,
        created_at: Millis(row.try_get("created_at")?),
        last_changed_at: parts.last_changed_at,
        last_accessed_at: row
            .try_get::<Option<i64>, _>("last_accessed_at")?
            .map(Millis),
        deleted_at: row.try_get::<Option<i64>, _>("deleted_at")?.map(Millis),
        rotation: parts.rotation,
        resource_policy: parts.resource_policy,
        primary_region: parts.primary_region,
        replica_of: row.try_get("replica_of")?,
        replicas: parts.replicas,
        versions: Vec::new(),
        revision: row.try_get("revision")?,
    })
}

fn version_from_row(row: &AnyRow) -> StoreResult<(String, Version)> {
    Ok((
        row.try_get("secret_id")?,
        version_columns_of(row, "created_at", "last_accessed_at")?,
    ))
}

/// A version from a row whose timestamp columns may carry other names (a join with `secrets`).
fn version_columns_of(row: &AnyRow, created: &str, accessed: &str) -> StoreResult<Version> {
    let stages: String = row.try_get("stages")?;
    let stages: BTreeSet<String> = serde_json::from_str(&stages)
        .map_err(|e| StoreError::Corrupt(format!("version stages: {e}")))?;
    let kind: Option<String> = row.try_get("value_kind")?;
    let value = match kind.as_deref() {
        None => None,
        Some(k) => Some(SealedValue {
            kind: if k == "binary" {
                ValueKind::Binary
            } else {
                ValueKind::String
            },
            ciphertext: row.try_get("value")?,
        }),
    };
    Ok(Version {
        id: row.try_get("version_id")?,
        stages,
        created_at: Millis(row.try_get(created)?),
        last_accessed_at: row.try_get::<Option<i64>, _>(accessed)?.map(Millis),
        value,
    })
}

/// A secret and its versions from the rows of [`joined_select!`], or `None` for no rows.
fn secret_from_joined(rows: &[AnyRow]) -> StoreResult<Option<Secret>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let mut secret = secret_from_row(first)?;
    for row in rows {
        // LEFT JOIN: a secret without versions comes back as one row of NULL version columns.
        if row.try_get::<Option<String>, _>("version_id")?.is_some() {
            secret.versions.push(version_columns_of(
                row,
                "v_created_at",
                "v_last_accessed_at",
            )?);
        }
    }
    Ok(Some(secret))
}

fn stages_json(v: &Version) -> String {
    serde_json::to_string(&v.stages).expect("a set of strings serializes")
}

fn kind_str(v: &Version) -> Option<&'static str> {
    v.value.as_ref().map(|s| match s.kind {
        ValueKind::String => "string",
        ValueKind::Binary => "binary",
    })
}

async fn upsert_version<'c>(
    tx: &mut sqlx::Transaction<'c, sqlx::Any>,
    secret_id: &str,
    v: &Version,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO secret_versions (secret_id, version_id, stages, created_at, last_accessed_at, value_kind, value)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (secret_id, version_id) DO UPDATE SET
           stages = excluded.stages, last_accessed_at = excluded.last_accessed_at,
           value_kind = excluded.value_kind, value = excluded.value",
    )
    .bind(secret_id)
    .bind(&v.id)
    .bind(stages_json(v))
    .bind(v.created_at.0)
    .bind(v.last_accessed_at.map(|m| m.0))
    .bind(kind_str(v))
    .bind(v.value.as_ref().map(|s| s.ciphertext.clone()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The secret half of a save: the revision-checked row update and its version rows.
async fn write_secret<'c>(
    tx: &mut sqlx::Transaction<'c, sqlx::Any>,
    secret: &Secret,
    changes: &VersionChanges,
) -> StoreResult<()> {
    let metadata = serde_json::to_string(&Metadata::from_secret(secret))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // The write comes first so SQLite takes its write lock at once and waits on
    // busy_timeout, instead of failing a read-to-write upgrade.
    let updated = sqlx::query(
        "UPDATE secrets SET deleted_at = $1, metadata = $2, replica_of = $3, rotation_due_at = $4,
                revision = revision + 1
         WHERE id = $5 AND revision = $6",
    )
    .bind(secret.deleted_at.map(|m| m.0))
    .bind(metadata)
    .bind(secret.replica_of.as_deref())
    .bind(secret.rotation.due_at.map(|m| m.0))
    .bind(&secret.id)
    .bind(secret.revision)
    .execute(&mut **tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    for id in &changes.deletes {
        sqlx::query("DELETE FROM secret_versions WHERE secret_id = $1 AND version_id = $2")
            .bind(&secret.id)
            .bind(id)
            .execute(&mut **tx)
            .await?;
    }
    for v in &changes.upserts {
        upsert_version(tx, &secret.id, v).await?;
    }
    Ok(())
}

/// The rotation half of a save: a new job, a job's new state (lease-guarded if asked), events.
async fn write_rotation<'c>(
    tx: &mut sqlx::Transaction<'c, sqlx::Any>,
    rotation: &RotationChanges,
) -> StoreResult<()> {
    if let Some(job) = &rotation.insert {
        sqlx::query(concat!(
            "INSERT INTO rotations (",
            rotation_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(&job.id)
        .bind(&job.secret_id)
        .bind(&job.secret_arn)
        .bind(&job.token)
        .bind(job.kind.as_str())
        .bind(&job.function_name)
        .bind(&job.lambda_arn)
        .bind(job.state.as_str())
        .bind(job.step.as_str())
        .bind(job.attempt as i64)
        .bind(job.next_attempt_at.0)
        .bind(job.created_at.0)
        .bind(job.finished_at.map(|m| m.0))
        .bind(job.error.as_deref())
        .execute(&mut **tx)
        .await
        .map_err(map_unique)?;
    }
    if let Some(job) = &rotation.update {
        // The lease is kept only while the job is still being worked on by its owner.
        let keep = rotation.keep_lease && rotation.lease_owner.is_some();
        let updated = sqlx::query(
            "UPDATE rotations SET state = $1, step = $2, attempt = $3, next_attempt_at = $4,
                    finished_at = $5, error = $6,
                    lease_owner = CASE WHEN $7 THEN lease_owner ELSE NULL END,
                    lease_expires_at = CASE WHEN $7 THEN lease_expires_at ELSE NULL END
             WHERE id = $8 AND state = 'active' AND ($9 = '' OR lease_owner = $9)",
        )
        .bind(job.state.as_str())
        .bind(job.step.as_str())
        .bind(job.attempt as i64)
        .bind(job.next_attempt_at.0)
        .bind(job.finished_at.map(|m| m.0))
        .bind(job.error.as_deref())
        .bind(keep)
        .bind(&job.id)
        .bind(rotation.lease_owner.as_deref().unwrap_or(""))
        .execute(&mut **tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::LeaseLost);
        }
    }
    for e in &rotation.events {
        sqlx::query(concat!(
            "INSERT INTO rotation_events (",
            event_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(&e.rotation_id)
        .bind(&e.secret_id)
        .bind(&e.secret_arn)
        .bind(&e.token)
        .bind(e.kind.as_str())
        .bind(e.step.map(|s| s.as_str()))
        .bind(e.attempt as i64)
        .bind(e.duration_ms)
        .bind(e.error.as_deref())
        .bind(e.at.0)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {value:?}"))
}

fn rotation_from_row(row: &AnyRow) -> StoreResult<RotationJob> {
    let kind: String = row.try_get("kind")?;
    let state: String = row.try_get("state")?;
    let step: String = row.try_get("step")?;
    Ok(RotationJob {
        id: row.try_get("id")?,
        secret_id: row.try_get("secret_id")?,
        secret_arn: row.try_get("secret_arn")?,
        token: row.try_get("token")?,
        kind: RotationKind::parse(&kind).ok_or_else(|| corrupt("rotation kind", &kind))?,
        function_name: row.try_get("function_name")?,
        lambda_arn: row.try_get("lambda_arn")?,
        state: RotationState::parse(&state).ok_or_else(|| corrupt("rotation state", &state))?,
        step: RotationStep::parse(&step).ok_or_else(|| corrupt("rotation step", &step))?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        next_attempt_at: Millis(row.try_get("next_attempt_at")?),
        created_at: Millis(row.try_get("created_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(Millis),
        error: row.try_get("error")?,
    })
}

fn event_from_row(row: &AnyRow) -> StoreResult<RotationEvent> {
    let kind: String = row.try_get("event")?;
    let step: Option<String> = row.try_get("step")?;
    Ok(RotationEvent {
        rotation_id: row.try_get("rotation_id")?,
        secret_id: row.try_get("secret_id")?,
        secret_arn: row.try_get("secret_arn")?,
        token: row.try_get("token")?,
        kind: RotationEventKind::parse(&kind).ok_or_else(|| corrupt("rotation event", &kind))?,
        step: step
            .map(|s| RotationStep::parse(&s).ok_or_else(|| corrupt("rotation step", &s)))
            .transpose()?,
        attempt: row.try_get::<i64, _>("attempt")? as u32,
        duration_ms: row.try_get("duration_ms")?,
        error: row.try_get("error")?,
        at: Millis(row.try_get("at")?),
    })
}

fn function_from_row(row: &AnyRow) -> StoreResult<FunctionRecord> {
    Ok(FunctionRecord {
        name: row.try_get("name")?,
        definition: row.try_get("definition")?,
        updated_at: Millis(row.try_get("updated_at")?),
    })
}

impl SqlStore {
    async fn load_versions(&self, secret: &mut Secret) -> StoreResult<()> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            version_columns!(),
            " FROM secret_versions WHERE secret_id = $1 ORDER BY created_at, version_id"
        ))
        .bind(&secret.id)
        .fetch_all(&self.pool)
        .await?;
        secret.versions = rows
            .iter()
            .map(|r| version_from_row(r).map(|(_, v)| v))
            .collect::<StoreResult<_>>()?;
        Ok(())
    }

    async fn one_secret(&self, row: Option<AnyRow>) -> StoreResult<Option<Secret>> {
        let Some(row) = row else { return Ok(None) };
        let mut secret = secret_from_row(&row)?;
        self.load_versions(&mut secret).await?;
        Ok(Some(secret))
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    async fn find_secret(
        &self,
        region: &Region,
        lookup: Lookup<'_>,
    ) -> StoreResult<Option<std::sync::Arc<Secret>>> {
        let rows = match lookup {
            Lookup::Name(name) => {
                sqlx::query(concat!(
                    joined_select!(),
                    "WHERE s.region = $1 AND s.name = $2 ORDER BY v.created_at, v.version_id"
                ))
                .bind(&region.0)
                .bind(name)
                .fetch_all(&self.pool)
                .await?
            }
            Lookup::Arn(arn) => {
                sqlx::query(concat!(
                    joined_select!(),
                    "WHERE s.region = $1 AND s.arn = $2 ORDER BY v.created_at, v.version_id"
                ))
                .bind(&region.0)
                .bind(arn)
                .fetch_all(&self.pool)
                .await?
            }
        };
        Ok(secret_from_joined(&rows)?.map(std::sync::Arc::new))
    }

    async fn find_secret_by_id(&self, id: &str) -> StoreResult<Option<Secret>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        self.one_secret(row).await
    }

    async fn list_secrets(&self, region: &Region) -> StoreResult<Vec<Secret>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE region = $1"
        ))
        .bind(&region.0)
        .fetch_all(&self.pool)
        .await?;
        let mut secrets: Vec<Secret> = rows
            .iter()
            .map(secret_from_row)
            .collect::<StoreResult<_>>()?;
        let version_rows = sqlx::query(
            "SELECT v.secret_id, v.version_id, v.stages, v.created_at, v.last_accessed_at, v.value_kind, v.value
             FROM secret_versions v JOIN secrets s ON s.id = v.secret_id
             WHERE s.region = $1 ORDER BY v.created_at, v.version_id",
        )
        .bind(&region.0)
        .fetch_all(&self.pool)
        .await?;
        let mut by_secret: HashMap<String, Vec<Version>> = HashMap::new();
        for row in &version_rows {
            let (secret_id, v) = version_from_row(row)?;
            by_secret.entry(secret_id).or_default().push(v);
        }
        for s in &mut secrets {
            s.versions = by_secret.remove(&s.id).unwrap_or_default();
        }
        Ok(secrets)
    }

    async fn replicas_of(&self, primary_id: &str) -> StoreResult<Vec<Secret>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            secret_columns!(),
            " FROM secrets WHERE replica_of = $1"
        ))
        .bind(primary_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(secret_from_row).collect()
    }

    async fn insert_secret(&self, secret: &Secret) -> StoreResult<()> {
        let metadata = serde_json::to_string(&Metadata::from_secret(secret))
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(concat!(
            "INSERT INTO secrets (",
            secret_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&secret.id)
        .bind(&secret.region.0)
        .bind(secret.name.as_str())
        .bind(&secret.arn.0)
        .bind(secret.replica_of.as_deref())
        .bind(secret.created_at.0)
        .bind(secret.deleted_at.map(|m| m.0))
        .bind(secret.last_accessed_at.map(|m| m.0))
        .bind(secret.revision)
        .bind(metadata)
        .bind(secret.rotation.due_at.map(|m| m.0))
        .execute(&mut *tx)
        .await
        .map_err(map_unique)?;
        for v in &secret.versions {
            upsert_version(&mut tx, &secret.id, v).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn save_secret_and_rotation(
        &self,
        secret: Option<(&Secret, &VersionChanges)>,
        rotation: &RotationChanges,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        if let Some((secret, changes)) = secret {
            write_secret(&mut tx, secret, changes).await?;
        }
        write_rotation(&mut tx, rotation).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_secret(&self, id: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        // A purged secret's rotation history goes with it: a new secret of the same name has
        // a new id and a history of its own.
        sqlx::query("DELETE FROM rotation_events WHERE secret_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rotations WHERE secret_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM secret_versions WHERE secret_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM secrets WHERE replica_of = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM secrets WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn touch_accessed(
        &self,
        secret_id: &str,
        version_id: &str,
        day: Millis,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE secrets SET last_accessed_at = $1
             WHERE id = $2 AND (last_accessed_at IS NULL OR last_accessed_at < $1)",
        )
        .bind(day.0)
        .bind(secret_id)
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE secret_versions SET last_accessed_at = $1
             WHERE secret_id = $2 AND version_id = $3 AND (last_accessed_at IS NULL OR last_accessed_at < $1)",
        )
        .bind(day.0)
        .bind(secret_id)
        .bind(version_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn secrets_due_for_purge(&self, now: Millis) -> StoreResult<Vec<String>> {
        let rows =
            sqlx::query("SELECT id FROM secrets WHERE deleted_at IS NOT NULL AND deleted_at <= $1")
                .bind(now.0)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn insert_access_key(&self, key: &AccessKeyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, user_name, secret_sealed, status, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&key.access_key_id)
        .bind(&key.user_name)
        .bind(key.sealed_secret.clone())
        .bind(if key.active { "Active" } else { "Inactive" })
        .bind(key.created_at.0)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn access_key(&self, access_key_id: &str) -> StoreResult<Option<AccessKeyRecord>> {
        let row = sqlx::query(
            "SELECT access_key_id, user_name, secret_sealed, status, created_at FROM access_keys WHERE access_key_id = $1",
        )
        .bind(access_key_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(access_key_from_row).transpose()
    }

    async fn delete_access_key(&self, access_key_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM access_keys WHERE access_key_id = $1")
            .bind(access_key_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn access_keys_of(&self, user_name: &str) -> StoreResult<Vec<AccessKeyRecord>> {
        let rows = sqlx::query(
            "SELECT access_key_id, user_name, secret_sealed, status, created_at FROM access_keys
             WHERE user_name = $1 ORDER BY created_at, access_key_id",
        )
        .bind(user_name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(access_key_from_row).collect()
    }

    async fn set_access_key_status(&self, access_key_id: &str, active: bool) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE access_keys SET status = $1 WHERE access_key_id = $2")
            .bind(if active { "Active" } else { "Inactive" })
            .bind(access_key_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO iam_users (user_name, name_key, user_id, path, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.user_name)
        .bind(user.user_name.to_lowercase())
        .bind(&user.user_id)
        .bind(&user.path)
        .bind(user.created_at.0)
        .execute(&self.pool)
        .await
        .map_err(map_unique)?;
        Ok(())
    }

    async fn user(&self, user_name: &str) -> StoreResult<Option<UserRecord>> {
        // IAM finds users without regard to case.
        let row = sqlx::query(
            "SELECT user_name, user_id, path, created_at FROM iam_users WHERE name_key = $1",
        )
        .bind(user_name.to_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(
            "SELECT user_name, user_id, path, created_at FROM iam_users ORDER BY name_key",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn delete_user(&self, user_name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM iam_users WHERE user_name = $1")
            .bind(user_name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_user_policy(&self, policy: &UserPolicyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO iam_user_policies (user_name, policy_name, document) VALUES ($1, $2, $3)
             ON CONFLICT (user_name, policy_name) DO UPDATE SET document = excluded.document",
        )
        .bind(&policy.user_name)
        .bind(&policy.policy_name)
        .bind(&policy.document)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn user_policies(&self, user_name: &str) -> StoreResult<Vec<UserPolicyRecord>> {
        let rows = sqlx::query(
            "SELECT user_name, policy_name, document FROM iam_user_policies
             WHERE user_name = $1 ORDER BY policy_name",
        )
        .bind(user_name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(UserPolicyRecord {
                    user_name: r.try_get("user_name")?,
                    policy_name: r.try_get("policy_name")?,
                    document: r.try_get("document")?,
                })
            })
            .collect()
    }

    async fn delete_user_policy(&self, user_name: &str, policy_name: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM iam_user_policies WHERE user_name = $1 AND policy_name = $2")
                .bind(user_name)
                .bind(policy_name)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_audit_records(&self, records: &[AuditRecord]) -> StoreResult<()> {
        let (Some(first), Some(last)) = (records.first(), records.last()) else {
            return Ok(());
        };
        // The array is written by hand around each record's text, which is JSON already (the
        // service serialized it): no copy of it through a parser on the hot path of every call.
        let mut json = String::with_capacity(records.iter().map(|r| r.record.len() + 200).sum());
        json.push('[');
        for (k, r) in records.iter().enumerate() {
            if k > 0 {
                json.push(',');
            }
            let fields = AuditEntryFields {
                id: &r.event_id,
                t: r.event_time.0,
                n: &r.event_name,
                u: r.user_name.as_deref(),
                a: r.secret_arn.as_deref(),
                s: r.secret_name.as_deref(),
                e: r.error_code.as_deref(),
            };
            let head = serde_json::to_string(&fields)
                .map_err(|e| StoreError::Corrupt(format!("audit batch: {e}")))?;
            // `{...fields` + `,"r":` + record + `}`.
            json.push_str(&head[..head.len() - 1]);
            json.push_str(",\"r\":");
            json.push_str(&r.record);
            json.push('}');
        }
        json.push(']');
        sqlx::query(
            "INSERT INTO audit_batches (batch_id, first_time, last_time, records)
             VALUES ($1, $2, $3, $4) ON CONFLICT (batch_id) DO NOTHING",
        )
        .bind(&first.event_id)
        .bind(
            records
                .iter()
                .map(|r| r.event_time.0)
                .min()
                .unwrap_or(first.event_time.0),
        )
        .bind(
            records
                .iter()
                .map(|r| r.event_time.0)
                .max()
                .unwrap_or(last.event_time.0),
        )
        .bind(json)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_audit_records_before(&self, before: Millis) -> StoreResult<u64> {
        // Whole batches: a batch spans a fraction of a second.
        let done = sqlx::query("DELETE FROM audit_batches WHERE last_time < $1")
            .bind(before.0)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn audit_records(&self, q: &AuditQuery) -> StoreResult<Vec<(i64, AuditRecord)>> {
        // A record's position is its batch's seq and its index in the batch.
        let (after_batch, after_index) = match q.after_seq {
            Some(p) => (p / AUDIT_POSITIONS_PER_BATCH, p % AUDIT_POSITIONS_PER_BATCH),
            None => (-1, -1),
        };
        let wanted = |e: &AuditEntry| {
            q.secret.as_ref().is_none_or(|s| {
                e.a.as_ref() == Some(s)
                    || e.s.as_ref() == Some(s)
                    || (e.a.is_none() && e.s.is_some() && e.s == q.secret_name_of_arn)
            }) && q.user_name.as_ref().is_none_or(|u| e.u.as_ref() == Some(u))
                && q.event_name.as_ref().is_none_or(|n| &e.n == n)
                && q.since.is_none_or(|t| e.t >= t.0)
                && q.until.is_none_or(|t| e.t <= t.0)
                && (!q.errors_only || e.e.is_some())
        };
        let mut found = Vec::new();
        let mut cursor = after_batch - 1;
        loop {
            let rows = sqlx::query(
                "SELECT seq, records FROM audit_batches
                 WHERE seq > $1 AND ($2 IS NULL OR last_time >= $2) AND ($3 IS NULL OR first_time <= $3)
                 ORDER BY seq LIMIT 20",
            )
            .bind(cursor)
            .bind(q.since.map(|t| t.0))
            .bind(q.until.map(|t| t.0))
            .fetch_all(&self.pool)
            .await?;
            if rows.is_empty() {
                return Ok(found);
            }
            for row in &rows {
                let seq: i64 = row.try_get("seq")?;
                cursor = seq;
                let text: String = row.try_get("records")?;
                let entries: Vec<AuditEntry> = serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("audit batch {seq}: {e}")))?;
                for (i, e) in entries.into_iter().enumerate() {
                    let i = i as i64;
                    if (seq == after_batch && i <= after_index) || !wanted(&e) {
                        continue;
                    }
                    found.push((
                        seq * AUDIT_POSITIONS_PER_BATCH + i,
                        AuditRecord {
                            event_id: e.id,
                            event_time: Millis(e.t),
                            event_name: e.n,
                            user_name: e.u,
                            secret_arn: e.a,
                            secret_name: e.s,
                            error_code: e.e,
                            record: e.r.get().to_owned(),
                        },
                    ));
                    if found.len() as i64 >= q.limit {
                        return Ok(found);
                    }
                }
            }
        }
    }

    async fn meta_init(&self, key: &str, value: &[u8]) -> StoreResult<Vec<u8>> {
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key)
            .bind(value.to_vec())
            .execute(&self.pool)
            .await?;
        let row = sqlx::query("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }

    async fn delete_all_secrets(&self) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM rotation_events")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rotations")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM secret_versions")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM secrets WHERE replica_of IS NOT NULL")
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM secrets").execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn secrets_due_for_rotation(&self, now: Millis, limit: i64) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT id FROM secrets WHERE rotation_due_at IS NOT NULL AND rotation_due_at <= $1
             ORDER BY rotation_due_at LIMIT $2",
        )
        .bind(now.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }

    async fn claim_rotation(
        &self,
        owner: &str,
        now: Millis,
        lease_until: Millis,
    ) -> StoreResult<Option<RotationJob>> {
        // PostgreSQL: several nodes claim at once, and SKIP LOCKED hands each a different
        // row without waiting. SQLite has one writer at a time, so the plain form is enough.
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE rotations SET lease_owner = $1, lease_expires_at = $2
                     WHERE id = (SELECT id FROM rotations
                                 WHERE state = 'active' AND next_attempt_at <= $3
                                   AND (lease_expires_at IS NULL OR lease_expires_at <= $3)
                                 ORDER BY next_attempt_at LIMIT 1 ",
                    $lock,
                    ") RETURNING ",
                    rotation_columns!()
                )
            };
        }
        let sql = match self.backend {
            Backend::Postgres => claim!("FOR UPDATE SKIP LOCKED"),
            Backend::Sqlite => claim!(""),
        };
        let row = sqlx::query(sql)
            .bind(owner)
            .bind(lease_until.0)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rotation_from_row).transpose()
    }

    async fn renew_rotation_lease(
        &self,
        id: &str,
        owner: &str,
        until: Millis,
    ) -> StoreResult<bool> {
        let updated = sqlx::query(
            "UPDATE rotations SET lease_expires_at = $1
             WHERE id = $2 AND lease_owner = $3 AND state = 'active'",
        )
        .bind(until.0)
        .bind(id)
        .bind(owner)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn release_rotation_leases(&self, owner: Option<&str>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE rotations SET lease_owner = NULL, lease_expires_at = NULL
             WHERE state = 'active' AND lease_owner IS NOT NULL AND ($1 = '' OR lease_owner = $1)",
        )
        .bind(owner.unwrap_or(""))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn active_rotation(&self, secret_id: &str) -> StoreResult<Option<RotationJob>> {
        let row = sqlx::query(concat!(
            "SELECT ",
            rotation_columns!(),
            " FROM rotations WHERE secret_id = $1 AND state = 'active'"
        ))
        .bind(secret_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(rotation_from_row).transpose()
    }

    async fn rotations_of(&self, secret_id: &str) -> StoreResult<Vec<RotationJob>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            rotation_columns!(),
            " FROM rotations WHERE secret_id = $1 ORDER BY created_at, id"
        ))
        .bind(secret_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rotation_from_row).collect()
    }

    async fn rotation_events_of(&self, secret_id: &str) -> StoreResult<Vec<RotationEvent>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM rotation_events WHERE secret_id = $1 ORDER BY seq"
        ))
        .bind(secret_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    async fn next_rotation_attempt(&self) -> StoreResult<Option<Millis>> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS next FROM rotations WHERE state = 'active'",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("next")?.map(Millis))
    }

    async fn put_function(&self, record: &FunctionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO functions (name, definition, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET definition = excluded.definition,
                                              updated_at = excluded.updated_at",
        )
        .bind(&record.name)
        .bind(&record.definition)
        .bind(record.updated_at.0)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn function(&self, name: &str) -> StoreResult<Option<FunctionRecord>> {
        let row = sqlx::query("SELECT name, definition, updated_at FROM functions WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(function_from_row).transpose()
    }

    async fn list_functions(&self) -> StoreResult<Vec<FunctionRecord>> {
        let rows = sqlx::query("SELECT name, definition, updated_at FROM functions ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(function_from_row).collect()
    }

    async fn delete_function(&self, name: &str) -> StoreResult<bool> {
        let deleted = sqlx::query("DELETE FROM functions WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }
}

/// Applies the migrations a backend has not applied yet, each in its own transaction, and
/// records them in `tumbler_migrations`. Migrations are append-only.
pub(super) async fn migrate(
    conn: &mut sqlx::AnyConnection,
    migrations: &[(i64, &str, &str)],
) -> StoreResult<()> {
    use sqlx::Connection;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS tumbler_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let applied: Vec<i64> = sqlx::query("SELECT version FROM tumbler_migrations")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()?;
    for (version, name, sql) in migrations {
        if applied.contains(version) {
            continue;
        }
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(*sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO tumbler_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
        )
        .bind(*version)
        .bind(*name)
        .bind(crate::clock::Clock::now(&crate::clock::SystemClock).0)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(version, name, "applied migration");
    }
    Ok(())
}
