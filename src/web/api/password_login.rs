//! `POST /v1/login`: `{"username", "password"}` in, the person's account,
//! team and Plugin API Key out, for tools without a browser.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{CACHE_CONTROL, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::accounts::password_login::{self, PasswordLoginError};
use crate::accounts::teams::TeamError;
use crate::app::AppState;
use crate::web::error::ApiError;

#[derive(Deserialize)]
pub struct Credentials {
    username: String,
    password: String,
}

pub async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Result<Json<Credentials>, JsonRejection>,
) -> Response {
    let credentials = match body {
        Ok(Json(credentials))
            if !credentials.username.trim().is_empty() && credentials.username.len() <= 256 =>
        {
            credentials
        }
        Ok(_) => return ApiError::bad_request("username must not be empty").into_response(),
        Err(rejection) => {
            return ApiError::bad_request(format!(
                "expected JSON {{\"username\", \"password\"}}: {}",
                rejection.body_text()
            ))
            .into_response();
        }
    };
    match password_login::login(
        &app,
        &credentials.username,
        &credentials.password,
        peer.ip(),
    )
    .await
    {
        Ok(answer) => ([(CACHE_CONTROL, "no-store")], Json(answer)).into_response(),
        Err(err) => error_response(err),
    }
}

fn error_response(err: PasswordLoginError) -> Response {
    let status = match &err {
        PasswordLoginError::WrongCredentials => StatusCode::UNAUTHORIZED,
        PasswordLoginError::SwitchedOff
        | PasswordLoginError::AccountDisabled
        | PasswordLoginError::Team(TeamError::NotInAnyTeam) => StatusCode::FORBIDDEN,
        PasswordLoginError::KeycloakDisabled => StatusCode::NOT_FOUND,
        PasswordLoginError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        PasswordLoginError::Keycloak(_) => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let detail = match &err {
        PasswordLoginError::Keycloak(keycloak) => keycloak.user_message(),
        PasswordLoginError::Team(TeamError::NotInAnyTeam) => err.to_string(),
        PasswordLoginError::Team(_)
        | PasswordLoginError::Settings(_)
        | PasswordLoginError::Store(_)
        | PasswordLoginError::Sealed(_) => {
            tracing::error!(error = %err, "password sign-in failed inside gatehouse");
            "internal error; see the server log".to_owned()
        }
        _ => err.to_string(),
    };
    let mut response = ApiError::new(status, detail).into_response();
    if let PasswordLoginError::Throttled(seconds) = err {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
