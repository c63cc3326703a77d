//! `/admin/api/directory/sync`: run a directory sync (waiting for it with
//! `?wait=true`, else in the background) and see its progress and results.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::directory_sync::SyncError;
use crate::web::error::ApiError;

#[derive(Deserialize)]
pub struct SyncQuery {
    #[serde(default)]
    wait: bool,
}

pub async fn start(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Query(query): Query<SyncQuery>,
) -> Response {
    if !query.wait {
        let background = app.clone();
        tokio::spawn(async move {
            let _ = background.directory.run(&background, "api").await;
        });
        return (
            StatusCode::ACCEPTED,
            Json(json!({"detail": "directory sync started"})),
        )
            .into_response();
    }
    match app.directory.run_fresh(&app, "api").await {
        Ok(outcome) => {
            Json(json!({"id": outcome.id, "status": "succeeded", "summary": outcome.counts}))
                .into_response()
        }
        Err(err) => sync_error(err).into_response(),
    }
}

pub fn sync_error(err: SyncError) -> Response {
    match err {
        SyncError::AlreadyRunning(progress) => (
            StatusCode::CONFLICT,
            Json(json!({"detail": "a directory sync is already running", "running": progress})),
        )
            .into_response(),
        SyncError::NotConfigured => ApiError::bad_request(err.to_string()).into_response(),
        SyncError::Directory(directory) => (
            StatusCode::BAD_GATEWAY,
            Json(json!({
                "detail": format!("reading the directory failed, nothing was changed: {directory}"),
                "code": directory.code(),
                "fix": directory.fix(),
            })),
        )
            .into_response(),
        SyncError::Settings(_) | SyncError::Store(_) => {
            tracing::error!(error = %err, "directory sync failed inside gatehouse");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; see the server log",
            )
            .into_response()
        }
    }
}

pub async fn status(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({
        "running": app.directory.progress(),
        "recent": app.store.recent_syncs(20).await?,
    })))
}
