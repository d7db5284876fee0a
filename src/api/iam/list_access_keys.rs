//! ListAccessKeys: ids and status, never secrets.

use super::{Params, element, members, page};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let keys = svc.list_access_keys(p, params.optional("UserName")).await?;
    let (keys, tail) = page(keys, params)?;
    Ok(Some(format!(
        "<AccessKeyMetadata>{}</AccessKeyMetadata>{tail}",
        members(keys.iter().map(|k| {
            format!(
                "{}{}{}{}",
                element("UserName", &k.user_name),
                element("AccessKeyId", &k.access_key_id),
                element("Status", if k.active { "Active" } else { "Inactive" }),
                element("CreateDate", &k.created_at.to_iso8601_seconds()),
            )
        }))
    )))
}
