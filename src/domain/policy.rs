//! IAM policy evaluation, as AWS evaluates identity-based and resource-based policies within
//! one account: an explicit Deny in any policy wins; otherwise an Allow in either kind
//! allows; otherwise the request is implicitly denied.
//!
//! Policies arrive here typed (`service::policy_document` parses the JSON grammar). A
//! [`RequestContext`] holds the action, the resource and the condition keys the request
//! carries: request-parameter keys are present only when the caller sent the parameter, as
//! on AWS.

use std::collections::BTreeMap;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A list of patterns, or its negation (`NotAction`, `NotResource`, `NotPrincipal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternList {
    Matching(Vec<String>),
    NotMatching(Vec<String>),
}

/// Who a resource policy's statement is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalList {
    /// `"*"` or `{"AWS": "*"}`.
    Everyone,
    /// Account ids, `arn:aws:iam::<account>:root`, user or role ARNs, service names.
    Matching(Vec<String>),
    NotMatching(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    /// A single-valued key.
    Single,
    /// `ForAnyValue:`: at least one of the request's values matches.
    ForAnyValue,
    /// `ForAllValues:`: every one of the request's values matches (none at all does too).
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl OperatorKind {
    pub fn parse(name: &str) -> Option<OperatorKind> {
        use OperatorKind::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators are true when no value matches (and when the key is missing).
    fn negated(self) -> bool {
        use OperatorKind::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }
}

/// One operator and key of a Condition block with its values (ORed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub set: SetQualifier,
    pub operator: OperatorKind,
    /// `...IfExists`: a missing key satisfies the condition.
    pub if_exists: bool,
    pub key: String,
    pub values: Vec<String>,
}

/// A Condition block's operator name, `[ForAnyValue:|ForAllValues:]<Operator>[IfExists]`:
/// its set qualifier, operator and whether it is `...IfExists` (which `Null` cannot be).
pub fn parse_operator(name: &str) -> Option<(SetQualifier, OperatorKind, bool)> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (SetQualifier::ForAnyValue, r)
    } else if let Some(r) = name.strip_prefix("ForAllValues:") {
        (SetQualifier::ForAllValues, r)
    } else {
        (SetQualifier::Single, name)
    };
    let (operator, if_exists) = match rest.strip_suffix("IfExists") {
        Some(o) if o != "Null" => (o, true),
        _ => (rest, false),
    };
    Some((set, OperatorKind::parse(operator)?, if_exists))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    /// Resource policies only.
    pub principals: Option<PrincipalList>,
    pub actions: PatternList,
    /// Absent in resource policies: the resource the policy is attached to.
    pub resources: Option<PatternList>,
    /// ANDed.
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub statements: Vec<Statement>,
}

impl Policy {
    /// Whether evaluating it can depend on condition keys: a Condition or a policy variable.
    /// Without one, a request's keys need not be gathered.
    pub fn uses_condition_keys(&self) -> bool {
        let variable = |list: &PatternList| match list {
            PatternList::Matching(p) | PatternList::NotMatching(p) => {
                p.iter().any(|p| p.contains("${"))
            }
        };
        self.statements.iter().any(|s| {
            !s.conditions.is_empty()
                || variable(&s.actions)
                || s.resources.as_ref().is_some_and(variable)
        })
    }
}

/// Who is asking, as policies see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    /// `arn:aws:iam::<account>:user/<name>` (or an assumed-role ARN).
    pub arn: String,
    pub user_name: String,
    pub user_id: String,
}

/// One request, as policies see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// `secretsmanager:GetSecretValue`.
    pub action: String,
    /// The secret's ARN, or `*` for actions without a resource.
    pub resource: String,
    pub caller: Caller,
    /// Condition keys, lowercased, with their values; a key is absent when the request does
    /// not carry it.
    pub keys: BTreeMap<String, Vec<String>>,
}

impl RequestContext {
    /// A context without condition keys, for policies that use none
    /// ([`Policy::uses_condition_keys`]).
    pub fn bare(action: &str, resource: &str, caller: Caller) -> RequestContext {
        RequestContext {
            action: action.to_owned(),
            resource: resource.to_owned(),
            caller,
            keys: BTreeMap::new(),
        }
    }

    pub fn new(action: &str, resource: &str, caller: Caller) -> RequestContext {
        let mut keys = BTreeMap::new();
        keys.insert("aws:username".into(), vec![caller.user_name.clone()]);
        keys.insert("aws:userid".into(), vec![caller.user_id.clone()]);
        keys.insert("aws:principalarn".into(), vec![caller.arn.clone()]);
        keys.insert("aws:principalaccount".into(), vec![caller.account.clone()]);
        RequestContext {
            action: action.to_owned(),
            resource: resource.to_owned(),
            caller,
            keys,
        }
    }

    /// Sets a condition key (names are case-insensitive, as IAM's).
    pub fn with(mut self, key: &str, values: Vec<String>) -> RequestContext {
        self.keys.insert(key.to_ascii_lowercase(), values);
        self
    }

    fn values(&self, key: &str) -> Option<&Vec<String>> {
        self.keys.get(&key.to_ascii_lowercase())
    }

    /// `${aws:username}` and the other policy variables, from the request's keys.
    fn substitute(&self, pattern: &str) -> String {
        if !pattern.contains("${") {
            return pattern.to_owned();
        }
        let mut out = String::new();
        let mut rest = pattern;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let name = &after[..end];
            let value = match name {
                "*" | "?" | "$" => name.to_owned(),
                _ => self
                    .values(name)
                    .and_then(|v| v.first().cloned())
                    // An unknown variable matches nothing.
                    .unwrap_or_else(|| "\u{0}".to_owned()),
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// The outcome, and which kind of policy decided it (for AccessDeniedException's text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// No policy allows it.
    ImplicitDeny,
    DenyByIdentityPolicy,
    DenyByResourcePolicy,
}

/// `*` (any run) and `?` (one character), as IAM matches actions and resources.
pub fn wildcard_match(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    // Iterative glob matching with one backtrack point.
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn list_matches(list: &PatternList, text: &str, ignore_case: bool, ctx: &RequestContext) -> bool {
    let any = |patterns: &Vec<String>| {
        patterns
            .iter()
            .any(|p| wildcard_match(&ctx.substitute(p), text, ignore_case))
    };
    match list {
        PatternList::Matching(p) => any(p),
        PatternList::NotMatching(p) => !any(p),
    }
}

/// Whether a resource policy statement's principal covers the caller. Naming the account (its
/// id or `:root` ARN) in an Allow delegates to the account's identity policies rather than
/// granting by itself, as AWS evaluates it within one account; in a Deny it covers every
/// principal of the account.
fn principal_matches(list: &PrincipalList, caller: &Caller, effect: Effect) -> bool {
    let names = |p: &str| {
        let account = p == caller.account || p == format!("arn:aws:iam::{}:root", caller.account);
        p == "*"
            || (account && effect == Effect::Deny)
            || (!account && wildcard_match(p, &caller.arn, false))
    };
    match list {
        PrincipalList::Everyone => true,
        PrincipalList::Matching(p) => p.iter().any(|p| names(p)),
        PrincipalList::NotMatching(p) => !p.iter().any(|p| names(p)),
    }
}

fn number(text: &str) -> Option<f64> {
    text.trim().parse().ok()
}

/// A date as epoch seconds: ISO 8601, or epoch seconds.
fn date(text: &str) -> Option<f64> {
    if let Some(n) = number(text) {
        return Some(n);
    }
    let ts: jiff::Timestamp = text.trim().parse().ok()?;
    Some(ts.as_millisecond() as f64 / 1000.0)
}

fn ip_in(cidr: &str, ip: &str) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.trim().parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

/// Whether one request value matches one policy value under a (positive) operator.
fn value_matches(op: OperatorKind, policy: &str, request: &str) -> bool {
    use OperatorKind::*;
    match op {
        StringEquals | StringNotEquals | ArnEquals | ArnNotEquals => policy == request,
        StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
            policy.to_lowercase() == request.to_lowercase()
        }
        StringLike | StringNotLike | ArnLike | ArnNotLike => wildcard_match(policy, request, false),
        NumericEquals | NumericNotEquals => {
            matches!((number(policy), number(request)), (Some(a), Some(b)) if a == b)
        }
        NumericLessThan => matches!((number(policy), number(request)), (Some(p), Some(r)) if r < p),
        NumericLessThanEquals => {
            matches!((number(policy), number(request)), (Some(p), Some(r)) if r <= p)
        }
        NumericGreaterThan => {
            matches!((number(policy), number(request)), (Some(p), Some(r)) if r > p)
        }
        NumericGreaterThanEquals => {
            matches!((number(policy), number(request)), (Some(p), Some(r)) if r >= p)
        }
        DateEquals | DateNotEquals => {
            matches!((date(policy), date(request)), (Some(a), Some(b)) if a == b)
        }
        DateLessThan => matches!((date(policy), date(request)), (Some(p), Some(r)) if r < p),
        DateLessThanEquals => matches!((date(policy), date(request)), (Some(p), Some(r)) if r <= p),
        DateGreaterThan => matches!((date(policy), date(request)), (Some(p), Some(r)) if r > p),
        DateGreaterThanEquals => {
            matches!((date(policy), date(request)), (Some(p), Some(r)) if r >= p)
        }
        Bool => policy.eq_ignore_ascii_case(request),
        IpAddress | NotIpAddress => ip_in(policy, request),
        Null => false,
    }
}

fn condition_holds(c: &Condition, ctx: &RequestContext) -> bool {
    let present = ctx.values(&c.key);
    if c.operator == OperatorKind::Null {
        let absent = present.is_none_or(|v| v.is_empty());
        return c
            .values
            .iter()
            .any(|v| v.eq_ignore_ascii_case("true") == absent);
    }
    let policy_values: Vec<String> = c.values.iter().map(|v| ctx.substitute(v)).collect();
    let negated = c.operator.negated();
    let one_matches = |request: &str| {
        let any = policy_values
            .iter()
            .any(|p| value_matches(c.operator, p, request));
        if negated { !any } else { any }
    };
    let Some(values) = present.filter(|v| !v.is_empty()) else {
        // A missing key: IfExists and ForAllValues hold, negated operators hold, the rest do not.
        return c.if_exists || c.set == SetQualifier::ForAllValues || negated;
    };
    match c.set {
        SetQualifier::Single | SetQualifier::ForAnyValue => values.iter().any(|v| one_matches(v)),
        SetQualifier::ForAllValues => values.iter().all(|v| one_matches(v)),
    }
}

/// Whether a statement applies to the request: its principal (resource policies), action,
/// resource and every condition.
fn statement_applies(s: &Statement, ctx: &RequestContext, resource_policy: bool) -> bool {
    if resource_policy {
        match &s.principals {
            Some(p) if principal_matches(p, &ctx.caller, s.effect) => {}
            _ => return false,
        }
    }
    if !list_matches(&s.actions, &ctx.action, true, ctx) {
        return false;
    }
    if let Some(resources) = &s.resources
        && !list_matches(resources, &ctx.resource, false, ctx)
    {
        return false;
    }
    s.conditions.iter().all(|c| condition_holds(c, ctx))
}

/// AWS's evaluation within one account.
pub fn evaluate(
    identity: &[Policy],
    resource_policy: Option<&Policy>,
    ctx: &RequestContext,
) -> Decision {
    let applying = |policy: &Policy, effect: Effect, resource: bool| {
        policy
            .statements
            .iter()
            .any(|s| s.effect == effect && statement_applies(s, ctx, resource))
    };
    if identity.iter().any(|p| applying(p, Effect::Deny, false)) {
        return Decision::DenyByIdentityPolicy;
    }
    if resource_policy.is_some_and(|p| applying(p, Effect::Deny, true)) {
        return Decision::DenyByResourcePolicy;
    }
    if identity.iter().any(|p| applying(p, Effect::Allow, false))
        || resource_policy.is_some_and(|p| applying(p, Effect::Allow, true))
    {
        return Decision::Allow;
    }
    Decision::ImplicitDeny
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SECRET: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf";

    fn caller(name: &str) -> Caller {
        Caller {
            account: "123456789012".into(),
            arn: format!("arn:aws:iam::123456789012:user/{name}"),
            user_name: name.into(),
            user_id: format!("AIDA{}", name.to_uppercase()),
        }
    }

    fn ctx(action: &str) -> RequestContext {
        RequestContext::new(&format!("secretsmanager:{action}"), SECRET, caller("alice"))
    }

    fn statement(effect: Effect, actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            sid: None,
            effect,
            principals: None,
            actions: PatternList::Matching(actions.iter().map(|s| s.to_string()).collect()),
            resources: Some(PatternList::Matching(
                resources.iter().map(|s| s.to_string()).collect(),
            )),
            conditions: Vec::new(),
        }
    }

    fn policy(statements: Vec<Statement>) -> Policy {
        Policy { statements }
    }

    fn condition(op: &str, key: &str, values: &[&str]) -> Condition {
        let (set, operator, if_exists) = parse_operator(op).unwrap();
        Condition {
            set,
            operator,
            if_exists,
            key: key.into(),
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn wildcards_match_actions_without_case_and_resources_with_it() {
        assert!(wildcard_match(
            "secretsmanager:Get*",
            "secretsmanager:getsecretvalue",
            true
        ));
        assert!(wildcard_match(
            "arn:aws:secretsmanager:*:*:secret:prod/*",
            SECRET,
            false
        ));
        assert!(!wildcard_match(
            "arn:aws:secretsmanager:*:*:secret:Prod/*",
            SECRET,
            false
        ));
        assert!(wildcard_match("a?c", "abc", false));
        assert!(!wildcard_match("a?c", "ac", false));
        assert!(wildcard_match("*", "", false));
    }

    #[test]
    fn no_allow_is_an_implicit_deny_and_an_explicit_deny_wins() {
        let allow = policy(vec![statement(
            Effect::Allow,
            &["secretsmanager:*"],
            &["*"],
        )]);
        assert_eq!(
            evaluate(&[], None, &ctx("GetSecretValue")),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(std::slice::from_ref(&allow), None, &ctx("GetSecretValue")),
            Decision::Allow
        );
        let deny = policy(vec![statement(
            Effect::Deny,
            &["secretsmanager:GetSecretValue"],
            &[SECRET],
        )]);
        assert_eq!(
            evaluate(&[allow.clone(), deny.clone()], None, &ctx("GetSecretValue")),
            Decision::DenyByIdentityPolicy
        );
        assert_eq!(
            evaluate(&[allow, deny], None, &ctx("DescribeSecret")),
            Decision::Allow
        );
    }

    #[test]
    fn not_action_and_not_resource_invert_the_match() {
        let mut s = statement(Effect::Allow, &[], &["*"]);
        s.actions = PatternList::NotMatching(vec!["secretsmanager:Delete*".into()]);
        let p = policy(vec![s]);
        assert_eq!(
            evaluate(std::slice::from_ref(&p), None, &ctx("GetSecretValue")),
            Decision::Allow
        );
        assert_eq!(
            evaluate(&[p], None, &ctx("DeleteSecret")),
            Decision::ImplicitDeny
        );
        let mut s = statement(Effect::Allow, &["*"], &[]);
        s.resources = Some(PatternList::NotMatching(vec!["*:secret:prod/*".into()]));
        assert_eq!(
            evaluate(&[policy(vec![s])], None, &ctx("GetSecretValue")),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn a_resource_policy_allows_its_principals_and_its_deny_wins() {
        let mut s = statement(Effect::Allow, &["secretsmanager:GetSecretValue"], &["*"]);
        s.principals = Some(PrincipalList::Matching(vec![
            "arn:aws:iam::123456789012:user/alice".into(),
        ]));
        s.resources = None;
        let rp = policy(vec![s.clone()]);
        assert_eq!(
            evaluate(&[], Some(&rp), &ctx("GetSecretValue")),
            Decision::Allow
        );
        let bob = RequestContext::new("secretsmanager:GetSecretValue", SECRET, caller("bob"));
        assert_eq!(evaluate(&[], Some(&rp), &bob), Decision::ImplicitDeny);
        s.effect = Effect::Deny;
        s.principals = Some(PrincipalList::Everyone);
        let allow = policy(vec![statement(Effect::Allow, &["*"], &["*"])]);
        assert_eq!(
            evaluate(&[allow], Some(&policy(vec![s])), &ctx("GetSecretValue")),
            Decision::DenyByResourcePolicy
        );
    }

    #[test]
    fn naming_the_account_in_a_resource_policy_delegates_to_identity_policies() {
        let mut s = statement(Effect::Allow, &["secretsmanager:GetSecretValue"], &["*"]);
        s.resources = None;
        for account in ["arn:aws:iam::123456789012:root", "123456789012"] {
            s.effect = Effect::Allow;
            s.principals = Some(PrincipalList::Matching(vec![account.into()]));
            let rp = policy(vec![s.clone()]);
            // Alone it grants nothing; with an identity allow the call is allowed.
            assert_eq!(
                evaluate(&[], Some(&rp), &ctx("GetSecretValue")),
                Decision::ImplicitDeny
            );
            let allow = policy(vec![statement(Effect::Allow, &["*"], &["*"])]);
            assert_eq!(
                evaluate(
                    std::slice::from_ref(&allow),
                    Some(&rp),
                    &ctx("GetSecretValue")
                ),
                Decision::Allow
            );
            // A Deny naming the account covers everyone in it.
            s.effect = Effect::Deny;
            let rp = policy(vec![s.clone()]);
            assert_eq!(
                evaluate(&[allow], Some(&rp), &ctx("GetSecretValue")),
                Decision::DenyByResourcePolicy
            );
        }
    }

    #[test]
    fn conditions_by_operator() {
        let c = ctx("GetSecretValue")
            .with("secretsmanager:VersionStage", vec!["AWSCURRENT".into()])
            .with("aws:SourceIp", vec!["10.1.2.3".into()])
            .with("aws:CurrentTime", vec!["2026-11-27T00:00:00Z".into()])
            .with("aws:SecureTransport", vec!["false".into()])
            .with("secretsmanager:RecoveryWindowInDays", vec!["7".into()])
            .with("aws:TagKeys", vec!["team".into(), "env".into()]);
        let holds =
            |op: &str, key: &str, values: &[&str]| condition_holds(&condition(op, key, values), &c);
        assert!(holds(
            "StringEquals",
            "secretsmanager:VersionStage",
            &["AWSPREVIOUS", "AWSCURRENT"]
        ));
        assert!(!holds(
            "StringEquals",
            "secretsmanager:versionstage",
            &["awscurrent"]
        ));
        assert!(holds(
            "StringEqualsIgnoreCase",
            "secretsmanager:VersionStage",
            &["awscurrent"]
        ));
        assert!(holds(
            "StringNotEquals",
            "secretsmanager:VersionStage",
            &["AWSPREVIOUS"]
        ));
        assert!(holds("StringLike", "aws:username", &["ali*"]));
        assert!(holds("StringEquals", "aws:username", &["${aws:username}"]));
        assert!(holds(
            "NumericLessThanEquals",
            "secretsmanager:RecoveryWindowInDays",
            &["7"]
        ));
        assert!(!holds(
            "NumericLessThan",
            "secretsmanager:RecoveryWindowInDays",
            &["7"]
        ));
        assert!(holds(
            "DateLessThan",
            "aws:CurrentTime",
            &["2027-01-01T00:00:00Z"]
        ));
        assert!(holds("Bool", "aws:SecureTransport", &["false"]));
        assert!(holds("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]));
        assert!(holds("NotIpAddress", "aws:SourceIp", &["192.168.0.0/16"]));
        assert!(holds(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::*:user/alice"]
        ));
        assert!(holds("ForAnyValue:StringEquals", "aws:TagKeys", &["team"]));
        assert!(!holds(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            &["team"]
        ));
        assert!(holds(
            "ForAllValues:StringEquals",
            "aws:TagKeys",
            &["team", "env", "x"]
        ));
    }

    #[test]
    fn a_missing_key_fails_positive_operators_and_satisfies_if_exists_null_and_negations() {
        let c = ctx("GetSecretValue");
        let holds = |op: &str, values: &[&str]| {
            condition_holds(&condition(op, "secretsmanager:VersionStage", values), &c)
        };
        // A GetSecretValue relying on the default stage carries no VersionStage (spec §8).
        assert!(!holds("StringEquals", &["AWSCURRENT"]));
        assert!(holds("StringEqualsIfExists", &["AWSCURRENT"]));
        assert!(holds("StringNotEquals", &["AWSPREVIOUS"]));
        assert!(holds("Null", &["true"]));
        assert!(!holds("Null", &["false"]));
        assert!(holds("ForAllValues:StringEquals", &["x"]));
        assert!(!holds("ForAnyValue:StringEquals", &["x"]));
    }

    fn arb_pattern() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            Just("secretsmanager:*".to_owned()),
            Just("secretsmanager:Get*".to_owned()),
            Just("secretsmanager:GetSecretValue".to_owned()),
            Just("secretsmanager:DescribeSecret".to_owned()),
            Just("secretsmanager:?utSecretValue".to_owned()),
        ]
    }

    fn arb_statement() -> impl Strategy<Value = Statement> {
        (
            any::<bool>(),
            any::<bool>(),
            proptest::collection::vec(arb_pattern(), 1..3),
            prop_oneof![
                Just("*".to_owned()),
                Just(SECRET.to_owned()),
                Just("arn:aws:secretsmanager:*:*:secret:prod/*".to_owned()),
                Just("arn:aws:secretsmanager:*:*:secret:dev/*".to_owned())
            ],
            proptest::option::of(prop_oneof![
                Just(condition("StringEquals", "aws:username", &["alice"])),
                Just(condition(
                    "StringEqualsIfExists",
                    "secretsmanager:VersionStage",
                    &["AWSCURRENT"]
                )),
                Just(condition("Null", "secretsmanager:VersionId", &["true"])),
                Just(condition("StringNotEquals", "aws:username", &["bob"])),
            ]),
        )
            .prop_map(|(deny, not_action, actions, resource, cond)| Statement {
                sid: None,
                effect: if deny { Effect::Deny } else { Effect::Allow },
                principals: None,
                actions: if not_action {
                    PatternList::NotMatching(actions)
                } else {
                    PatternList::Matching(actions)
                },
                resources: Some(PatternList::Matching(vec![resource])),
                conditions: cond.into_iter().collect(),
            })
    }

    proptest! {
        /// Whatever else the policies say, a Deny whose action, resource and conditions cover
        /// the request is never overridden.
        #[test]
        fn no_evaluation_allows_what_an_explicit_deny_covers(
            identity in proptest::collection::vec(proptest::collection::vec(arb_statement(), 0..5), 0..3),
            resource in proptest::collection::vec(arb_statement(), 0..4),
            in_resource_policy in any::<bool>(),
        ) {
            let request = ctx("GetSecretValue");
            let covering = statement(Effect::Deny, &["secretsmanager:Get*"], &[SECRET]);
            let mut identity: Vec<Policy> = identity.into_iter().map(policy).collect();
            let mut resource: Vec<Statement> = resource
                .into_iter()
                .map(|mut s| { s.principals = Some(PrincipalList::Everyone); s.resources = None; s })
                .collect();
            if in_resource_policy {
                let mut d = covering;
                d.principals = Some(PrincipalList::Everyone);
                d.resources = None;
                resource.push(d);
            } else {
                identity.push(policy(vec![covering]));
            }
            let rp = policy(resource);
            let decision = evaluate(&identity, Some(&rp), &request);
            prop_assert!(matches!(decision, Decision::DenyByIdentityPolicy | Decision::DenyByResourcePolicy), "{decision:?}");
        }
    }
}
