//! `/me`: the signed-in user's Account Login, Plugin API Key, team and the
//! endpoint address for their IDE plugin.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::keycloak_auth::{CsrfForm, stale_form};
use crate::accounts::profile::{self, ProfileError};
use crate::app::AppState;
use crate::auth::extract::SignedInUser;
use crate::web::error::PageError;

#[derive(Template, WebTemplate)]
#[template(path = "me.html")]
struct MePage {
    username: String,
    plugin_key: Option<String>,
    team: String,
    endpoint: String,
    csrf: String,
    regenerated: bool,
}

#[derive(Debug, Deserialize)]
pub struct MeQuery {
    regenerated: Option<String>,
}

pub async fn me_page(
    State(app): State<AppState>,
    signed_in: SignedInUser,
    Query(query): Query<MeQuery>,
) -> Result<Response, PageError> {
    let profile = profile::load(&app, &signed_in.user)
        .await
        .map_err(profile_error)?;
    let page = MePage {
        username: profile.username,
        plugin_key: profile.plugin_key,
        team: profile.team,
        endpoint: app.public_url.as_str().to_owned(),
        csrf: signed_in.session.csrf_token().to_owned(),
        regenerated: query.regenerated.is_some(),
    };
    // The page holds the user's key: keep it out of shared caches.
    Ok(([(CACHE_CONTROL, "no-store")], page).into_response())
}

/// `POST /me/key`: a new key for the signed-in user.
pub async fn regenerate_key(
    State(app): State<AppState>,
    signed_in: SignedInUser,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    if !signed_in.session.csrf_matches(form.csrf()) {
        return Err(stale_form());
    }
    profile::regenerate_key(&app, &signed_in.user)
        .await
        .map_err(profile_error)?;
    Ok(Redirect::to("/me?regenerated=1"))
}

fn profile_error(err: ProfileError) -> PageError {
    tracing::error!(error = %err, "the user's page could not be built");
    PageError::internal()
}
