//! The rotation state machine (spec §4): the four steps a rotation function is invoked for, the
//! states a rotation passes through, what its record and events hold, and the retry policy.
//! The driver in `rotation/` moves a [`RotationJob`] through these states and persists every
//! transition; nothing here does I/O.
//!
//! ```text
//!            RotateSecret / scheduler
//!                      │  (placeholder AWSPENDING version + job, one transaction)
//!                      ▼
//!   ┌──────────── Active{step} ◄──────── retry after backoff (whole rotation again)
//!   │  createSecret → setSecret → testSecret → finishSecret      ▲
//!   │        each step's success persisted before the next       │ a step failed,
//!   │                      │                                     │ attempts left
//!   ▼                      ▼                                     │
//! Cancelled          Succeeded ───────────────── Failed ◄────────┘ no attempts left
//! (CancelRotateSecret)   (token is AWSCURRENT)   (AWSPENDING stays, as on AWS)
//!          Abandoned: a hand-made new AWSCURRENT removed AWSPENDING (spec §4.6)
//! ```

use std::fmt;

use super::VersionId;
use crate::clock::Millis;

/// A step of the rotation function protocol, with its wire spelling (spec §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RotationStep {
    CreateSecret,
    SetSecret,
    TestSecret,
    FinishSecret,
}

impl RotationStep {
    pub const ALL: [RotationStep; 4] = [
        RotationStep::CreateSecret,
        RotationStep::SetSecret,
        RotationStep::TestSecret,
        RotationStep::FinishSecret,
    ];

    /// The value of the event's `Step` member: templates compare `step == "createSecret"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationStep::CreateSecret => "createSecret",
            RotationStep::SetSecret => "setSecret",
            RotationStep::TestSecret => "testSecret",
            RotationStep::FinishSecret => "finishSecret",
        }
    }

    pub fn parse(s: &str) -> Option<RotationStep> {
        RotationStep::ALL
            .into_iter()
            .find(|step| step.as_str() == s)
    }
}

impl fmt::Display for RotationStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a rotation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationKind {
    /// The four steps, ending with the new version as AWSCURRENT.
    Rotate,
    /// RotateImmediately=false: only testSecret, against a temporary AWSPENDING copy of the
    /// current value that is removed afterwards (spec §4.4).
    Test,
}

impl RotationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationKind::Rotate => "rotate",
            RotationKind::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<RotationKind> {
        match s {
            "rotate" => Some(RotationKind::Rotate),
            "test" => Some(RotationKind::Test),
            _ => None,
        }
    }

    /// The steps this kind runs, in order.
    pub fn steps(self) -> &'static [RotationStep] {
        match self {
            RotationKind::Rotate => &RotationStep::ALL,
            RotationKind::Test => &[RotationStep::TestSecret],
        }
    }

    pub fn first_step(self) -> RotationStep {
        self.steps()[0]
    }

    /// The step after `step`, or `None` when `step` was the last.
    pub fn step_after(self, step: RotationStep) -> Option<RotationStep> {
        let steps = self.steps();
        let i = steps.iter().position(|s| *s == step)?;
        steps.get(i + 1).copied()
    }
}

/// Where a rotation is. Only `Active` rotations are worked on; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationState {
    Active,
    Succeeded,
    Failed,
    Cancelled,
    Abandoned,
}

impl RotationState {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationState::Active => "active",
            RotationState::Succeeded => "succeeded",
            RotationState::Failed => "failed",
            RotationState::Cancelled => "cancelled",
            RotationState::Abandoned => "abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<RotationState> {
        [
            RotationState::Active,
            RotationState::Succeeded,
            RotationState::Failed,
            RotationState::Cancelled,
            RotationState::Abandoned,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// One rotation of one secret: the durable job the driver works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationJob {
    pub id: String,
    /// The secret's internal id.
    pub secret_id: String,
    pub secret_arn: String,
    /// The ClientRequestToken: the VersionId of the version this rotation makes.
    pub token: VersionId,
    pub kind: RotationKind,
    /// The function's name, resolved from RotationLambdaARN when the rotation started.
    pub function_name: String,
    pub lambda_arn: String,
    pub state: RotationState,
    /// The next step to run while `Active`; the step that failed once `Failed`.
    pub step: RotationStep,
    /// Which run of the whole rotation this is, from 1.
    pub attempt: u32,
    /// Not before this time (the backoff after a failed attempt).
    pub next_attempt_at: Millis,
    pub created_at: Millis,
    pub finished_at: Option<Millis>,
    /// The last failure, as the function or the driver reported it.
    pub error: Option<String>,
}

/// What a rotation works on and with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationTarget {
    pub secret_id: String,
    pub secret_arn: String,
    pub function_name: String,
    pub lambda_arn: String,
}

impl RotationJob {
    pub fn new(
        id: String,
        target: RotationTarget,
        token: VersionId,
        kind: RotationKind,
        now: Millis,
    ) -> RotationJob {
        RotationJob {
            id,
            secret_id: target.secret_id,
            secret_arn: target.secret_arn,
            token,
            kind,
            function_name: target.function_name,
            lambda_arn: target.lambda_arn,
            state: RotationState::Active,
            step: kind.first_step(),
            attempt: 1,
            next_attempt_at: now,
            created_at: now,
            finished_at: None,
            error: None,
        }
    }

    /// Records that `step` finished: the job moves to the next step, or reports there is none.
    pub fn complete_step(&mut self, step: RotationStep) -> Option<RotationStep> {
        let next = self.kind.step_after(step);
        if let Some(n) = next {
            self.step = n;
        }
        next
    }

    /// Records a failed step. With attempts left, the whole rotation runs again after a backoff
    /// (AWS retries the whole rotation, spec §4.3); otherwise the job fails. Returns whether
    /// it will be retried.
    pub fn fail_step(
        &mut self,
        step: RotationStep,
        error: String,
        policy: &RetryPolicy,
        now: Millis,
    ) -> bool {
        self.error = Some(error);
        if self.attempt < policy.max_attempts {
            self.next_attempt_at = Millis(now.0 + policy.delay_before(self.attempt + 1));
            self.attempt += 1;
            self.step = self.kind.first_step();
            true
        } else {
            self.step = step;
            self.finish(RotationState::Failed, now);
            false
        }
    }

    pub fn finish(&mut self, state: RotationState, now: Millis) {
        self.state = state;
        self.finished_at = Some(now);
    }
}

/// How often and how soon a failed rotation is run again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Runs of the whole rotation, the first included.
    pub max_attempts: u32,
    /// The wait before the second run; it doubles for each run after.
    pub first_delay_ms: i64,
    /// The longest wait between runs.
    pub max_delay_ms: i64,
}

impl RetryPolicy {
    /// The wait before run `attempt` (2 or more).
    pub fn delay_before(&self, attempt: u32) -> i64 {
        let doublings = attempt.saturating_sub(2).min(30);
        self.first_delay_ms
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay_ms)
    }
}

/// The non-API events AWS logs for rotations (spec §4.6), kept per secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationEventKind {
    RotationStarted,
    RotationSucceeded,
    RotationFailed,
    RotationAbandoned,
    /// Not an AWS event name: CancelRotateSecret stopped a rotation in flight.
    RotationCancelled,
}

impl RotationEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RotationEventKind::RotationStarted => "RotationStarted",
            RotationEventKind::RotationSucceeded => "RotationSucceeded",
            RotationEventKind::RotationFailed => "RotationFailed",
            RotationEventKind::RotationAbandoned => "RotationAbandoned",
            RotationEventKind::RotationCancelled => "RotationCancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RotationEventKind> {
        [
            RotationEventKind::RotationStarted,
            RotationEventKind::RotationSucceeded,
            RotationEventKind::RotationFailed,
            RotationEventKind::RotationAbandoned,
            RotationEventKind::RotationCancelled,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One entry of a secret's rotation history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationEvent {
    pub rotation_id: String,
    pub secret_id: String,
    pub secret_arn: String,
    pub token: VersionId,
    pub kind: RotationEventKind,
    pub step: Option<RotationStep>,
    pub attempt: u32,
    /// From the rotation's start to this event.
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub at: Millis,
}

impl RotationEvent {
    pub fn of(job: &RotationJob, kind: RotationEventKind, now: Millis) -> RotationEvent {
        let finished = !matches!(kind, RotationEventKind::RotationStarted);
        RotationEvent {
            rotation_id: job.id.clone(),
            secret_id: job.secret_id.clone(),
            secret_arn: job.secret_arn.clone(),
            token: job.token.clone(),
            kind,
            step: finished.then_some(job.step),
            attempt: job.attempt,
            duration_ms: finished.then_some(now.0 - job.created_at.0),
            error: if matches!(kind, RotationEventKind::RotationFailed) {
                job.error.clone()
            } else {
                None
            },
            at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(kind: RotationKind) -> RotationJob {
        let target = RotationTarget {
            secret_id: "s".into(),
            secret_arn: "arn".into(),
            function_name: "f".into(),
            lambda_arn: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
        };
        RotationJob::new("r".into(), target, "t".into(), kind, Millis(0))
    }

    const POLICY: RetryPolicy = RetryPolicy {
        max_attempts: 3,
        first_delay_ms: 1000,
        max_delay_ms: 3000,
    };

    #[test]
    fn a_rotation_runs_the_four_steps_in_the_documented_order() {
        let mut j = job(RotationKind::Rotate);
        let mut seen = vec![j.step.as_str()];
        while let Some(next) = j.complete_step(j.step) {
            seen.push(next.as_str());
        }
        assert_eq!(
            seen,
            ["createSecret", "setSecret", "testSecret", "finishSecret"]
        );
    }

    #[test]
    fn a_test_rotation_runs_only_test_secret() {
        let mut j = job(RotationKind::Test);
        assert_eq!(j.step, RotationStep::TestSecret);
        assert_eq!(j.complete_step(RotationStep::TestSecret), None);
    }

    #[test]
    fn a_failed_step_reruns_the_whole_rotation_after_a_growing_delay_then_fails() {
        let mut j = job(RotationKind::Rotate);
        j.step = RotationStep::TestSecret;
        assert!(j.fail_step(RotationStep::TestSecret, "boom".into(), &POLICY, Millis(10)));
        assert_eq!(
            (j.attempt, j.step, j.next_attempt_at),
            (2, RotationStep::CreateSecret, Millis(1010))
        );
        assert!(j.fail_step(RotationStep::SetSecret, "boom".into(), &POLICY, Millis(20)));
        assert_eq!(j.next_attempt_at, Millis(2020));
        assert!(!j.fail_step(RotationStep::SetSecret, "last".into(), &POLICY, Millis(30)));
        assert_eq!(j.state, RotationState::Failed);
        assert_eq!(j.step, RotationStep::SetSecret);
        assert_eq!(j.error.as_deref(), Some("last"));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(POLICY.delay_before(2), 1000);
        assert_eq!(POLICY.delay_before(3), 2000);
        assert_eq!(POLICY.delay_before(4), 3000);
        assert_eq!(POLICY.delay_before(40), 3000);
    }

    #[test]
    fn step_names_round_trip_in_their_wire_spelling() {
        for s in RotationStep::ALL {
            assert_eq!(RotationStep::parse(s.as_str()), Some(s));
        }
        assert_eq!(RotationStep::parse("create_secret"), None);
    }
}
