//! Upstream inference servers added in the admin console (those from the
//! config file and the command line live only in memory).

use sqlx::Row;

use super::{Store, StoreError, now_millis};

#[derive(Debug, Clone)]
pub struct UpstreamRecord {
    pub name: String,
    pub base_url: String,
    pub sealed_api_key: Option<String>,
    /// Models it serves; empty means "ask the upstream's /v1/models".
    pub models: Vec<String>,
}

impl Store {
    pub async fn upstreams(&self) -> Result<Vec<UpstreamRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, base_url, sealed_api_key, models FROM upstreams ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let models: String = row.try_get("models")?;
                Ok(UpstreamRecord {
                    name: row.try_get("name")?,
                    base_url: row.try_get("base_url")?,
                    sealed_api_key: row.try_get("sealed_api_key")?,
                    models: serde_json::from_str(&models).unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn put_upstream(&self, upstream: &UpstreamRecord) -> Result<(), StoreError> {
        let models = serde_json::to_string(&upstream.models).unwrap_or_else(|_| "[]".to_owned());
        sqlx::query(
            "INSERT INTO upstreams (name, base_url, sealed_api_key, models, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (name) DO UPDATE SET base_url = excluded.base_url, \
                 sealed_api_key = excluded.sealed_api_key, models = excluded.models, \
                 updated_at = excluded.updated_at",
        )
        .bind(&upstream.name)
        .bind(&upstream.base_url)
        .bind(&upstream.sealed_api_key)
        .bind(models)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        self.bump_access_revision().await
    }

    /// `false` if there was no such upstream.
    pub async fn delete_upstream(&self, name: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM upstreams WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await?;
        self.bump_access_revision().await?;
        Ok(result.rows_affected() == 1)
    }
}
