//! Wire shapes shared by several operations, spelled as in the service model.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize, Serializer};
use zeroize::Zeroizing;

use super::validate::Constraints;
use crate::clock::Millis;
use crate::domain::filter::{Filter as DomainFilter, FilterKey};
use crate::domain::{
    Region, Replica, RotationRules as DomainRules, Secret, SecretValue, Tag as DomainTag,
};
use crate::error::{Error, Result};

/// A timestamp on the wire: epoch seconds with milliseconds, as a JSON number.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub Millis);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_f64(self.0.as_seconds_f64())
    }
}

pub fn ts(m: Millis) -> Timestamp {
    Timestamp(m)
}

pub fn ts_opt(m: Option<Millis>) -> Option<Timestamp> {
    m.map(Timestamp)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

/// Checks tags against the model (Key 1-128 and required, Value 0-256) and converts them.
pub fn tags_from_wire(member: &str, tags: &[Tag], c: &mut Constraints) -> Vec<DomainTag> {
    for (i, t) in tags.iter().enumerate() {
        let key_member = format!("{member}.{}.member.key", i + 1);
        c.required(&key_member, t.key.as_ref())
            .length(&key_member, t.key.as_deref(), 1, 128);
        c.length(
            &format!("{member}.{}.member.value", i + 1),
            t.value.as_deref(),
            0,
            256,
        );
    }
    tags.iter()
        .map(|t| DomainTag {
            key: t.key.clone().unwrap_or_default(),
            value: t.value.clone().unwrap_or_default(),
        })
        .collect()
}

pub fn tags_to_wire(tags: &[DomainTag]) -> Vec<Tag> {
    tags.iter()
        .map(|t| Tag {
            key: Some(t.key.clone()),
            value: Some(t.value.clone()),
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub values: Option<Vec<String>>,
}

const FILTER_KEYS: &[&str] = &[
    "description",
    "name",
    "tag-key",
    "tag-value",
    "primary-region",
    "owning-service",
    "all",
];

fn filter_value_ok(v: &str) -> bool {
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || " :_@/+=.-!".contains(c))
}

pub fn filters_from_wire(filters: &[Filter], c: &mut Constraints) -> Vec<DomainFilter> {
    c.list_length("filters", Some(filters), 0, 10);
    let mut out = Vec::new();
    for (i, f) in filters.iter().enumerate() {
        let key_member = format!("filters.{}.member.key", i + 1);
        c.one_of(&key_member, f.key.as_deref(), FILTER_KEYS);
        let values_member = format!("filters.{}.member.values", i + 1);
        c.list_length(&values_member, f.values.as_deref(), 1, 10);
        for v in f.values.iter().flatten() {
            c.length(&values_member, Some(v), 0, 512).pattern(
                &values_member,
                Some(v),
                "^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$",
                filter_value_ok,
            );
        }
        if let Some(key) = f.key.as_deref().and_then(FilterKey::parse) {
            out.push(DomainFilter {
                key,
                values: f.values.clone().unwrap_or_default(),
            });
        }
    }
    out
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RotationRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatically_after_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
}

impl RotationRules {
    pub fn check(&self, c: &mut Constraints) {
        c.range(
            "rotationRules.automaticallyAfterDays",
            self.automatically_after_days,
            1,
            1000,
        )
        .length("rotationRules.duration", self.duration.as_deref(), 2, 3)
        .length(
            "rotationRules.scheduleExpression",
            self.schedule_expression.as_deref(),
            1,
            256,
        );
    }

    pub fn into_domain(self) -> DomainRules {
        DomainRules {
            automatically_after_days: self.automatically_after_days,
            duration: self.duration,
            schedule_expression: self.schedule_expression,
        }
    }

    pub fn from_domain(r: &DomainRules) -> Self {
        RotationRules {
            automatically_after_days: r.automatically_after_days,
            duration: r.duration.clone(),
            schedule_expression: r.schedule_expression.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicaRegionType {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub kms_key_id: Option<String>,
}

pub fn replica_regions_from_wire(
    member: &str,
    list: &[ReplicaRegionType],
    c: &mut Constraints,
) -> Vec<(Region, Option<String>)> {
    c.list_length(member, Some(list), 1, usize::MAX);
    for (i, r) in list.iter().enumerate() {
        c.length(
            &format!("{member}.{}.member.region", i + 1),
            r.region.as_deref(),
            1,
            128,
        )
        .length(
            &format!("{member}.{}.member.kmsKeyId", i + 1),
            r.kms_key_id.as_deref(),
            0,
            2048,
        );
    }
    list.iter()
        .filter_map(|r| {
            r.region
                .clone()
                .map(|reg| (Region(reg), r.kms_key_id.clone()))
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplicationStatusType {
    pub region: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed_date: Option<Timestamp>,
}

pub fn replication_status(replicas: &[Replica]) -> Option<Vec<ReplicationStatusType>> {
    if replicas.is_empty() {
        return None;
    }
    Some(
        replicas
            .iter()
            .map(|r| ReplicationStatusType {
                region: r.region.0.clone(),
                kms_key_id: Some(
                    r.kms_key_id
                        .clone()
                        .unwrap_or_else(|| "alias/aws/secretsmanager".into()),
                ),
                status: r.status.as_str(),
                status_message: r.status_message.clone(),
                last_accessed_date: ts_opt(r.last_accessed_at),
            })
            .collect(),
    )
}

/// The members DescribeSecret and a ListSecrets entry share.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretMetadata {
    #[serde(rename = "ARN")]
    pub arn: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_enabled: Option<bool>,
    #[serde(rename = "RotationLambdaARN", skip_serializing_if = "Option::is_none")]
    pub rotation_lambda_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_rules: Option<RotationRules>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rotated_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_changed_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_accessed_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_region: Option<String>,
}

impl SecretMetadata {
    pub fn of(s: &Secret) -> SecretMetadata {
        SecretMetadata {
            arn: s.arn.0.clone(),
            name: s.name.as_str().to_owned(),
            r#type: s.secret_type.clone(),
            description: s.description.clone(),
            kms_key_id: s.kms_key_id.clone(),
            rotation_enabled: s.rotation.enabled,
            rotation_lambda_arn: s.rotation.lambda_arn.clone(),
            rotation_rules: s.rotation.rules.as_ref().map(|r| {
                let mut wire = RotationRules::from_domain(r);
                wire.automatically_after_days = s.reported_rotation_days();
                wire
            }),
            last_rotated_date: ts_opt(s.rotation.last_rotated_at),
            last_changed_date: Some(ts(s.last_changed_at)),
            last_accessed_date: ts_opt(s.last_accessed_at),
            deleted_date: ts_opt(s.deleted_at),
            // Only an enabled rotation has a next date (spec §4.7).
            next_rotation_date: if s.rotation.enabled == Some(true) {
                ts_opt(s.rotation.next_rotation_at)
            } else {
                None
            },
            tags: s.tags.as_deref().map(tags_to_wire),
            created_date: Some(ts(s.created_at)),
            primary_region: s.primary_region.as_ref().map(|r| r.0.clone()),
        }
    }
}

/// VersionId -> labels, for versions that have labels.
pub fn versions_to_stages(s: &Secret) -> Option<BTreeMap<String, Vec<String>>> {
    let map: BTreeMap<String, Vec<String>> = s
        .labelled_versions()
        .map(|v| (v.id.clone(), v.stages.iter().cloned().collect()))
        .collect();
    (!map.is_empty()).then_some(map)
}

/// SecretString or SecretBinary from a request: exactly one, within the size limit.
pub fn secret_value_from_wire(
    string: Option<String>,
    binary: Option<String>,
    c: &mut Constraints,
) -> Result<Option<SecretValue>> {
    let binary = match binary {
        Some(b) => Some(Zeroizing::new(STANDARD.decode(b.as_bytes()).map_err(|_| {
            Error::Validation("1 validation error detected: Value at 'secretBinary' failed to satisfy constraint: Member must be valid base64-encoded binary data".into())
        })?)),
        None => None,
    };
    let string = string.map(Zeroizing::new);
    // The quota is 65,536 bytes of value (spec §2); for ASCII that is the model's character limit.
    c.sensitive_length("secretString", string.as_ref().map(|s| s.len()), 1, 65_536)
        .sensitive_length("secretBinary", binary.as_ref().map(|b| b.len()), 1, 65_536);
    c.finish()?;
    match (string, binary) {
        (Some(_), Some(_)) => Err(Error::InvalidParameter(
            "You can't specify both a binary secret value and a string secret value in the same secret.".into(),
        )),
        (Some(s), None) => Ok(Some(SecretValue::String(s))),
        (None, Some(b)) => Ok(Some(SecretValue::Binary(b))),
        (None, None) => Ok(None),
    }
}

/// The value members of a response.
#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ValueMembers {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_binary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_string: Option<String>,
}

impl ValueMembers {
    pub fn of(v: &SecretValue) -> ValueMembers {
        match v {
            SecretValue::String(s) => ValueMembers {
                secret_string: Some(s.to_string()),
                secret_binary: None,
            },
            SecretValue::Binary(b) => ValueMembers {
                secret_binary: Some(STANDARD.encode(b.as_slice())),
                secret_string: None,
            },
        }
    }
}

/// ClientRequestToken's model constraint (32-64 characters).
pub fn check_token(c: &mut Constraints, token: Option<&str>) {
    c.length("clientRequestToken", token, 32, 64);
}

/// SecretId's model constraint; the name rules are the domain's.
pub fn check_secret_id(c: &mut Constraints, secret_id: Option<&String>) {
    c.required("secretId", secret_id)
        .length("secretId", secret_id.map(String::as_str), 1, 2048);
}
