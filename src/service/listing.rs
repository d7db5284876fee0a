//! ListSecrets: filter, sort, page.

use super::Service;
use crate::auth::Principal;
use crate::domain::Secret;
use crate::domain::filter::{self, Filter};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// AWS's default: oldest first.
    #[default]
    CreatedDate,
    LastAccessedDate,
    LastChangedDate,
    Name,
}

#[derive(Debug, Clone, Default)]
pub struct ListSecretsQuery {
    pub include_planned_deletion: bool,
    pub max_results: Option<usize>,
    pub next_token: Option<String>,
    pub filters: Vec<Filter>,
    pub sort_by: SortBy,
    pub descending: bool,
}

/// Page size when MaxResults is absent (unrecorded on AWS; the model's maximum).
pub const DEFAULT_PAGE_SIZE: usize = 100;

impl Service {
    pub async fn list_secrets(
        &self,
        p: &Principal,
        q: &ListSecretsQuery,
    ) -> Result<(Vec<Secret>, Option<String>)> {
        let rows = self.store.list_secrets(p.region()).await?;
        let mut secrets = Vec::with_capacity(rows.len());
        for row in rows {
            let view = if row.is_replica() {
                self.view_of(&row).await?
            } else {
                row
            };
            if view.is_scheduled_for_deletion() && !q.include_planned_deletion {
                continue;
            }
            if filter::matches_all(&q.filters, &view) {
                secrets.push(view);
            }
        }
        secrets.sort_by(|a, b| {
            let key = match q.sort_by {
                SortBy::CreatedDate => a.created_at.cmp(&b.created_at),
                SortBy::LastAccessedDate => a.last_accessed_at.cmp(&b.last_accessed_at),
                SortBy::LastChangedDate => a.last_changed_at.cmp(&b.last_changed_at),
                SortBy::Name => a.name.cmp(&b.name),
            };
            // Ties keep a stable order so pages never repeat or skip a secret.
            let key = key
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.arn.0.cmp(&b.arn.0));
            if q.descending { key.reverse() } else { key }
        });
        super::page_token::page(
            secrets,
            q.next_token.as_deref(),
            q.max_results.unwrap_or(DEFAULT_PAGE_SIZE),
        )
    }
}
