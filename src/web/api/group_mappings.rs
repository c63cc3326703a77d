//! `/admin/api/group-mappings`: which Keycloak groups give which team, and
//! what happens to people no mapping covers.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::team_mapping::{GroupMapping, normalize_group_path};
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

fn default_priority() -> i64 {
    100
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
    let group_path = normalize_group_path(&body.group_path).ok_or_else(|| {
        ApiError::bad_request("group_path must name a group, e.g. /engineering/backend")
    })?;
    let mapping = GroupMapping {
        group_path,
        team_id: body.team.trim().to_owned(),
        priority: body.priority,
    };
    if !app.store.put_group_mapping(&mapping).await? {
        return Err(ApiError::bad_request(format!(
            "no team named \"{}\"; create it first with PUT /admin/api/teams/{{name}}",
            mapping.team_id
        )));
    }
    app.store.bump_access_revision().await?;
    tracing::info!(group_path = %mapping.group_path, team = %mapping.team_id, priority = mapping.priority, "group mapping saved");
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
    let path = normalize_group_path(&query.group_path).unwrap_or_default();
    if !app.store.delete_group_mapping(&path).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no mapping for group \"{path}\""),
        ));
    }
    app.store.bump_access_revision().await?;
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
    teams::set_unmapped_policy(&app.store, body.unmapped_users).await?;
    list(AdminApiCaller, State(app)).await
}
