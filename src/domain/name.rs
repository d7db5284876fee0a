//! Secret names, ARNs and the many spellings of `SecretId`.

use crate::error::{Error, Result};
use rand::Rng;
use rand::distr::Alphanumeric;

/// An AWS Region, the namespace secrets live in (taken from the SigV4 credential scope).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(pub String);

impl Region {
    /// Whether this looks like an AWS Region name (`us-east-1`), as the model's pattern says.
    pub fn is_well_formed(&self) -> bool {
        let s = &self.0;
        let Some((head, digits)) = s.rsplit_once('-') else {
            return false;
        };
        !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && head
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
    }
}

/// The 12-digit account every secret of this server belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountId(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretName(String);

/// A version id, which is the ClientRequestToken that created it.
pub type VersionId = String;

const INVALID_NAME: &str = "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!";

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)
}

impl SecretName {
    /// Validates a name as CreateSecret and every non-ARN SecretId are validated.
    pub fn parse(name: &str) -> Result<SecretName> {
        if name.is_empty() || name.len() > 512 || !name.chars().all(is_name_char) {
            return Err(Error::Validation(INVALID_NAME.into()));
        }
        Ok(SecretName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A secret's full ARN: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<suffix>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn(pub String);

impl Arn {
    /// A new ARN with a fresh 6-character suffix; a re-created name gets a new one, as on AWS.
    pub fn generate(
        region: &Region,
        account: &AccountId,
        name: &SecretName,
        rng: &mut impl Rng,
    ) -> Arn {
        let suffix: String = (0..6).map(|_| rng.sample(Alphanumeric) as char).collect();
        Arn::with_suffix(region, account, name, &suffix)
    }

    pub fn with_suffix(
        region: &Region,
        account: &AccountId,
        name: &SecretName,
        suffix: &str,
    ) -> Arn {
        Arn(format!(
            "arn:aws:secretsmanager:{}:{}:secret:{}-{}",
            region.0,
            account.0,
            name.as_str(),
            suffix
        ))
    }

    /// The same secret seen from another Region: how a replica's ARN is made.
    pub fn in_region(&self, region: &Region) -> Arn {
        let parts: Vec<&str> = self.0.splitn(5, ':').collect();
        if parts.len() == 5 {
            // arn : partition : service : REGION : account:secret:name-suffix
            Arn(format!(
                "{}:{}:{}:{}:{}",
                parts[0], parts[1], parts[2], region.0, parts[4]
            ))
        } else {
            self.clone()
        }
    }

    /// The six random characters at the end.
    pub fn suffix(&self) -> &str {
        &self.0[self.0.len().saturating_sub(6)..]
    }
}

/// What a `SecretId` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// A plain name.
    Name(SecretName),
    /// A full ARN, matched exactly.
    FullArn(Arn),
    /// An ARN without the `-xxxxxx` suffix, resolved by name within its Region.
    PartialArn {
        region: Region,
        account: AccountId,
        name: SecretName,
    },
}

impl SecretRef {
    /// Reads a `SecretId` as AWS does: an ARN whose last segment ends in `-` plus six
    /// alphanumerics is a full ARN, so names that end that way can't be found by partial ARN.
    pub fn parse(secret_id: &str) -> Result<SecretRef> {
        let Some(rest) = secret_id.strip_prefix("arn:") else {
            return SecretName::parse(secret_id).map(SecretRef::Name);
        };
        // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>
        let parts: Vec<&str> = rest.splitn(6, ':').collect();
        let [_partition, service, region, account, kind, name] = parts[..] else {
            return Err(Error::Validation(INVALID_NAME.into()));
        };
        if service != "secretsmanager" || kind != "secret" || region.is_empty() {
            return Err(Error::secret_not_found());
        }
        let name = SecretName::parse(name)?;
        if has_arn_suffix(name.as_str()) {
            Ok(SecretRef::FullArn(Arn(secret_id.to_owned())))
        } else {
            Ok(SecretRef::PartialArn {
                region: Region(region.to_owned()),
                account: AccountId(account.to_owned()),
                name,
            })
        }
    }
}

/// Whether `name` ends in `-` and six alphanumerics, the shape of an ARN suffix.
pub fn has_arn_suffix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() >= 8
        && b[b.len() - 7] == b'-'
        && b[b.len() - 6..].iter().all(|c| c.is_ascii_alphanumeric())
}

/// The secret name in a full secret ARN: the part after `secret:` without its suffix.
pub fn name_of_arn(arn: &str) -> Option<&str> {
    let name = arn.split_once(":secret:")?.1;
    has_arn_suffix(name).then(|| &name[..name.len() - 7])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_full_arns_without_their_suffix() {
        assert_eq!(
            name_of_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf"),
            Some("prod/db")
        );
        assert_eq!(name_of_arn("prod/db"), None);
        assert_eq!(
            name_of_arn("arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db"),
            None
        );
    }

    #[test]
    fn names_allow_letters_digits_and_the_six_symbols() {
        assert!(SecretName::parse("prod/db_1+x=y.z@w-v").is_ok());
    }

    #[test]
    fn names_with_other_characters_are_a_validation_error_with_aws_text() {
        for bad in ["a b", "a*", "a?", "a!", "a]", "a\\b", "", "é"] {
            assert_eq!(
                SecretName::parse(bad),
                Err(Error::Validation(INVALID_NAME.into())),
                "{bad:?}"
            );
        }
        assert!(SecretName::parse(&"a".repeat(512)).is_ok());
        assert!(SecretName::parse(&"a".repeat(513)).is_err());
    }

    #[test]
    fn an_arn_ending_in_six_characters_is_read_as_a_full_arn() {
        let r = SecretRef::parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-a1b2c3")
            .unwrap();
        assert!(matches!(r, SecretRef::FullArn(_)));
    }

    #[test]
    fn an_arn_without_the_suffix_is_a_partial_arn() {
        for name in ["db", "db-a1b2c3-", "db-a1b2"] {
            let id = format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{name}");
            match SecretRef::parse(&id).unwrap() {
                SecretRef::PartialArn {
                    region, name: n, ..
                } => {
                    assert_eq!(region.0, "us-east-1");
                    assert_eq!(n.as_str(), name);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn an_arn_of_another_service_finds_nothing() {
        assert_eq!(
            SecretRef::parse("arn:aws:ssm:us-east-1:123456789012:parameter:x"),
            Err(Error::secret_not_found())
        );
    }

    #[test]
    fn generated_arns_have_six_alphanumeric_suffix_and_swap_region() {
        let mut rng = rand::rng();
        let arn = Arn::generate(
            &Region("us-east-1".into()),
            &AccountId("123456789012".into()),
            &SecretName::parse("a/b").unwrap(),
            &mut rng,
        );
        assert!(
            arn.0
                .starts_with("arn:aws:secretsmanager:us-east-1:123456789012:secret:a/b-")
        );
        assert!(has_arn_suffix(arn.0.rsplit(':').next().unwrap()));
        let west = arn.in_region(&Region("us-west-2".into()));
        assert_eq!(west.0.replace("us-west-2", "us-east-1"), arn.0);
        assert_eq!(west.suffix(), arn.suffix());
    }
}
