//! The optional TOML config file (`--config`): gateway timeouts and limits,
//! and upstream inference servers.
//!
//! ```toml
//! [gateway]
//! first_byte_timeout_seconds = 60
//! idle_timeout_seconds = 120
//! request_body_limit_bytes = 8388608
//!
//! [[upstreams]]
//! name = "vllm"
//! url = "http://10.0.0.5:8000/v1"
//! api_key_env = "VLLM_API_KEY"
//! models = ["Qwen/Qwen2.5-Coder-7B-Instruct",
//!           { name = "qwen-fim", n_ctx = 8192, chat = false,
//!             fim = { prefix = "<|fim_prefix|>", suffix = "<|fim_suffix|>",
//!                     middle = "<|fim_middle|>", eot = "<|endoftext|>" } }]
//! ```

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::upstreams::UpstreamConfig;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub gateway: GatewaySection,
    #[serde(default)]
    pub upstreams: Vec<UpstreamConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    #[serde(default = "default_first_byte")]
    pub first_byte_timeout_seconds: u64,
    #[serde(default = "default_idle")]
    pub idle_timeout_seconds: u64,
    #[serde(default = "default_body_limit")]
    pub request_body_limit_bytes: usize,
}

impl Default for GatewaySection {
    fn default() -> Self {
        Self {
            first_byte_timeout_seconds: default_first_byte(),
            idle_timeout_seconds: default_idle(),
            request_body_limit_bytes: default_body_limit(),
        }
    }
}

fn default_first_byte() -> u64 {
    60
}

fn default_idle() -> u64 {
    120
}

fn default_body_limit() -> usize {
    8 * 1024 * 1024
}

/// How long to wait on upstreams.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Until the upstream sends its answer's headers.
    pub first_byte: Duration,
    /// Between two chunks of an answer.
    pub idle: Duration,
}

impl GatewaySection {
    pub fn timeouts(&self) -> Timeouts {
        Timeouts {
            first_byte: Duration::from_secs(self.first_byte_timeout_seconds.max(1)),
            idle: Duration::from_secs(self.idle_timeout_seconds.max(1)),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("reading the config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the config file {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

pub fn load(path: &Path) -> Result<ConfigFile, ConfigFileError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: display.clone(),
        source,
    })?;
    toml::from_str(&text).map_err(|err| ConfigFileError::Invalid {
        path: display,
        message: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::models::ModelSpec;

    #[test]
    fn parses_upstreams_with_plain_and_detailed_models() {
        let file: ConfigFile = toml::from_str(
            r#"
            [gateway]
            first_byte_timeout_seconds = 5
            [[upstreams]]
            name = "a"
            url = "http://127.0.0.1:9000/v1"
            models = ["chat-model", { name = "fim", n_ctx = 8192, chat = false,
                      fim = { prefix = "<p>", suffix = "<s>", middle = "<m>", eot = "<e>" } }]
            "#,
        )
        .unwrap();
        assert_eq!(file.gateway.timeouts().first_byte, Duration::from_secs(5));
        let models: Vec<ModelSpec> = file.upstreams[0]
            .models
            .iter()
            .cloned()
            .map(Into::into)
            .collect();
        assert!(models[0].chat && models[0].fim.is_none());
        assert_eq!(models[1].n_ctx, 8192);
        assert!(!models[1].chat && models[1].fim.is_some());
    }

    #[test]
    fn unknown_keys_are_reported() {
        assert!(toml::from_str::<ConfigFile>("[gateway]\ntimeout = 3").is_err());
    }
}
