//! BatchGetSecretValue.

use serde::{Deserialize, Serialize};

use super::get_secret_value::GetSecretValueResponse;
use crate::api::error::ApiError;
use crate::api::shapes::{self, Filter};
use crate::api::validate::Constraints;
use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::service::Service;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetSecretValueRequest {
    #[serde(default)]
    pub secret_id_list: Option<Vec<String>>,
    #[serde(default)]
    pub filters: Option<Vec<Filter>>,
    #[serde(default)]
    pub max_results: Option<i64>,
    #[serde(default)]
    pub next_token: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct APIErrorType {
    pub secret_id: String,
    pub error_code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetSecretValueResponse {
    pub secret_values: Vec<GetSecretValueResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    pub errors: Vec<APIErrorType>,
}

pub async fn handle(
    svc: &Service,
    p: &Principal,
    req: BatchGetSecretValueRequest,
) -> Result<BatchGetSecretValueResponse> {
    let mut c = Constraints::new();
    c.list_length("secretIdList", req.secret_id_list.as_deref(), 1, 20)
        .range("maxResults", req.max_results, 1, 20)
        .length("nextToken", req.next_token.as_deref(), 1, 4096);
    for (i, id) in req.secret_id_list.iter().flatten().enumerate() {
        c.length(&format!("secretIdList.{}.member", i + 1), Some(id), 1, 2048);
    }
    let filters = req
        .filters
        .as_deref()
        .map(|f| shapes::filters_from_wire(f, &mut c));
    c.finish()?;
    if req.max_results.is_some() && filters.is_none() {
        return Err(Error::InvalidParameter(
            "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.".into(),
        ));
    }
    let out = svc
        .batch_get_secret_value(
            p,
            req.secret_id_list.as_deref(),
            filters.as_deref(),
            req.max_results.map(|m| m as usize),
            req.next_token.as_deref(),
        )
        .await?;
    Ok(BatchGetSecretValueResponse {
        secret_values: out.values.iter().map(GetSecretValueResponse::of).collect(),
        next_token: out.next_token,
        errors: out
            .errors
            .into_iter()
            .map(|(secret_id, e)| {
                let wire = ApiError::Service(e).to_wire();
                APIErrorType {
                    secret_id,
                    error_code: wire.code,
                    message: wire.message.unwrap_or_default(),
                }
            })
            .collect(),
    })
}
