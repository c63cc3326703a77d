//! The table that maps Keycloak group paths to teams.

use sqlx::Row;

use super::{Store, StoreError, now_millis};
use crate::accounts::team_mapping::GroupMapping;

impl Store {
    pub async fn group_mappings(&self) -> Result<Vec<GroupMapping>, StoreError> {
        let rows = sqlx::query("SELECT group_path, team_id, priority FROM group_mappings ORDER BY priority, group_path")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(GroupMapping {
                    group_path: row.try_get("group_path")?,
                    team_id: row.try_get("team_id")?,
                    priority: row.try_get("priority")?,
                })
            })
            .collect()
    }

    /// Creates or replaces the mapping of `group_path`; `false` if the team does not exist.
    pub async fn put_group_mapping(&self, mapping: &GroupMapping) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "INSERT INTO group_mappings (group_path, team_id, priority, created_at) \
             SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM teams WHERE id = $2) \
             ON CONFLICT (group_path) DO UPDATE SET team_id = excluded.team_id, priority = excluded.priority",
        )
        .bind(&mapping.group_path)
        .bind(&mapping.team_id)
        .bind(mapping.priority)
        .bind(now_millis())
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    pub async fn delete_group_mapping(&self, group_path: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM group_mappings WHERE group_path = $1")
            .bind(group_path)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }
}
