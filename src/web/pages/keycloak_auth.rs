//! The browser's round trip through Keycloak: start, callback, logout.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::accounts::signin::{self, CallbackParams, SignInError};
use crate::accounts::teams::TeamError;
use crate::app::AppState;
use crate::auth::extract::SignedInUser;
use crate::settings;
use crate::web::error::PageError;

/// `GET /auth/keycloak/start`: off to Keycloak's sign-in page.
pub async fn start(State(app): State<AppState>) -> Response {
    match signin::begin(&app).await {
        Ok(started) => (
            AppendHeaders([(SET_COOKIE, started.binding_cookie)]),
            Redirect::to(&started.authorize_url),
        )
            .into_response(),
        Err(err) => sign_in_page_error(err).into_response(),
    }
}

/// `GET /auth/keycloak/callback`: Keycloak sends the browser back here.
pub async fn callback(
    State(app): State<AppState>,
    Query(params): Query<CallbackParams>,
    headers: HeaderMap,
) -> Response {
    match signin::finish(&app, params, &headers).await {
        Ok(signed_in) => (
            AppendHeaders([
                (SET_COOKIE, signed_in.session_cookie),
                (SET_COOKIE, signed_in.clear_binding_cookie),
            ]),
            Redirect::to("/me"),
        )
            .into_response(),
        Err(err) => sign_in_page_error(err).into_response(),
    }
}

/// A form whose only field is the session's CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

impl CsrfForm {
    pub fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /logout`: ends the local session, then Keycloak's.
pub async fn logout(
    State(app): State<AppState>,
    signed_in: SignedInUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    if !signed_in.session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    app.sessions.end(&signed_in.session).await?;
    tracing::info!(user_id = %signed_in.user.id, "signed out");

    let after_logout = app.public_url.join("/login?signed_out=1");
    let hint = signin::id_token_hint(&app, signed_in.session.record.sealed_id_token.as_deref());
    let keycloak_logout = match (hint, settings::load(&app.store, &app.secrets).await) {
        (Some(hint), Ok(settings)) if settings.enabled => {
            match app
                .keycloak
                .end_session_url(&settings, &hint, &after_logout)
                .await
            {
                Ok(url) => Some(url),
                Err(err) => {
                    tracing::warn!(error = %err, "could not end the Keycloak session; local session ended");
                    None
                }
            }
        }
        _ => None,
    };
    let target = keycloak_logout.unwrap_or(after_logout);
    Ok((
        AppendHeaders([(SET_COOKIE, app.sessions.clearing_cookie())]),
        Redirect::to(&target),
    )
        .into_response())
}

pub fn stale_form() -> PageError {
    PageError::new(
        StatusCode::FORBIDDEN,
        "stale_form",
        "This form has expired",
        "The page you submitted was out of date or came from another site. Go back, reload \
         the page and try again.",
    )
    .try_again("/", "Reload")
}

/// The page a person sees when signing in fails: what happened, what to do.
fn sign_in_page_error(err: SignInError) -> PageError {
    let try_again = |page: PageError| page.try_again("/login", "Try signing in again");
    match err {
        SignInError::KeycloakDisabled => try_again(PageError::new(
            StatusCode::NOT_FOUND,
            "keycloak_disabled",
            "Single sign-on is not enabled",
            "An administrator has not turned on Keycloak sign-in yet (Settings > Auth).",
        )),
        SignInError::Keycloak(err) => {
            tracing::warn!(code = err.code(), error = %err, "Keycloak sign-in failed");
            let status = match err.code() {
                "keycloak_unreachable" => StatusCode::BAD_GATEWAY,
                "code_rejected" | "id_token_invalid" => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_GATEWAY,
            };
            try_again(PageError::new(
                status,
                err.code(),
                title_for(err.code()),
                err.user_message(),
            ))
        }
        SignInError::AttemptExpired | SignInError::MissingCode => try_again(PageError::new(
            StatusCode::BAD_REQUEST,
            "login_expired",
            "This sign-in link has expired",
            "The sign-in was already completed, took longer than 10 minutes, or was started in \
             another browser. Start again from the sign-in page.",
        )),
        SignInError::Refused { error, description } => {
            tracing::info!(keycloak_error = %error, "Keycloak returned an error to the callback");
            let detail = match (error.as_str(), description) {
                ("access_denied", _) => {
                    "The sign-in was cancelled or Keycloak refused it. You are not signed in."
                        .to_owned()
                }
                (_, Some(description)) => format!("Keycloak said: {description} ({error})."),
                (_, None) => format!("Keycloak answered with the error \"{error}\"."),
            };
            try_again(PageError::new(
                StatusCode::UNAUTHORIZED,
                "access_denied",
                "You were not signed in",
                detail,
            ))
        }
        SignInError::AccountDisabled => try_again(PageError::new(
            StatusCode::FORBIDDEN,
            "account_disabled",
            "Your access is disabled",
            "Your gatehouse account has been disabled. Ask an administrator to restore access.",
        )),
        SignInError::Settings(err) => {
            tracing::error!(error = %err, "Keycloak settings unusable during sign-in");
            try_again(PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "keycloak_misconfigured",
                "Single sign-on is misconfigured",
                "The Keycloak settings could not be read. An administrator should check \
                 Settings > Auth and the server log.",
            ))
        }
        SignInError::Team(TeamError::NotInAnyTeam) => try_again(PageError::new(
            StatusCode::FORBIDDEN,
            "not_in_a_team",
            "You are not in a team that may use gatehouse",
            "None of your Keycloak groups is mapped to a team here. Ask an administrator to add \
             you to a mapped group.",
        )),
        SignInError::Team(TeamError::Store(err)) | SignInError::Store(err) => PageError::from(err),
        SignInError::Sealed(err) => {
            tracing::error!(error = %err, "a sealed sign-in value could not be opened");
            try_again(PageError::internal())
        }
    }
}

fn title_for(code: &str) -> &'static str {
    match code {
        "keycloak_unreachable" => "Keycloak cannot be reached",
        "invalid_client" => "Keycloak rejected gatehouse's credentials",
        "code_rejected" => "Keycloak refused the sign-in code",
        "id_token_invalid" => "The sign-in could not be verified",
        _ => "Single sign-on is misconfigured",
    }
}
