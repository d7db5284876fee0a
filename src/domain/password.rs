//! GetRandomPassword's rules (spec §3): character classes, exclusions, one of each type.

use rand::Rng;
use rand::seq::SliceRandom;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

pub const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
pub const DEFAULT_LENGTH: i64 = 32;

#[derive(Debug, Clone, Default)]
pub struct PasswordRules {
    pub length: Option<i64>,
    pub exclude_characters: Option<String>,
    pub exclude_numbers: bool,
    pub exclude_punctuation: bool,
    pub exclude_uppercase: bool,
    pub exclude_lowercase: bool,
    pub include_space: bool,
    /// Defaults to true on AWS.
    pub require_each_included_type: Option<bool>,
}

pub fn generate(rules: &PasswordRules, rng: &mut impl Rng) -> Result<Zeroizing<String>> {
    let length = rules.length.unwrap_or(DEFAULT_LENGTH);
    let excluded = rules.exclude_characters.as_deref().unwrap_or("");
    let keep =
        |set: &str| -> Vec<char> { set.chars().filter(|c| !excluded.contains(*c)).collect() };
    let mut types: Vec<Vec<char>> = Vec::new();
    if !rules.exclude_lowercase {
        types.push(keep("abcdefghijklmnopqrstuvwxyz"));
    }
    if !rules.exclude_uppercase {
        types.push(keep("ABCDEFGHIJKLMNOPQRSTUVWXYZ"));
    }
    if !rules.exclude_numbers {
        types.push(keep("0123456789"));
    }
    if !rules.exclude_punctuation {
        types.push(keep(PUNCTUATION));
    }
    // A class whose every character was excluded can't be required.
    types.retain(|t| !t.is_empty());
    let mut pool: Vec<char> = types.iter().flatten().copied().collect();
    if rules.include_space && !excluded.contains(' ') {
        pool.push(' ');
    }
    if pool.is_empty() {
        // Text not recorded from AWS (spec §10).
        return Err(Error::InvalidParameter(
            "The password can't be generated: every character type is excluded.".into(),
        ));
    }
    let require_each = rules.require_each_included_type.unwrap_or(true);
    let length = length as usize;
    if require_each && length < types.len() {
        return Err(Error::InvalidParameter(
            "Password length is too short based on the required types.".into(),
        ));
    }
    let mut chars: Vec<char> = Vec::with_capacity(length);
    if require_each {
        for t in &types {
            chars.push(t[rng.random_range(0..t.len())]);
        }
    }
    while chars.len() < length {
        chars.push(pool[rng.random_range(0..pool.len())]);
    }
    chars.shuffle(rng);
    let password = Zeroizing::new(chars.iter().collect::<String>());
    chars.iter_mut().for_each(|c| *c = '\0');
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_32_characters_with_every_type() {
        let mut rng = rand::rng();
        for _ in 0..50 {
            let p = generate(&PasswordRules::default(), &mut rng).unwrap();
            assert_eq!(p.chars().count(), 32);
            assert!(p.chars().any(|c| c.is_ascii_lowercase()));
            assert!(p.chars().any(|c| c.is_ascii_uppercase()));
            assert!(p.chars().any(|c| c.is_ascii_digit()));
            assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
            assert!(!p.contains(' '));
        }
    }

    #[test]
    fn excluded_characters_never_appear_and_length_is_kept() {
        let rules = PasswordRules {
            length: Some(120),
            exclude_characters: Some("xyzDje@?!.".into()),
            ..Default::default()
        };
        let p = generate(&rules, &mut rand::rng()).unwrap();
        assert_eq!(p.len(), 120);
        assert!(!p.chars().any(|c| "xyzDje@?!.".contains(c)));
    }

    #[test]
    fn excluding_classes_and_including_space() {
        let rules = PasswordRules {
            length: Some(200),
            exclude_numbers: true,
            exclude_punctuation: true,
            exclude_uppercase: true,
            include_space: true,
            ..Default::default()
        };
        let p = generate(&rules, &mut rand::rng()).unwrap();
        assert!(p.chars().all(|c| c.is_ascii_lowercase() || c == ' '));
    }

    #[test]
    fn too_short_for_the_required_types_is_an_invalid_parameter() {
        let rules = PasswordRules {
            length: Some(3),
            ..Default::default()
        };
        assert_eq!(
            generate(&rules, &mut rand::rng()).unwrap_err(),
            Error::InvalidParameter(
                "Password length is too short based on the required types.".into()
            )
        );
        let lenient = PasswordRules {
            length: Some(3),
            require_each_included_type: Some(false),
            ..Default::default()
        };
        assert_eq!(generate(&lenient, &mut rand::rng()).unwrap().len(), 3);
    }

    #[test]
    fn excluding_everything_is_an_invalid_parameter() {
        let rules = PasswordRules {
            exclude_numbers: true,
            exclude_punctuation: true,
            exclude_uppercase: true,
            exclude_lowercase: true,
            ..Default::default()
        };
        assert!(matches!(
            generate(&rules, &mut rand::rng()),
            Err(Error::InvalidParameter(_))
        ));
    }
}
