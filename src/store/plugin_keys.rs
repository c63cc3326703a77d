//! Plugin API keys: looked up by the digest of the secret, kept sealed so
//! that the owner can see their own key again.

use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, now_millis};

/// A key about to be stored.
#[derive(Debug, Clone)]
pub struct NewPluginKey {
    /// The public id, safe to log.
    pub id: String,
    pub secret_digest: String,
    pub sealed_secret: String,
    pub expires_at: Option<i64>,
}

/// A user's current key, as stored.
#[derive(Debug, Clone)]
pub struct ActiveKeyRecord {
    pub id: String,
    pub sealed_secret: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

pub(super) async fn insert_key(
    tx: &mut Transaction<'_, Any>,
    user_id: &str,
    key: &NewPluginKey,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plugin_keys (id, user_id, secret_digest, sealed_secret, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&key.id)
    .bind(user_id)
    .bind(&key.secret_digest)
    .bind(&key.sealed_secret)
    .bind(now)
    .bind(key.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The user's usable key: not revoked, not expired.
    pub async fn active_key(&self, user_id: &str) -> Result<Option<ActiveKeyRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, sealed_secret, created_at, expires_at FROM plugin_keys \
             WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2) \
             ORDER BY created_at DESC LIMIT 1",
        )
        .bind(user_id)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ActiveKeyRecord {
            id: row.try_get("id")?,
            sealed_secret: row.try_get("sealed_secret")?,
            created_at: row.try_get("created_at")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }
}
