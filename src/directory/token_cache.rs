//! Service-account tokens kept per process, keyed by issuer, client id and a SHA-256 digest of
//! the secret (so a changed secret never reuses an old token), until 30 s before they expire.
//! Limitation: two callers that miss the cache at once both ask Keycloak, which is harmless.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ring::digest::{SHA256, digest};

use super::token::IssuedToken;
use crate::keycloak::KeycloakSettings;

/// A cached token is given out until this long before Keycloak says it expires.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// Upper bound on how long a token is cached, whatever lifetime Keycloak announces.
const LONGEST_CACHE: Duration = Duration::from_secs(60 * 60);

/// Tokens by (issuer, client id, digest of the secret).
#[derive(Default)]
pub(super) struct TokenCache {
    entries: Mutex<HashMap<CacheKey, Cached>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub(super) struct CacheKey {
    issuer: String,
    client_id: String,
    secret_digest: Vec<u8>,
}

impl CacheKey {
    pub fn of(settings: &KeycloakSettings) -> Self {
        Self {
            issuer: settings.issuer(),
            client_id: settings.client_id.trim().to_owned(),
            secret_digest: digest(&SHA256, settings.client_secret.expose().as_bytes())
                .as_ref()
                .to_vec(),
        }
    }
}

struct Cached {
    token: String,
    use_until: Instant,
}

impl TokenCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<CacheKey, Cached>> {
        // A panic while holding the lock leaves only tokens behind, which stay valid.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &CacheKey) -> Option<String> {
        let entries = self.lock();
        let cached = entries.get(key)?;
        (Instant::now() < cached.use_until).then(|| cached.token.clone())
    }

    /// Keeps `issued` until shortly before it expires; a token that lives 30 s or less is
    /// used once and not kept.
    pub fn store(&self, key: CacheKey, issued: &IssuedToken) {
        let Some(keep) = issued.lifetime.checked_sub(EXPIRY_MARGIN) else {
            return;
        };
        let now = Instant::now();
        let mut entries = self.lock();
        entries.retain(|_, cached| cached.use_until > now);
        entries.insert(
            key,
            Cached {
                token: issued.token.clone(),
                use_until: now + keep.min(LONGEST_CACHE),
            },
        );
    }

    /// Drops the token, e.g. after the admin API refused it.
    pub fn forget(&self, key: &CacheKey) {
        self.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keycloak::ClientSecret;

    fn settings(secret: &str) -> KeycloakSettings {
        KeycloakSettings {
            enabled: true,
            url: "http://kc".into(),
            realm: "r".into(),
            client_id: "c".into(),
            client_secret: ClientSecret::from(secret.to_owned()),
        }
    }

    #[test]
    fn cache_is_keyed_by_secret_and_honours_expiry() {
        let cache = TokenCache::default();
        let key = CacheKey::of(&settings("one"));
        let issued = |lifetime: u64| IssuedToken {
            token: "t1".into(),
            lifetime: Duration::from_secs(lifetime),
        };
        cache.store(key.clone(), &issued(300));
        assert_eq!(cache.get(&key).as_deref(), Some("t1"));
        assert_eq!(cache.get(&CacheKey::of(&settings("two"))), None);

        cache.forget(&key);
        assert_eq!(cache.get(&key), None);

        // A token that expires within the margin is never handed out again.
        cache.store(key.clone(), &issued(30));
        assert_eq!(cache.get(&key), None);
    }
}
