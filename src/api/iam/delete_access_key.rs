//! DeleteAccessKey.

use super::Params;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let id = params.required("AccessKeyId")?;
    svc.delete_access_key(p, params.optional("UserName"), id)
        .await?;
    Ok(None)
}
