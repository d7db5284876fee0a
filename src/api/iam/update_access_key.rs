//! UpdateAccessKey: Active or Inactive.

use super::Params;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    let id = params.required("AccessKeyId")?;
    let status = params.required("Status")?;
    svc.update_access_key(p, params.optional("UserName"), id, status)
        .await?;
    Ok(None)
}
