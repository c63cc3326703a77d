//! Learning an upstream's models from its `/v1/models`, which doubles as a
//! health check.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::upstreams::Upstream;

const TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Deserialize)]
struct ModelList {
    data: Vec<ModelId>,
}

#[derive(Deserialize)]
struct ModelId {
    id: String,
}

pub async fn refresh(http: &reqwest::Client, upstreams: &[Arc<Upstream>]) {
    let checks = upstreams.iter().map(|upstream| check(http, upstream));
    futures_util::future::join_all(checks).await;
}

async fn check(http: &reqwest::Client, upstream: &Upstream) {
    let mut request = http.get(upstream.url("/v1/models")).timeout(TIMEOUT);
    if let Some(key) = &upstream.api_key {
        request = request.bearer_auth(key);
    }
    let answer = match request.send().await {
        Ok(answer) if answer.status().is_success() => answer,
        Ok(answer) => {
            tracing::warn!(upstream = %upstream.name, status = answer.status().as_u16(), "upstream /v1/models failed");
            upstream.set_healthy(false);
            return;
        }
        Err(err) => {
            tracing::warn!(upstream = %upstream.name, error = %err, "upstream not reachable");
            upstream.set_healthy(false);
            return;
        }
    };
    upstream.set_healthy(true);
    if !upstream.declared.is_empty() {
        return;
    }
    match answer.json::<ModelList>().await {
        Ok(list) => {
            let names: Vec<String> = list.data.into_iter().map(|m| m.id).collect();
            tracing::debug!(upstream = %upstream.name, models = names.len(), "discovered models");
            upstream.set_discovered(&names);
        }
        Err(err) => {
            tracing::warn!(upstream = %upstream.name, error = %err, "unreadable /v1/models")
        }
    }
}
