//! GetUserPolicy. IAM returns the document URL-encoded (RFC 3986); SDKs decode it.

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::{Params, element};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

/// What RFC 3986 leaves unencoded.
const DOCUMENT_ENCODE: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let policy_name = params.required("PolicyName")?;
    let (user_name, document) = svc
        .get_user_policy(p, params.required("UserName")?, policy_name)
        .await?;
    Ok(Some(format!(
        "{}{}{}",
        element("UserName", &user_name),
        element("PolicyName", policy_name),
        element(
            "PolicyDocument",
            &utf8_percent_encode(&document, DOCUMENT_ENCODE).to_string()
        ),
    )))
}
