//! ListUserPolicies: the names of a user's inline policies.

use super::{Params, escape, members, page};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let names = svc
        .list_user_policies(p, params.required("UserName")?)
        .await?;
    let (names, tail) = page(names, params)?;
    Ok(Some(format!(
        "<PolicyNames>{}</PolicyNames>{tail}",
        members(names.iter().map(|n| escape(n)))
    )))
}
