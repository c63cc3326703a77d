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
use crate::dates::utc_time;
use crate::web::error::PageError;

#[derive(Template, WebTemplate)]
#[template(path = "me.html")]
struct MePage {
    username: String,
    plugin_key: Option<String>,
    key_expires: Option<String>,
    team: String,
    team_choices: Vec<String>,
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
        key_expires: profile.key_expires_at.map(utc_time),
        team: profile.team,
        team_choices: signed_in.user.team_choices.clone(),
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

#[derive(Debug, Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    team: String,
}

/// `POST /me/team`: the user picks one of the teams their groups offer.
pub async fn choose_team(
    State(app): State<AppState>,
    signed_in: SignedInUser,
    Form(form): Form<TeamForm>,
) -> Result<Redirect, PageError> {
    if !signed_in.session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    if !signed_in.user.team_choices.contains(&form.team) {
        return Err(PageError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "team_not_offered",
            "That team is not available to you",
            "Your Keycloak groups do not give you that team. Pick one from the list.",
        )
        .try_again("/me", "Back to your account"));
    }
    app.store
        .set_user_team(&signed_in.user.id, &form.team, "user")
        .await?;
    app.gateway.changed().await?;
    tracing::info!(user_id = %signed_in.user.id, team = %form.team, "user chose a team");
    Ok(Redirect::to("/me"))
}

fn profile_error(err: ProfileError) -> PageError {
    tracing::error!(error = %err, "the user's page could not be built");
    PageError::internal()
}
