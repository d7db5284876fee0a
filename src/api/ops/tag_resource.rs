//! TagResource.

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, Tag};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceRequest {
    #[serde(default)]
    pub secret_id: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<Tag>>,
}

/// TagResource has no output shape; an empty object parses in every SDK.
#[derive(Debug, Serialize)]
pub struct TagResourceResponse {}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: TagResourceRequest,
) -> Result<TagResourceResponse> {
    crate::api::record_secret_id(req.secret_id.as_deref());
    let mut c = Constraints::new();
    shapes::check_secret_id(&mut c, req.secret_id.as_ref());
    c.required("tags", req.tags.as_ref());
    let tags = shapes::tags_from_wire("tags", req.tags.as_deref().unwrap_or_default(), &mut c);
    c.finish()?;
    svc.tag_resource(p, req.secret_id.as_deref().unwrap_or_default(), &tags)
        .await?;
    Ok(TagResourceResponse {})
}
