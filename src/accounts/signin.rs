//! Keycloak sign-in from start to finish: the attempt is kept server-side
//! (so any replica can finish it and each `state` works once), tied to the
//! browser that started it by a per-attempt cookie, and ends with the user
//! recorded, given a key if they have none, and a session opened.

use axum::http::HeaderMap;
use serde::Deserialize;

use super::teams::{self, TeamError};
use crate::app::AppState;
use crate::auth::cookies::{self, LOGIN_COOKIE_PATH, LOGIN_COOKIE_PREFIX};
use crate::crypto::{SecretBoxError, TokenDigest, random_url_token};
use crate::keycloak::{KeycloakError, PendingLogin};
use crate::settings::{self, AuthSettingsError};
use crate::store::{PendingLoginRecord, SessionKind, SignInRecord, StoreError, now_millis};

pub const CALLBACK_PATH: &str = "/auth/keycloak/callback";
const ATTEMPT_TTL_SECONDS: i64 = 600;
const PENDING_PURPOSE: &str = "pending_login";
const ID_TOKEN_PURPOSE: &str = "id_token";

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("Keycloak sign-in is not enabled")]
    KeycloakDisabled,
    #[error(transparent)]
    Settings(#[from] AuthSettingsError),
    #[error(transparent)]
    Keycloak(#[from] KeycloakError),
    #[error("the sign-in attempt is unknown, expired, already used, or from another browser")]
    AttemptExpired,
    #[error("Keycloak did not sign the user in: {error}")]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the callback carried no code")]
    MissingCode,
    #[error("the account is disabled in gatehouse")]
    AccountDisabled,
    #[error(transparent)]
    Team(#[from] TeamError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sealed(#[from] SecretBoxError),
}

/// Keycloak's answer on the callback URL.
#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Where to send the browser, and the cookie that ties the attempt to it.
pub struct LoginStarted {
    pub authorize_url: String,
    pub binding_cookie: String,
}

/// A finished sign-in: the cookies to set.
pub struct SignedIn {
    pub session_cookie: String,
    pub clear_binding_cookie: String,
}

fn binding_cookie_name(state_digest: &TokenDigest) -> String {
    format!("{LOGIN_COOKIE_PREFIX}{}", &state_digest.as_str()[..16])
}

/// Starts a sign-in: stores the attempt and builds Keycloak's URL.
pub async fn begin(app: &AppState) -> Result<LoginStarted, SignInError> {
    let settings = settings::load(&app.store, &app.secrets).await?;
    if !settings.enabled {
        return Err(SignInError::KeycloakDisabled);
    }
    let redirect_uri = app.public_url.join(CALLBACK_PATH);
    let request = app.keycloak.begin_login(&settings, &redirect_uri).await?;

    let binding = random_url_token();
    let state_digest = TokenDigest::of(&request.pending.state);
    let pending_json =
        serde_json::to_string(&request.pending).map_err(|_| SignInError::AttemptExpired)?;
    let record = PendingLoginRecord {
        binding_digest: TokenDigest::of(&binding).as_str().to_owned(),
        sealed_request: app.secrets.seal(PENDING_PURPOSE, &pending_json),
        expires_at: now_millis() + ATTEMPT_TTL_SECONDS * 1000,
    };
    app.store
        .insert_pending_login(state_digest.as_str(), &record)
        .await?;

    let binding_cookie = cookies::set(
        &binding_cookie_name(&state_digest),
        &binding,
        LOGIN_COOKIE_PATH,
        Some(ATTEMPT_TTL_SECONDS),
        app.sessions.secure_cookies(),
    );
    Ok(LoginStarted {
        authorize_url: request.authorize_url,
        binding_cookie,
    })
}

/// Finishes a sign-in on Keycloak's callback. The attempt is consumed
/// whatever the outcome, so a callback URL never works twice.
pub async fn finish(
    app: &AppState,
    params: CallbackParams,
    headers: &HeaderMap,
) -> Result<SignedIn, SignInError> {
    let state = params
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 512);
    let state_digest = TokenDigest::of(state.ok_or(SignInError::AttemptExpired)?);
    let attempt = app.store.take_pending_login(state_digest.as_str()).await?;

    if let Some(error) = params.error {
        return Err(SignInError::Refused {
            error,
            description: params.error_description,
        });
    }
    let attempt = attempt
        .filter(|a| a.expires_at > now_millis())
        .ok_or(SignInError::AttemptExpired)?;
    let binding = cookies::read(headers, &binding_cookie_name(&state_digest))
        .ok_or(SignInError::AttemptExpired)?;
    if !TokenDigest::from_stored(attempt.binding_digest).matches(&binding) {
        return Err(SignInError::AttemptExpired);
    }
    let code = params
        .code
        .filter(|c| !c.is_empty())
        .ok_or(SignInError::MissingCode)?;
    let pending: PendingLogin =
        serde_json::from_str(&app.secrets.open(PENDING_PURPOSE, &attempt.sealed_request)?)
            .map_err(|_| SignInError::AttemptExpired)?;

    let settings = settings::load(&app.store, &app.secrets).await?;
    if !settings.enabled {
        return Err(SignInError::KeycloakDisabled);
    }
    let redirect_uri = app.public_url.join(CALLBACK_PATH);
    let identity = app
        .keycloak
        .finish_login(&settings, &redirect_uri, &pending, &code)
        .await?;

    let user = teams::account_for(&app.store, &identity).await?;
    let sealed_id_token = app.secrets.seal(ID_TOKEN_PURPOSE, &identity.id_token);
    let session = app.sessions.fresh(
        SessionKind::User,
        Some(sealed_id_token),
        identity.session_id,
    );
    let key = app.keys.issue();
    let user = match app
        .store
        .record_sign_in(user, key.record, Some(session.record.clone()))
        .await?
    {
        SignInRecord::Recorded(user) => *user,
        SignInRecord::UserDisabled => return Err(SignInError::AccountDisabled),
    };
    tracing::info!(user_id = %user.id, username = %user.username, team = %user.team_name, "signed in");

    Ok(SignedIn {
        session_cookie: app.sessions.cookie_for(&session),
        clear_binding_cookie: cookies::clear(
            &binding_cookie_name(&state_digest),
            LOGIN_COOKIE_PATH,
            app.sessions.secure_cookies(),
        ),
    })
}

/// The ID token kept for RP-initiated logout, if it can still be opened.
pub fn id_token_hint(app: &AppState, sealed: Option<&str>) -> Option<String> {
    sealed.and_then(|sealed| app.secrets.open(ID_TOKEN_PURPOSE, sealed).ok())
}
