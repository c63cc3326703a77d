//! Directory sync: reads the whole Keycloak directory through the client's
//! service account and makes gatehouse follow it — at start, on a schedule,
//! and on demand. A failed or partial read changes nothing; the changes of
//! a successful one are applied in one transaction.
//!
//! Limitation: each replica runs its own schedule. Syncs are idempotent, so
//! this costs Keycloak requests, not correctness.

pub mod plan;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::accounts::teams::TeamRules;
use crate::app::AppState;
use crate::crypto::random_alphanumeric;
use crate::directory::{DirectoryError, ReadProgress, ServiceAccount};
use crate::settings::{self, AuthSettingsError};
use crate::store::{StoreError, now_millis};
use plan::SyncCounts;

/// A sync under way, as the console shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SyncProgress {
    pub id: String,
    pub trigger: String,
    pub started_at: i64,
    pub users_read: usize,
    pub groups_read: usize,
    pub requests: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("a directory sync is already running")]
    AlreadyRunning(SyncProgress),
    #[error("Keycloak sign-in is not enabled, so there is no directory to read")]
    NotConfigured,
    #[error("reading the directory failed, nothing was changed: {0}")]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Settings(#[from] AuthSettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A finished sync.
#[derive(Debug, Clone, Serialize)]
pub struct SyncOutcome {
    pub id: String,
    pub counts: SyncCounts,
}

#[derive(Clone)]
pub struct DirectorySync {
    service_account: ServiceAccount,
    running: Arc<Mutex<Option<SyncProgress>>>,
}

/// Clears the running marker however the sync ends.
struct RunningGuard(Arc<Mutex<Option<SyncProgress>>>);

impl Drop for RunningGuard {
    fn drop(&mut self) {
        if let Ok(mut running) = self.0.lock() {
            *running = None;
        }
    }
}

impl DirectorySync {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            service_account: ServiceAccount::new(http),
            running: Arc::default(),
        }
    }

    pub fn service_account(&self) -> &ServiceAccount {
        &self.service_account
    }

    /// The sync under way, if any.
    pub fn progress(&self) -> Option<SyncProgress> {
        self.running.lock().ok().and_then(|r| r.clone())
    }

    /// Runs one sync to completion; `trigger` says who asked (schedule, console, api, cli).
    pub async fn run(&self, app: &AppState, trigger: &str) -> Result<SyncOutcome, SyncError> {
        let settings = settings::load(&app.store, &app.secrets).await?;
        if !settings.enabled {
            return Err(SyncError::NotConfigured);
        }
        let id = random_alphanumeric(12).to_ascii_lowercase();
        {
            let mut running = self.running.lock().map_err(|_| SyncError::NotConfigured)?;
            if let Some(current) = running.as_ref() {
                return Err(SyncError::AlreadyRunning(current.clone()));
            }
            *running = Some(SyncProgress {
                id: id.clone(),
                trigger: trigger.to_owned(),
                started_at: now_millis(),
                users_read: 0,
                groups_read: 0,
                requests: 0,
            });
        }
        let _guard = RunningGuard(Arc::clone(&self.running));
        app.store.start_sync_record(&id, trigger).await?;
        tracing::info!(sync_id = %id, trigger, "directory sync started");

        let result = self.read_and_apply(app, &settings).await;
        match &result {
            Ok(counts) => {
                let summary = serde_json::to_value(counts).ok();
                app.store
                    .finish_sync_record(&id, summary.as_ref(), None)
                    .await?;
                tracing::info!(sync_id = %id, added = counts.added, updated = counts.updated,
                    disabled = counts.disabled, removed = counts.removed, reenabled = counts.reenabled,
                    "directory sync finished");
            }
            Err(err) => {
                app.store
                    .finish_sync_record(&id, None, Some(&err.to_string()))
                    .await?;
                tracing::warn!(sync_id = %id, error = %err, "directory sync failed; nothing changed");
            }
        }
        result.map(|counts| SyncOutcome { id, counts })
    }

    /// Runs a sync that starts after any sync already under way, so its
    /// result reflects Keycloak as it is now. Gives up after ten minutes.
    pub async fn run_fresh(&self, app: &AppState, trigger: &str) -> Result<SyncOutcome, SyncError> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
        loop {
            match self.run(app, trigger).await {
                Err(SyncError::AlreadyRunning(progress))
                    if tokio::time::Instant::now() < deadline =>
                {
                    tracing::debug!(running = %progress.id, "waiting for the running directory sync");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                other => return other,
            }
        }
    }

    async fn read_and_apply(
        &self,
        app: &AppState,
        settings: &crate::keycloak::KeycloakSettings,
    ) -> Result<SyncCounts, SyncError> {
        let running = Arc::clone(&self.running);
        let report = move |progress: ReadProgress| {
            if let Ok(mut running) = running.lock()
                && let Some(current) = running.as_mut()
            {
                current.users_read = progress.users_read;
                current.groups_read = progress.groups_read;
                current.requests = progress.requests;
            }
        };
        let directory = self
            .service_account
            .read_directory(settings, &report)
            .await?;

        let issuer = settings.issuer();
        let local = app.store.users_of_issuer(&issuer).await?;
        let rules = TeamRules::load(&app.store).await?;
        let plan = plan::plan(&local, &directory, &rules);
        app.store
            .apply_directory_changes(&issuer, &plan.changes, || {
                random_alphanumeric(16).to_ascii_lowercase()
            })
            .await?;
        if !plan.changes.is_empty() {
            app.gateway.changed().await?;
        }
        Ok(plan.counts)
    }
}

/// Syncs shortly after start and then every `every`, while Keycloak is enabled.
pub async fn schedule(app: AppState, every: Duration) {
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match app.directory.run(&app, "schedule").await {
            Ok(_) | Err(SyncError::NotConfigured) | Err(SyncError::AlreadyRunning(_)) => {}
            Err(err) => tracing::debug!(error = %err, "scheduled directory sync did not complete"),
        }
    }
}
