//! Administrator sign-in with the admin token, throttled per address, and
//! sign-out.

use std::net::SocketAddr;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::keycloak_auth::{CsrfForm, stale_form};
use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::web::error::PageError;

#[derive(Template, WebTemplate)]
#[template(path = "admin_login.html")]
struct AdminLoginPage {
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct AdminLoginForm {
    #[serde(default)]
    token: String,
}

pub async fn admin_login_page() -> impl IntoResponse {
    AdminLoginPage { error: None }
}

/// `POST /admin/login`: checks the token and opens an admin session.
pub async fn admin_login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Form(form): Form<AdminLoginForm>,
) -> Result<Response, PageError> {
    let address = peer.ip();
    if let Err(wait) = app.admin_throttle.check(&address) {
        let page = AdminLoginPage {
            error: Some(format!(
                "Too many failed attempts from your address. Wait {} minute(s) and try again.",
                wait.div_ceil(60)
            )),
        };
        return Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response());
    }
    if !app.admin_token.verify(form.token.trim()) {
        app.admin_throttle.record_failure(&address);
        tracing::warn!(client = %address, "administrator login with a wrong token");
        let page = AdminLoginPage {
            error: Some("That admin token is not valid. Check it and try again.".to_owned()),
        };
        return Ok((StatusCode::UNAUTHORIZED, page).into_response());
    }
    app.admin_throttle.record_success(&address);
    let cookie = app.sessions.open_admin().await?;
    tracing::info!(client = %address, "administrator signed in");
    Ok((
        AppendHeaders([(SET_COOKIE, cookie)]),
        Redirect::to("/admin"),
    )
        .into_response())
}

/// `POST /admin/logout`.
pub async fn admin_logout(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(form.csrf()) {
        return Err(stale_form());
    }
    app.sessions.end(&session).await?;
    Ok((
        AppendHeaders([(SET_COOKIE, app.sessions.clearing_cookie())]),
        Redirect::to("/login?signed_out=1"),
    )
        .into_response())
}
