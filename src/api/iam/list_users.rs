//! ListUsers, by PathPrefix, paged by Marker and MaxItems.

use super::{Params, members, page, user_xml};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let users = svc.list_users(p, params.optional("PathPrefix")).await?;
    let (users, tail) = page(users, params)?;
    Ok(Some(format!(
        "<Users>{}</Users>{tail}",
        members(users.iter().map(user_xml))
    )))
}
