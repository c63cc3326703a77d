//! Subcommands that talk to a running gatehouse over HTTP: `login`,
//! `directory sync` and `keycloak check`.

pub mod directory;
pub mod keycloak;
pub mod keycloak_setup;
pub mod login;

use anyhow::Context;
use serde_json::Value;

/// Sends one JSON request and returns the status and JSON answer.
pub(crate) fn call(
    method: reqwest::Method,
    url: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(600))
            .build()?;
        let mut request = client.request(method, url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("could not reach {url}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::Ok((status, body))
    })
}
