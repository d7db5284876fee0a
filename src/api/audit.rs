//! What of a call's request and response goes into its audit record. Chosen by name: request
//! members except secret values (CloudTrail's camelCase names), and from a write's response
//! only the identifiers. A secret value, a generated password or a secret access key can
//! never reach a record through here.

use serde_json::{Map, Value};

/// Request members that hold secret material and are never recorded.
const SECRET_MEMBERS: &[&str] = &["SecretString", "SecretBinary"];
/// Response members recorded for writes.
const RESPONSE_MEMBERS: &[&str] = &["ARN", "Name", "VersionId"];

/// `SecretId` -> `secretId`, `ARN` -> `aRN`... as CloudTrail spells request members.
pub(crate) fn camel(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub fn request_parameters(body: &Value) -> Value {
    let Some(members) = body.as_object() else {
        return Value::Null;
    };
    let kept: Map<String, Value> = members
        .iter()
        .filter(|(k, _)| !SECRET_MEMBERS.contains(&k.as_str()))
        .map(|(k, v)| (camel(k), v.clone()))
        .collect();
    Value::Object(kept)
}

/// `Null` for reads and failures (the caller passes `Null`), the identifiers for writes.
pub fn response_elements(response: &Value) -> Value {
    let Some(members) = response.as_object() else {
        return Value::Null;
    };
    let kept: Map<String, Value> = RESPONSE_MEMBERS
        .iter()
        .filter_map(|m| members.get(*m).map(|v| (camel(m), v.clone())))
        .collect();
    if kept.is_empty() {
        Value::Null
    } else {
        Value::Object(kept)
    }
}

/// `{"ARN": ...}` of a response, read without copying anything else out of it (a read's
/// response holds the secret value).
pub fn arn_only(body: &[u8]) -> Value {
    #[derive(serde::Deserialize)]
    struct ArnOnly {
        #[serde(rename = "ARN")]
        arn: Option<String>,
    }
    match serde_json::from_slice::<ArnOnly>(body) {
        Ok(ArnOnly { arn: Some(arn) }) => serde_json::json!({ "ARN": arn }),
        _ => Value::Null,
    }
}

/// The secret a call was about: the ARN the response names, else the SecretId (or Name) sent.
pub fn secret_of<'a>(response: &'a Value, request: &'a Value) -> Option<&'a str> {
    response
        .get("ARN")
        .and_then(Value::as_str)
        .or_else(|| request.get("SecretId").and_then(Value::as_str))
        .or_else(|| request.get("Name").and_then(Value::as_str))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secret_values_never_reach_request_parameters() {
        let p = request_parameters(&json!({
            "SecretId": "app/db", "SecretString": "hunter2", "SecretBinary": "aHVudGVyMg==",
            "ClientRequestToken": "t"
        }));
        assert_eq!(p, json!({"secretId": "app/db", "clientRequestToken": "t"}));
    }

    #[test]
    fn responses_keep_only_identifiers() {
        let r = response_elements(&json!({
            "ARN": "arn:x", "Name": "n", "VersionId": "v", "SecretString": "hunter2",
            "RandomPassword": "p"
        }));
        assert_eq!(r, json!({"aRN": "arn:x", "name": "n", "versionId": "v"}));
    }
}
