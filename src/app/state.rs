//! The state every request handler can reach.

use std::sync::Arc;

use crate::accounts::plugin_key::KeyIssuer;
use crate::auth::{AdminToken, AttemptThrottle, LoginThrottle, Sessions};
use crate::config::PublicUrl;
use crate::crypto::SecretBox;
use crate::directory_sync::DirectorySync;
use crate::gateway::Gateway;
use crate::keycloak::Keycloak;
use crate::store::Store;

/// Cheap to clone (one reference count): axum clones it for every request.
#[derive(Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// Everything the handlers share.
pub struct Shared {
    pub public_url: PublicUrl,
    pub store: Store,
    pub secrets: Arc<SecretBox>,
    /// Issues Plugin API Keys with the server's key lifetime.
    pub keys: KeyIssuer,
    pub admin_token: Arc<AdminToken>,
    pub sessions: Sessions,
    pub keycloak: Keycloak,
    pub admin_throttle: Arc<AttemptThrottle>,
    pub login_throttle: Arc<LoginThrottle>,
    pub gateway: Gateway,
    pub directory: DirectorySync,
    /// The HTTP client for Keycloak (no redirects followed).
    pub keycloak_http: reqwest::Client,
    /// Minutes between scheduled directory syncs; `None` when off.
    pub directory_sync_minutes: Option<u64>,
}
