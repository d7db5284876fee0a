//! The secret aggregate: metadata plus its versions, and the staging-label rules of spec §5.
//! Every label change happens on this value and is then saved in one store transaction.

use std::collections::BTreeSet;
use std::fmt;

use zeroize::Zeroizing;

use super::name::{Arn, Region, SecretName, VersionId};
use super::{AWSCURRENT, AWSPENDING, AWSPREVIOUS};
use crate::clock::{MILLIS_PER_DAY, Millis};
use crate::error::{Error, Result};

/// AWS keeps at most this many versions of a secret.
pub const MAX_VERSIONS: usize = 100;
/// Labels across all versions of one secret.
pub const MAX_LABELS_PER_SECRET: usize = 20;
/// Deprecated versions younger than this are kept even over the version limit.
const DEPRECATED_VERSION_GRACE: i64 = MILLIS_PER_DAY;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A secret value in plaintext: wiped from memory on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretValue {
    String(Zeroizing<String>),
    Binary(Zeroizing<Vec<u8>>),
}

impl SecretValue {
    pub fn kind(&self) -> ValueKind {
        match self {
            SecretValue::String(_) => ValueKind::String,
            SecretValue::Binary(_) => ValueKind::Binary,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            SecretValue::String(s) => s.as_bytes(),
            SecretValue::Binary(b) => b,
        }
    }

    /// Equality that takes the same time whatever the contents, for the idempotency check.
    pub fn ct_eq(&self, other: &SecretValue) -> bool {
        use subtle::ConstantTimeEq;
        self.kind() == other.kind()
            && self.as_bytes().len() == other.as_bytes().len()
            && bool::from(self.as_bytes().ct_eq(other.as_bytes()))
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    String,
    Binary,
}

/// A value as it rests in the store: ciphertext that only `crypto` can open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedValue {
    pub kind: ValueKind,
    pub ciphertext: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: VersionId,
    /// Sorted, as AWS returns label lists.
    pub stages: BTreeSet<String>,
    pub created_at: Millis,
    pub last_accessed_at: Option<Millis>,
    /// `None` for the placeholder a rotation creates before its function stores a value.
    pub value: Option<SealedValue>,
}

impl Version {
    pub fn is_deprecated(&self) -> bool {
        self.stages.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RotationRules {
    pub automatically_after_days: Option<i64>,
    pub duration: Option<String>,
    pub schedule_expression: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rotation {
    /// `None` until rotation is first configured; `Some(false)` after CancelRotateSecret.
    pub enabled: Option<bool>,
    pub lambda_arn: Option<String>,
    pub rules: Option<RotationRules>,
    pub last_rotated_at: Option<Millis>,
    /// NextRotationDate: the end of the next rotation window.
    pub next_rotation_at: Option<Millis>,
    /// When the scheduler starts the next rotation: a random time inside the window. `None`
    /// while a rotation is in flight or when rotation is off. Indexed by the store, so due
    /// work is found without looking at secrets that are not due.
    pub due_at: Option<Millis>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaStatus {
    InSync,
    Failed,
    InProgress,
}

impl ReplicaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplicaStatus::InSync => "InSync",
            ReplicaStatus::Failed => "Failed",
            ReplicaStatus::InProgress => "InProgress",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    pub region: Region,
    pub kms_key_id: Option<String>,
    pub status: ReplicaStatus,
    pub status_message: Option<String>,
    pub last_accessed_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    /// Internal identity; stable across renames of nothing, unique across re-creations.
    pub id: String,
    pub region: Region,
    pub name: SecretName,
    pub arn: Arn,
    pub description: Option<String>,
    /// `None` means the default key, which DescribeSecret leaves out.
    pub kms_key_id: Option<String>,
    pub secret_type: Option<String>,
    /// `None` until tags are first set; `Some(vec![])` after the last is removed, as AWS shows `[]`.
    pub tags: Option<Vec<Tag>>,
    pub created_at: Millis,
    pub last_changed_at: Millis,
    pub last_accessed_at: Option<Millis>,
    /// When a scheduled deletion will purge the secret (DeletedDate).
    pub deleted_at: Option<Millis>,
    pub rotation: Rotation,
    pub resource_policy: Option<String>,
    /// On a replica: the primary's Region. On a primary or standalone secret: `None`.
    pub primary_region: Option<Region>,
    /// On a replica: the internal id of its primary, whose versions it shows.
    pub replica_of: Option<String>,
    /// On a primary: the Regions it is replicated to.
    pub replicas: Vec<Replica>,
    pub versions: Vec<Version>,
    /// Bumped by every saved change; the store refuses a save made from a stale read.
    pub revision: i64,
}

/// What a new value did to the secret's labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// Labels now on the new version.
    pub stages: BTreeSet<String>,
    /// A manual new current value removed AWSPENDING: the RotationAbandoned rule of spec §5.1.
    pub abandoned_rotation_of: Option<VersionId>,
}

impl Secret {
    /// A new secret with nothing but its identity: no value, tags, rotation or replicas.
    pub fn new(id: String, region: Region, name: SecretName, arn: Arn, now: Millis) -> Secret {
        Secret {
            id,
            region,
            name,
            arn,
            description: None,
            kms_key_id: None,
            secret_type: None,
            tags: None,
            created_at: now,
            last_changed_at: now,
            last_accessed_at: None,
            deleted_at: None,
            rotation: Rotation::default(),
            resource_policy: None,
            primary_region: None,
            replica_of: None,
            replicas: Vec::new(),
            versions: Vec::new(),
            revision: 0,
        }
    }

    pub fn is_scheduled_for_deletion(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn is_replica(&self) -> bool {
        self.replica_of.is_some()
    }

    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    fn version_index(&self, id: &str) -> Option<usize> {
        self.versions.iter().position(|v| v.id == id)
    }

    pub fn version_with_stage(&self, label: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.stages.contains(label))
    }

    /// Versions that carry at least one label, as DescribeSecret's VersionIdsToStages shows them.
    pub fn labelled_versions(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().filter(|v| !v.is_deprecated())
    }

    /// Stores a new value as version `id`, or fills the value-less placeholder with that id.
    /// `stages: None` means the default, AWSCURRENT. The caller has already settled idempotency
    /// (same token, same value) against any version that holds a value.
    pub fn put_value(
        &mut self,
        id: &str,
        value: SealedValue,
        stages: Option<&[String]>,
        now: Millis,
    ) -> Result<PutOutcome> {
        let mut labels: BTreeSet<String> = match stages {
            Some(s) => s.iter().cloned().collect(),
            None => BTreeSet::from([AWSCURRENT.to_owned()]),
        };
        // The first value of a secret is always current, whatever labels the caller chose.
        if self.version_with_stage(AWSCURRENT).is_none() {
            labels.insert(AWSCURRENT.to_owned());
        }
        let idx = match self.version_index(id) {
            Some(i) => {
                if self.versions[i].value.is_some() {
                    return Err(Error::internal(
                        "put_value over a version that holds a value",
                    ));
                }
                self.versions[i].value = Some(value);
                i
            }
            None => {
                self.versions.push(Version {
                    id: id.to_owned(),
                    stages: BTreeSet::new(),
                    created_at: now,
                    last_accessed_at: None,
                    value: Some(value),
                });
                self.versions.len() - 1
            }
        };
        // A placeholder keeps the labels it had (AWSPENDING) plus the ones asked for.
        // RotationAbandoned: a hand-made new current value drops AWSPENDING wherever it is,
        // unless the call itself labels its version AWSPENDING (a rotation's createSecret).
        let mut abandoned = None;
        if labels.contains(AWSCURRENT)
            && !labels.contains(AWSPENDING)
            && let Some(p) = self
                .versions
                .iter()
                .position(|v| v.stages.contains(AWSPENDING))
        {
            // AWSPENDING left on the current version marks a finished rotation, not one
            // in flight: dropping it abandons nothing.
            if !self.versions[p].stages.contains(AWSCURRENT) {
                abandoned = Some(self.versions[p].id.clone());
            }
            self.versions[p].stages.remove(AWSPENDING);
        }
        for label in &labels {
            self.attach_label(label, idx);
        }
        self.check_label_quota()?;
        self.prune_versions(now)?;
        self.last_changed_at = now;
        let stages = self
            .version(id)
            .map(|v| v.stages.clone())
            .unwrap_or_default();
        Ok(PutOutcome {
            stages,
            abandoned_rotation_of: abandoned,
        })
    }

    /// Puts `label` on version `idx`, taking it off any other; moving AWSCURRENT hands
    /// AWSPREVIOUS to the version that held it.
    fn attach_label(&mut self, label: &str, idx: usize) {
        let holder = self.versions.iter().position(|v| v.stages.contains(label));
        if holder == Some(idx) {
            return;
        }
        if let Some(h) = holder {
            self.versions[h].stages.remove(label);
            if label == AWSCURRENT {
                for v in &mut self.versions {
                    v.stages.remove(AWSPREVIOUS);
                }
                self.versions[h].stages.insert(AWSPREVIOUS.to_owned());
            }
        }
        self.versions[idx].stages.insert(label.to_owned());
    }

    fn check_label_quota(&self) -> Result<()> {
        let distinct: BTreeSet<&String> = self.versions.iter().flat_map(|v| &v.stages).collect();
        if distinct.len() > MAX_LABELS_PER_SECRET {
            return Err(Error::LimitExceeded(format!(
                "A secret can have at most {MAX_LABELS_PER_SECRET} staging labels across all of its versions."
            )));
        }
        Ok(())
    }

    /// AWS removes deprecated versions only once a secret has more than 100 versions, and then
    /// only those older than a day; if that is not enough, the new version is refused.
    fn prune_versions(&mut self, now: Millis) -> Result<()> {
        if self.versions.len() <= MAX_VERSIONS {
            return Ok(());
        }
        let mut removable: Vec<(Millis, VersionId)> = self
            .versions
            .iter()
            .filter(|v| v.is_deprecated() && now.0 - v.created_at.0 >= DEPRECATED_VERSION_GRACE)
            .map(|v| (v.created_at, v.id.clone()))
            .collect();
        removable.sort();
        let excess = self.versions.len() - MAX_VERSIONS;
        let gone: BTreeSet<VersionId> = removable
            .into_iter()
            .take(excess)
            .map(|(_, id)| id)
            .collect();
        self.versions.retain(|v| !gone.contains(&v.id));
        if self.versions.len() > MAX_VERSIONS {
            // Wording not recorded from AWS (spec §10); this says what happened and what to do.
            return Err(Error::LimitExceeded(format!(
                "You have exceeded the maximum number of versions ({MAX_VERSIONS}) for this secret. Deprecated versions are removed only after 24 hours."
            )));
        }
        Ok(())
    }

    /// The version of a rotation that has not finished: AWSPENDING on a version that is not
    /// also AWSCURRENT (spec §4.1 step 6).
    pub fn unfinished_rotation(&self) -> Option<&Version> {
        self.version_with_stage(AWSPENDING)
            .filter(|v| !v.stages.contains(AWSCURRENT))
    }

    /// Stores the rotation configuration RotateSecret was given and turns rotation on.
    pub fn configure_rotation(
        &mut self,
        lambda_arn: Option<&str>,
        rules: Option<RotationRules>,
        now: Millis,
    ) {
        if let Some(arn) = lambda_arn {
            self.rotation.lambda_arn = Some(arn.to_owned());
        }
        if let Some(rules) = rules {
            self.rotation.rules = Some(rules);
        }
        self.rotation.enabled = Some(true);
        self.last_changed_at = now;
    }

    /// Creates the value-less version `token` labelled AWSPENDING that a rotation's function
    /// fills (spec §4.2). AWSPENDING left on the current version by an earlier rotation moves
    /// to it.
    pub fn add_pending_placeholder(&mut self, token: &str, now: Millis) -> Result<()> {
        if self.version(token).is_some() {
            return Err(Error::ResourceExists(format!(
                "You can't use ClientRequestToken {token} because that value is already in use for a version of secret {}.",
                self.arn.0
            )));
        }
        self.versions.push(Version {
            id: token.to_owned(),
            stages: BTreeSet::new(),
            created_at: now,
            last_accessed_at: None,
            value: None,
        });
        let idx = self.versions.len() - 1;
        self.attach_label(AWSPENDING, idx);
        self.prune_versions(now)
    }

    /// Creates the temporary AWSPENDING version holding a copy of the current value that a
    /// RotateImmediately=false test runs testSecret against (spec §4.4).
    pub fn add_pending_copy(&mut self, id: &str, copy: SealedValue, now: Millis) -> Result<()> {
        self.add_pending_placeholder(id, now)?;
        let idx = self.version_index(id).expect("just added");
        self.versions[idx].value = Some(copy);
        Ok(())
    }

    /// Removes a version outright (the test rotation's temporary copy). AWSCURRENT is never
    /// removed this way.
    pub fn remove_version(&mut self, id: &str) {
        self.versions
            .retain(|v| v.id != id || v.stages.contains(AWSCURRENT));
    }

    /// A rotation finished with `token` as AWSCURRENT: it is the last rotation, and the
    /// AWSPENDING label it still carries is cleaned up, as AWS's backend does (spec §4.3).
    pub fn complete_rotation(&mut self, token: &str, now: Millis) {
        if let Some(idx) = self.version_index(token)
            && self.versions[idx].stages.contains(AWSCURRENT)
        {
            self.versions[idx].stages.remove(AWSPENDING);
        }
        self.rotation.last_rotated_at = Some(now);
    }

    /// RotationRules.AutomaticallyAfterDays as AWS reports it: as given, or for a
    /// ScheduleExpression the days it works out to, once the secret has rotated (spec §4.5:
    /// "calculated from the rotation schedule after every successful rotation").
    pub fn reported_rotation_days(&self) -> Option<i64> {
        let rules = self.rotation.rules.as_ref()?;
        if rules.automatically_after_days.is_some() {
            return rules.automatically_after_days;
        }
        let last = self.rotation.last_rotated_at?;
        let schedule = super::schedule::RotationSchedule::parse(rules).ok()?;
        Some(schedule.interval_days(last))
    }

    /// Places the next rotation: `window` is the next window after the last rotation (or now),
    /// `due` the time inside it when the scheduler starts it.
    pub fn schedule_rotation(&mut self, next: Option<(Millis, Millis)>) {
        match next {
            Some((due, end)) if self.rotation.enabled == Some(true) => {
                self.rotation.due_at = Some(due);
                self.rotation.next_rotation_at = Some(end);
            }
            _ => {
                self.rotation.due_at = None;
                if self.rotation.enabled != Some(true) {
                    self.rotation.next_rotation_at = None;
                }
            }
        }
    }

    /// CancelRotateSecret: rotation off, configuration kept, nothing scheduled (spec §4.8).
    pub fn disable_rotation(&mut self, now: Millis) {
        if self.rotation.enabled == Some(true) {
            self.rotation.enabled = Some(false);
            self.rotation.next_rotation_at = None;
            self.rotation.due_at = None;
            self.last_changed_at = now;
        }
    }

    /// UpdateSecretVersionStage (spec §5.3).
    pub fn update_version_stage(
        &mut self,
        label: &str,
        remove_from: Option<&str>,
        move_to: Option<&str>,
        now: Millis,
    ) -> Result<()> {
        for id in [remove_from, move_to].into_iter().flatten() {
            if self.version(id).is_none() {
                // Unknown version ids: code and text unrecorded (spec §10); this is the text
                // AWS uses for an unknown VersionId elsewhere.
                return Err(Error::ResourceNotFound(format!(
                    "Secrets Manager can't find the specified secret value for VersionId: {id}"
                )));
            }
        }
        let holder = self.version_with_stage(label).map(|v| v.id.clone());
        match move_to {
            Some(target) => {
                if let Some(h) = &holder
                    && h != target
                {
                    match remove_from {
                        None => {
                            return Err(Error::InvalidParameter(format!(
                                "The parameter RemoveFromVersionId can't be empty. Staging label {label} is currently attached to version {h}, so you must explicitly reference that version in RemoveFromVersionId."
                            )));
                        }
                        Some(r) if r != h => {
                            return Err(Error::InvalidParameter(format!(
                                "The parameter RemoveFromVersionId doesn't match the version that holds the staging label. Staging label {label} is currently attached to version {h}, so you must explicitly reference that version in RemoveFromVersionId."
                            )));
                        }
                        Some(_) => {}
                    }
                }
                let idx = self.version_index(target).expect("checked above");
                self.attach_label(label, idx);
            }
            None => {
                let Some(r) = remove_from else {
                    return Err(Error::InvalidParameter(
                        "You must specify MoveToVersionId, RemoveFromVersionId, or both.".into(),
                    ));
                };
                if label == AWSCURRENT {
                    return Err(Error::InvalidParameter(
                        "You can only move staging label AWSCURRENT to a different secret version. It can't be completely removed.".into(),
                    ));
                }
                match &holder {
                    Some(h) if h == r => {
                        let idx = self.version_index(r).expect("checked above");
                        self.versions[idx].stages.remove(label);
                    }
                    Some(h) => {
                        return Err(Error::InvalidParameter(format!(
                            "The parameter RemoveFromVersionId doesn't match the version that holds the staging label. Staging label {label} is currently attached to version {h}, so you must explicitly reference that version in RemoveFromVersionId."
                        )));
                    }
                    // Removing a label that sits nowhere leaves nothing to do.
                    None => {}
                }
            }
        }
        self.check_label_quota()?;
        self.last_changed_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::name::AccountId;

    fn sealed(tag: u8) -> SealedValue {
        SealedValue {
            kind: ValueKind::String,
            ciphertext: vec![tag],
        }
    }

    fn secret() -> Secret {
        let region = Region("us-east-1".into());
        let name = SecretName::parse("s").unwrap();
        let arn = Arn::with_suffix(&region, &AccountId("123456789012".into()), &name, "abcdef");
        Secret::new("id".into(), region, name, arn, Millis(0))
    }

    fn stages(s: &Secret, id: &str) -> Vec<String> {
        s.version(id).unwrap().stages.iter().cloned().collect()
    }

    fn labels(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn first_value_becomes_current_even_with_custom_labels() {
        let mut s = secret();
        s.put_value("v1", sealed(1), Some(&labels(&["custom"])), Millis(1))
            .unwrap();
        assert_eq!(stages(&s, "v1"), ["AWSCURRENT", "custom"]);
    }

    #[test]
    fn a_new_current_value_moves_awsprevious_to_the_old_current() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.put_value("v2", sealed(2), None, Millis(2)).unwrap();
        s.put_value("v3", sealed(3), None, Millis(3)).unwrap();
        assert_eq!(stages(&s, "v1"), Vec::<String>::new());
        assert_eq!(stages(&s, "v2"), ["AWSPREVIOUS"]);
        assert_eq!(stages(&s, "v3"), ["AWSCURRENT"]);
    }

    #[test]
    fn explicit_awscurrent_also_applies_the_awsprevious_rule() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.put_value(
            "v2",
            sealed(2),
            Some(&labels(&["AWSCURRENT", "PUT0"])),
            Millis(2),
        )
        .unwrap();
        assert_eq!(stages(&s, "v1"), ["AWSPREVIOUS"]);
        assert_eq!(stages(&s, "v2"), ["AWSCURRENT", "PUT0"]);
    }

    #[test]
    fn custom_labels_move_and_the_old_version_keeps_the_rest() {
        let mut s = secret();
        s.put_value("v0", sealed(0), None, Millis(0)).unwrap();
        s.put_value(
            "v1",
            sealed(1),
            Some(&labels(&["one", "two", "three"])),
            Millis(1),
        )
        .unwrap();
        s.put_value(
            "v2",
            sealed(2),
            Some(&labels(&["one", "two", "four"])),
            Millis(2),
        )
        .unwrap();
        assert_eq!(stages(&s, "v1"), ["three"]);
        s.put_value(
            "v3",
            sealed(3),
            Some(&labels(&["one", "two", "three", "four"])),
            Millis(3),
        )
        .unwrap();
        assert!(s.version("v1").unwrap().is_deprecated());
        assert_eq!(stages(&s, "v0"), ["AWSCURRENT"]);
    }

    #[test]
    fn a_manual_new_value_abandons_the_pending_rotation() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.versions.push(Version {
            id: "v2".into(),
            stages: BTreeSet::from([AWSPENDING.to_owned()]),
            created_at: Millis(2),
            last_accessed_at: None,
            value: None,
        });
        let out = s.put_value("v3", sealed(3), None, Millis(3)).unwrap();
        assert_eq!(out.abandoned_rotation_of.as_deref(), Some("v2"));
        assert!(s.version("v2").unwrap().is_deprecated());
        assert_eq!(stages(&s, "v3"), ["AWSCURRENT"]);
    }

    #[test]
    fn a_manual_new_value_drops_awspending_left_on_the_current_version() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.versions[0].stages.insert(AWSPENDING.into());
        let out = s.put_value("v2", sealed(2), None, Millis(2)).unwrap();
        assert_eq!(stages(&s, "v1"), ["AWSPREVIOUS"]);
        assert_eq!(
            out.abandoned_rotation_of, None,
            "a finished rotation is not abandoned"
        );
    }

    #[test]
    fn a_rotation_filling_its_placeholder_keeps_awspending() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.versions.push(Version {
            id: "v2".into(),
            stages: BTreeSet::from([AWSPENDING.to_owned()]),
            created_at: Millis(2),
            last_accessed_at: None,
            value: None,
        });
        let out = s
            .put_value("v2", sealed(2), Some(&labels(&["AWSPENDING"])), Millis(3))
            .unwrap();
        assert_eq!(stages(&s, "v2"), ["AWSPENDING"]);
        assert_eq!(stages(&s, "v1"), ["AWSCURRENT"]);
        assert_eq!(out.abandoned_rotation_of, None);
        assert_eq!(s.version("v2").unwrap().created_at, Millis(2));
    }

    #[test]
    fn moving_a_label_held_elsewhere_needs_remove_from_version_id() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.put_value("v2", sealed(2), Some(&labels(&["x"])), Millis(2))
            .unwrap();
        let err = s
            .update_version_stage("AWSCURRENT", None, Some("v2"), Millis(3))
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidParameter("The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version v1, so you must explicitly reference that version in RemoveFromVersionId.".into())
        );
        s.update_version_stage("AWSCURRENT", Some("v1"), Some("v2"), Millis(3))
            .unwrap();
        assert_eq!(stages(&s, "v1"), ["AWSPREVIOUS"]);
        assert_eq!(stages(&s, "v2"), ["AWSCURRENT", "x"]);
    }

    #[test]
    fn awscurrent_cannot_be_removed_outright() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        let err = s
            .update_version_stage("AWSCURRENT", Some("v1"), None, Millis(2))
            .unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter(m) if m.contains("It can't be completely removed."))
        );
    }

    #[test]
    fn removing_a_label_leaves_a_deprecated_version_in_place() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.put_value("v2", sealed(2), Some(&labels(&["x"])), Millis(2))
            .unwrap();
        s.update_version_stage("x", Some("v2"), None, Millis(3))
            .unwrap();
        assert!(s.version("v2").unwrap().is_deprecated());
    }

    #[test]
    fn unknown_version_in_update_version_stage_is_not_found() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        let err = s
            .update_version_stage("x", None, Some("nope"), Millis(2))
            .unwrap_err();
        assert!(matches!(err, Error::ResourceNotFound(_)));
    }

    #[test]
    fn more_than_twenty_labels_is_limit_exceeded() {
        let mut s = secret();
        let many: Vec<String> = (0..20).map(|i| format!("l{i}")).collect();
        let err = s
            .put_value("v1", sealed(1), Some(&many), Millis(1))
            .unwrap_err();
        assert!(matches!(err, Error::LimitExceeded(_)));
    }

    #[test]
    fn deprecated_versions_are_pruned_only_past_100_and_after_a_day() {
        let mut s = secret();
        for i in 0..100 {
            s.put_value(&format!("v{i:03}"), sealed(1), None, Millis(i))
                .unwrap();
        }
        // A 101st version within the day: the deprecated ones are too young to go.
        let err = s
            .put_value("young", sealed(1), None, Millis(1000))
            .unwrap_err();
        assert!(matches!(err, Error::LimitExceeded(_)));
        let mut s2 = secret();
        for i in 0..100 {
            s2.put_value(&format!("v{i:03}"), sealed(1), None, Millis(i))
                .unwrap();
        }
        s2.put_value("later", sealed(1), None, Millis(MILLIS_PER_DAY + 100))
            .unwrap();
        assert_eq!(s2.versions.len(), 100);
        assert!(
            s2.version("v000").is_none(),
            "the oldest deprecated version went first"
        );
        assert!(s2.version("v001").is_some());
    }

    #[test]
    fn secret_values_never_print() {
        let v = SecretValue::String(Zeroizing::new("hunter2".into()));
        assert!(!format!("{v:?}").contains("hunter2"));
    }

    #[test]
    fn a_rotation_placeholder_holds_awspending_and_no_value() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.add_pending_placeholder("t1", Millis(2)).unwrap();
        let v = s.version("t1").unwrap();
        assert_eq!(stages(&s, "t1"), ["AWSPENDING"]);
        assert!(v.value.is_none());
        assert_eq!(s.unfinished_rotation().map(|v| v.id.as_str()), Some("t1"));
        // The token of an existing version cannot be a new rotation's.
        assert!(matches!(
            s.add_pending_placeholder("v1", Millis(3)),
            Err(Error::ResourceExists(_))
        ));
    }

    #[test]
    fn awspending_left_on_the_current_version_is_no_unfinished_rotation_and_moves_on() {
        let mut s = secret();
        s.put_value(
            "v1",
            sealed(1),
            Some(&labels(&["AWSCURRENT", "AWSPENDING"])),
            Millis(1),
        )
        .unwrap();
        assert!(s.unfinished_rotation().is_none());
        s.add_pending_placeholder("t1", Millis(2)).unwrap();
        assert_eq!(stages(&s, "v1"), ["AWSCURRENT"]);
        assert_eq!(stages(&s, "t1"), ["AWSPENDING"]);
    }

    #[test]
    fn a_finished_rotation_sets_last_rotated_and_cleans_up_awspending() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.add_pending_placeholder("t1", Millis(2)).unwrap();
        s.put_value("t1", sealed(2), Some(&labels(&["AWSPENDING"])), Millis(3))
            .unwrap();
        s.update_version_stage(AWSCURRENT, Some("v1"), Some("t1"), Millis(4))
            .unwrap();
        s.complete_rotation("t1", Millis(5));
        assert_eq!(stages(&s, "t1"), ["AWSCURRENT"]);
        assert_eq!(stages(&s, "v1"), ["AWSPREVIOUS"]);
        assert_eq!(s.rotation.last_rotated_at, Some(Millis(5)));
    }

    #[test]
    fn a_test_rotation_copy_is_removed_but_awscurrent_never_is() {
        let mut s = secret();
        s.put_value("v1", sealed(1), None, Millis(1)).unwrap();
        s.add_pending_copy("tmp", sealed(1), Millis(2)).unwrap();
        assert_eq!(stages(&s, "tmp"), ["AWSPENDING"]);
        s.remove_version("tmp");
        s.remove_version("v1");
        assert!(s.version("tmp").is_none());
        assert!(s.version("v1").is_some());
    }

    #[test]
    fn cancelling_rotation_keeps_its_configuration_and_clears_the_schedule() {
        let mut s = secret();
        let rules = RotationRules {
            automatically_after_days: Some(10),
            ..Default::default()
        };
        s.configure_rotation(
            Some("arn:aws:lambda:us-east-1:1:function:f"),
            Some(rules.clone()),
            Millis(1),
        );
        s.schedule_rotation(Some((Millis(50), Millis(99))));
        assert_eq!(s.rotation.next_rotation_at, Some(Millis(99)));
        s.disable_rotation(Millis(2));
        assert_eq!(s.rotation.enabled, Some(false));
        assert_eq!(s.rotation.rules, Some(rules));
        assert!(s.rotation.lambda_arn.is_some());
        assert_eq!(
            (s.rotation.next_rotation_at, s.rotation.due_at),
            (None, None)
        );
        // Nothing is scheduled while rotation is off.
        s.schedule_rotation(Some((Millis(50), Millis(99))));
        assert_eq!(s.rotation.due_at, None);
    }
}
