//! Sign-in with user name and password for people and tools without a
//! browser (Keycloak's Direct Access Grants): answers with the person's
//! account, team and Plugin API Key, applying the same team mapping and
//! disabled-user rules as a browser sign-in. Failed attempts are throttled
//! per user name and per client address.

use std::net::IpAddr;

use super::teams::{self, TeamError};
use crate::app::AppState;
use crate::crypto::SecretBoxError;
use crate::keycloak::KeycloakError;
use crate::settings::{self, AuthSettingsError};
use crate::store::{SignInRecord, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PasswordLoginError {
    #[error("password sign-in is switched off; sign in with a browser instead")]
    SwitchedOff,
    #[error("Keycloak sign-in is not enabled on this gatehouse")]
    KeycloakDisabled,
    #[error("wrong user name or password")]
    WrongCredentials,
    #[error("this account is disabled")]
    AccountDisabled,
    #[error("too many failed attempts; try again in {0} s")]
    Throttled(u64),
    #[error("Keycloak refused: {0}")]
    Keycloak(KeycloakError),
    #[error(transparent)]
    Team(#[from] TeamError),
    #[error(transparent)]
    Settings(#[from] AuthSettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sealed(#[from] SecretBoxError),
}

/// What a successful password sign-in answers.
#[derive(Debug, serde::Serialize)]
pub struct PasswordLogin {
    pub username: String,
    pub team: String,
    pub plugin_api_key: String,
    /// When the key expires, in unix seconds; `None`: it does not.
    pub plugin_api_key_expires_at: Option<i64>,
    pub endpoint: String,
}

pub async fn login(
    app: &AppState,
    username: &str,
    password: &str,
    address: IpAddr,
) -> Result<PasswordLogin, PasswordLoginError> {
    if !settings::password_login_enabled(&app.store).await? {
        return Err(PasswordLoginError::SwitchedOff);
    }
    let settings = settings::load(&app.store, &app.secrets).await?;
    if !settings.enabled {
        return Err(PasswordLoginError::KeycloakDisabled);
    }
    let name_key = username.trim().to_lowercase();
    for wait in [
        app.login_throttle.by_name.check(&name_key),
        app.login_throttle.by_address.check(&address),
    ] {
        if let Err(seconds) = wait {
            return Err(PasswordLoginError::Throttled(seconds));
        }
    }

    let identity = match app
        .keycloak
        .password_sign_in(&settings, username.trim(), password)
        .await
    {
        Ok(identity) => identity,
        Err(err) => {
            let refused = refusal(err);
            if matches!(
                refused,
                PasswordLoginError::WrongCredentials | PasswordLoginError::AccountDisabled
            ) {
                app.login_throttle.by_name.record_failure(&name_key);
                app.login_throttle.by_address.record_failure(&address);
                tracing::info!(client = %address, "password sign-in refused");
            }
            return Err(refused);
        }
    };
    app.login_throttle.by_name.record_success(&name_key);

    let user = teams::account_for(&app.store, &identity).await?;
    let candidate = app.keys.issue();
    let user = match app
        .store
        .record_sign_in(user, candidate.record, None)
        .await?
    {
        SignInRecord::Recorded(user) => *user,
        SignInRecord::UserDisabled => return Err(PasswordLoginError::AccountDisabled),
    };
    let key = app
        .store
        .active_key(&user.id)
        .await?
        .ok_or(PasswordLoginError::AccountDisabled)?;
    tracing::info!(user_id = %user.id, key_id = %key.id, "signed in with a password");
    Ok(PasswordLogin {
        username: user.username,
        team: user.team_name,
        plugin_api_key: app.keys.reveal(&key.sealed_secret)?,
        plugin_api_key_expires_at: key.expires_at.map(|ms| ms / 1000),
        endpoint: app.public_url.as_str().to_owned(),
    })
}

/// Tells wrong credentials and disabled accounts from real failures.
fn refusal(err: KeycloakError) -> PasswordLoginError {
    match &err {
        KeycloakError::CodeRejected { description }
            if description.to_lowercase().contains("disabled") =>
        {
            PasswordLoginError::AccountDisabled
        }
        KeycloakError::CodeRejected { .. } => PasswordLoginError::WrongCredentials,
        _ => PasswordLoginError::Keycloak(err),
    }
}
