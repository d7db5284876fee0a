//! DeleteUser: refused while the user has access keys or policies.

use super::Params;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    svc.delete_user(p, params.required("UserName")?).await?;
    Ok(None)
}
