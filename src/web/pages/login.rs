//! `/login` and `/`: where everyone starts.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::app::AppState;
use crate::settings;
use crate::store::SessionKind;
use crate::web::error::PageError;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    keycloak_enabled: bool,
    notice: Option<&'static str>,
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    signed_out: Option<String>,
}

pub async fn login_page(
    State(app): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, PageError> {
    let keycloak_enabled = match settings::load(&app.store, &app.secrets).await {
        Ok(settings) => settings.enabled,
        Err(err) => {
            tracing::error!(error = %err, "Keycloak settings unreadable on the login page");
            false
        }
    };
    let notice = query.signed_out.map(|_| "You are signed out.");
    Ok(LoginPage {
        keycloak_enabled,
        notice,
    }
    .into_response())
}

/// `/`: the user's page when signed in, the console for an administrator,
/// otherwise the sign-in page.
pub async fn home(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
) -> Result<Redirect, PageError> {
    let session = app.sessions.current(&headers).await?;
    Ok(match session.map(|s| s.record.kind) {
        Some(SessionKind::User) => Redirect::to("/me"),
        Some(SessionKind::Admin) => Redirect::to("/admin"),
        None => Redirect::to("/login"),
    })
}
