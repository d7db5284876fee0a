//! The stored shape of a secret's metadata: a JSON document in the `metadata` column, so both
//! backends keep the same bytes and a new optional field needs no migration. Only the columns
//! the store must query by (Region, name, ARN, deletion date) are columns of their own.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::domain::secret::{ReplicaStatus, Rotation};
use crate::domain::{Region, Replica, RotationRules, Tag};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<(String, String)>>,
    pub last_changed_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_lambda_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_rules: Option<RulesRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rotated_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_region: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<ReplicaRow>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct RulesRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ReplicaRow {
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed_at: Option<i64>,
}

/// The parts of a secret that live in the metadata document.
pub struct MetadataParts {
    pub description: Option<String>,
    pub kms_key_id: Option<String>,
    pub secret_type: Option<String>,
    pub tags: Option<Vec<Tag>>,
    pub last_changed_at: Millis,
    pub rotation: Rotation,
    pub resource_policy: Option<String>,
    pub primary_region: Option<Region>,
    pub replicas: Vec<Replica>,
}

impl Metadata {
    pub fn from_secret(s: &crate::domain::Secret) -> Metadata {
        Metadata {
            description: s.description.clone(),
            kms_key_id: s.kms_key_id.clone(),
            secret_type: s.secret_type.clone(),
            tags: s
                .tags
                .as_ref()
                .map(|t| t.iter().map(|t| (t.key.clone(), t.value.clone())).collect()),
            last_changed_at: s.last_changed_at.0,
            rotation_enabled: s.rotation.enabled,
            rotation_lambda_arn: s.rotation.lambda_arn.clone(),
            rotation_rules: s.rotation.rules.as_ref().map(|r| RulesRow {
                days: r.automatically_after_days,
                duration: r.duration.clone(),
                schedule: r.schedule_expression.clone(),
            }),
            last_rotated_at: s.rotation.last_rotated_at.map(|m| m.0),
            next_rotation_at: s.rotation.next_rotation_at.map(|m| m.0),
            resource_policy: s.resource_policy.clone(),
            primary_region: s.primary_region.as_ref().map(|r| r.0.clone()),
            replicas: s
                .replicas
                .iter()
                .map(|r| ReplicaRow {
                    region: r.region.0.clone(),
                    kms_key_id: r.kms_key_id.clone(),
                    status: r.status.as_str().to_owned(),
                    status_message: r.status_message.clone(),
                    last_accessed_at: r.last_accessed_at.map(|m| m.0),
                })
                .collect(),
        }
    }

    pub fn into_parts(self) -> MetadataParts {
        MetadataParts {
            description: self.description,
            kms_key_id: self.kms_key_id,
            secret_type: self.secret_type,
            tags: self.tags.map(|t| {
                t.into_iter()
                    .map(|(key, value)| Tag { key, value })
                    .collect()
            }),
            last_changed_at: Millis(self.last_changed_at),
            rotation: Rotation {
                enabled: self.rotation_enabled,
                lambda_arn: self.rotation_lambda_arn,
                rules: self.rotation_rules.map(|r| RotationRules {
                    automatically_after_days: r.days,
                    duration: r.duration,
                    schedule_expression: r.schedule,
                }),
                last_rotated_at: self.last_rotated_at.map(Millis),
                next_rotation_at: self.next_rotation_at.map(Millis),
                // A column of its own (indexed for the scheduler); filled by the row reader.
                due_at: None,
            },
            resource_policy: self.resource_policy,
            primary_region: self.primary_region.map(Region),
            replicas: self
                .replicas
                .into_iter()
                .map(|r| Replica {
                    region: Region(r.region),
                    kms_key_id: r.kms_key_id,
                    status: match r.status.as_str() {
                        "Failed" => ReplicaStatus::Failed,
                        "InProgress" => ReplicaStatus::InProgress,
                        _ => ReplicaStatus::InSync,
                    },
                    status_message: r.status_message,
                    last_accessed_at: r.last_accessed_at.map(Millis),
                })
                .collect(),
        }
    }
}

/// One audit record as an entry of a stored batch (`audit_batches.records` is a JSON array of
/// them): the fields queries filter on, and the record itself.
#[derive(Debug, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub t: i64,
    pub n: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub u: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    pub r: Box<serde_json::value::RawValue>,
}

/// What [`AuditEntry`] holds besides the record, borrowed, for writing a batch.
#[derive(Serialize)]
pub struct AuditEntryFields<'a> {
    pub id: &'a str,
    pub t: i64,
    pub n: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub u: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub a: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<&'a str>,
}
