//! Keycloak sign-ins in progress, keyed by the digest of their `state`, so
//! any replica can finish a login and each `state` is usable once.

use sqlx::Row;

use super::{Store, StoreError, now_millis};

#[derive(Debug, Clone)]
pub struct PendingLoginRecord {
    pub binding_digest: String,
    pub sealed_request: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn insert_pending_login(
        &self,
        state_digest: &str,
        record: &PendingLoginRecord,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_logins (state_digest, binding_digest, sealed_request, created_at, \
                                         expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(state_digest)
        .bind(&record.binding_digest)
        .bind(&record.sealed_request)
        .bind(now_millis())
        .bind(record.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes and returns the pending login for `state_digest`. Deleting
    /// first makes a `state` single-use even when two requests race.
    pub async fn take_pending_login(
        &self,
        state_digest: &str,
    ) -> Result<Option<PendingLoginRecord>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM pending_logins WHERE state_digest = $1 \
             RETURNING binding_digest, sealed_request, expires_at",
        )
        .bind(state_digest)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(PendingLoginRecord {
            binding_digest: row.try_get("binding_digest")?,
            sealed_request: row.try_get("sealed_request")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn a_pending_login_can_be_taken_once() {
        let store = temp_store().await;
        let record = PendingLoginRecord {
            binding_digest: "b".into(),
            sealed_request: "s".into(),
            expires_at: now_millis() + 60_000,
        };
        store.insert_pending_login("d", &record).await.unwrap();
        assert!(store.take_pending_login("d").await.unwrap().is_some());
        assert!(store.take_pending_login("d").await.unwrap().is_none());
    }
}
