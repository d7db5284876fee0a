//! The IAM policy grammar (JSON) into the typed [`Policy`] that `domain::policy`
//! evaluates: Version, Statement (one or a list), Sid, Effect, Action/NotAction,
//! Resource/NotResource, Principal/NotPrincipal and Condition with its operators, set
//! qualifiers and `IfExists`. A document that does not follow it is refused with the reason,
//! which becomes IAM's MalformedPolicyDocument or Secrets Manager's
//! MalformedPolicyDocumentException.

use serde_json::Value;

use crate::domain::policy::{
    Condition, Effect, PatternList, Policy, PrincipalList, Statement, parse_operator,
};

/// Which kind of policy a document is: identity policies name resources and no principal;
/// resource policies name principals and apply to the resource they are attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Identity,
    Resource,
}

pub fn parse(text: &str, kind: PolicyKind) -> Result<Policy, String> {
    let doc: Value =
        serde_json::from_str(text).map_err(|e| format!("Syntax errors in policy: {e}"))?;
    let Value::Object(doc) = doc else {
        return Err("Syntax errors in policy: the policy is not a JSON object.".into());
    };
    for key in doc.keys() {
        if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
            return Err(format!("Syntax errors in policy: unknown element {key}."));
        }
    }
    match doc.get("Version") {
        None => {}
        Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => {}
        Some(_) => return Err("The policy document Version is invalid.".into()),
    }
    let statements = match doc.get("Statement") {
        Some(Value::Array(a)) if !a.is_empty() => a.iter().collect::<Vec<_>>(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => return Err("Syntax errors in policy: the policy needs a Statement.".into()),
    };
    let statements = statements
        .into_iter()
        .map(|s| statement(s, kind))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Policy { statements })
}

fn strings(value: &Value, element: &str) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(format!(
                    "Syntax errors in policy: {element} holds a non-string."
                )),
            })
            .collect(),
        _ => Err(format!(
            "Syntax errors in policy: {element} must be a string or a list of strings."
        )),
    }
}

/// `X` or `NotX`, exactly one (or neither, when `optional`).
fn pattern_list(
    s: &serde_json::Map<String, Value>,
    name: &str,
    optional: bool,
) -> Result<Option<PatternList>, String> {
    let not = format!("Not{name}");
    match (s.get(name), s.get(&not)) {
        (Some(_), Some(_)) => Err(format!(
            "Syntax errors in policy: a statement has both {name} and {not}."
        )),
        (Some(v), None) => Ok(Some(PatternList::Matching(strings(v, name)?))),
        (None, Some(v)) => Ok(Some(PatternList::NotMatching(strings(v, &not)?))),
        (None, None) if optional => Ok(None),
        (None, None) => Err(format!(
            "Syntax errors in policy: each statement needs {name} or {not}."
        )),
    }
}

fn principals(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) if s == "*" => Ok(vec!["*".into()]),
        Value::Object(o) if !o.is_empty() => {
            let mut all = Vec::new();
            for (k, v) in o {
                if !matches!(
                    k.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(format!("Invalid principal in policy: {k}"));
                }
                all.extend(strings(v, "Principal")?);
            }
            Ok(all)
        }
        _ => Err("Invalid principal in policy.".into()),
    }
}

fn statement(value: &Value, kind: PolicyKind) -> Result<Statement, String> {
    let Value::Object(s) = value else {
        return Err("Syntax errors in policy: a statement is not an object.".into());
    };
    for key in s.keys() {
        if !matches!(
            key.as_str(),
            "Sid"
                | "Effect"
                | "Principal"
                | "NotPrincipal"
                | "Action"
                | "NotAction"
                | "Resource"
                | "NotResource"
                | "Condition"
        ) {
            return Err(format!("Syntax errors in policy: unknown element {key}."));
        }
    }
    let effect = match s.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        _ => {
            return Err(
                "Syntax errors in policy: each statement needs an Effect of Allow or Deny.".into(),
            );
        }
    };
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err("Syntax errors in policy: Sid must be a string.".into()),
    };
    let principals = match (kind, s.get("Principal"), s.get("NotPrincipal")) {
        (PolicyKind::Identity, None, None) => None,
        (PolicyKind::Identity, _, _) => {
            return Err("Policy document should not specify a principal.".into());
        }
        (PolicyKind::Resource, Some(p), None) => {
            let names = principals(p)?;
            Some(if names.iter().any(|n| n == "*") {
                PrincipalList::Everyone
            } else {
                PrincipalList::Matching(names)
            })
        }
        (PolicyKind::Resource, None, Some(p)) => Some(PrincipalList::NotMatching(principals(p)?)),
        (PolicyKind::Resource, Some(_), Some(_)) => {
            return Err(
                "Syntax errors in policy: a statement has both Principal and NotPrincipal.".into(),
            );
        }
        (PolicyKind::Resource, None, None) => {
            return Err("Policy document should specify a principal.".into());
        }
    };
    let actions = pattern_list(s, "Action", false)?.expect("required");
    let resources = pattern_list(s, "Resource", kind == PolicyKind::Resource)?;
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => conditions(c)?,
    };
    Ok(Statement {
        sid,
        effect,
        principals,
        actions,
        resources,
        conditions,
    })
}

fn conditions(value: &Value) -> Result<Vec<Condition>, String> {
    let Value::Object(block) = value else {
        return Err("Syntax errors in policy: Condition must be an object.".into());
    };
    let mut out = Vec::new();
    for (operator, keys) in block {
        let (set, op, if_exists) = parse_operator(operator).ok_or_else(|| {
            format!("Syntax errors in policy: unknown condition operator {operator}.")
        })?;
        let Value::Object(keys) = keys else {
            return Err(format!(
                "Syntax errors in policy: the {operator} condition must map keys to values."
            ));
        };
        for (key, values) in keys {
            let values = match values {
                Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
                other => vec![scalar(other)?],
            };
            out.push(Condition {
                set,
                operator: op,
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    Ok(out)
}

/// A condition value: strings, and booleans and numbers as their text.
fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(
            "Syntax errors in policy: a condition value must be a string, number or boolean."
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::{Caller, Decision, RequestContext, SetQualifier, evaluate};

    const READER: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "ReadOne",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
            "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-*",
            "Condition": {
                "StringEqualsIfExists": {"secretsmanager:VersionStage": "AWSCURRENT"},
                "Bool": {"aws:SecureTransport": true}
            }
        }]
    }"#;

    #[test]
    fn an_identity_policy_parses_and_evaluates() {
        let p = parse(READER, PolicyKind::Identity).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.statements[0].conditions.len(), 2);
        let caller = Caller {
            account: "123456789012".into(),
            arn: "arn:aws:iam::123456789012:user/reader".into(),
            user_name: "reader".into(),
            user_id: "AIDAREADER".into(),
        };
        let ctx = RequestContext::new(
            "secretsmanager:GetSecretValue",
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
            caller,
        )
        .with("aws:SecureTransport", vec!["true".into()]);
        assert_eq!(
            evaluate(std::slice::from_ref(&p), None, &ctx),
            Decision::Allow
        );
        let put = RequestContext {
            action: "secretsmanager:PutSecretValue".into(),
            ..ctx
        };
        assert_eq!(evaluate(&[p], None, &put), Decision::ImplicitDeny);
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        let cases = [
            ("{", "Syntax errors in policy"),
            (r#"{"Statement": []}"#, "needs a Statement"),
            (
                r#"{"Statement": {"Effect": "Maybe", "Action": "*", "Resource": "*"}}"#,
                "Effect",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Resource": "*"}}"#,
                "Action or NotAction",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "NotAction": "x", "Resource": "*"}}"#,
                "both Action and NotAction",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}}"#,
                "should not specify a principal",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"StringSortOf": {"a": "b"}}}}"#,
                "unknown condition operator",
            ),
            (
                r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NullIfExists": {"a": "true"}}}}"#,
                "unknown condition operator",
            ),
            (
                r#"{"Version": "2020-01-01", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}"#,
                "Version",
            ),
        ];
        for (doc, expected) in cases {
            let e = parse(doc, PolicyKind::Identity).unwrap_err();
            assert!(e.contains(expected), "{doc}: {e}");
        }
        let e = parse(
            r#"{"Statement": {"Effect": "Allow", "Action": "*"}}"#,
            PolicyKind::Resource,
        )
        .unwrap_err();
        assert!(e.contains("should specify a principal"), "{e}");
    }

    #[test]
    fn a_resource_policy_names_principals_and_may_omit_the_resource() {
        let p = parse(
            r#"{"Statement": [{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:user/a", "123456789012"]}, "Action": "secretsmanager:GetSecretValue"},
                               {"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["sec*"]}, "Null": {"x": "true"}}}]}"#,
            PolicyKind::Resource,
        )
        .unwrap();
        assert_eq!(
            p.statements[0].principals,
            Some(PrincipalList::Matching(vec![
                "arn:aws:iam::123456789012:user/a".into(),
                "123456789012".into()
            ]))
        );
        assert_eq!(p.statements[1].principals, Some(PrincipalList::Everyone));
        assert!(p.statements[0].resources.is_none());
        assert_eq!(p.statements[1].conditions[0].set, SetQualifier::ForAnyValue);
    }
}
