//! The inference gateway: OpenAI-compatible endpoints and Refact's IDE
//! protocol in front of the company's inference servers, admitting only
//! requests with a valid Plugin API Key and within the team's rules.

pub mod access;
pub mod config_file;
mod discovery;
pub mod error;
mod forward;
pub mod handlers;
pub mod limits;
pub mod models;
pub mod refact;
pub mod upstreams;
pub mod usage;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use access::AccessCache;
use config_file::{GatewaySection, Timeouts};
use limits::RateLimits;
use upstreams::{Upstream, UpstreamConfig, UpstreamRegistry, UpstreamSource};
use usage::UsageRecorder;

use crate::crypto::SecretBox;
use crate::store::{Store, StoreError};

const REVISION_POLL: Duration = Duration::from_secs(2);
const MODEL_REFRESH: Duration = Duration::from_secs(60);
const UPSTREAM_KEY_PURPOSE: &str = "upstream.api_key";

/// What the gateway is configured with at start.
pub struct GatewayOptions {
    pub section: GatewaySection,
    pub file_upstreams: Vec<UpstreamConfig>,
    /// `--upstream NAME=URL` pairs.
    pub cli_upstreams: Vec<(String, String)>,
}

/// Shared by every inference request; cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) store: Store,
    secrets: Arc<SecretBox>,
    pub(crate) http: reqwest::Client,
    pub upstreams: Arc<UpstreamRegistry>,
    pub(crate) access: Arc<AccessCache>,
    pub(crate) limits: Arc<RateLimits>,
    pub(crate) usage: UsageRecorder,
    pub(crate) timeouts: Timeouts,
    pub body_limit: usize,
    fixed: Arc<Vec<Arc<Upstream>>>,
    revision: Arc<AtomicI64>,
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayStartError {
    #[error("upstream \"{name}\": {reason}")]
    Upstream { name: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("building the upstream HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl Gateway {
    /// Builds the gateway and starts its usage writer; returns the writer's
    /// task so shutdown can wait for the last records.
    pub async fn start(
        store: Store,
        secrets: Arc<SecretBox>,
        options: GatewayOptions,
    ) -> Result<(Self, tokio::task::JoinHandle<()>), GatewayStartError> {
        let fixed = fixed_upstreams(options.file_upstreams, options.cli_upstreams)?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(256)
            .tcp_nodelay(true)
            .build()?;
        let (usage, writer) = UsageRecorder::start(store.clone());
        let gateway = Self {
            revision: Arc::new(AtomicI64::new(store.access_revision().await?)),
            store,
            secrets,
            http,
            upstreams: Arc::new(UpstreamRegistry::default()),
            access: Arc::new(AccessCache::default()),
            limits: Arc::new(RateLimits::default()),
            usage,
            timeouts: options.section.timeouts(),
            body_limit: options.section.request_body_limit_bytes,
            fixed: Arc::new(fixed),
        };
        gateway.reload_upstreams().await?;
        gateway.refresh_models().await;
        Ok((gateway, writer))
    }

    /// Rebuilds the upstream list from the fixed ones and the console's.
    pub async fn reload_upstreams(&self) -> Result<(), StoreError> {
        let mut all: Vec<Arc<Upstream>> = self.fixed.iter().cloned().collect();
        let previous = self.upstreams.all();
        for record in self.store.upstreams().await? {
            if all.iter().any(|u| u.name == record.name) {
                tracing::warn!(upstream = %record.name, "console upstream shadowed by the config file");
                continue;
            }
            let api_key = record
                .sealed_api_key
                .as_deref()
                .and_then(|sealed| self.secrets.open(UPSTREAM_KEY_PURPOSE, sealed).ok());
            let specs = record
                .models
                .iter()
                .map(|m| models::ModelSpec::named(m))
                .collect();
            let upstream = Upstream::new(
                record.name,
                &record.base_url,
                api_key,
                specs,
                UpstreamSource::Console,
            );
            // Keep what discovery learnt about an unchanged upstream.
            if let Some(old) = previous
                .iter()
                .find(|u| u.name == upstream.name && u.base_url == upstream.base_url)
            {
                upstream.set_discovered(
                    &old.models()
                        .iter()
                        .map(|m| m.name.clone())
                        .collect::<Vec<_>>(),
                );
            }
            all.push(Arc::new(upstream));
        }
        self.upstreams.replace(all);
        Ok(())
    }

    /// Asks upstreams without declared models for their `/v1/models`.
    pub async fn refresh_models(&self) {
        discovery::refresh(&self.http, &self.upstreams.all()).await;
    }

    /// Seals an upstream API key for storage.
    pub fn seal_upstream_key(&self, key: &str) -> String {
        self.secrets.seal(UPSTREAM_KEY_PURPOSE, key)
    }

    /// Drops cached key checks of one user at once (their key changed).
    pub fn forget_user(&self, user_id: &str) {
        self.access.forget_user(user_id);
    }

    /// After an administrator's change: drop caches and reload upstreams.
    pub async fn changed(&self) -> Result<(), StoreError> {
        self.access.clear();
        self.reload_upstreams().await?;
        self.revision
            .store(self.store.access_revision().await?, Ordering::Relaxed);
        Ok(())
    }

    /// A number that rises whenever models or team rules change: Refact's
    /// `caps_version`.
    pub fn caps_version(&self) -> i64 {
        self.revision.load(Ordering::Relaxed)
    }

    /// Runs forever: follows changes made on other replicas and refreshes
    /// discovered models.
    pub async fn watch(self) {
        let mut poll = tokio::time::interval(REVISION_POLL);
        let mut last_refresh = tokio::time::Instant::now();
        loop {
            poll.tick().await;
            match self.store.access_revision().await {
                Ok(revision) if revision != self.revision.load(Ordering::Relaxed) => {
                    tracing::debug!(revision, "access changed; dropping cached key checks");
                    if let Err(err) = self.changed().await {
                        tracing::warn!(error = %err, "could not reload after an access change");
                    }
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "could not read the access revision"),
            }
            if last_refresh.elapsed() >= MODEL_REFRESH {
                last_refresh = tokio::time::Instant::now();
                self.refresh_models().await;
            }
        }
    }
}

fn fixed_upstreams(
    file: Vec<UpstreamConfig>,
    cli: Vec<(String, String)>,
) -> Result<Vec<Arc<Upstream>>, GatewayStartError> {
    let mut all = Vec::new();
    for config in file {
        upstreams::check_url(&config.url).map_err(|reason| GatewayStartError::Upstream {
            name: config.name.clone(),
            reason,
        })?;
        let api_key = match (&config.api_key, &config.api_key_env) {
            (Some(key), _) => Some(key.clone()),
            (None, Some(var)) => {
                Some(std::env::var(var).map_err(|_| GatewayStartError::Upstream {
                    name: config.name.clone(),
                    reason: format!("environment variable {var} (api_key_env) is not set"),
                })?)
            }
            (None, None) => None,
        };
        let specs = config.models.into_iter().map(Into::into).collect();
        all.push(Arc::new(Upstream::new(
            config.name,
            &config.url,
            api_key,
            specs,
            UpstreamSource::ConfigFile,
        )));
    }
    for (name, url) in cli {
        upstreams::check_url(&url).map_err(|reason| GatewayStartError::Upstream {
            name: name.clone(),
            reason,
        })?;
        all.push(Arc::new(Upstream::new(
            name,
            &url,
            None,
            Vec::new(),
            UpstreamSource::CommandLine,
        )));
    }
    Ok(all)
}
