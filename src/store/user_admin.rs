//! What an administrator changes about one user: team, keys, and whether
//! they may use gatehouse at all. Each change bumps the access revision so
//! cached key checks everywhere are dropped.

use super::plugin_keys::{NewPluginKey, insert_key};
use super::users::{USER_COLUMNS, user_from_row};
use super::{Store, StoreError, UserRecord, now_millis};
use crate::accounts::team_mapping::TeamAssignment;

impl Store {
    pub async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN teams t ON t.id = u.team_id \
             WHERE u.username = $1 ORDER BY u.created_at LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }

    /// Moves a user to an existing team, recording who chose it (`admin`
    /// or `user`); `false` if the team does not exist.
    pub async fn set_user_team(
        &self,
        user_id: &str,
        team_id: &str,
        chosen_by: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE users SET team_id = $1, team_source = $3 \
             WHERE id = $2 AND EXISTS (SELECT 1 FROM teams WHERE id = $1)",
        )
        .bind(team_id)
        .bind(user_id)
        .bind(chosen_by)
        .execute(&self.pool)
        .await?;
        self.bump_access_revision().await?;
        Ok(result.rows_affected() == 1)
    }

    /// Gives a user the team, source and choices of a fresh assignment.
    pub async fn assign_team(
        &self,
        user_id: &str,
        assignment: &TeamAssignment,
    ) -> Result<(), StoreError> {
        let choices =
            serde_json::to_string(&assignment.choices).unwrap_or_else(|_| "[]".to_owned());
        sqlx::query(
            "UPDATE users SET team_id = $1, team_source = $2, team_choices = $3 WHERE id = $4",
        )
        .bind(&assignment.team_id)
        .bind(&assignment.source)
        .bind(choices)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        self.bump_access_revision().await
    }

    /// Revokes every key of the user; returns how many were usable.
    pub async fn revoke_keys(&self, user_id: &str) -> Result<u64, StoreError> {
        let result = sqlx::query(
            "UPDATE plugin_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now_millis())
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        self.bump_access_revision().await?;
        Ok(result.rows_affected())
    }

    /// Revokes the user's keys and gives them `key`, atomically.
    pub async fn rotate_key(&self, user_id: &str, key: &NewPluginKey) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now_millis();
        sqlx::query(
            "UPDATE plugin_keys SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        insert_key(&mut tx, user_id, key, now).await?;
        tx.commit().await?;
        self.bump_access_revision().await
    }

    /// Disables or re-enables a user. Disabling ends their sessions; their
    /// keys stay stored but are refused while disabled.
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        by: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let disabled_at = disabled.then(now_millis);
        let disabled_by = disabled.then_some(by);
        sqlx::query("UPDATE users SET disabled_at = $1, disabled_by = $3 WHERE id = $2")
            .bind(disabled_at)
            .bind(user_id)
            .bind(disabled_by)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        self.bump_access_revision().await
    }
}
