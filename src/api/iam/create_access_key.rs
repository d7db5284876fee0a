//! CreateAccessKey: the only answer that holds the secret access key.

use super::{Params, element};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let key = svc
        .create_access_key(p, params.optional("UserName"))
        .await?;
    Ok(Some(format!(
        "<AccessKey>{}{}{}{}{}</AccessKey>",
        element("UserName", &key.metadata.user_name),
        element("AccessKeyId", &key.metadata.access_key_id),
        element("Status", "Active"),
        element("SecretAccessKey", &key.secret_access_key),
        element("CreateDate", &key.metadata.created_at.to_iso8601_seconds()),
    )))
}
