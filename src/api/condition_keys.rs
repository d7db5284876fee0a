//! The condition keys a Secrets Manager request carries (spec §8), from the members the
//! caller sent. A key is present only when its member was sent, as on AWS: a policy asking
//! for `secretsmanager:VersionStage` does not see the default stage of a GetSecretValue that
//! named none.

use serde_json::Value;

/// `(key, values)` for every condition key the request's members give.
pub fn of_request(body: &Value) -> Vec<(String, Vec<String>)> {
    let Some(members) = body.as_object() else {
        return Vec::new();
    };
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    let mut put = |key: &str, values: Vec<String>| keys.push((key.to_owned(), values));
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    for (member, key) in [
        ("SecretId", "secretsmanager:SecretId"),
        ("Name", "secretsmanager:Name"),
        ("Description", "secretsmanager:Description"),
        ("KmsKeyId", "secretsmanager:KmsKeyArn"),
        ("VersionId", "secretsmanager:VersionId"),
        ("VersionStage", "secretsmanager:VersionStage"),
        ("RotationLambdaARN", "secretsmanager:RotationLambdaARN"),
        (
            "ForceDeleteWithoutRecovery",
            "secretsmanager:ForceDeleteWithoutRecovery",
        ),
        (
            "RecoveryWindowInDays",
            "secretsmanager:RecoveryWindowInDays",
        ),
        ("BlockPublicPolicy", "secretsmanager:BlockPublicPolicy"),
        ("RotateImmediately", "secretsmanager:RotateImmediately"),
        (
            "ForceOverwriteReplicaSecret",
            "secretsmanager:ForceOverwriteReplicaSecret",
        ),
        ("Type", "secretsmanager:Type"),
    ] {
        if let Some(v) = members.get(member).and_then(scalar) {
            put(key, vec![v.clone()]);
            if member == "KmsKeyId" {
                // The deprecated key, still accepted in policies.
                put("secretsmanager:KmsKeyId", vec![v]);
            }
        }
    }
    // UpdateSecretVersionStage sends the stage it moves in VersionStage too; its version ids
    // are MoveToVersionId/RemoveFromVersionId.
    if members.contains_key("RotationRules") {
        put("secretsmanager:ModifyRotationRules", vec!["true".into()]);
    }
    if let Some(Value::Array(replicas)) = members.get("AddReplicaRegions") {
        let regions = replicas
            .iter()
            .filter_map(|r| r.get("Region").and_then(Value::as_str).map(str::to_owned))
            .collect();
        put("secretsmanager:AddReplicaRegions", regions);
    }
    if let Some(Value::Array(tags)) = members.get("Tags") {
        let mut tag_keys = Vec::new();
        for tag in tags {
            if let (Some(k), Some(v)) = (
                tag.get("Key").and_then(Value::as_str),
                tag.get("Value").and_then(Value::as_str),
            ) {
                put(&format!("aws:RequestTag/{k}"), vec![v.to_owned()]);
                tag_keys.push(k.to_owned());
            }
        }
        put("aws:TagKeys", tag_keys);
    }
    if let Some(Value::Array(tag_keys)) = members.get("TagKeys") {
        let tag_keys = tag_keys
            .iter()
            .filter_map(|k| k.as_str().map(str::to_owned))
            .collect();
        put("aws:TagKeys", tag_keys);
    }
    keys
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn find<'a>(keys: &'a [(String, Vec<String>)], key: &str) -> Option<&'a Vec<String>> {
        keys.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    #[test]
    fn keys_are_present_only_for_members_sent() {
        let keys = of_request(&json!({"SecretId": "app/db"}));
        assert_eq!(
            find(&keys, "secretsmanager:SecretId"),
            Some(&vec!["app/db".to_owned()])
        );
        assert_eq!(find(&keys, "secretsmanager:VersionStage"), None);
        let keys = of_request(&json!({"SecretId": "app/db", "VersionStage": "AWSCURRENT"}));
        assert_eq!(
            find(&keys, "secretsmanager:VersionStage"),
            Some(&vec!["AWSCURRENT".to_owned()])
        );
    }

    #[test]
    fn tags_give_request_tags_and_tag_keys() {
        let keys = of_request(&json!({"Name": "n", "Tags": [
            {"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}
        ]}));
        assert_eq!(
            find(&keys, "aws:RequestTag/team"),
            Some(&vec!["payments".to_owned()])
        );
        assert_eq!(
            find(&keys, "aws:TagKeys"),
            Some(&vec!["team".to_owned(), "env".to_owned()])
        );
    }

    #[test]
    fn booleans_numbers_and_rules_become_strings() {
        let keys = of_request(&json!({
            "SecretId": "s", "ForceDeleteWithoutRecovery": true, "RecoveryWindowInDays": 7,
            "RotationRules": {"AutomaticallyAfterDays": 1}
        }));
        assert_eq!(
            find(&keys, "secretsmanager:ForceDeleteWithoutRecovery"),
            Some(&vec!["true".to_owned()])
        );
        assert_eq!(
            find(&keys, "secretsmanager:RecoveryWindowInDays"),
            Some(&vec!["7".to_owned()])
        );
        assert_eq!(
            find(&keys, "secretsmanager:ModifyRotationRules"),
            Some(&vec!["true".to_owned()])
        );
    }
}
