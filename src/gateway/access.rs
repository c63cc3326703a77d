//! The key check on every inference request, served from memory.
//!
//! A key's grant (user, team) is cached after its first check. Any change
//! to keys, users, teams or upstreams bumps the access revision in the
//! database: this replica drops its cache at once, other replicas within
//! one poll interval (see `Gateway::watch_revision`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use super::error::GatewayError;
use crate::accounts::plugin_key;
use crate::crypto::TokenDigest;
use crate::metrics::metrics;
use crate::store::{KeyGrantRecord, Store, TeamRecord};

/// Cached grants older than this are checked against the database again.
const GRANT_TTL: Duration = Duration::from_secs(300);
const MAX_CACHED_GRANTS: usize = 100_000;

/// Who is calling, as established by their key.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_id: String,
    pub user_id: String,
    pub username: String,
    pub team: Arc<TeamRecord>,
}

struct CachedGrant {
    grant: KeyGrantRecord,
    checked_at: Instant,
}

#[derive(Default)]
pub struct AccessCache {
    grants: RwLock<HashMap<String, CachedGrant>>,
    teams: RwLock<HashMap<String, Arc<TeamRecord>>>,
}

/// Takes the key from `Authorization: Bearer` (or Refact's `X-Api-Key`).
pub fn presented_key(headers: &HeaderMap) -> Result<&str, GatewayError> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let key = bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    match key {
        Some(key) if !key.is_empty() => Ok(key),
        _ => Err(GatewayError::Unauthorized(
            "no Plugin API Key: send it as `Authorization: Bearer gk_...`; you find yours on \
             the gatehouse page after signing in"
                .to_owned(),
        )),
    }
}

impl AccessCache {
    /// Checks a presented key; `Unauthorized` unless it is usable.
    pub async fn authorize(&self, store: &Store, key: &str) -> Result<Caller, GatewayError> {
        if plugin_key::public_id(key).is_none() {
            return Err(GatewayError::Unauthorized(
                "this is not a gatehouse Plugin API Key (they look like gk_...); copy yours \
                 from the gatehouse page"
                    .to_owned(),
            ));
        }
        let digest = TokenDigest::of(key);
        let grant = match self.cached(digest.as_str()) {
            Some(grant) => {
                metrics().key_check(true);
                grant
            }
            None => {
                metrics().key_check(false);
                let Some(grant) = store.key_grant(digest.as_str()).await? else {
                    metrics().key_refused();
                    return Err(GatewayError::Unauthorized(
                        "this Plugin API Key is unknown, revoked or expired, or its user is \
                         disabled; sign in to gatehouse to get your current key"
                            .to_owned(),
                    ));
                };
                self.remember(digest.as_str(), grant.clone());
                grant
            }
        };
        if grant
            .expires_at
            .is_some_and(|at| at <= crate::store::now_millis())
        {
            return Err(GatewayError::Unauthorized(
                "this Plugin API Key has expired".to_owned(),
            ));
        }
        let team = self.team(store, &grant.team_id).await?;
        Ok(Caller {
            key_id: grant.key_id,
            user_id: grant.user_id,
            username: grant.username,
            team,
        })
    }

    fn cached(&self, digest: &str) -> Option<KeyGrantRecord> {
        let grants = self.grants.read().ok()?;
        let cached = grants.get(digest)?;
        (cached.checked_at.elapsed() < GRANT_TTL).then(|| cached.grant.clone())
    }

    fn remember(&self, digest: &str, grant: KeyGrantRecord) {
        if let Ok(mut grants) = self.grants.write() {
            if grants.len() >= MAX_CACHED_GRANTS {
                grants.clear();
            }
            grants.insert(
                digest.to_owned(),
                CachedGrant {
                    grant,
                    checked_at: Instant::now(),
                },
            );
        }
    }

    async fn team(&self, store: &Store, team_id: &str) -> Result<Arc<TeamRecord>, GatewayError> {
        if let Some(team) = self.teams.read().ok().and_then(|t| t.get(team_id).cloned()) {
            return Ok(team);
        }
        let teams = store.teams().await?;
        let mut cache = self.teams.write().map_err(|_| GatewayError::Internal)?;
        cache.clear();
        for team in teams {
            cache.insert(team.id.clone(), Arc::new(team));
        }
        cache.get(team_id).cloned().ok_or(GatewayError::Internal)
    }

    pub fn teams(&self) -> Vec<Arc<TeamRecord>> {
        self.teams
            .read()
            .map(|t| t.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Drops every cached grant and team.
    pub fn clear(&self) {
        if let Ok(mut grants) = self.grants.write() {
            grants.clear();
        }
        if let Ok(mut teams) = self.teams.write() {
            teams.clear();
        }
    }

    /// Drops the cached grants of one user (their key changed).
    pub fn forget_user(&self, user_id: &str) {
        if let Ok(mut grants) = self.grants.write() {
            grants.retain(|_, cached| cached.grant.user_id != user_id);
        }
    }
}
