//! `GET` and `PUT /admin/api/settings/keycloak`. The client secret is
//! accepted but never returned.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;

use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::settings::{self, AuthSettingsError, AuthSettingsUpdate, AuthSettingsView};
use crate::web::error::ApiError;

pub async fn get_keycloak(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
) -> Result<Json<AuthSettingsView>, ApiError> {
    let view = AuthSettingsView::current(&app.store, &app.secrets)
        .await
        .map_err(api_error)?;
    Ok(Json(view))
}

pub async fn put_keycloak(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    body: Result<Json<AuthSettingsUpdate>, JsonRejection>,
) -> Result<Json<AuthSettingsView>, ApiError> {
    let Json(update) = body.map_err(|rejection| {
        ApiError::bad_request(format!(
            "expected JSON {{\"enabled\", \"url\", \"realm\", \"client_id\", \"client_secret\"}}: {}",
            rejection.body_text()
        ))
    })?;
    settings::save(&app.store, &app.secrets, update)
        .await
        .map_err(api_error)?;
    app.keycloak.forget_cached();
    let view = AuthSettingsView::current(&app.store, &app.secrets)
        .await
        .map_err(api_error)?;
    Ok(Json(view))
}

fn api_error(err: AuthSettingsError) -> ApiError {
    match err {
        AuthSettingsError::Invalid(invalid) => ApiError::bad_request(invalid.to_string()),
        AuthSettingsError::Store(store) => ApiError::from(store),
        other => {
            tracing::error!(error = %other, "Keycloak settings could not be read or written");
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "the stored Keycloak settings could not be read; see the server log",
            )
        }
    }
}
