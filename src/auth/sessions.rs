//! Browser sessions: a random cookie value whose digest is the database key,
//! with a per-session CSRF token for forms. Sessions expire; a user session
//! also ends when the user is disabled.

use axum::http::HeaderMap;

use super::cookies::{self, SESSION_COOKIE};
use crate::crypto::{TokenDigest, constant_time_eq, random_url_token};
use crate::store::{NewSession, SessionKind, SessionRecord, Store, StoreError, now_millis};

const USER_SESSION_HOURS: i64 = 12;
const ADMIN_SESSION_HOURS: i64 = 8;

/// A session just created: the cookie value goes to the browser, the rest
/// to the database.
pub struct FreshSession {
    pub cookie_value: String,
    pub record: NewSession,
}

/// A live session found from a request's cookie.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub record: SessionRecord,
}

impl ActiveSession {
    pub fn csrf_token(&self) -> &str {
        &self.record.csrf_token
    }

    /// Whether a submitted form carries this session's CSRF token.
    pub fn csrf_matches(&self, submitted: &str) -> bool {
        constant_time_eq(submitted.as_bytes(), self.record.csrf_token.as_bytes())
    }
}

/// Creates, finds and ends sessions.
#[derive(Clone)]
pub struct Sessions {
    store: Store,
    secure_cookies: bool,
}

impl Sessions {
    pub fn new(store: Store, secure_cookies: bool) -> Self {
        Self {
            store,
            secure_cookies,
        }
    }

    /// A new session, not yet stored.
    pub fn fresh(
        &self,
        kind: SessionKind,
        sealed_id_token: Option<String>,
        keycloak_sid: Option<String>,
    ) -> FreshSession {
        let cookie_value = random_url_token();
        let hours = match kind {
            SessionKind::User => USER_SESSION_HOURS,
            SessionKind::Admin => ADMIN_SESSION_HOURS,
        };
        let record = NewSession {
            id_digest: TokenDigest::of(&cookie_value).as_str().to_owned(),
            kind,
            user_id: None,
            csrf_token: random_url_token(),
            sealed_id_token,
            keycloak_sid,
            expires_at: now_millis() + hours * 3_600_000,
        };
        FreshSession {
            cookie_value,
            record,
        }
    }

    /// Opens an administrator session and returns its `Set-Cookie` value.
    pub async fn open_admin(&self) -> Result<String, StoreError> {
        let fresh = self.fresh(SessionKind::Admin, None, None);
        self.store.create_session(&fresh.record).await?;
        Ok(self.cookie_for(&fresh))
    }

    /// The `Set-Cookie` value for a fresh session.
    pub fn cookie_for(&self, fresh: &FreshSession) -> String {
        let max_age = (fresh.record.expires_at - now_millis()) / 1000;
        cookies::set(
            SESSION_COOKIE,
            &fresh.cookie_value,
            "/",
            Some(max_age),
            self.secure_cookies,
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn clearing_cookie(&self) -> String {
        cookies::clear(SESSION_COOKIE, "/", self.secure_cookies)
    }

    /// The live session of the request's cookie, if any.
    pub async fn current(&self, headers: &HeaderMap) -> Result<Option<ActiveSession>, StoreError> {
        let Some(value) = cookies::read(headers, SESSION_COOKIE) else {
            return Ok(None);
        };
        let digest = TokenDigest::of(&value);
        let record = self.store.live_session(digest.as_str()).await?;
        Ok(record.map(|record| ActiveSession { record }))
    }

    pub async fn end(&self, session: &ActiveSession) -> Result<(), StoreError> {
        self.store.delete_session(&session.record.id_digest).await
    }

    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }
}
