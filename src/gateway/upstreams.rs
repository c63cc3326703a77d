//! The inference servers gatehouse forwards to, from the config file, the
//! command line and the admin console, and which of them serve a model.
//!
//! Requests for a model are spread round-robin over its healthy upstreams;
//! one that refuses connections is marked down and skipped until a later
//! model refresh finds it answering again.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use super::models::ModelSpec;

/// Where an upstream was defined; only console ones can be changed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpstreamSource {
    ConfigFile,
    CommandLine,
    Console,
}

/// One inference server.
#[derive(Debug)]
pub struct Upstream {
    pub name: String,
    /// Without a trailing `/v1`: requests go to `{base_url}/v1/...`.
    pub base_url: String,
    pub api_key: Option<String>,
    pub source: UpstreamSource,
    /// Declared models; when empty, `discovered` is used.
    pub declared: Vec<ModelSpec>,
    discovered: RwLock<Vec<ModelSpec>>,
    healthy: AtomicBool,
    /// The inference URLs, parsed once rather than on every request.
    inference_urls: Vec<(&'static str, Option<url::Url>)>,
}

/// The inference endpoints gatehouse forwards, under `/v1/`.
pub const INFERENCE_ENDPOINTS: [&str; 3] = ["completions", "chat/completions", "embeddings"];

impl Upstream {
    pub fn new(
        name: String,
        url: &str,
        api_key: Option<String>,
        declared: Vec<ModelSpec>,
        source: UpstreamSource,
    ) -> Self {
        let base_url = normalize_base_url(url);
        let inference_urls = INFERENCE_ENDPOINTS
            .iter()
            .map(|endpoint| {
                (
                    *endpoint,
                    url::Url::parse(&format!("{base_url}/v1/{endpoint}")).ok(),
                )
            })
            .collect();
        Self {
            name,
            inference_urls,
            base_url,
            api_key,
            source,
            declared,
            discovered: RwLock::new(Vec::new()),
            healthy: AtomicBool::new(true),
        }
    }

    pub fn models(&self) -> Vec<ModelSpec> {
        if self.declared.is_empty() {
            self.discovered
                .read()
                .map(|m| m.clone())
                .unwrap_or_default()
        } else {
            self.declared.clone()
        }
    }

    /// Whether this upstream serves `model`; on every request, so without
    /// copying the model list.
    pub fn serves(&self, model: &str) -> bool {
        if self.declared.is_empty() {
            self.discovered
                .read()
                .is_ok_and(|models| models.iter().any(|m| m.name == model))
        } else {
            self.declared.iter().any(|m| m.name == model)
        }
    }

    pub fn set_discovered(&self, names: &[String]) {
        if let Ok(mut models) = self.discovered.write() {
            *models = names.iter().map(|name| ModelSpec::named(name)).collect();
        }
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    pub fn set_healthy(&self, healthy: bool) {
        let was = self.healthy.swap(healthy, Ordering::Relaxed);
        if was != healthy {
            tracing::warn!(upstream = %self.name, healthy, "upstream health changed");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The parsed URL of `/v1/{endpoint}`, if it is a valid URL.
    pub fn inference_url(&self, endpoint: &str) -> Option<url::Url> {
        self.inference_urls
            .iter()
            .find(|(e, _)| *e == endpoint)
            .and_then(|(_, url)| url.clone())
    }
}

/// `http://host:8000/v1/` and `http://host:8000` both mean the same server.
pub fn normalize_base_url(url: &str) -> String {
    let trimmed = url.trim().trim_end_matches('/');
    trimmed.strip_suffix("/v1").unwrap_or(trimmed).to_owned()
}

/// Validates an upstream URL given by an administrator.
pub fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url.trim()).map_err(|e| format!("upstream URL {url:?}: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "upstream URL {url:?} must start with http:// or https://"
        ));
    }
    Ok(())
}

/// All upstreams; cheap to read on every request.
#[derive(Default)]
pub struct UpstreamRegistry {
    upstreams: RwLock<Arc<Vec<Arc<Upstream>>>>,
    cursor: AtomicUsize,
}

impl UpstreamRegistry {
    pub fn replace(&self, upstreams: Vec<Arc<Upstream>>) {
        if let Ok(mut current) = self.upstreams.write() {
            *current = Arc::new(upstreams);
        }
    }

    pub fn all(&self) -> Arc<Vec<Arc<Upstream>>> {
        self.upstreams
            .read()
            .map(|u| Arc::clone(&u))
            .unwrap_or_default()
    }

    /// Every model served by any upstream, with its spec from the first
    /// upstream that declares it.
    pub fn catalog(&self) -> BTreeMap<String, (ModelSpec, Vec<String>)> {
        let mut catalog: BTreeMap<String, (ModelSpec, Vec<String>)> = BTreeMap::new();
        for upstream in self.all().iter() {
            for model in upstream.models() {
                catalog
                    .entry(model.name.clone())
                    .or_insert_with(|| (model.clone(), Vec::new()))
                    .1
                    .push(upstream.name.clone());
            }
        }
        catalog
    }

    /// The upstreams serving `model`, healthy ones first, rotated so that
    /// consecutive requests start at different upstreams.
    pub fn candidates(&self, model: &str) -> Vec<Arc<Upstream>> {
        let all = self.all();
        let mut serving: Vec<Arc<Upstream>> =
            all.iter().filter(|u| u.serves(model)).cloned().collect();
        if serving.len() > 1 {
            let start = self.cursor.fetch_add(1, Ordering::Relaxed) % serving.len();
            serving.rotate_left(start);
            serving.sort_by_key(|u| !u.is_healthy());
        }
        serving
    }
}

/// An upstream in the config file.
#[derive(Debug, Deserialize)]
pub struct UpstreamConfig {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub api_key: Option<String>,
    /// Read the upstream's API key from this environment variable.
    #[serde(default)]
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub models: Vec<super::models::ModelEntry>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upstream(name: &str, models: &[&str]) -> Arc<Upstream> {
        let specs = models.iter().map(|m| ModelSpec::named(m)).collect();
        Arc::new(Upstream::new(
            name.into(),
            "http://x/v1/",
            None,
            specs,
            UpstreamSource::Console,
        ))
    }

    #[test]
    fn base_url_drops_v1_and_slashes() {
        assert_eq!(normalize_base_url("http://h:8000/v1/"), "http://h:8000");
        assert_eq!(normalize_base_url("http://h:8000"), "http://h:8000");
        assert_eq!(upstream("a", &[]).url("/v1/models"), "http://x/v1/models");
    }

    #[test]
    fn candidates_rotate_and_skip_down_upstreams_last() {
        let registry = UpstreamRegistry::default();
        let (a, b) = (upstream("a", &["m"]), upstream("b", &["m"]));
        registry.replace(vec![a.clone(), b.clone(), upstream("c", &["other"])]);
        let first = registry.candidates("m")[0].name.clone();
        let second = registry.candidates("m")[0].name.clone();
        assert_ne!(first, second);
        b.set_healthy(false);
        for _ in 0..3 {
            assert_eq!(registry.candidates("m")[0].name, "a");
        }
        assert!(registry.candidates("nope").is_empty());
        assert_eq!(
            registry.catalog()["m"].1,
            vec!["a".to_owned(), "b".to_owned()]
        );
    }
}
