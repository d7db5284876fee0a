//! The rotation driver: a loop that claims ready rotation jobs under a lease and runs their
//! steps, persisting each step's outcome before the next starts.
//!
//! The lease is what keeps one rotation in one place. A node claims a job by writing its id and
//! an expiry into the job's row (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so nodes claiming at the
//! same moment take different jobs); while it works, a heartbeat extends the expiry; every write
//! it makes to the job names it as the owner and fails if the lease was lost or the job is no
//! longer active. A node that dies stops renewing, its lease runs out, and another node (or
//! the same one after restart) claims the job and goes on from the step that was persisted.
//! A step that was running when a node died is run again: rotation functions are idempotent
//! by contract (spec §4.3).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::runner::{InvokeError, Runners};
use crate::clock::Millis;
use crate::domain::rotation::{
    RetryPolicy, RotationEventKind, RotationJob, RotationKind, RotationState,
};
use crate::error::Error;
use crate::service::{RotationProgress, RotationWriteError, Service};
use crate::telemetry::metrics::Metrics;

/// How the driver and scheduler work; `[rotation]` in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationSettings {
    /// Rotations one node runs at the same time.
    pub workers: usize,
    pub retry: RetryPolicy,
    /// How long a claim lasts without renewal: how soon another node resumes the work of a
    /// node that died.
    pub lease: Duration,
    /// How often the driver looks for work started on other nodes or ready for a retry.
    pub poll_interval: Duration,
    /// How often the scheduler looks for due rotations.
    pub scheduler_interval: Duration,
    /// Due secrets started per scheduler pass.
    pub scheduler_batch: i64,
}

impl Default for RotationSettings {
    fn default() -> Self {
        RotationSettings {
            workers: 8,
            retry: RetryPolicy {
                max_attempts: 5,
                first_delay_ms: 10_000,
                max_delay_ms: 300_000,
            },
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_secs(1),
            scheduler_interval: Duration::from_secs(10),
            scheduler_batch: 100,
        }
    }
}

pub struct Driver {
    pub service: Arc<Service>,
    pub runners: Runners,
    pub settings: RotationSettings,
    pub metrics: Arc<Metrics>,
    /// This process's name in leases.
    pub node_id: String,
}

impl Driver {
    fn now(&self) -> Millis {
        self.service.now()
    }

    fn lease_until(&self) -> Millis {
        Millis(self.now().0 + self.settings.lease.as_millis() as i64)
    }

    /// Claims and runs jobs until `stop` turns true; then gives up its leases so that a restart
    /// or another node resumes at once.
    pub async fn run(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let wakeup = self.service.rotation_wakeup();
        let permits = Arc::new(Semaphore::new(self.settings.workers.max(1)));
        let mut running = JoinSet::new();
        loop {
            while let Ok(permit) = permits.clone().try_acquire_owned() {
                match self
                    .service
                    .store()
                    .claim_rotation(&self.node_id, self.now(), self.lease_until())
                    .await
                {
                    Ok(Some(job)) => {
                        let me = self.clone();
                        let stop = stop.clone();
                        running.spawn(async move {
                            me.run_job(job, stop).await;
                            drop(permit);
                        });
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "claiming rotation work failed; will retry");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = wakeup.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = stop.changed() => break,
            }
        }
        while running.join_next().await.is_some() {}
        if let Err(e) = self
            .service
            .store()
            .release_rotation_leases(Some(&self.node_id))
            .await
        {
            tracing::warn!(error = %e, "releasing rotation leases at shutdown failed; they expire on their own");
        }
    }

    /// Runs one claimed job until it ends, waits for a retry, loses its lease, or the server
    /// stops.
    async fn run_job(&self, mut job: RotationJob, mut stop: watch::Receiver<bool>) {
        let (lost_tx, lost) = watch::channel(false);
        let heartbeat = tokio::spawn(heartbeat(
            self.service.clone(),
            job.id.clone(),
            self.node_id.clone(),
            self.settings.lease,
            lost_tx,
        ));
        let span = tracing::info_span!("rotation", secret_arn = %job.secret_arn, token = %job.token, rotation_id = %job.id, function = %job.function_name);
        tokio::select! {
            _ = self.work(&mut job, lost).instrument(span) => {}
            _ = stop.changed() => {
                tracing::info!(rotation_id = %job.id, "server stopping: rotation will resume from its last persisted step");
            }
        };
        heartbeat.abort();
    }

    async fn work(&self, job: &mut RotationJob, mut lost: watch::Receiver<bool>) {
        let spec = match self.service.function(&job.function_name).await {
            Ok(Some(spec)) => Some(spec),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "reading the rotation function failed; will retry");
                return self.release(job).await;
            }
        };
        let Some(spec) = spec else {
            let message = format!(
                "Secrets Manager cannot invoke the specified Lambda function: no function named {} is registered",
                job.function_name
            );
            return self.step_failed(job, InvokeError(message)).await;
        };
        let mut session = self.runners.open(&spec, job);
        let ending = loop {
            if *lost.borrow() {
                break None;
            }
            match self.service.rotation_progress(job).await {
                Ok(RotationProgress::Continue) => {}
                Ok(RotationProgress::AlreadyCurrent) => break Some(RotationState::Succeeded),
                Ok(RotationProgress::Abandoned) => break Some(RotationState::Abandoned),
                Ok(RotationProgress::SecretGone) => break Some(RotationState::Abandoned),
                Err(e) => {
                    tracing::error!(error = %e, "reading the secret failed; will retry");
                    session.close().await;
                    return self.release(job).await;
                }
            }
            let step = job.step;
            tracing::debug!(step = step.as_str(), attempt = job.attempt, "invoking");
            let outcome = tokio::select! {
                outcome = session.invoke(job, step) => outcome,
                // Cancelled, abandoned or taken over: stop the function where it is.
                _ = lost.wait_for(|lost| *lost) => break None,
            };
            match outcome {
                Ok(()) => {
                    if job.complete_step(step).is_none() {
                        break Some(RotationState::Succeeded);
                    }
                    match self.service.record_rotation_step(job, &self.node_id).await {
                        Ok(()) => {}
                        Err(RotationWriteError::LeaseLost) => break None,
                        Err(RotationWriteError::Failed(e)) => {
                            tracing::error!(error = %e, "persisting a step failed; the step will run again");
                            session.close().await;
                            return self.release(job).await;
                        }
                    }
                }
                Err(e) => {
                    session.close().await;
                    return self.step_failed(job, e).await;
                }
            }
        };
        session.close().await;
        match ending {
            None => {
                tracing::info!(
                    "rotation no longer held by this node (cancelled, abandoned or taken over)"
                );
            }
            Some(RotationState::Succeeded) => {
                job.finish(RotationState::Succeeded, self.now());
                match self
                    .service
                    .finish_rotation(
                        job,
                        &self.node_id,
                        Some(RotationEventKind::RotationSucceeded),
                    )
                    .await
                {
                    Ok(()) => {
                        self.metrics.record_rotation("succeeded");
                        tracing::info!(
                            kind = job.kind.as_str(),
                            attempt = job.attempt,
                            duration_ms = self.now().0 - job.created_at.0,
                            "rotation succeeded"
                        );
                    }
                    Err(RotationWriteError::LeaseLost) => {}
                    Err(RotationWriteError::Failed(Error::InvalidRequest(message))) => {
                        // finishSecret returned without moving AWSCURRENT: a failed step.
                        job.state = RotationState::Active;
                        job.finished_at = None;
                        self.step_failed(job, InvokeError(message)).await;
                    }
                    Err(RotationWriteError::Failed(e)) => {
                        tracing::error!(error = %e, "recording a finished rotation failed; it will be checked again");
                        job.state = RotationState::Active;
                        job.finished_at = None;
                        self.release(job).await;
                    }
                }
            }
            Some(state) => {
                job.finish(state, self.now());
                if job.error.is_none() {
                    job.error = Some(
                        "the pending version lost AWSPENDING: a new value was put by hand, or the secret was deleted"
                            .into(),
                    );
                }
                if self
                    .service
                    .finish_rotation(
                        job,
                        &self.node_id,
                        Some(RotationEventKind::RotationAbandoned),
                    )
                    .await
                    .is_ok()
                {
                    self.metrics.record_rotation("abandoned");
                    tracing::info!("rotation abandoned");
                }
            }
        }
    }

    /// A step failed: retry the whole rotation after a backoff, or record the failure.
    async fn step_failed(&self, job: &mut RotationJob, error: InvokeError) {
        let step = job.step;
        self.metrics.record_rotation_step_failure(step.as_str());
        tracing::warn!(step = step.as_str(), attempt = job.attempt, error = %error, "rotation step failed");
        let retry = job.fail_step(step, error.0, &self.settings.retry, self.now());
        let event = (!retry).then_some(RotationEventKind::RotationFailed);
        match self
            .service
            .finish_rotation(job, &self.node_id, event)
            .await
        {
            Ok(()) if retry => {
                tracing::info!(
                    next_attempt = job.attempt,
                    at = job.next_attempt_at.0,
                    "rotation will be retried"
                );
            }
            Ok(()) => {
                self.metrics.record_rotation("failed");
                let consequence = match job.kind {
                    RotationKind::Rotate => {
                        "AWSPENDING stays on the new version until the rotation is re-attempted or cleaned up"
                    }
                    RotationKind::Test => {
                        "the temporary AWSPENDING copy was removed; AWSCURRENT is unchanged"
                    }
                };
                tracing::error!(
                    step = step.as_str(),
                    attempts = job.attempt,
                    error = job.error.as_deref().unwrap_or_default(),
                    kind = job.kind.as_str(),
                    "rotation failed; {consequence}"
                );
            }
            Err(RotationWriteError::LeaseLost) => {}
            Err(RotationWriteError::Failed(e)) => {
                tracing::error!(error = %e, "recording a failed step failed");
            }
        }
    }

    /// Gives the job back untouched, to be claimed again after a short wait (a transient
    /// store error, not the function's fault).
    async fn release(&self, job: &mut RotationJob) {
        job.next_attempt_at = Millis(self.now().0 + self.settings.poll_interval.as_millis() as i64);
        if let Err(RotationWriteError::Failed(e)) =
            self.service.finish_rotation(job, &self.node_id, None).await
        {
            tracing::warn!(error = %e, "releasing a rotation failed; its lease runs out on its own");
        }
    }
}

/// Extends the lease every third of its length; marks it lost when renewal is refused.
async fn heartbeat(
    service: Arc<Service>,
    job_id: String,
    node_id: String,
    lease: Duration,
    lost: watch::Sender<bool>,
) {
    loop {
        tokio::time::sleep(lease / 3).await;
        let until = Millis(service.now().0 + lease.as_millis() as i64);
        match service
            .store()
            .renew_rotation_lease(&job_id, &node_id, until)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                let _ = lost.send(true);
                return;
            }
            Err(e) => tracing::warn!(error = %e, "renewing a rotation lease failed; will retry"),
        }
    }
}
