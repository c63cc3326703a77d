//! Telemetry that Refact's IDE engine sends, kept per user.

use sqlx::Row;

use super::{Store, StoreError, now_millis};

/// The most records returned to a user asking for their own telemetry.
const OWN_RECORDS_LIMIT: i64 = 1000;

impl Store {
    pub async fn insert_telemetry(
        &self,
        user_id: &str,
        teletype: &str,
        payload: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO telemetry_records (at, user_id, teletype, payload) VALUES ($1, $2, $3, $4)")
            .bind(now_millis())
            .bind(user_id)
            .bind(teletype)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user's own records, newest first, as (time, teletype, payload).
    pub async fn own_telemetry(
        &self,
        user_id: &str,
    ) -> Result<Vec<(i64, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, teletype, payload FROM telemetry_records WHERE user_id = $1 \
             ORDER BY at DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(OWN_RECORDS_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("at")?,
                    row.try_get("teletype")?,
                    row.try_get("payload")?,
                ))
            })
            .collect()
    }
}
