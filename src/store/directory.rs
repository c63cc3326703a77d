//! Applying a directory sync in one transaction, and the record of syncs.

use sqlx::Row;

use super::users::{USER_COLUMNS, user_from_row};
use super::{Store, StoreError, UserRecord, now_millis};
use crate::directory_sync::plan::{BY_DIRECTORY, UserChange};

/// One directory sync as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncRecord {
    pub id: String,
    pub trigger: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: String,
    pub summary: Option<serde_json::Value>,
    pub error: Option<String>,
}

impl Store {
    /// Every user gatehouse knows from `issuer`.
    pub async fn users_of_issuer(&self, issuer: &str) -> Result<Vec<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN teams t ON t.id = u.team_id WHERE u.issuer = $1"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(issuer)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok(user_from_row(row)?)).collect()
    }

    /// Applies every change or none. `new_id` names users being added.
    pub async fn apply_directory_changes(
        &self,
        issuer: &str,
        changes: &[UserChange],
        mut new_id: impl FnMut() -> String,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now_millis();
        for change in changes {
            match change {
                UserChange::Add {
                    subject,
                    profile,
                    team,
                } => {
                    sqlx::query(
                        "INSERT INTO users (id, issuer, subject, username, email, display_name, \
                             team_id, team_source, team_choices, group_paths, created_at, last_login_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0) \
                         ON CONFLICT (issuer, subject) DO NOTHING",
                    )
                    .bind(new_id())
                    .bind(issuer)
                    .bind(subject)
                    .bind(&profile.username)
                    .bind(&profile.email)
                    .bind(&profile.display_name)
                    .bind(&team.team_id)
                    .bind(&team.source)
                    .bind(json(&team.choices))
                    .bind(json(&profile.group_paths))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                UserChange::Update {
                    user_id,
                    profile,
                    team,
                } => {
                    sqlx::query(
                        "UPDATE users SET username = $2, email = $3, display_name = $4, team_id = $5, \
                             team_source = $6, team_choices = $7, group_paths = $8 WHERE id = $1",
                    )
                    .bind(user_id)
                    .bind(&profile.username)
                    .bind(&profile.email)
                    .bind(&profile.display_name)
                    .bind(&team.team_id)
                    .bind(&team.source)
                    .bind(json(&team.choices))
                    .bind(json(&profile.group_paths))
                    .execute(&mut *tx)
                    .await?;
                }
                UserChange::Disable { user_id, .. } => {
                    sqlx::query(
                        "UPDATE users SET disabled_at = $2, disabled_by = $3 WHERE id = $1",
                    )
                    .bind(user_id)
                    .bind(now)
                    .bind(BY_DIRECTORY)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                UserChange::Enable { user_id } => {
                    sqlx::query(
                        "UPDATE users SET disabled_at = NULL, disabled_by = NULL \
                         WHERE id = $1 AND disabled_by = $2",
                    )
                    .bind(user_id)
                    .bind(BY_DIRECTORY)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        if !changes.is_empty() {
            self.bump_access_revision().await?;
        }
        Ok(())
    }

    pub async fn start_sync_record(&self, id: &str, trigger: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO directory_syncs (id, trigger_source, started_at, status) VALUES ($1, $2, $3, 'running')",
        )
        .bind(id)
        .bind(trigger)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn finish_sync_record(
        &self,
        id: &str,
        summary: Option<&serde_json::Value>,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE directory_syncs SET finished_at = $2, status = $3, summary = $4, error = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(now_millis())
        .bind(if error.is_some() { "failed" } else { "succeeded" })
        .bind(summary.map(|s| s.to_string()))
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The most recent syncs, newest first.
    pub async fn recent_syncs(&self, limit: i64) -> Result<Vec<SyncRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, trigger_source, started_at, finished_at, status, summary, error \
             FROM directory_syncs ORDER BY started_at DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let summary: Option<String> = row.try_get("summary")?;
                Ok(SyncRecord {
                    id: row.try_get("id")?,
                    trigger: row.try_get("trigger_source")?,
                    started_at: row.try_get("started_at")?,
                    finished_at: row.try_get("finished_at")?,
                    status: row.try_get("status")?,
                    summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}
