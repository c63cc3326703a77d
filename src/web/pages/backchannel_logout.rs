//! `POST /auth/keycloak/backchannel-logout`: Keycloak tells gatehouse that a
//! session ended on its side (the user signed out in Keycloak's account
//! console, an administrator ended it, or it expired), and gatehouse ends
//! the matching sessions too.

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::settings;

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    logout_token: String,
}

fn refusal(status: StatusCode, description: &str) -> Response {
    let body = Json(json!({"error": "invalid_request", "error_description": description}));
    (status, [(CACHE_CONTROL, "no-store")], body).into_response()
}

pub async fn backchannel_logout(
    State(app): State<AppState>,
    Form(form): Form<LogoutForm>,
) -> Response {
    if form.logout_token.is_empty() {
        return refusal(StatusCode::BAD_REQUEST, "the form has no logout_token");
    }
    let settings = match settings::load(&app.store, &app.secrets).await {
        Ok(settings) if settings.enabled => settings,
        Ok(_) => return refusal(StatusCode::BAD_REQUEST, "Keycloak sign-in is not enabled"),
        Err(err) => {
            tracing::error!(error = %err, "Keycloak settings unreadable during back-channel logout");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "settings unreadable");
        }
    };
    let notice = match app
        .keycloak
        .verify_logout_token(&settings, &form.logout_token)
        .await
    {
        Ok(notice) => notice,
        Err(err) => return refusal(StatusCode::BAD_REQUEST, &err.user_message()),
    };
    match app
        .store
        .end_keycloak_sessions(
            &notice.issuer,
            notice.session_id.as_deref(),
            notice.subject.as_deref(),
        )
        .await
    {
        Ok(ended) => {
            tracing::info!(ended, sid = ?notice.session_id, "sessions ended by Keycloak back-channel logout");
            (StatusCode::OK, [(CACHE_CONTROL, "no-store")]).into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "could not end sessions for a back-channel logout");
            refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "sessions could not be ended",
            )
        }
    }
}
