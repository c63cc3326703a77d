//! Per-issuer memory of Keycloak's configuration (10 minutes) and key set (1 hour, or until a
//! token names an unknown key). Limitation: per process; two logins that miss the cache at the
//! same moment both fetch, which is harmless.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use openidconnect::core::CoreJsonWebKeySet;

use super::discovery::ProviderConfig;

const CONFIG_TTL: Duration = Duration::from_secs(10 * 60);
const JWKS_TTL: Duration = Duration::from_secs(60 * 60);
/// A token with an unknown `kid` may trigger a key-set fetch at most this often per issuer.
const JWKS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(super) struct ProviderCache {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped by `clear`, so a fetch that started before it cannot store stale data after it.
    generation: u64,
    issuers: HashMap<String, Entry>,
}

struct Entry {
    config: Arc<ProviderConfig>,
    config_at: Instant,
    jwks: Option<(Arc<CoreJsonWebKeySet>, Instant)>,
}

/// Marks when a fetch began, to store its result only if nothing was cleared meanwhile.
#[derive(Clone, Copy)]
pub(super) struct Ticket(u64);

impl ProviderCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves only cached data behind, which stays valid.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn ticket(&self) -> Ticket {
        Ticket(self.lock().generation)
    }

    pub fn config(&self, issuer: &str) -> Option<Arc<ProviderConfig>> {
        let state = self.lock();
        let entry = state.issuers.get(issuer)?;
        (entry.config_at.elapsed() < CONFIG_TTL).then(|| entry.config.clone())
    }

    pub fn store_config(&self, ticket: Ticket, config: Arc<ProviderConfig>) {
        let mut state = self.lock();
        if state.generation != ticket.0 {
            return;
        }
        let now = Instant::now();
        match state.issuers.get_mut(&config.issuer) {
            Some(entry) => {
                // Keys fetched from another URL are no longer the realm's keys.
                if entry.config.jwks_uri != config.jwks_uri {
                    entry.jwks = None;
                }
                entry.config = config;
                entry.config_at = now;
            }
            None => {
                let entry = Entry {
                    config: config.clone(),
                    config_at: now,
                    jwks: None,
                };
                state.issuers.insert(config.issuer.clone(), entry);
            }
        }
    }

    pub fn jwks(&self, issuer: &str) -> Option<Arc<CoreJsonWebKeySet>> {
        let state = self.lock();
        let (jwks, fetched_at) = state.issuers.get(issuer)?.jwks.as_ref()?;
        (fetched_at.elapsed() < JWKS_TTL).then(|| jwks.clone())
    }

    /// Whether the key set may be fetched again because a token named an unknown key.
    pub fn may_refresh_jwks(&self, issuer: &str) -> bool {
        let state = self.lock();
        match state.issuers.get(issuer).and_then(|e| e.jwks.as_ref()) {
            Some((_, fetched_at)) => fetched_at.elapsed() >= JWKS_REFRESH_INTERVAL,
            None => true,
        }
    }

    pub fn store_jwks(&self, ticket: Ticket, issuer: &str, jwks: Arc<CoreJsonWebKeySet>) {
        let mut state = self.lock();
        if state.generation != ticket.0 {
            return;
        }
        if let Some(entry) = state.issuers.get_mut(issuer) {
            entry.jwks = Some((jwks, Instant::now()));
        }
    }

    pub fn clear(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.issuers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn config(issuer: &str, jwks: &str) -> Arc<ProviderConfig> {
        let url = |s: &str| Url::parse(s).expect("valid test URL");
        Arc::new(ProviderConfig {
            issuer: issuer.to_owned(),
            authorization_endpoint: url("http://kc/auth"),
            token_endpoint: url("http://kc/token"),
            jwks_uri: url(jwks),
            userinfo_endpoint: None,
            end_session_endpoint: None,
            accepts_client_secret_post: true,
        })
    }

    fn empty_jwks() -> Arc<CoreJsonWebKeySet> {
        Arc::new(CoreJsonWebKeySet::new(Vec::new()))
    }

    #[test]
    fn stores_and_clears() {
        let cache = ProviderCache::default();
        let ticket = cache.ticket();
        cache.store_config(ticket, config("http://kc/realms/a", "http://kc/certs"));
        assert!(cache.config("http://kc/realms/a").is_some());
        assert!(cache.config("http://kc/realms/b").is_none());

        cache.store_jwks(ticket, "http://kc/realms/a", empty_jwks());
        assert!(cache.jwks("http://kc/realms/a").is_some());
        assert!(!cache.may_refresh_jwks("http://kc/realms/a"));

        cache.clear();
        assert!(cache.config("http://kc/realms/a").is_none());
        assert!(cache.may_refresh_jwks("http://kc/realms/a"));
    }

    #[test]
    fn fetch_started_before_clear_is_not_stored() {
        let cache = ProviderCache::default();
        let ticket = cache.ticket();
        cache.clear();
        cache.store_config(ticket, config("http://kc/realms/a", "http://kc/certs"));
        assert!(cache.config("http://kc/realms/a").is_none());
    }

    #[test]
    fn new_jwks_uri_drops_old_keys() {
        let cache = ProviderCache::default();
        let ticket = cache.ticket();
        cache.store_config(ticket, config("http://kc/realms/a", "http://kc/certs"));
        cache.store_jwks(ticket, "http://kc/realms/a", empty_jwks());
        cache.store_config(
            ticket,
            config("http://kc/realms/a", "http://kc/other-certs"),
        );
        assert!(cache.jwks("http://kc/realms/a").is_none());
    }
}
