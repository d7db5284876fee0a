//! ListSecrets filters (spec §6.3): which secrets a filter list keeps.
//!
//! Filters with different keys AND together, and so do two filters with the same key; the
//! values inside one filter OR together. A value that starts with `!` matches the secrets the
//! rest of the value does not match.

use super::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKey {
    Description,
    Name,
    TagKey,
    TagValue,
    PrimaryRegion,
    OwningService,
    All,
}

impl FilterKey {
    pub fn parse(key: &str) -> Option<FilterKey> {
        Some(match key {
            "description" => FilterKey::Description,
            "name" => FilterKey::Name,
            "tag-key" => FilterKey::TagKey,
            "tag-value" => FilterKey::TagValue,
            "primary-region" => FilterKey::PrimaryRegion,
            "owning-service" => FilterKey::OwningService,
            "all" => FilterKey::All,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub key: FilterKey,
    pub values: Vec<String>,
}

/// Whether `secret` passes every filter.
pub fn matches_all(filters: &[Filter], secret: &Secret) -> bool {
    filters
        .iter()
        .all(|f| f.values.iter().any(|v| matches_value(f.key, v, secret)))
}

fn matches_value(key: FilterKey, value: &str, secret: &Secret) -> bool {
    match value.strip_prefix('!') {
        Some(rest) => !matches_positive(key, rest, secret),
        None => matches_positive(key, value, secret),
    }
}

fn matches_positive(key: FilterKey, value: &str, secret: &Secret) -> bool {
    let tags = secret.tags.as_deref().unwrap_or_default();
    match key {
        // The documented rule: prefix match, case-sensitive.
        FilterKey::Name => secret.name.as_str().starts_with(value),
        FilterKey::TagKey => tags.iter().any(|t| t.key.starts_with(value)),
        FilterKey::TagValue => tags.iter().any(|t| t.value.starts_with(value)),
        FilterKey::PrimaryRegion => secret
            .primary_region
            .as_ref()
            .unwrap_or(&secret.region)
            .0
            .starts_with(value),
        // Only services' managed secrets have an owner, and Tumbler makes none.
        FilterKey::OwningService => false,
        FilterKey::Description => {
            let words = words(secret.description.as_deref().unwrap_or(""));
            every_word_prefixes_one_of(value, &words)
        }
        FilterKey::All => {
            let mut tokens = name_tokens(secret.name.as_str());
            tokens.extend(words(secret.description.as_deref().unwrap_or("")));
            for t in tags {
                tokens.extend(words(&t.key));
                tokens.extend(name_tokens(&t.key));
                tokens.extend(words(&t.value));
            }
            every_word_prefixes_one_of(value, &tokens)
        }
    }
}

/// Word-prefix match, case-insensitive: every word of `value` starts some token.
fn every_word_prefixes_one_of(value: &str, tokens: &[String]) -> bool {
    let wanted = words(value);
    !wanted.is_empty()
        && wanted
            .iter()
            .all(|w| tokens.iter().any(|t| t.starts_with(w.as_str())))
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// A name split the way the `all` filter reads it: at `/ _ + = . @ -` and at CamelCase humps
/// (so `sec` finds `SecretOne`, and `one` finds it too, but `ret` does not). The whole name is a
/// token as well, so a prefix of the full name always matches.
fn name_tokens(name: &str) -> Vec<String> {
    let mut tokens = vec![name.to_lowercase()];
    for part in name.split(['/', '_', '+', '=', '.', '@', '-']) {
        if part.is_empty() {
            continue;
        }
        tokens.push(part.to_lowercase());
        let chars: Vec<char> = part.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let hump = chars[i].is_uppercase() && chars[i - 1].is_lowercase();
            if hump {
                tokens.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        if start > 0 {
            tokens.push(chars[start..].iter().collect::<String>().to_lowercase());
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Millis;
    use crate::domain::name::{AccountId, Arn, Region, SecretName};
    use crate::domain::secret::Tag;

    fn secret(name: &str, description: Option<&str>, tags: &[(&str, &str)]) -> Secret {
        let region = Region("us-east-1".into());
        let name = SecretName::parse(name).unwrap();
        let arn = Arn::with_suffix(&region, &AccountId("1".into()), &name, "abcdef");
        let tags = tags
            .iter()
            .map(|(k, v)| Tag {
                key: k.to_string(),
                value: v.to_string(),
            })
            .collect();
        Secret {
            description: description.map(str::to_owned),
            tags: Some(tags),
            ..Secret::new("id".into(), region, name, arn, Millis(0))
        }
    }

    fn f(key: FilterKey, values: &[&str]) -> Filter {
        Filter {
            key,
            values: values.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn name_is_a_case_sensitive_prefix_of_the_whole_name() {
        let s = secret("testing1/one-x", None, &[]);
        assert!(matches_all(&[f(FilterKey::Name, &["testing1"])], &s));
        assert!(matches_all(&[f(FilterKey::Name, &["testing1/"])], &s));
        assert!(!matches_all(&[f(FilterKey::Name, &["Testing1"])], &s));
        assert!(!matches_all(&[f(FilterKey::Name, &["testing1 one"])], &s));
        assert!(!matches_all(&[f(FilterKey::Name, &["one"])], &s));
    }

    #[test]
    fn description_needs_every_word_to_prefix_a_word_case_insensitively() {
        let a = secret("a", Some("a secret"), &[]);
        let an = secret("b", Some("An Secret"), &[]);
        let joined = secret("c", Some("asecret"), &[]);
        let filter = [f(FilterKey::Description, &["a secret"])];
        assert!(matches_all(&filter, &a));
        assert!(matches_all(&filter, &an));
        assert!(!matches_all(&filter, &joined));
    }

    #[test]
    fn negation_keeps_the_secrets_that_do_not_match() {
        let s = secret("prod/db", None, &[]);
        assert!(!matches_all(&[f(FilterKey::Name, &["!prod"])], &s));
        assert!(matches_all(&[f(FilterKey::Name, &["!dev"])], &s));
    }

    #[test]
    fn values_in_one_filter_or_and_filters_with_the_same_key_and() {
        let s = secret("prod/db", None, &[]);
        assert!(matches_all(&[f(FilterKey::Name, &["dev", "prod"])], &s));
        assert!(!matches_all(
            &[f(FilterKey::Name, &["dev"]), f(FilterKey::Name, &["prod"])],
            &s
        ));
    }

    #[test]
    fn tag_filters_are_prefixes_of_keys_and_values() {
        let s = secret("x", None, &[("team", "payments")]);
        assert!(matches_all(&[f(FilterKey::TagKey, &["tea"])], &s));
        assert!(matches_all(&[f(FilterKey::TagValue, &["pay"])], &s));
        assert!(!matches_all(&[f(FilterKey::TagKey, &["Team"])], &s));
        assert!(!matches_all(&[f(FilterKey::TagValue, &["ments"])], &s));
    }

    #[test]
    fn all_matches_camel_case_humps_and_separators_but_not_word_middles() {
        let s = secret(
            "SecretOne-abc/def",
            Some("Database password"),
            &[("Owner", "alice")],
        );
        for hit in [
            "sec",
            "one",
            "SECRETONE",
            "abc",
            "def",
            "data",
            "pass",
            "owner",
            "ali",
        ] {
            assert!(matches_all(&[f(FilterKey::All, &[hit])], &s), "{hit}");
        }
        for miss in ["ret", "base", "lice"] {
            assert!(!matches_all(&[f(FilterKey::All, &[miss])], &s), "{miss}");
        }
    }

    #[test]
    fn primary_region_is_the_secrets_own_region_unless_it_is_a_replica() {
        let mut s = secret("x", None, &[]);
        assert!(matches_all(
            &[f(FilterKey::PrimaryRegion, &["us-east-1"])],
            &s
        ));
        s.primary_region = Some(Region("eu-west-1".into()));
        assert!(matches_all(&[f(FilterKey::PrimaryRegion, &["eu-"])], &s));
    }
}
