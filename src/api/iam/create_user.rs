//! CreateUser.

use super::{Params, user_xml};
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let user = svc
        .create_user(p, params.required("UserName")?, params.optional("Path"))
        .await?;
    Ok(Some(format!("<User>{}</User>", user_xml(&user))))
}
