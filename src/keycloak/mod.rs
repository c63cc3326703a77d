//! Signing people in with Keycloak over OpenID Connect: discovery, the authorization code flow
//! with PKCE, ID-token checks, userinfo for groups, and RP-initiated logout. Limitation: caches
//! live in this process; login state itself is kept by the caller, so any replica can finish a
//! login.

mod cache;
mod discovery;
mod error;
mod http;
mod id_token;
mod identity;
mod login;
mod logout;
mod logout_token;
mod password;
mod settings;
mod token;
mod userinfo;

use std::sync::Arc;

use tracing::{debug, info};

pub use error::{IdTokenProblem, KeycloakError};
pub use identity::SignedInIdentity;
pub use login::{LoginRequest, PendingLogin};
pub use logout_token::LogoutNotice;
pub use settings::{ClientSecret, KeycloakSettings, SettingsError};

use cache::ProviderCache;
use discovery::ProviderConfig;
use http::KeycloakHttp;

/// gatehouse's relying party towards Keycloak. Cheap to clone; clones share the caches.
#[derive(Clone)]
pub struct Keycloak {
    inner: Arc<Inner>,
}

struct Inner {
    http: KeycloakHttp,
    cache: ProviderCache,
}

impl Keycloak {
    /// Uses `http` for every request to Keycloak. Build it with `redirect::Policy::none()` and
    /// timeouts; answers that arrive after a redirect are refused.
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                http: KeycloakHttp::new(http),
                cache: ProviderCache::default(),
            }),
        }
    }

    /// Fetches the realm's configuration afresh (discovery and issuer
    /// check) and returns its issuer: the first step of a connection check.
    pub async fn check_discovery(
        &self,
        settings: &KeycloakSettings,
    ) -> Result<String, KeycloakError> {
        self.inner.cache.clear();
        Ok(self.provider_config(settings).await?.issuer.clone())
    }

    /// Drops cached configuration and keys, e.g. after the settings changed.
    pub fn forget_cached(&self) {
        self.inner.cache.clear();
        info!("forgot cached Keycloak configuration and keys");
    }

    /// The realm's configuration, from the cache while it is fresh. Checks the settings first
    /// so that a half-filled form yields a clear message rather than a failed request.
    async fn provider_config(
        &self,
        settings: &KeycloakSettings,
    ) -> Result<Arc<ProviderConfig>, KeycloakError> {
        if !settings.enabled {
            return Err(KeycloakError::NotEnabled);
        }
        settings.validate()?;

        let issuer = settings.issuer();
        if let Some(config) = self.inner.cache.config(&issuer) {
            return Ok(config);
        }
        let ticket = self.inner.cache.ticket();
        let config = discovery::fetch_config(&self.inner.http, &issuer, settings.realm.trim())
            .await
            .inspect_err(|e| tracing::warn!(code = e.code(), error = %e, "discovery failed"))?;
        debug!("fetched Keycloak configuration");

        let config = Arc::new(config);
        self.inner.cache.store_config(ticket, config.clone());
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Web handlers need `Send` futures; this fails to compile if one stops being `Send`.
    #[test]
    fn futures_are_send() {
        // reqwest is built without a default TLS provider; the binary installs ring at start.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let keycloak = Keycloak::new(reqwest::Client::new());
        let settings = KeycloakSettings::default();
        let pending = PendingLogin {
            state: String::new(),
            nonce: String::new(),
            pkce_verifier: String::new(),
        };
        assert_send(&keycloak.begin_login(&settings, "http://gh/cb"));
        assert_send(&keycloak.finish_login(&settings, "http://gh/cb", &pending, "code"));
        assert_send(&keycloak.end_session_url(&settings, "t", "http://gh/"));
    }
}
