//! `/admin/api` for the gateway: upstreams, team rules, and one user's
//! team, keys and access. Keys can be revoked or rotated here, never read.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::accounts::plugin_key;
use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::gateway::upstreams::{UpstreamSource, check_url};
use crate::store::{TeamRules, UpstreamRecord, UserRecord};
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
    let name = name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(ApiError::bad_request("a team name is 1 to 64 characters"));
    }
    if rules.requests_per_minute.is_some_and(|v| v < 0)
        || rules.tokens_per_minute.is_some_and(|v| v < 0)
    {
        return Err(ApiError::bad_request("rate limits cannot be negative"));
    }
    let team = app.store.put_team(name, &rules).await?;
    applied(&app).await?;
    tracing::info!(team = %name, "team rules saved");
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

pub async fn get_user(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    let key = app.store.active_key(&user.id).await?;
    Ok(Json(json!({
        "id": user.id, "username": user.username, "email": user.email, "team": user.team_name,
        "disabled": user.disabled_at.is_some(), "key_id": key.map(|k| k.id),
    })))
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
    if !app
        .store
        .set_user_team(&user.id, &choice.team, "admin")
        .await?
    {
        return Err(ApiError::bad_request(format!(
            "no team named \"{}\"",
            choice.team
        )));
    }
    applied(&app).await?;
    get_user(AdminApiCaller, State(app), Path(username)).await
}

pub async fn revoke_key(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    let revoked = app.store.revoke_keys(&user.id).await?;
    applied(&app).await?;
    tracing::info!(user_id = %user.id, revoked, "plugin keys revoked by an administrator");
    Ok(Json(json!({ "revoked": revoked })))
}

pub async fn rotate_key(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    let issued = plugin_key::issue(&app.secrets);
    app.store.rotate_key(&user.id, &issued.record).await?;
    applied(&app).await?;
    tracing::info!(user_id = %user.id, key_id = %issued.record.id, "plugin key rotated by an administrator");
    Ok(Json(json!({ "key_id": issued.record.id })))
}

pub async fn disable_user(
    admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(admin, app, username, true).await
}

pub async fn enable_user(
    admin: AdminApiCaller,
    State(app): State<AppState>,
    Path(username): Path<String>,
) -> Result<Json<Value>, ApiError> {
    set_disabled(admin, app, username, false).await
}

async fn set_disabled(
    _admin: AdminApiCaller,
    app: AppState,
    username: String,
    disabled: bool,
) -> Result<Json<Value>, ApiError> {
    let user = user_named(&app, &username).await?;
    app.store
        .set_user_disabled(&user.id, disabled, "admin")
        .await?;
    applied(&app).await?;
    tracing::info!(user_id = %user.id, disabled, "user access changed by an administrator");
    get_user(AdminApiCaller, State(app), Path(username)).await
}
