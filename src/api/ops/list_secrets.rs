//! ListSecrets.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::shapes::{self, Filter, SecretMetadata};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::Result;
use crate::service::{ListSecretsQuery, Service, SortBy};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsRequest {
    #[serde(default)]
    pub include_planned_deletion: Option<bool>,
    #[serde(default)]
    pub max_results: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
    #[serde(default)]
    pub filters: Option<Vec<Filter>>,
    #[serde(default)]
    pub sort_order: Option<String>,
    #[serde(default)]
    pub sort_by: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecretListEntry {
    #[serde(flatten)]
    pub metadata: SecretMetadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_versions_to_stages: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListSecretsResponse {
    pub secret_list: Vec<SecretListEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: ListSecretsRequest,
) -> Result<ListSecretsResponse> {
    let mut c = Constraints::new();
    c.range("maxResults", req.max_results, 1, 100)
        .length("nextToken", req.next_token.as_deref(), 1, 4096)
        .one_of("sortOrder", req.sort_order.as_deref(), &["asc", "desc"])
        .one_of(
            "sortBy",
            req.sort_by.as_deref(),
            &[
                "created-date",
                "last-accessed-date",
                "last-changed-date",
                "name",
            ],
        );
    let filters = req
        .filters
        .as_deref()
        .map(|f| shapes::filters_from_wire(f, &mut c))
        .unwrap_or_default();
    c.finish()?;
    let query = ListSecretsQuery {
        include_planned_deletion: req.include_planned_deletion.unwrap_or(false),
        max_results: req.max_results.map(|m| m as usize),
        next_token: req.next_token,
        filters,
        sort_by: match req.sort_by.as_deref() {
            Some("last-accessed-date") => SortBy::LastAccessedDate,
            Some("last-changed-date") => SortBy::LastChangedDate,
            Some("name") => SortBy::Name,
            _ => SortBy::CreatedDate,
        },
        descending: req.sort_order.as_deref() == Some("desc"),
    };
    let (secrets, next_token) = svc.list_secrets(p, &query).await?;
    Ok(ListSecretsResponse {
        secret_list: secrets
            .iter()
            .map(|s| SecretListEntry {
                metadata: SecretMetadata::of(s),
                secret_versions_to_stages: shapes::versions_to_stages(s),
            })
            .collect(),
        next_token,
    })
}
