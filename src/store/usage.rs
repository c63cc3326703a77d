//! Usage records of the gateway, written in batches, and their totals.

use sqlx::Row;

use super::{Store, StoreError};

/// One request through the gateway.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UsageRecord {
    pub at: i64,
    pub user_id: String,
    pub team_id: String,
    pub key_id: String,
    pub endpoint: String,
    pub model: String,
    pub upstream: String,
    pub status: i64,
    pub streamed: bool,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub latency_ms: i64,
}

/// Totals for one user, team or model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct UsageTotal {
    pub name: String,
    pub requests: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl Store {
    /// Writes a batch in one transaction, 200 records per INSERT.
    pub async fn insert_usage(&self, records: &[UsageRecord]) -> Result<(), StoreError> {
        const COLUMNS: usize = 12;
        // SQLite looks each named parameter (`$n`) up among all of a
        // statement's parameters, which grows with the square of the
        // statement's size; there, anonymous `?` parameters are bound by
        // position instead.
        const ROWS_PER_STATEMENT: usize = 200;
        let anonymous = self.backend == super::Backend::Sqlite;
        let mut tx = self.pool.begin().await?;
        for chunk in records.chunks(ROWS_PER_STATEMENT) {
            let mut sql = String::from(
                "INSERT INTO usage_records (at, user_id, team_id, key_id, endpoint, model, upstream, \
                     status, streamed, prompt_tokens, completion_tokens, latency_ms) VALUES ",
            );
            for row in 0..chunk.len() {
                let first = row * COLUMNS + 1;
                let placeholders: Vec<String> = (first..first + COLUMNS)
                    .map(|n| {
                        if anonymous {
                            "?".to_owned()
                        } else {
                            format!("${n}")
                        }
                    })
                    .collect();
                if row > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!("({})", placeholders.join(", ")));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.at)
                    .bind(&r.user_id)
                    .bind(&r.team_id)
                    .bind(&r.key_id)
                    .bind(&r.endpoint)
                    .bind(&r.model)
                    .bind(&r.upstream)
                    .bind(r.status)
                    .bind(i64::from(r.streamed))
                    .bind(r.prompt_tokens)
                    .bind(r.completion_tokens)
                    .bind(r.latency_ms);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Totals since `since` (unix ms), grouped by user name, team name or model.
    pub async fn usage_totals(
        &self,
        group: UsageGroup,
        since: i64,
    ) -> Result<Vec<UsageTotal>, StoreError> {
        let key = match group {
            UsageGroup::User => "COALESCE(u.username, r.user_id)",
            UsageGroup::Team => "COALESCE(t.name, r.team_id)",
            UsageGroup::Model => "r.model",
        };
        let sql = format!(
            "SELECT {key} AS name, COUNT(*) AS requests, \
                    CAST(COALESCE(SUM(r.prompt_tokens), 0) AS BIGINT) AS prompt_tokens, \
                    CAST(COALESCE(SUM(r.completion_tokens), 0) AS BIGINT) AS completion_tokens \
             FROM usage_records r LEFT JOIN users u ON u.id = r.user_id \
             LEFT JOIN teams t ON t.id = r.team_id WHERE r.at >= $1 \
             GROUP BY {key} ORDER BY requests DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageTotal {
                    name: row.try_get("name")?,
                    requests: row.try_get("requests")?,
                    prompt_tokens: row.try_get("prompt_tokens")?,
                    completion_tokens: row.try_get("completion_tokens")?,
                })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub enum UsageGroup {
    User,
    Team,
    Model,
}

impl Store {
    /// Requests and tokens per UTC day since `since`, oldest first.
    pub async fn usage_per_day(&self, since: i64) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT at / 86400000 AS day, COUNT(*) AS requests, \
                    CAST(COALESCE(SUM(prompt_tokens + completion_tokens), 0) AS BIGINT) AS tokens \
             FROM usage_records WHERE at >= $1 GROUP BY at / 86400000 ORDER BY day",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("day")?,
                    row.try_get("requests")?,
                    row.try_get("tokens")?,
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;

    fn record(user: &str, tokens: i64) -> UsageRecord {
        UsageRecord {
            at: crate::store::now_millis(),
            user_id: user.into(),
            team_id: "default".into(),
            key_id: "k".into(),
            endpoint: "chat/completions".into(),
            model: "m".into(),
            upstream: "u".into(),
            status: 200,
            streamed: true,
            prompt_tokens: tokens,
            completion_tokens: 1,
            latency_ms: 3,
        }
    }

    #[tokio::test]
    async fn large_batches_are_written_whole_and_summed() {
        let store = temp_store().await;
        let batch: Vec<UsageRecord> = (0..2500)
            .map(|i| record(if i % 2 == 0 { "a" } else { "b" }, 2))
            .collect();
        store.insert_usage(&batch).await.unwrap();
        let totals = store.usage_totals(UsageGroup::User, 0).await.unwrap();
        assert_eq!(totals.len(), 2);
        assert_eq!(totals.iter().map(|t| t.requests).sum::<i64>(), 2500);
        assert_eq!(totals[0].prompt_tokens, 2500);
    }
}
