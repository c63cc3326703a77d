//! `/admin/api/group-mappings`: which Keycloak groups give which team, and
//! what happens to people no mapping covers.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::team_admin;
use crate::accounts::teams::{self, UnmappedPolicy};
use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::web::error::ApiError;

pub async fn list(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "mappings": app.store.group_mappings().await?,
        "unmapped_users": teams::unmapped_policy(&app.store).await?,
    })))
}

#[derive(Deserialize)]
pub struct MappingBody {
    group_path: String,
    team: String,
    #[serde(default = "default_priority")]
    priority: i64,
}

/// The priority of a mapping saved without one; lower numbers win.
pub const DEFAULT_PRIORITY: i64 = 100;

fn default_priority() -> i64 {
    DEFAULT_PRIORITY
}

pub async fn put(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    body: Result<Json<MappingBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|r| {
        ApiError::bad_request(format!(
            "expected JSON {{\"group_path\", \"team\", \"priority\"?}}: {}",
            r.body_text()
        ))
    })?;
    team_admin::save_mapping(&app, &body.group_path, &body.team, body.priority).await?;
    list(AdminApiCaller, State(app)).await
}

#[derive(Deserialize)]
pub struct GroupQuery {
    group_path: String,
}

pub async fn delete(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Query(query): Query<GroupQuery>,
) -> Result<StatusCode, ApiError> {
    team_admin::remove_mapping(&app, &query.group_path).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct PolicyBody {
    unmapped_users: UnmappedPolicy,
}

pub async fn put_policy(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    body: Result<Json<PolicyBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body.map_err(|r| {
        ApiError::bad_request(format!(
            "expected JSON {{\"unmapped_users\": \"default_team\" or \"refuse\"}}: {}",
            r.body_text()
        ))
    })?;
    team_admin::set_unmapped_policy(&app, body.unmapped_users).await?;
    list(AdminApiCaller, State(app)).await
}
