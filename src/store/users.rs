//! People who signed in through Keycloak, keyed by (issuer, subject).

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::plugin_keys::{NewPluginKey, insert_key};
use super::sessions::{NewSession, insert_session};
use super::{Store, StoreError, now_millis};
use crate::accounts::team_mapping::{TeamAssignment, settle};

/// A user as stored, with the name of their team.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: String,
    pub issuer: String,
    pub subject: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub team_id: String,
    pub team_name: String,
    /// `default`, `mapping`, `user` or `admin`.
    pub team_source: String,
    /// Teams the group mapping offers the user to choose among.
    pub team_choices: Vec<String>,
    /// Keycloak group paths as last seen (sign-in or directory sync).
    pub group_paths: Vec<String>,
    pub disabled_at: Option<i64>,
    /// `admin` or `directory` while disabled.
    pub disabled_by: Option<String>,
}

/// The outcome of recording a sign-in.
#[derive(Debug)]
pub enum SignInRecord {
    Recorded(Box<UserRecord>),
    /// The user exists and is disabled: nothing was written.
    UserDisabled,
}

/// What a sign-in tells us about a user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub issuer: String,
    pub subject: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub team: TeamAssignment,
    /// Keycloak group paths, when the sign-in carried them.
    pub group_paths: Option<Vec<String>>,
}

pub(super) const USER_COLUMNS: &str = "u.id, u.issuer, u.subject, u.username, u.email, \
     u.display_name, u.team_id, t.name AS team_name, u.team_source, u.team_choices, u.group_paths, \
     u.disabled_at, u.disabled_by";

pub(super) fn user_from_row(row: &AnyRow) -> Result<UserRecord, sqlx::Error> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        issuer: row.try_get("issuer")?,
        subject: row.try_get("subject")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        team_id: row.try_get("team_id")?,
        team_name: row.try_get("team_name")?,
        team_source: row.try_get("team_source")?,
        team_choices: json_list(row.try_get("team_choices")?),
        group_paths: json_list(row.try_get("group_paths")?),
        disabled_at: row.try_get("disabled_at")?,
        disabled_by: row.try_get("disabled_by")?,
    })
}

/// A JSON list of strings from a nullable column; unreadable means empty.
pub(super) fn json_list(value: Option<String>) -> Vec<String> {
    value
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

impl Store {
    /// Records a successful Keycloak sign-in in one transaction: creates or
    /// refreshes the user (unless disabled), gives them `candidate_key` if
    /// they have no usable key yet, and opens `session` if there is one.
    /// Nothing is written if any step fails.
    pub async fn record_sign_in(
        &self,
        user: NewUser,
        candidate_key: NewPluginKey,
        session: Option<NewSession>,
    ) -> Result<SignInRecord, StoreError> {
        let mut tx = self.pool.begin().await?;
        let now = now_millis();

        let existing = find_by_subject(&mut tx, &user.issuer, &user.subject).await?;
        if existing.as_ref().is_some_and(|u| u.disabled_at.is_some()) {
            tx.rollback().await?;
            return Ok(SignInRecord::UserDisabled);
        }
        let current = existing
            .as_ref()
            .map(|u| (u.team_source.as_str(), u.team_id.as_str()));
        let team = settle(current, user.team.clone());
        let choices = serde_json::to_string(&team.choices).unwrap_or_else(|_| "[]".to_owned());
        let groups = user
            .group_paths
            .as_ref()
            .and_then(|g| serde_json::to_string(g).ok());

        sqlx::query(
            "INSERT INTO users (id, issuer, subject, username, email, display_name, team_id, \
                                team_source, team_choices, group_paths, created_at, last_login_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
             ON CONFLICT (issuer, subject) DO UPDATE SET username = excluded.username, \
                email = excluded.email, display_name = excluded.display_name, \
                team_id = excluded.team_id, team_source = excluded.team_source, \
                team_choices = excluded.team_choices, \
                group_paths = COALESCE(excluded.group_paths, users.group_paths), \
                last_login_at = excluded.last_login_at",
        )
        .bind(&user.id)
        .bind(&user.issuer)
        .bind(&user.subject)
        .bind(&user.username)
        .bind(&user.email)
        .bind(&user.display_name)
        .bind(&team.team_id)
        .bind(&team.source)
        .bind(choices)
        .bind(groups)
        .bind(now)
        .execute(&mut *tx)
        .await?;

        let Some(stored) = find_by_subject(&mut tx, &user.issuer, &user.subject).await? else {
            return Err(StoreError::Database(sqlx::Error::RowNotFound));
        };
        let has_key: Option<String> = sqlx::query_scalar(
            "SELECT id FROM plugin_keys WHERE user_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&stored.id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if has_key.is_none() {
            insert_key(&mut tx, &stored.id, &candidate_key, now).await?;
        }
        if let Some(session) = session {
            let session = NewSession {
                user_id: Some(stored.id.clone()),
                ..session
            };
            insert_session(&mut tx, &session, now).await?;
        }

        tx.commit().await?;
        Ok(SignInRecord::Recorded(Box::new(stored)))
    }

    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN teams t ON t.id = u.team_id WHERE u.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from_row).transpose()?)
    }
}

async fn find_by_subject(
    tx: &mut Transaction<'_, Any>,
    issuer: &str,
    subject: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM users u JOIN teams t ON t.id = u.team_id \
         WHERE u.issuer = $1 AND u.subject = $2"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(issuer)
        .bind(subject)
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.as_ref().map(user_from_row).transpose()?)
}

impl Store {
    pub async fn count_users(&self) -> Result<i64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?;
        Ok(count)
    }
}
