//! UntagResource.

use serde::{Deserialize, Serialize};

use crate::api::shapes;
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub tag_keys: Option<Vec<String>>,
}

/// UntagResource has no output shape.
#[derive(Debug, Serialize)]
pub struct UntagResourceResponse {}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: UntagResourceRequest,
) -> Result<UntagResourceResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.required("tagKeys", req.tag_keys.as_ref());
    for (i, k) in req.tag_keys.iter().flatten().enumerate() {
        c.length(&format!("tagKeys.{}.member", i + 1), Some(k), 1, 128);
    }
    c.finish()?;
    svc.untag_resource(
        p,
        req.secret_id.as_deref().unwrap_or_default(),
        req.tag_keys.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(UntagResourceResponse {})
}
