//! GetUser: the named user, or the caller.

use super::{Params, user_xml};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let user = svc.get_user(p, params.optional("UserName")).await?;
    Ok(Some(format!("<User>{}</User>", user_xml(&user))))
}
