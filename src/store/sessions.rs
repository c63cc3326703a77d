//! Browser sessions of users and administrators, looked up by the digest of
//! the cookie value.

use sqlx::{Any, Row, Transaction};

use super::{Store, StoreError, now_millis};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    User,
    Admin,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_digest: String,
    pub kind: SessionKind,
    pub user_id: Option<String>,
    pub csrf_token: String,
    pub sealed_id_token: Option<String>,
    pub keycloak_sid: Option<String>,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id_digest: String,
    pub kind: SessionKind,
    pub user_id: Option<String>,
    pub csrf_token: String,
    pub sealed_id_token: Option<String>,
    pub expires_at: i64,
}

pub(super) async fn insert_session(
    tx: &mut Transaction<'_, Any>,
    session: &NewSession,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (id_digest, kind, user_id, csrf_token, sealed_id_token, keycloak_sid, \
                               created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&session.id_digest)
    .bind(session.kind.as_str())
    .bind(&session.user_id)
    .bind(&session.csrf_token)
    .bind(&session.sealed_id_token)
    .bind(&session.keycloak_sid)
    .bind(now)
    .bind(session.expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    pub async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_session(&mut tx, session, now_millis()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A live session: not expired, and for users, the user not disabled.
    pub async fn live_session(&self, id_digest: &str) -> Result<Option<SessionRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT s.id_digest, s.kind, s.user_id, s.csrf_token, s.sealed_id_token, s.expires_at \
             FROM sessions s LEFT JOIN users u ON u.id = s.user_id \
             WHERE s.id_digest = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
        )
        .bind(id_digest)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let kind: String = row.try_get("kind")?;
        Ok(Some(SessionRecord {
            id_digest: row.try_get("id_digest")?,
            kind: if kind == "admin" {
                SessionKind::Admin
            } else {
                SessionKind::User
            },
            user_id: row.try_get("user_id")?,
            csrf_token: row.try_get("csrf_token")?,
            sealed_id_token: row.try_get("sealed_id_token")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    pub async fn delete_session(&self, id_digest: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE id_digest = $1")
            .bind(id_digest)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes expired sessions and login attempts; returns how many rows went.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = now_millis();
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        let logins = sqlx::query("DELETE FROM pending_logins WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(sessions.rows_affected() + logins.rows_affected())
    }
}

impl Store {
    /// Ends the sessions Keycloak says have ended: those of Keycloak session
    /// `sid`, or else every session of user `subject`; returns how many.
    pub async fn end_keycloak_sessions(
        &self,
        issuer: &str,
        sid: Option<&str>,
        subject: Option<&str>,
    ) -> Result<u64, StoreError> {
        let result = match (sid, subject) {
            (Some(sid), _) => {
                sqlx::query(
                    "DELETE FROM sessions WHERE keycloak_sid = $1 \
                     AND user_id IN (SELECT id FROM users WHERE issuer = $2)",
                )
                .bind(sid)
                .bind(issuer)
                .execute(&self.pool)
                .await?
            }
            (None, Some(subject)) => {
                sqlx::query(
                    "DELETE FROM sessions WHERE user_id IN \
                     (SELECT id FROM users WHERE issuer = $1 AND subject = $2)",
                )
                .bind(issuer)
                .bind(subject)
                .execute(&self.pool)
                .await?
            }
            (None, None) => return Ok(0),
        };
        Ok(result.rows_affected())
    }
}
