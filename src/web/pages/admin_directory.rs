//! The console's Directory page: sync now, the progress of a running sync,
//! and the results of recent ones.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};

use super::keycloak_auth::{CsrfForm, stale_form};
use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::dates::utc_time;
use crate::directory_sync::SyncProgress;
use crate::store::SyncRecord;
use crate::web::error::PageError;

struct SyncRow {
    started: String,
    trigger: String,
    status: String,
    result: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_directory.html")]
struct DirectoryPage {
    section: &'static str,
    csrf: String,
    running: Option<SyncProgress>,
    syncs: Vec<SyncRow>,
    every_minutes: Option<u64>,
    error: Option<String>,
}

fn row(record: SyncRecord) -> SyncRow {
    let result = match (&record.summary, &record.error) {
        (Some(s), _) => format!(
            "{} in Keycloak: {} added, {} updated, {} disabled, {} removed, {} re-enabled",
            s["users_in_keycloak"],
            s["added"],
            s["updated"],
            s["disabled"],
            s["removed"],
            s["reenabled"]
        ),
        (None, Some(error)) => error.clone(),
        (None, None) => String::new(),
    };
    SyncRow {
        started: utc_time(record.started_at),
        trigger: record.trigger,
        status: record.status,
        result,
    }
}

pub async fn directory_page(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<impl IntoResponse, PageError> {
    let syncs = app
        .store
        .recent_syncs(20)
        .await?
        .into_iter()
        .map(row)
        .collect();
    Ok(DirectoryPage {
        section: "directory",
        csrf: session.csrf_token().to_owned(),
        running: app.directory.progress(),
        syncs,
        every_minutes: app.directory_sync_minutes,
        error: None,
    })
}

/// `POST /admin/directory/sync`: starts a sync in the background.
pub async fn sync_now(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, PageError> {
    if !session.csrf_matches(form.csrf()) {
        return Err(stale_form());
    }
    let background = app.clone();
    tokio::spawn(async move {
        let _ = background.directory.run(&background, "console").await;
    });
    // Give a quick sync the chance to finish before the page shows.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    Ok(Redirect::to("/admin/directory"))
}
