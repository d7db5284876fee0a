//! The service models the CLI is generated from: botocore's `service-2.json` and
//! `paginators-1.json` without their documentation (`secretsmanager.json`, and `iam.json` with
//! the IAM operations Tumbler serves; written by `scripts/update-cli-model`). Commands and
//! options are named as the aws CLI names them ([`cli_name`] is botocore's `xform_name`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The services `tumbler` has commands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    SecretsManager,
    Iam,
}

impl Service {
    /// The command's name, as the aws CLI's (`secretsmanager`, `iam`).
    pub fn command_name(self) -> &'static str {
        match self {
            Service::SecretsManager => "secretsmanager",
            Service::Iam => "iam",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct Model {
    #[serde(skip, default = "default_service")]
    pub service: Service,
    pub metadata: Metadata,
    pub operations: BTreeMap<String, Operation>,
    pub shapes: BTreeMap<String, Shape>,
    pub pagination: BTreeMap<String, Paginator>,
}

fn default_service() -> Service {
    Service::SecretsManager
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub api_version: String,
    /// `json` (awsJson, with `targetPrefix` and `jsonVersion`) or `query` (awsQuery).
    pub protocol: String,
    #[serde(default)]
    pub target_prefix: String,
    #[serde(default)]
    pub json_version: String,
    signing_name: Option<String>,
    endpoint_prefix: Option<String>,
}

impl Metadata {
    /// The service name requests are signed for.
    pub fn signing_name(&self) -> &str {
        self.signing_name
            .as_deref()
            .or(self.endpoint_prefix.as_deref())
            .unwrap_or_default()
    }

    pub fn is_query(&self) -> bool {
        self.protocol == "query"
    }
}

#[derive(Debug, Deserialize)]
pub struct Operation {
    pub input: Option<ShapeRef>,
    pub output: Option<OutputRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputRef {
    pub shape: String,
    /// awsQuery: the element the output is wrapped in (`GetUserResult`).
    pub result_wrapper: Option<String>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ShapeRef {
    pub shape: String,
    /// The element's name in XML, where it is not the member's.
    pub location_name: Option<String>,
    /// Filled with a new UUID when not given, as the SDKs and the aws CLI do.
    #[serde(default)]
    pub idempotency_token: bool,
}

#[derive(Debug, Deserialize)]
pub struct Shape {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub members: BTreeMap<String, ShapeRef>,
    #[serde(default)]
    pub required: Vec<String>,
    /// Members in the model's order (`members` is by name).
    #[serde(default)]
    pub order: Vec<String>,
    pub min: Option<i64>,
    pub member: Option<ShapeRef>,
    pub key: Option<ShapeRef>,
    pub value: Option<ShapeRef>,
    #[serde(rename = "enum", default)]
    pub enum_values: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Paginator {
    pub input_token: String,
    pub output_token: String,
    pub limit_key: String,
    pub result_key: String,
    /// IAM's `IsTruncated`: dropped from the merged pages, as botocore drops it.
    pub more_results: Option<String>,
}

impl Model {
    pub fn load(service: Service) -> Model {
        let text = match service {
            Service::SecretsManager => include_str!("secretsmanager.json"),
            Service::Iam => include_str!("iam.json"),
        };
        let mut model: Model = serde_json::from_str(text).expect("the embedded model parses");
        model.service = service;
        model
    }

    pub fn shape(&self, name: &str) -> &Shape {
        &self.shapes[name]
    }

    /// An operation's input members, in the model's order.
    pub fn input_members(&self, operation: &str) -> Vec<(&str, &ShapeRef)> {
        match self.input_shape(operation) {
            Some(shape) => self.members(shape),
            None => Vec::new(),
        }
    }

    /// A structure's members, in the model's order.
    pub fn members(&self, structure: &str) -> Vec<(&str, &ShapeRef)> {
        let s = self.shape(structure);
        s.order
            .iter()
            .map(|m| (m.as_str(), &s.members[m]))
            .collect()
    }

    pub fn input_shape(&self, operation: &str) -> Option<&str> {
        self.operations[operation]
            .input
            .as_ref()
            .map(|r| r.shape.as_str())
    }

    pub fn output_shape(&self, operation: &str) -> Option<&str> {
        self.operations[operation]
            .output
            .as_ref()
            .map(|r| r.shape.as_str())
    }

    /// The operation a command name (`rotate-secret`) stands for.
    pub fn operation_named(&self, command: &str) -> Option<&str> {
        self.operations
            .keys()
            .find(|op| cli_name(op) == command)
            .map(String::as_str)
    }
}

/// botocore's `xform_name(name, "-")`: `RotationLambdaARN` -> `rotation-lambda-arn`.
pub fn cli_name(name: &str) -> String {
    const SEP: char = '-';
    let chars: Vec<char> = name.chars().collect();
    // `[A-Z]{2,}s$` (ARNs, ACLs): a separator before it, lowercased.
    let mut base: Vec<char> = chars.clone();
    let mut plural_acronym = String::new();
    if chars.last() == Some(&'s') {
        let caps = chars[..chars.len() - 1]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        if caps >= 2 {
            let start = chars.len() - 1 - caps;
            plural_acronym = chars[start..].iter().collect::<String>().to_lowercase();
            base = chars[..start].to_vec();
        }
    }
    // `(.)([A-Z][a-z]+)` -> `\1-\2`, left to right without overlaps.
    let mut first = Vec::with_capacity(base.len() + 4);
    let mut i = 0;
    while i < base.len() {
        if i + 2 < base.len()
            && base[i] != '\n'
            && base[i + 1].is_ascii_uppercase()
            && base[i + 2].is_ascii_lowercase()
        {
            let mut end = i + 2;
            while end < base.len() && base[end].is_ascii_lowercase() {
                end += 1;
            }
            first.push(base[i]);
            first.push(SEP);
            first.extend_from_slice(&base[i + 1..end]);
            i = end;
        } else {
            first.push(base[i]);
            i += 1;
        }
    }
    // `([a-z0-9])([A-Z])` -> `\1-\2`.
    let mut out = String::with_capacity(first.len() + 4);
    let mut i = 0;
    while i < first.len() {
        if i + 1 < first.len()
            && (first[i].is_ascii_lowercase() || first[i].is_ascii_digit())
            && first[i + 1].is_ascii_uppercase()
        {
            out.push(first[i]);
            out.push(SEP);
            out.push(first[i + 1]);
            i += 2;
        } else {
            out.push(first[i]);
            i += 1;
        }
    }
    let mut out = out.to_lowercase();
    if !plural_acronym.is_empty() {
        if !out.is_empty() {
            out.push(SEP);
        }
        out.push_str(&plural_acronym);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_aws_clis() {
        for (name, cli) in [
            ("RotateSecret", "rotate-secret"),
            ("RotationLambdaARN", "rotation-lambda-arn"),
            ("SecretIdList", "secret-id-list"),
            ("KmsKeyId", "kms-key-id"),
            ("GetSecretValue", "get-secret-value"),
            (
                "ExternalSecretRotationRoleArn",
                "external-secret-rotation-role-arn",
            ),
            ("ListSecretVersionIds", "list-secret-version-ids"),
            ("SomeARNs", "some-arns"),
        ] {
            assert_eq!(cli_name(name), cli, "{name}");
        }
    }

    #[test]
    fn the_model_has_the_23_operations() {
        let model = Model::load(Service::SecretsManager);
        assert_eq!(model.operations.len(), 23);
        assert_eq!(model.operation_named("rotate-secret"), Some("RotateSecret"));
        assert!(model.pagination.contains_key("ListSecrets"));
    }
}
