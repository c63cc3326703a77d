//! `GET /admin/api/keycloak/check`: the connection check as JSON.

use axum::Json;
use axum::extract::State;

use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::keycloak_check::{self, Report};
use crate::settings;
use crate::web::error::ApiError;

pub async fn check(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
) -> Result<Json<Report>, ApiError> {
    let settings = settings::load(&app.store, &app.secrets)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, "Keycloak settings unreadable for the connection check");
            ApiError::new(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "the stored settings are unreadable",
            )
        })?;
    Ok(Json(keycloak_check::run(&app, &settings).await))
}
