//! Rotation's use cases: RotateSecret and CancelRotateSecret (spec §4.1-4.8), and the
//! transactions the driver and scheduler in `rotation/` make as a rotation moves through its
//! states. Every change to a secret's labels and its rotation job happens in one store
//! transaction, so a crash between them is impossible.

use std::sync::Arc;

use rand::Rng;

use super::Service;
use crate::auth::{Identity, Principal, RotationScope};
use crate::clock::Millis;
use crate::domain::policy::{Effect, PatternList, Policy, Statement};
use crate::domain::rotation::{
    RotationEvent, RotationEventKind, RotationJob, RotationKind, RotationState, RotationTarget,
};
use crate::domain::schedule::RotationSchedule;
use crate::domain::{AWSCURRENT, AWSPENDING, RotationRules, Secret};
use crate::error::{Error, Result};
use crate::rotation::definition::{FunctionDefinition, FunctionSpec, function_name_of};
use crate::store::{FunctionRecord, RotationChanges, StoreError, VersionChanges};

/// How often a rotation transaction is retried when another writer changed the secret.
const MAX_SAVE_ATTEMPTS: usize = 8;

pub struct RotateSecretInput<'a> {
    pub secret_id: &'a str,
    pub client_request_token: Option<&'a str>,
    pub rotation_lambda_arn: Option<&'a str>,
    pub rotation_rules: Option<RotationRules>,
    pub rotate_immediately: Option<bool>,
}

/// Why a driver's write did not happen.
#[derive(Debug)]
pub enum RotationWriteError {
    /// This node no longer owns the job, or the job is no longer active (cancelled, abandoned,
    /// taken over): stop working on it.
    LeaseLost,
    Failed(Error),
}

impl From<Error> for RotationWriteError {
    fn from(e: Error) -> Self {
        RotationWriteError::Failed(e)
    }
}

impl From<StoreError> for RotationWriteError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::LeaseLost => RotationWriteError::LeaseLost,
            e => RotationWriteError::Failed(e.into()),
        }
    }
}

fn previous_rotation_incomplete() -> Error {
    Error::InvalidRequest(
        "A previous rotation isn't complete. That rotation will be reattempted.".into(),
    )
}

fn cannot_invoke() -> Error {
    Error::AccessDenied(
        "Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.".into(),
    )
}

/// The next rotation window after `after` and a random time inside it, when the scheduler will
/// start the rotation: AWS rotates "at a random time" in the window (spec §4.5).
fn place_next(schedule: Option<&RotationSchedule>, after: Millis) -> Option<(Millis, Millis)> {
    let window = schedule?.next_window(after)?;
    let due = rand::rng().random_range(window.start.0..=window.end.0);
    Some((Millis(due), window.end))
}

fn stored_definition(record: FunctionRecord) -> Result<(FunctionDefinition, Millis)> {
    let def = serde_json::from_str(&record.definition)
        .map_err(|e| Error::internal(format!("stored function {}: {e}", record.name)))?;
    Ok((def, record.updated_at))
}

fn schedule_of(secret: &Secret) -> Option<RotationSchedule> {
    // Rules were validated when stored; a stored rule that no longer parses schedules nothing.
    secret
        .rotation
        .rules
        .as_ref()
        .and_then(|r| RotationSchedule::parse(r).ok())
}

impl Service {
    /// The registered function a Lambda ARN names, validated.
    pub async fn function_for_arn(&self, lambda_arn: &str) -> Result<Option<FunctionSpec>> {
        let Some(name) = function_name_of(lambda_arn) else {
            return Ok(None);
        };
        self.function(name).await
    }

    /// A registered function by name.
    pub async fn function(&self, name: &str) -> Result<Option<FunctionSpec>> {
        let Some((def, _)) = self.function_definition(name).await? else {
            return Ok(None);
        };
        let spec = def
            .validate(Some(&self.master_key))
            .map_err(|e| Error::internal(format!("stored function {name}: {e}")))?;
        Ok(Some(spec))
    }

    /// Registers or replaces a function. `def` has been validated by the caller's layer or is
    /// validated here.
    pub async fn put_function(&self, def: &FunctionDefinition) -> Result<()> {
        def.validate(Some(&self.master_key))
            .map_err(|e| Error::InvalidParameter(e.to_string()))?;
        let stored = def.sealed(&self.master_key);
        self.store
            .put_function(&FunctionRecord {
                name: def.name.clone(),
                definition: serde_json::to_string(&stored).map_err(Error::internal)?,
                updated_at: self.now(),
            })
            .await?;
        Ok(())
    }

    /// A registered function as stored (secrets sealed), and when it was last put.
    pub async fn function_definition(
        &self,
        name: &str,
    ) -> Result<Option<(FunctionDefinition, Millis)>> {
        self.store
            .function(name)
            .await?
            .map(stored_definition)
            .transpose()
    }

    /// Registered functions, as stored (secrets sealed).
    pub async fn list_functions(&self) -> Result<Vec<(FunctionDefinition, Millis)>> {
        let records = self.store.list_functions().await?;
        records.into_iter().map(stored_definition).collect()
    }

    pub async fn delete_function(&self, name: &str) -> Result<bool> {
        Ok(self.store.delete_function(name).await?)
    }

    /// A secret's rotations and their events, for `tumbler admin rotations`.
    pub async fn rotation_history(
        &self,
        p: &Principal,
        secret_id: &str,
    ) -> Result<(Secret, Vec<RotationJob>, Vec<RotationEvent>)> {
        // Reading a secret's rotation history is reading the secret's metadata.
        let p = &p.clone().for_operation("DescribeSecret");
        let secret = self.resolve(p, secret_id).await?.into_row();
        let jobs = self.store.rotations_of(&secret.id).await?;
        let events = self.store.rotation_events_of(&secret.id).await?;
        Ok((secret, jobs, events))
    }

    pub async fn rotate_secret(
        &self,
        p: &Principal,
        input: RotateSecretInput<'_>,
    ) -> Result<(Secret, Option<String>)> {
        // Checked before the secret is looked up, and answered with InvalidParameterException
        // for RotateSecret alone (spec §4.1 step 1).
        let Some(token) = input.client_request_token else {
            return Err(Error::InvalidParameter(
                "You must provide a ClientRequestToken value. We recommend a UUID-type value."
                    .into(),
            ));
        };
        let mut before = self.resolve_writable(p, input.secret_id).await?;
        // Rules are checked before the function (spec §4.1 steps 4 and 5).
        if let Some(rules) = &input.rotation_rules {
            RotationSchedule::parse(rules)?;
        }
        let lambda_arn = input
            .rotation_lambda_arn
            .filter(|a| !a.is_empty())
            .or(before.rotation.lambda_arn.as_deref())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::InvalidRequest(
                    "No Lambda rotation function ARN is associated with this secret.".into(),
                )
            })?;
        // The caller must be allowed to invoke the function (the rotate-secret documentation:
        // "lambda:InvokeFunction permissions on the function specified in the secret's
        // metadata"); nothing is stored otherwise.
        self.authorize(
            p,
            &super::authorization::Target {
                action: "lambda:InvokeFunction",
                resource: &lambda_arn,
                shown: Some(&lambda_arn),
                secret: None,
            },
        )?;
        // A function Tumbler does not know is one Secrets Manager cannot invoke; nothing is
        // stored (spec §4.1 step 5).
        let function = self
            .function_for_arn(&lambda_arn)
            .await?
            .ok_or_else(cannot_invoke)?;
        let immediately = input.rotate_immediately.unwrap_or(true);

        for _ in 0..MAX_SAVE_ATTEMPTS {
            if let Some(pending) = before.unfinished_rotation() {
                // The same request again (an SDK retry) is answered as the first was.
                if immediately && pending.id == token && pending.value.is_none() {
                    return Ok((before, Some(token.to_owned())));
                }
                return Err(previous_rotation_incomplete());
            }
            let now = self.now();
            let mut after = before.clone();
            after.configure_rotation(Some(&lambda_arn), input.rotation_rules.clone(), now);
            let schedule = schedule_of(&after);
            let kind = if immediately {
                after.add_pending_placeholder(token, now)?;
                // The rotation starts now: NextRotationDate counts from it, and the next due
                // time is placed when it finishes.
                let next = place_next(schedule.as_ref(), now);
                after.schedule_rotation(next);
                after.rotation.due_at = None;
                RotationKind::Rotate
            } else {
                // Only testSecret, against a copy of the current value (spec §4.4).
                match before.version_with_stage(AWSCURRENT).and_then(|v| {
                    v.value
                        .as_ref()
                        .map(|sealed| (v.id.clone(), sealed.clone()))
                }) {
                    Some((current_id, sealed)) => {
                        let value = self.open(&before.arn.0, &current_id, &sealed)?;
                        let copy = self.seal(&before, token, &value);
                        after.add_pending_copy(token, copy, now)?;
                    }
                    None => after.add_pending_placeholder(token, now)?,
                }
                after.schedule_rotation(place_next(schedule.as_ref(), now));
                RotationKind::Test
            };
            let job = RotationJob::new(
                uuid::Uuid::new_v4().to_string(),
                RotationTarget {
                    secret_id: after.id.clone(),
                    secret_arn: after.arn.0.clone(),
                    function_name: function.name.clone(),
                    lambda_arn: lambda_arn.clone(),
                },
                token.to_owned(),
                kind,
                now,
            );
            match self.save_started(&before, &after, &job).await {
                Ok(()) => {
                    after.revision += 1;
                    tracing::info!(secret_arn = %after.arn.0, token, kind = kind.as_str(), function = %function.name, "rotation started");
                    return Ok((after, Some(token.to_owned())));
                }
                Err(StoreError::Conflict) => {
                    // Another writer got there first: look again from a fresh read.
                    before = self.resolve_writable(p, input.secret_id).await?;
                }
                // Another rotation of this secret is still being finished.
                Err(StoreError::AlreadyExists) => return Err(previous_rotation_incomplete()),
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal("too many concurrent changes to one secret"))
    }

    /// Saves a secret changed to start `job` together with the job and its RotationStarted
    /// event, then wakes this node's driver. `Conflict`: the secret changed since `before`;
    /// `AlreadyExists`: another rotation of it is active.
    async fn save_started(
        &self,
        before: &Secret,
        after: &Secret,
        job: &RotationJob,
    ) -> Result<(), StoreError> {
        let rotation = RotationChanges {
            events: vec![RotationEvent::of(
                job,
                RotationEventKind::RotationStarted,
                job.created_at,
            )],
            insert: Some(job.clone()),
            ..Default::default()
        };
        let changes = VersionChanges::between(&before.versions, &after.versions);
        self.save_rotation(Some((after, &changes)), &rotation)
            .await?;
        self.rotation_wakeup.notify_one();
        Ok(())
    }

    /// Saves rotation changes (with the secret, if given) and audits their events once saved.
    async fn save_rotation(
        &self,
        secret: Option<(&Secret, &VersionChanges)>,
        rotation: &RotationChanges,
    ) -> Result<(), StoreError> {
        self.store
            .save_secret_and_rotation(secret, rotation)
            .await?;
        self.audit_rotation_events(&rotation.events);
        Ok(())
    }

    /// Turns rotation off, keeps its configuration, stops a rotation in flight, and names the
    /// version that rotation created, if any (spec §4.8).
    pub async fn cancel_rotate_secret(
        &self,
        p: &Principal,
        secret_id: &str,
    ) -> Result<(Secret, Option<String>)> {
        for _ in 0..MAX_SAVE_ATTEMPTS {
            let before = self.resolve_writable(p, secret_id).await?;
            let active = self.store.active_rotation(&before.id).await?;
            let now = self.now();
            let mut after = before.clone();
            after.disable_rotation(now);
            let mut rotation = RotationChanges::default();
            if let Some(mut job) = active.clone() {
                if job.kind == RotationKind::Test {
                    after.remove_version(&job.token);
                }
                job.finish(RotationState::Cancelled, now);
                rotation.events.push(RotationEvent::of(
                    &job,
                    RotationEventKind::RotationCancelled,
                    now,
                ));
                rotation.update = Some(job);
            }
            // Labels stay as they are: the caller cleans up AWSPENDING (spec §4.8).
            let pending = active
                .filter(|j| j.kind == RotationKind::Rotate)
                .map(|j| j.token)
                .or_else(|| before.unfinished_rotation().map(|v| v.id.clone()));
            let changes = VersionChanges::between(&before.versions, &after.versions);
            let secret_write = (after != before).then_some((&after, &changes));
            if secret_write.is_none() && rotation.is_empty() {
                return Ok((after, pending));
            }
            match self.save_rotation(secret_write, &rotation).await {
                Ok(()) => {
                    if secret_write.is_some() {
                        after.revision += 1;
                    }
                    if rotation.update.is_some() {
                        tracing::info!(secret_arn = %after.arn.0, "rotation cancelled");
                    }
                    return Ok((after, pending));
                }
                // The job finished or the secret changed in between: look again.
                Err(StoreError::Conflict | StoreError::LeaseLost) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::internal("too many concurrent changes to one secret"))
    }

    /// A hand-made new current value removed AWSPENDING from `token`'s version: the rotation
    /// that made it is abandoned (spec §4.6). If this node crashes before recording it, the
    /// driver finds the label gone and records it instead.
    pub(crate) async fn record_abandoned_rotation(&self, secret: &Secret, token: &str) {
        let result = async {
            let Some(mut job) = self.store.active_rotation(&secret.id).await? else {
                return Ok(false);
            };
            if job.token != token {
                return Ok(false);
            }
            let now = self.now();
            job.finish(RotationState::Abandoned, now);
            let rotation = RotationChanges {
                events: vec![RotationEvent::of(
                    &job,
                    RotationEventKind::RotationAbandoned,
                    now,
                )],
                update: Some(job),
                ..Default::default()
            };
            self.save_rotation(None, &rotation).await.map(|()| true)
        }
        .await;
        match result {
            Ok(true) => {
                tracing::info!(secret_arn = %secret.arn.0, token, "rotation abandoned: a new current value was put by hand");
            }
            // No rotation was running for that version, or it ended in between.
            Ok(false) | Err(StoreError::LeaseLost) => {}
            Err(e) => {
                tracing::warn!(secret_arn = %secret.arn.0, error = %e, "could not record an abandoned rotation; the driver will")
            }
        }
    }

    /// After a hand-made new value: AutomaticallyAfterDays counts from the last change of the
    /// value too (spec §4.5), so the next rotation is placed from now.
    pub(crate) fn reschedule_after_manual_change(&self, secret: &mut Secret, now: Millis) {
        if secret.rotation.enabled == Some(true) && secret.rotation.due_at.is_some() {
            let next = place_next(schedule_of(secret).as_ref(), now);
            secret.schedule_rotation(next);
        }
    }

    /// The scheduler found `secret_id` due: start its rotation, or re-attempt the one a failure
    /// left behind ("That rotation will be reattempted", spec §4.1 step 6). Several nodes may
    /// try at once; the secret's revision and the one-active-rotation index let one win.
    pub async fn start_due_rotation(&self, secret_id: &str) -> Result<Option<RotationJob>> {
        for _ in 0..MAX_SAVE_ATTEMPTS {
            let Some(before) = self.store.find_secret_by_id(secret_id).await? else {
                return Ok(None);
            };
            let now = self.now();
            let due = before.rotation.due_at.is_some_and(|d| d <= now);
            if !due {
                return Ok(None);
            }
            let mut after = before.clone();
            let startable = before.rotation.enabled == Some(true)
                && !before.is_scheduled_for_deletion()
                && !before.is_replica();
            let Some(lambda_arn) = before.rotation.lambda_arn.clone().filter(|_| startable) else {
                after.schedule_rotation(None);
                let changes = VersionChanges::default();
                match self.store.save_secret(&after, &changes).await {
                    Ok(()) | Err(StoreError::Conflict) => return Ok(None),
                    Err(e) => return Err(e.into()),
                }
            };
            let token = match before.unfinished_rotation() {
                Some(stuck) => stuck.id.clone(),
                None => {
                    let token = uuid::Uuid::new_v4().to_string();
                    after.add_pending_placeholder(&token, now)?;
                    token
                }
            };
            after.rotation.due_at = None;
            // An unknown function is the driver's to report, as a failed rotation.
            let function_name = function_name_of(&lambda_arn)
                .unwrap_or(&lambda_arn)
                .to_owned();
            let job = RotationJob::new(
                uuid::Uuid::new_v4().to_string(),
                RotationTarget {
                    secret_id: after.id.clone(),
                    secret_arn: after.arn.0.clone(),
                    function_name,
                    lambda_arn,
                },
                token,
                RotationKind::Rotate,
                now,
            );
            match self.save_started(&before, &after, &job).await {
                Ok(()) => {
                    tracing::info!(secret_arn = %after.arn.0, token = %job.token, "scheduled rotation started");
                    return Ok(Some(job));
                }
                Err(StoreError::Conflict) => continue,
                // Already rotating (this or another node): the running one counts.
                Err(StoreError::AlreadyExists) => {
                    after = before.clone();
                    after.rotation.due_at = None;
                    let _ = self
                        .store
                        .save_secret(&after, &VersionChanges::default())
                        .await;
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(None)
    }

    /// What a rotation function's step may see before it runs: whether the job should go on.
    pub async fn rotation_progress(&self, job: &RotationJob) -> Result<RotationProgress> {
        let Some(secret) = self.store.find_secret_by_id(&job.secret_id).await? else {
            return Ok(RotationProgress::SecretGone);
        };
        if secret.is_scheduled_for_deletion() {
            return Ok(RotationProgress::SecretGone);
        }
        let Some(version) = secret.version(&job.token) else {
            return Ok(RotationProgress::Abandoned);
        };
        if job.kind == RotationKind::Rotate && version.stages.contains(AWSCURRENT) {
            return Ok(RotationProgress::AlreadyCurrent);
        }
        if !version.stages.contains(AWSPENDING) {
            return Ok(RotationProgress::Abandoned);
        }
        Ok(RotationProgress::Continue)
    }

    /// Persists a finished step: the job moves on, still leased to `owner`.
    pub async fn record_rotation_step(
        &self,
        job: &RotationJob,
        owner: &str,
    ) -> Result<(), RotationWriteError> {
        let rotation = RotationChanges {
            update: Some(job.clone()),
            lease_owner: Some(owner.to_owned()),
            keep_lease: true,
            ..Default::default()
        };
        self.save_rotation(None, &rotation).await?;
        Ok(())
    }

    /// Ends a job in `state` (or, for a retry, puts it back to wait for its next attempt), with
    /// the secret changes that go with it, in one transaction guarded by `owner`'s lease:
    /// - succeeded: the new version must be AWSCURRENT; LastRotatedDate is set, AWSPENDING
    ///   cleaned up, the next rotation placed;
    /// - failed / abandoned / gone: AWSPENDING stays as on AWS, and the next window is placed
    ///   so the scheduler re-attempts;
    /// - a test rotation's temporary version is removed whatever the outcome.
    pub async fn finish_rotation(
        &self,
        job: &RotationJob,
        owner: &str,
        event: Option<RotationEventKind>,
    ) -> Result<(), RotationWriteError> {
        for _ in 0..MAX_SAVE_ATTEMPTS {
            let before = self.store.find_secret_by_id(&job.secret_id).await?;
            let now = self.now();
            let mut job = job.clone();
            let mut after = before.clone();
            if let Some(secret) = &mut after {
                if job.kind == RotationKind::Test && job.state != RotationState::Active {
                    secret.remove_version(&job.token);
                }
                match job.state {
                    RotationState::Succeeded if job.kind == RotationKind::Rotate => {
                        let current = secret
                            .version(&job.token)
                            .is_some_and(|v| v.stages.contains(AWSCURRENT));
                        if !current {
                            return Err(RotationWriteError::Failed(Error::InvalidRequest(
                                format!(
                                    "finishSecret returned, but version {} is not AWSCURRENT",
                                    job.token
                                ),
                            )));
                        }
                        secret.complete_rotation(&job.token, now);
                        let next = place_next(schedule_of(secret).as_ref(), now);
                        secret.schedule_rotation(next);
                    }
                    RotationState::Active | RotationState::Cancelled => {}
                    _ => {
                        if secret.rotation.enabled == Some(true) {
                            let next = place_next(schedule_of(secret).as_ref(), now);
                            secret.schedule_rotation(next);
                        }
                    }
                }
            }
            if job.state != RotationState::Active {
                job.finished_at = Some(now);
            }
            let rotation = RotationChanges {
                events: event
                    .map(|k| vec![RotationEvent::of(&job, k, now)])
                    .unwrap_or_default(),
                update: Some(job),
                lease_owner: Some(owner.to_owned()),
                keep_lease: false,
                ..Default::default()
            };
            let (changes, secret_write) = match (&before, &after) {
                (Some(b), Some(a)) if a != b => {
                    let changes = VersionChanges::between(&b.versions, &a.versions);
                    (changes, true)
                }
                _ => (VersionChanges::default(), false),
            };
            let write = if secret_write {
                after.as_ref().map(|a| (a, &changes))
            } else {
                None
            };
            match self.save_rotation(write, &rotation).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(RotationWriteError::Failed(Error::internal(
            "too many concurrent changes to one secret",
        )))
    }

    /// The principal a builtin function acts as: the function's role, as a process
    /// function's credentials carry it.
    pub fn rotation_principal(
        &self,
        job: &RotationJob,
        region: crate::domain::Region,
        role_policy: Option<&Arc<Policy>>,
        readable_secret_arn: Option<&str>,
    ) -> Principal {
        Principal::authenticated(
            format!("tumbler-builtin-{}", job.function_name),
            Identity::Rotation(self.rotation_scope(job, role_policy, readable_secret_arn)),
            self.account.clone(),
            region,
        )
    }

    /// The role a rotation function of `job` acts with: its own policy, or the default one
    /// (the calls AWS's templates make, on the secret being rotated, and GetRandomPassword;
    /// plus reading `readable_secret_arn`, the master secret of an alternating-users builtin).
    pub fn rotation_scope(
        &self,
        job: &RotationJob,
        role_policy: Option<&Arc<Policy>>,
        readable_secret_arn: Option<&str>,
    ) -> RotationScope {
        let policy = role_policy
            .cloned()
            .unwrap_or_else(|| Arc::new(default_role_policy(&job.secret_arn, readable_secret_arn)));
        RotationScope {
            function_name: job.function_name.clone(),
            policy,
        }
    }
}

/// The default rotation role (see [`Service::rotation_scope`]).
pub fn default_role_policy(secret_arn: &str, readable_secret_arn: Option<&str>) -> Policy {
    let allow = |actions: &[&str], resource: &str| Statement {
        sid: None,
        effect: Effect::Allow,
        principals: None,
        actions: PatternList::Matching(
            actions
                .iter()
                .map(|a| format!("secretsmanager:{a}"))
                .collect(),
        ),
        resources: Some(PatternList::Matching(vec![resource.to_owned()])),
        conditions: Vec::new(),
    };
    let mut statements = vec![
        allow(
            &[
                "DescribeSecret",
                "GetSecretValue",
                "PutSecretValue",
                "UpdateSecretVersionStage",
            ],
            secret_arn,
        ),
        allow(&["GetRandomPassword"], "*"),
    ];
    if let Some(master) = readable_secret_arn {
        statements.push(allow(&["DescribeSecret", "GetSecretValue"], master));
    }
    Policy { statements }
}

/// What the driver should do with a job, judged from the secret before a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationProgress {
    Continue,
    /// The token's version already holds AWSCURRENT: an earlier run finished it.
    AlreadyCurrent,
    /// The version lost AWSPENDING (a hand-made new value) or is gone.
    Abandoned,
    /// The secret was deleted.
    SecretGone,
}
