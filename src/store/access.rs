//! What a Plugin API Key grants, read in one query for the gateway's key
//! check, and the revision counter that tells every replica to drop its
//! cached key checks.

use sqlx::Row;

use super::{Store, StoreError, now_millis};

const REVISION_SETTING: &str = "access_revision";

/// A usable key: not revoked, not expired, its user not disabled.
#[derive(Debug, Clone)]
pub struct KeyGrantRecord {
    pub key_id: String,
    pub user_id: String,
    pub username: String,
    pub team_id: String,
    pub expires_at: Option<i64>,
}

impl Store {
    pub async fn key_grant(
        &self,
        secret_digest: &str,
    ) -> Result<Option<KeyGrantRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT k.id AS key_id, k.user_id, u.username, u.team_id, k.expires_at \
             FROM plugin_keys k JOIN users u ON u.id = k.user_id \
             WHERE k.secret_digest = $1 AND k.revoked_at IS NULL \
               AND (k.expires_at IS NULL OR k.expires_at > $2) AND u.disabled_at IS NULL",
        )
        .bind(secret_digest)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(KeyGrantRecord {
            key_id: row.try_get("key_id")?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            team_id: row.try_get("team_id")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// A number that grows whenever keys, users or teams change in a way
    /// that affects access.
    pub async fn access_revision(&self) -> Result<i64, StoreError> {
        let value = self.setting(REVISION_SETTING).await?;
        Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub async fn bump_access_revision(&self) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, '1', $2) \
             ON CONFLICT (name) DO UPDATE SET \
               value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT), updated_at = excluded.updated_at",
        )
        .bind(REVISION_SETTING)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
