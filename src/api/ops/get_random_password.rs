//! GetRandomPassword.

use serde::{Deserialize, Serialize};

use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::domain::password::PasswordRules;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRandomPasswordRequest {
    #[serde(default)]
    pub password_length: Option<i64>,
    #[serde(default)]
    pub exclude_characters: Option<String>,
    #[serde(default)]
    pub exclude_numbers: Option<bool>,
    #[serde(default)]
    pub exclude_punctuation: Option<bool>,
    #[serde(default)]
    pub exclude_uppercase: Option<bool>,
    #[serde(default)]
    pub exclude_lowercase: Option<bool>,
    #[serde(default)]
    pub include_space: Option<bool>,
    #[serde(default)]
    pub require_each_included_type: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetRandomPasswordResponse {
    pub random_password: String,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: GetRandomPasswordRequest,
) -> Result<GetRandomPasswordResponse> {
    Constraints::new()
        .range("passwordLength", req.password_length, 1, 4096)
        .length(
            "excludeCharacters",
            req.exclude_characters.as_deref(),
            0,
            4096,
        )
        .finish()?;
    let rules = PasswordRules {
        length: req.password_length,
        exclude_characters: req.exclude_characters,
        exclude_numbers: req.exclude_numbers.unwrap_or(false),
        exclude_punctuation: req.exclude_punctuation.unwrap_or(false),
        exclude_uppercase: req.exclude_uppercase.unwrap_or(false),
        exclude_lowercase: req.exclude_lowercase.unwrap_or(false),
        include_space: req.include_space.unwrap_or(false),
        require_each_included_type: req.require_each_included_type,
    };
    let password = svc.get_random_password(p, &rules)?;
    Ok(GetRandomPasswordResponse {
        random_password: password.to_string(),
    })
}
