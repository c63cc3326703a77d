//! Named settings, stored as text: the Keycloak settings (as JSON) and the
//! admin token's digest.

use super::{Store, StoreError, now_millis};

impl Store {
    pub async fn setting(&self, name: &str) -> Result<Option<String>, StoreError> {
        let value = sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(value)
    }

    pub async fn put_setting(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::store::test_support::temp_store;

    #[tokio::test]
    async fn settings_upsert_and_read_back() {
        let store = temp_store().await;
        assert_eq!(store.setting("x").await.unwrap(), None);
        store.put_setting("x", "1").await.unwrap();
        store.put_setting("x", "2").await.unwrap();
        assert_eq!(store.setting("x").await.unwrap().as_deref(), Some("2"));
    }
}
