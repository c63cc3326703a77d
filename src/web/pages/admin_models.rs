//! The console's Models page: upstream inference servers, their health and
//! models; console-defined upstreams can be added, changed and removed.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::keycloak_auth::stale_form;
use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::gateway::upstreams::{UpstreamSource, check_url};
use crate::store::UpstreamRecord;
use crate::web::error::PageError;

struct UpstreamRow {
    name: String,
    url: String,
    healthy: bool,
    models: Vec<String>,
    source: &'static str,
    removable: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_models.html")]
struct ModelsPage {
    section: &'static str,
    csrf: String,
    upstreams: Vec<UpstreamRow>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ModelsQuery {
    saved: Option<String>,
    removed: Option<String>,
}

fn page(
    app: &AppState,
    csrf: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> ModelsPage {
    let upstreams = app
        .gateway
        .upstreams
        .all()
        .iter()
        .map(|u| UpstreamRow {
            name: u.name.clone(),
            url: u.base_url.clone(),
            healthy: u.is_healthy(),
            models: u.models().into_iter().map(|m| m.name).collect(),
            source: match u.source {
                UpstreamSource::ConfigFile => "config file",
                UpstreamSource::CommandLine => "command line",
                UpstreamSource::Console => "console",
            },
            removable: u.source == UpstreamSource::Console,
        })
        .collect();
    ModelsPage {
        section: "models",
        csrf: csrf.to_owned(),
        upstreams,
        notice,
        error,
    }
}

pub async fn models_page(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Query(query): Query<ModelsQuery>,
) -> impl IntoResponse {
    let notice = match (query.saved, query.removed) {
        (Some(_), _) => Some("Upstream saved. Its models are listed once it answers."),
        (_, Some(_)) => Some("Upstream removed."),
        _ => None,
    };
    page(&app, session.csrf_token(), notice, None)
}

#[derive(Deserialize)]
pub struct UpstreamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    models: String,
}

pub async fn save_upstream(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<UpstreamForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    let name = form.name.trim().to_owned();
    let problem = if name.is_empty() || name.len() > 64 || name.contains(char::is_whitespace) {
        Some("The name must be 1 to 64 characters without spaces.".to_owned())
    } else if app
        .gateway
        .upstreams
        .all()
        .iter()
        .any(|u| u.name == name && u.source != UpstreamSource::Console)
    {
        Some(format!(
            "\"{name}\" comes from the config file or command line; change it there."
        ))
    } else {
        check_url(&form.url).err()
    };
    if let Some(problem) = problem {
        let page = page(
            &app,
            session.csrf_token(),
            None,
            Some(format!("Not saved: {problem}")),
        );
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let record = UpstreamRecord {
        name,
        base_url: form.url.trim().to_owned(),
        sealed_api_key: Some(form.api_key.trim())
            .filter(|k| !k.is_empty())
            .map(|k| app.gateway.seal_upstream_key(k)),
        models: form
            .models
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    app.store.put_upstream(&record).await?;
    app.gateway.changed().await?;
    app.gateway.refresh_models().await;
    Ok(Redirect::to("/admin/models?saved=1").into_response())
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

pub async fn remove_upstream(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<RemoveForm>,
) -> Result<Redirect, PageError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    app.store.delete_upstream(&form.name).await?;
    app.gateway.changed().await?;
    Ok(Redirect::to("/admin/models?removed=1"))
}
