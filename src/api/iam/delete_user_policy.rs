//! DeleteUserPolicy.

use super::Params;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

pub async fn handle(svc: &Service, p: &Principal, params: &Params) -> Result<Option<String>> {
    svc.delete_user_policy(
        p,
        params.required("UserName")?,
        params.required("PolicyName")?,
    )
    .await?;
    Ok(None)
}
