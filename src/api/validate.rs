//! The model's constraints (required members, lengths, ranges), reported as AWS reports them:
//! `1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member
//! must not be null`. Member paths are camelCase, as on AWS.

use crate::error::Error;

#[derive(Default)]
pub struct Constraints {
    violations: Vec<String>,
}

impl Constraints {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn required<T>(&mut self, member: &str, value: Option<&T>) -> &mut Self {
        if value.is_none() {
            self.violations.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
        self
    }

    /// String length in characters, with the value echoed as AWS does.
    pub fn length(
        &mut self,
        member: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        if let Some(v) = value {
            let n = v.chars().count();
            self.length_of(member, Some(&format!("'{v}'")), n, min, max);
        }
        self
    }

    /// Length of a sensitive member (a secret value): the value is never echoed.
    pub fn sensitive_length(
        &mut self,
        member: &str,
        len: Option<usize>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        if let Some(n) = len {
            self.length_of(member, None, n, min, max);
        }
        self
    }

    pub fn list_length<T: std::fmt::Debug>(
        &mut self,
        member: &str,
        value: Option<&[T]>,
        min: usize,
        max: usize,
    ) -> &mut Self {
        if let Some(v) = value {
            self.length_of(member, Some(&format!("'{v:?}'")), v.len(), min, max);
        }
        self
    }

    fn length_of(&mut self, member: &str, shown: Option<&str>, n: usize, min: usize, max: usize) {
        let value = shown.map(|s| format!(" {s}")).unwrap_or_default();
        if n < min {
            self.violations.push(format!(
                "Value{value} at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        } else if n > max {
            self.violations.push(format!(
                "Value{value} at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
    }

    pub fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) -> &mut Self {
        if let Some(v) = value {
            if v < min {
                self.violations.push(format!(
                    "Value '{v}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
                ));
            } else if v > max {
                self.violations.push(format!(
                    "Value '{v}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
                ));
            }
        }
        self
    }

    pub fn one_of(&mut self, member: &str, value: Option<&str>, allowed: &[&str]) -> &mut Self {
        if let Some(v) = value
            && !allowed.contains(&v)
        {
            self.violations.push(format!(
                    "Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
                    allowed.join(", ")
                ));
        }
        self
    }

    /// A pattern check with a predicate standing in for the model's regular expression.
    pub fn pattern(
        &mut self,
        member: &str,
        value: Option<&str>,
        pattern: &str,
        ok: impl Fn(&str) -> bool,
    ) -> &mut Self {
        if let Some(v) = value
            && !ok(v)
        {
            self.violations.push(format!(
                    "Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
                ));
        }
        self
    }

    pub fn finish(&mut self) -> Result<(), Error> {
        match self.violations.len() {
            0 => Ok(()),
            1 => Err(Error::Validation(format!(
                "1 validation error detected: {}",
                self.violations[0]
            ))),
            n => Err(Error::Validation(format!(
                "{n} validation errors detected: {}",
                self.violations.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_required_member_reads_as_on_aws() {
        let err = Constraints::new()
            .required::<String>("secretId", None)
            .finish()
            .unwrap_err();
        assert_eq!(err, Error::Validation("1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null".into()));
    }

    #[test]
    fn several_violations_are_counted_and_joined() {
        let err = Constraints::new()
            .range("passwordLength", Some(5000), 1, 4096)
            .length("clientRequestToken", Some("short"), 32, 64)
            .finish()
            .unwrap_err();
        assert_eq!(err, Error::Validation("2 validation errors detected: Value '5000' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096; Value 'short' at 'clientRequestToken' failed to satisfy constraint: Member must have length greater than or equal to 32".into()));
    }

    #[test]
    fn sensitive_members_are_never_echoed() {
        let err = Constraints::new()
            .sensitive_length("secretString", Some(70_000), 1, 65_536)
            .finish()
            .unwrap_err();
        assert_eq!(err, Error::Validation("1 validation error detected: Value at 'secretString' failed to satisfy constraint: Member must have length less than or equal to 65536".into()));
    }
}
