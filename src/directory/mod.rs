//! Reading Keycloak's directory (users, groups, memberships) through the client's service
//! account, which needs the client role `view-users` of `realm-management`. Reads are
//! all-or-nothing and bounded (1,000,000 users, 100,000 groups, 50 levels). Limitation: the
//! token cache lives in this process; each replica fetches its own token.

mod admin;
mod endpoints;
mod error;
mod group_tree;
mod groups;
mod members;
mod model;
mod paging;
mod read;
mod token;
mod token_cache;
mod transport;
mod users;

use std::sync::Arc;

use tracing::{debug, warn};

pub use error::DirectoryError;
pub use model::{Directory, DirectoryGroup, DirectoryUser, ReadProgress};

use crate::keycloak::KeycloakSettings;
use endpoints::Endpoints;
use token_cache::{CacheKey, TokenCache};

/// Entries asked for per page. Keycloak's own defaults differ per listing (10 for children).
const PAGE_SIZE: usize = 100;

/// gatehouse's service account in Keycloak. Cheap to clone; clones share the token cache.
#[derive(Clone)]
pub struct ServiceAccount {
    inner: Arc<Inner>,
    page_size: usize,
}

struct Inner {
    http: reqwest::Client,
    tokens: TokenCache,
}

impl ServiceAccount {
    /// Uses `http` for every request to Keycloak. Build it with `redirect::Policy::none()` and
    /// timeouts; answers that arrive after a redirect are refused.
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            inner: Arc::new(Inner {
                http,
                tokens: TokenCache::default(),
            }),
            page_size: PAGE_SIZE,
        }
    }

    /// Asks for `page_size` entries per page (at least 2) instead of 100, so that tests can
    /// cross page boundaries with a small directory. Not for production use.
    #[doc(hidden)]
    pub fn with_page_size_for_tests(mut self, page_size: usize) -> Self {
        self.page_size = page_size.max(2);
        self
    }

    /// A client-credentials access token for these settings, cached (keyed by issuer +
    /// client_id + a digest of the secret) until ~30 s before it expires.
    pub async fn access_token(
        &self,
        settings: &KeycloakSettings,
    ) -> Result<String, DirectoryError> {
        let endpoints = Endpoints::new(settings)?;
        let (token, _) = self.token(settings, &endpoints).await?;
        Ok(token)
    }

    /// A newly issued client-credentials token, bypassing the cache (it is
    /// stored for later calls): the connection check needs the present
    /// state of the client, and a fresh `iat` to compare clocks.
    pub async fn fresh_access_token(
        &self,
        settings: &KeycloakSettings,
    ) -> Result<String, DirectoryError> {
        let endpoints = Endpoints::new(settings)?;
        let issued = token::request(&self.inner.http, settings, &endpoints).await?;
        self.inner.tokens.store(CacheKey::of(settings), &issued);
        Ok(issued.token)
    }

    /// Reads the whole directory: every user (service accounts left out) with their direct
    /// group paths, and every group at every depth. `progress` is called after each page. Any
    /// failure (transport, non-2xx, malformed JSON, a limit exceeded, a listing that keeps
    /// changing) aborts the read: a partial directory is never returned.
    pub async fn read_directory(
        &self,
        settings: &KeycloakSettings,
        progress: &(dyn Fn(ReadProgress) + Send + Sync),
    ) -> Result<Directory, DirectoryError> {
        read::read_directory(self, settings, self.page_size, progress).await
    }

    /// Reads one user by id with their group paths (for a quick check). `None` if Keycloak
    /// has no such user, or if it is a service account.
    pub async fn user(
        &self,
        settings: &KeycloakSettings,
        id: &str,
    ) -> Result<Option<DirectoryUser>, DirectoryError> {
        read::read_user(self, settings, self.page_size, id)
            .await
            .inspect_err(|e| warn!(code = e.code(), error = %e, "reading a Keycloak user failed"))
    }

    fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The cached token, or a new one; `true` when it had to be requested.
    async fn token(
        &self,
        settings: &KeycloakSettings,
        endpoints: &Endpoints,
    ) -> Result<(String, bool), DirectoryError> {
        let key = CacheKey::of(settings);
        if let Some(token) = self.inner.tokens.get(&key) {
            return Ok((token, false));
        }
        let issued = token::request(&self.inner.http, settings, endpoints)
            .await
            .inspect_err(|e| {
                warn!(
                    realm = %endpoints.realm(),
                    client_id = %settings.client_id.trim(),
                    code = e.code(),
                    error = %e,
                    "service-account token request failed"
                );
            })?;
        debug!(
            realm = %endpoints.realm(),
            lifetime_s = issued.lifetime.as_secs(),
            "service-account token issued"
        );
        self.inner.tokens.store(key, &issued);
        Ok((issued.token, true))
    }

    /// Drops the cached token for these settings, e.g. after the admin API refused it.
    fn forget_token(&self, settings: &KeycloakSettings) {
        self.inner.tokens.forget(&CacheKey::of(settings));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// Reads run in spawned tasks; this fails to compile if a future stops being `Send`.
    #[test]
    fn futures_are_send() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let account = ServiceAccount::new(reqwest::Client::new());
        let settings = KeycloakSettings::default();
        assert_send(&account.access_token(&settings));
        assert_send(&account.read_directory(&settings, &|_| {}));
        assert_send(&account.user(&settings, "id"));
    }

    #[tokio::test]
    async fn incomplete_settings_fail_before_any_request() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let account = ServiceAccount::new(reqwest::Client::new());
        let err = account
            .read_directory(&KeycloakSettings::default(), &|_| {})
            .await
            .expect_err("no URL");
        assert_eq!(err.code(), "settings_invalid");
    }
}
