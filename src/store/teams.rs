//! Teams and the rules the gateway applies to their members: which models
//! they may use, their default models, and their rate limits.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError, now_millis};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TeamRecord {
    pub id: String,
    pub name: String,
    /// `None`: every model; otherwise only these.
    pub allowed_models: Option<Vec<String>>,
    pub default_completion_model: Option<String>,
    pub default_chat_model: Option<String>,
    pub requests_per_minute: Option<i64>,
    pub tokens_per_minute: Option<i64>,
    pub updated_at: i64,
}

/// The rules of a team as an administrator sets them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamRules {
    pub allowed_models: Option<Vec<String>>,
    pub default_completion_model: Option<String>,
    pub default_chat_model: Option<String>,
    pub requests_per_minute: Option<i64>,
    pub tokens_per_minute: Option<i64>,
}

fn team_from_row(row: &AnyRow) -> Result<TeamRecord, StoreError> {
    let allowed: Option<String> = row.try_get("allowed_models")?;
    Ok(TeamRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        allowed_models: allowed.and_then(|json| serde_json::from_str(&json).ok()),
        default_completion_model: row.try_get("default_completion_model")?,
        default_chat_model: row.try_get("default_chat_model")?,
        requests_per_minute: row.try_get("requests_per_minute")?,
        tokens_per_minute: row.try_get("tokens_per_minute")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const TEAM_COLUMNS: &str = "id, name, allowed_models, default_completion_model, \
     default_chat_model, requests_per_minute, tokens_per_minute, updated_at";

impl Store {
    pub async fn teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(team_from_row).collect()
    }

    /// Creates the team `name` or replaces its rules.
    pub async fn put_team(&self, name: &str, rules: &TeamRules) -> Result<TeamRecord, StoreError> {
        let allowed = rules
            .allowed_models
            .as_ref()
            .map(|models| serde_json::to_string(models).unwrap_or_else(|_| "[]".to_owned()));
        let now = now_millis();
        sqlx::query(
            "INSERT INTO teams (id, name, allowed_models, default_completion_model, \
                 default_chat_model, requests_per_minute, tokens_per_minute, created_at, updated_at) \
             VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (id) DO UPDATE SET allowed_models = excluded.allowed_models, \
                 default_completion_model = excluded.default_completion_model, \
                 default_chat_model = excluded.default_chat_model, \
                 requests_per_minute = excluded.requests_per_minute, \
                 tokens_per_minute = excluded.tokens_per_minute, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(allowed)
        .bind(&rules.default_completion_model)
        .bind(&rules.default_chat_model)
        .bind(rules.requests_per_minute)
        .bind(rules.tokens_per_minute)
        .bind(now)
        .execute(&self.pool)
        .await?;
        self.bump_access_revision().await?;
        let sql = format!("SELECT {TEAM_COLUMNS} FROM teams WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        team_from_row(&row)
    }

    /// How many people each team has, by team id.
    pub async fn team_member_counts(
        &self,
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let rows = sqlx::query("SELECT team_id, COUNT(*) AS members FROM users GROUP BY team_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("team_id")?, row.try_get("members")?)))
            .collect()
    }
}
