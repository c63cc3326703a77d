//! `/admin/api` for the gateway: upstreams, team rules, and one user's
//! team, keys and access. Keys can be revoked or rotated here, never read.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::{team_admin, user_admin};
use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::gateway::upstreams::{UpstreamSource, check_url};
use crate::store::{TeamRules, UpstreamRecord, UserListing, UserRecord};
use crate::web::error::ApiError;

fn json_body<T>(body: Result<Json<T>, JsonRejection>, shape: &str) -> Result<T, ApiError> {
    body.map(|Json(value)| value).map_err(|rejection| {
        ApiError::bad_request(format!("expected JSON {shape}: {}", rejection.body_text()))
    })
}

async fn applied(app: &AppState) -> Result<(), ApiError> {
    app.gateway.changed().await.map_err(ApiError::from)
}

pub async fn list_upstreams(_admin: AdminApiCaller, State(app): State<AppState>) -> Json<Value> {
    let upstreams: Vec<Value> = app
        .gateway
        .upstreams
        .all()
        .iter()
        .map(|u| {
            json!({
                "name": u.name, "url": u.base_url, "source": u.source, "healthy": u.is_healthy(),
                "api_key_set": u.api_key.is_some(),
                "models": u.models().iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Json(json!({ "upstreams": upstreams }))
}

#[derive(Deserialize)]
pub struct UpstreamUpdate {
    url: String,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    models: Vec<String>,
}

pub async fn put_upstream(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<UpstreamUpdate>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let update = json_body(body, "{\"url\", \"api_key\"?, \"models\"?}")?;
    let name = name.trim().to_owned();
    if name.is_empty() || name.len() > 64 || name.contains(char::is_whitespace) {
        return Err(ApiError::bad_request(
            "an upstream name is 1 to 64 characters without spaces",
        ));
    }
    check_url(&update.url).map_err(ApiError::bad_request)?;
    refuse_fixed(&app, &name)?;
    let record = UpstreamRecord {
        name: name.clone(),
        base_url: update.url.trim().to_owned(),
        sealed_api_key: update
            .api_key
            .filter(|k| !k.is_empty())
            .map(|k| app.gateway.seal_upstream_key(&k)),
        models: update.models,
    };
    app.store.put_upstream(&record).await?;
    applied(&app).await?;
    app.gateway.refresh_models().await;
    tracing::info!(upstream = %name, "upstream saved in the console");
    Ok(list_upstreams(AdminApiCaller, State(app)).await)
}

pub async fn delete_upstream(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    refuse_fixed(&app, &name)?;
    if !app.store.delete_upstream(&name).await? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no upstream named \"{name}\""),
        ));
    }
    applied(&app).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn refuse_fixed(app: &AppState, name: &str) -> Result<(), ApiError> {
    let fixed = app
        .gateway
        .upstreams
        .all()
        .iter()
        .any(|u| u.name == name && u.source != UpstreamSource::Console);
    if fixed {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "upstream \"{name}\" comes from the config file or command line; change it there"
            ),
        ));
    }
    Ok(())
}

pub async fn list_teams(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "teams": app.store.teams().await? })))
}

pub async fn put_team(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(name): Path<String>,
    body: Result<Json<TeamRules>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let rules = json_body(
        body,
        "{\"allowed_models\"?, \"default_completion_model\"?, \"default_chat_model\"?, \
         \"requests_per_minute\"?, \"tokens_per_minute\"?}",
    )?;
    let team = team_admin::save_team(&app, &name, rules).await?;
    Ok(Json(json!(team)))
}

async fn user_named(app: &AppState, username: &str) -> Result<UserRecord, ApiError> {
    app.store.user_by_username(username).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no user named \"{username}\""),
        )
    })
}

fn user_json(listing: &UserListing) -> Value {
    let user = &listing.user;
    json!({
        "id": user.id, "username": user.username, "email": user.email,
        "display_name": user.display_name, "team": user.team_name,
        "team_source": user.team_source, "groups": user.group_paths,
        "disabled": user.disabled_at.is_some(), "disabled_by": user.disabled_by,
        "last_sign_in": listing.last_sign_in,
        "key_id": listing.key.as_ref().map(|k| &k.id),
        "key": listing.key,
    })
}

#[derive(Deserialize)]
pub struct UserSearch {
    #[serde(default)]
    search: String,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    500
}

/// `GET /admin/api/users?search=&limit=`: people with their team and the
/// public facts of their key.
pub async fn list_users(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Query(query): Query<UserSearch>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.clamp(1, 5000);
    let users = app.store.list_users(&query.search, limit).await?;
    Ok(Json(json!({
        "users": users.iter().map(user_json).collect::<Vec<_>>(),
        "total": app.store.count_users().await?,
    })))
}

pub async fn get_user(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    let listing = app
        .store
        .user_listing(&user.id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "the user was just removed"))?;
    Ok(Json(user_json(&listing)))
}

#[derive(Deserialize)]
pub struct TeamChoice {
    team: String,
}

pub async fn put_user_team(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
    body: Result<Json<TeamChoice>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let choice = json_body(body, "{\"team\"}")?;
    let user = user_named(&app, &username).await?;
    user_admin::choose_team(&app, &user, &choice.team).await?;
    get_user(AdminApiCaller, State(app), Path(username)).await
}

/// `DELETE /admin/api/users/{username}/team`: the group mapping decides again.
pub async fn delete_user_team(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    user_admin::follow_mapping(&app, &user).await?;
    get_user(AdminApiCaller, State(app), Path(username)).await
}

pub async fn revoke_key(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    let revoked = user_admin::revoke_key(&app, &user).await?;
    Ok(Json(json!({ "revoked": revoked })))
}

/// The optional body of a rotation: when the new key expires.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Rotation {
    /// Unix seconds; without it the server's key lifetime applies.
    expires_at: Option<i64>,
}

pub async fn rotate_key(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: an empty POST rotates with the server's lifetime.
    let rotation: Rotation = if body.iter().all(u8::is_ascii_whitespace) {
        Rotation::default()
    } else {
        serde_json::from_slice(&body).map_err(|err| {
            ApiError::bad_request(format!(
                "expected no body or JSON {{\"expires_at\": <unix seconds>}}: {err}"
            ))
        })?
    };
    let user = user_named(&app, &username).await?;
    let expires_at = rotation.expires_at.map(|s| s.saturating_mul(1000));
    let key = user_admin::rotate_key(&app, &user, expires_at).await?;
    Ok(Json(
        json!({ "key_id": key.id, "expires_at": key.expires_at.map(|ms| ms / 1000) }),
    ))
}

pub async fn disable_user(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(app, username, true).await
}

pub async fn enable_user(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(app, username, false).await
}

async fn set_disabled(
    app: AppState,
    username: String,
    disabled: bool,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    user_admin::set_disabled(&app, &user, disabled).await?;
    get_user(AdminApiCaller, State(app), Path(username)).await
}
