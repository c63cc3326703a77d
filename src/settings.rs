//! Settings > Auth: the Keycloak settings as stored, with the client secret
//! sealed at rest. Every sign-in reads them afresh, so a save takes effect
//! at once on every replica, without a restart.

use serde::{Deserialize, Serialize};

use crate::crypto::{SecretBox, SecretBoxError};
use crate::keycloak::{ClientSecret, KeycloakSettings, SettingsError};
use crate::store::{Store, StoreError};

const SETTING: &str = "keycloak";
const SECRET_PURPOSE: &str = "keycloak.client_secret";

#[derive(Debug, thiserror::Error)]
pub enum AuthSettingsError {
    #[error("{0}")]
    Invalid(#[from] SettingsError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretBoxError),
    #[error("the stored Keycloak settings are not readable: {0}")]
    Corrupt(#[from] serde_json::Error),
}

/// The stored form: the secret only sealed.
#[derive(Debug, Default, Serialize, Deserialize)]
struct StoredSettings {
    enabled: bool,
    url: String,
    realm: String,
    client_id: String,
    sealed_client_secret: Option<String>,
}

/// A change from the form or the API; `client_secret: None` keeps the saved one.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettingsUpdate {
    pub enabled: bool,
    pub url: String,
    pub realm: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// Direct Access Grants for tools without a browser; `None` keeps the current choice.
    #[serde(default)]
    pub password_login: Option<bool>,
}

/// What may be shown to an administrator: everything but the secret.
#[derive(Debug, Clone, Serialize)]
pub struct AuthSettingsView {
    pub enabled: bool,
    pub url: String,
    pub realm: String,
    pub client_id: String,
    pub client_secret_set: bool,
    pub password_login: bool,
}

impl AuthSettingsView {
    pub fn new(settings: &KeycloakSettings, password_login: bool) -> Self {
        Self {
            enabled: settings.enabled,
            url: settings.url.clone(),
            realm: settings.realm.clone(),
            client_id: settings.client_id.clone(),
            client_secret_set: !settings.client_secret.expose().is_empty(),
            password_login,
        }
    }

    /// The view of what is stored now.
    pub async fn current(store: &Store, secrets: &SecretBox) -> Result<Self, AuthSettingsError> {
        let settings = load(store, secrets).await?;
        Ok(Self::new(&settings, password_login_enabled(store).await?))
    }
}

const PASSWORD_LOGIN_SETTING: &str = "password_login";

/// Whether `POST /v1/login` may check passwords with Keycloak (on unless
/// an administrator switched it off).
pub async fn password_login_enabled(store: &Store) -> Result<bool, StoreError> {
    Ok(store.setting(PASSWORD_LOGIN_SETTING).await?.as_deref() != Some("off"))
}

/// The Keycloak settings in force; disabled and empty before the first save.
pub async fn load(
    store: &Store,
    secrets: &SecretBox,
) -> Result<KeycloakSettings, AuthSettingsError> {
    let stored = match store.setting(SETTING).await? {
        Some(json) => serde_json::from_str::<StoredSettings>(&json)?,
        None => StoredSettings::default(),
    };
    let client_secret = match &stored.sealed_client_secret {
        Some(sealed) => secrets.open(SECRET_PURPOSE, sealed)?,
        None => String::new(),
    };
    Ok(KeycloakSettings {
        enabled: stored.enabled,
        url: stored.url,
        realm: stored.realm,
        client_id: stored.client_id,
        client_secret: ClientSecret::from(client_secret),
    })
}

/// Validates and stores an update; nothing is written if it is invalid.
pub async fn save(
    store: &Store,
    secrets: &SecretBox,
    update: AuthSettingsUpdate,
) -> Result<KeycloakSettings, AuthSettingsError> {
    let current = load(store, secrets).await?;
    let client_secret = match update.client_secret.map(|s| s.trim().to_owned()) {
        Some(secret) if !secret.is_empty() => secret,
        _ => current.client_secret.expose().to_owned(),
    };
    let settings = KeycloakSettings {
        enabled: update.enabled,
        url: update.url.trim().to_owned(),
        realm: update.realm.trim().to_owned(),
        client_id: update.client_id.trim().to_owned(),
        client_secret: ClientSecret::from(client_secret),
    };
    settings.validate()?;
    if let Some(enabled) = update.password_login {
        store
            .put_setting(PASSWORD_LOGIN_SETTING, if enabled { "on" } else { "off" })
            .await?;
    }

    let stored = StoredSettings {
        enabled: settings.enabled,
        url: settings.url.clone(),
        realm: settings.realm.clone(),
        client_id: settings.client_id.clone(),
        sealed_client_secret: (!settings.client_secret.expose().is_empty())
            .then(|| secrets.seal(SECRET_PURPOSE, settings.client_secret.expose())),
    };
    store
        .put_setting(SETTING, &serde_json::to_string(&stored)?)
        .await?;
    tracing::info!(
        enabled = settings.enabled,
        issuer = %settings.issuer(),
        client_id = %settings.client_id,
        "Keycloak settings saved"
    );
    Ok(settings)
}
