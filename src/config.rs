//! Server configuration, resolved once at start from flags and environment.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use url::Url;

use crate::cli::ServeArgs;
use crate::gateway::config_file::ConfigFile;

/// Everything `gatehouse serve` needs to start.
#[derive(Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub public_url: PublicUrl,
    /// The admin token from `GATEHOUSE_ADMIN_TOKEN` or `GATEHOUSE_ADMIN_TOKEN_FILE`.
    pub admin_token: Option<String>,
    /// Base64 of 32 bytes from `GATEHOUSE_SECRET_KEY`; replicas must share it.
    pub secret_key: Option<String>,
    pub config_file: ConfigFile,
    pub cli_upstreams: Vec<(String, String)>,
    /// How often to sync the Keycloak directory; `None`: only on demand.
    pub directory_sync_every: Option<std::time::Duration>,
    /// How long new Plugin API Keys stay valid; `None`: they do not expire.
    pub key_lifetime: Option<std::time::Duration>,
}

impl ServeConfig {
    pub fn from_args(args: ServeArgs) -> anyhow::Result<Self> {
        let database_url = match args.database_url {
            Some(url) => url,
            None => format!(
                "sqlite://{}?mode=rwc",
                args.data_dir.join("gatehouse.db").display()
            ),
        };
        let public_url = match args.public_url {
            Some(url) => PublicUrl::parse(&url)?,
            None => PublicUrl::for_listen_address(args.listen)?,
        };
        let config_file = match &args.config {
            Some(path) => crate::gateway::config_file::load(path)?,
            None => ConfigFile::default(),
        };
        Ok(Self {
            config_file,
            cli_upstreams: args.upstreams,
            directory_sync_every: (args.directory_sync_minutes > 0)
                .then(|| std::time::Duration::from_secs(args.directory_sync_minutes * 60)),
            key_lifetime: (args.key_lifetime_days > 0).then(|| {
                std::time::Duration::from_secs(u64::from(args.key_lifetime_days) * 86_400)
            }),
            listen: args.listen,
            data_dir: args.data_dir,
            database_url,
            public_url,
            admin_token: secret_from_env("GATEHOUSE_ADMIN_TOKEN")?,
            secret_key: secret_from_env("GATEHOUSE_SECRET_KEY")?,
        })
    }
}

/// Reads a secret from `NAME` or from the file named by `NAME_FILE`.
fn secret_from_env(name: &str) -> anyhow::Result<Option<String>> {
    if let Ok(value) = std::env::var(name) {
        return Ok(Some(value.trim().to_owned()));
    }
    let file_var = format!("{name}_FILE");
    match std::env::var(&file_var) {
        Ok(path) => {
            let value = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {file_var} ({path})"))?;
            Ok(Some(value.trim().to_owned()))
        }
        Err(_) => Ok(None),
    }
}

/// The address users and Keycloak see, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl(Url);

impl PublicUrl {
    pub fn parse(raw: &str) -> anyhow::Result<Self> {
        let url = Url::parse(raw.trim()).with_context(|| format!("public URL {raw:?}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("public URL {raw:?} must start with http:// or https://");
        }
        if url.query().is_some() || url.fragment().is_some() {
            bail!("public URL {raw:?} must not have a query or fragment");
        }
        if url.host_str().is_none() {
            bail!("public URL {raw:?} has no host");
        }
        Ok(Self(url))
    }

    fn for_listen_address(listen: SocketAddr) -> anyhow::Result<Self> {
        let host = if listen.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            listen.ip().to_string()
        };
        let host = if listen.is_ipv6() && !listen.ip().is_unspecified() {
            format!("[{host}]")
        } else {
            host
        };
        Self::parse(&format!("http://{host}:{}", listen.port()))
    }

    /// The URL as text, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// An absolute URL for a path on this server, e.g. `join("/me")`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.as_str(), path)
    }

    /// `scheme://host[:port]`, as browsers send it in the `Origin` header.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    /// Whether cookies must carry the `Secure` attribute.
    pub fn is_https(&self) -> bool {
        self.0.scheme() == "https"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_drops_trailing_slash_and_joins_paths() {
        let url = PublicUrl::parse("https://gh.example.com/").unwrap();
        assert_eq!(url.as_str(), "https://gh.example.com");
        assert_eq!(url.join("/me"), "https://gh.example.com/me");
        assert_eq!(url.origin(), "https://gh.example.com");
        assert!(url.is_https());
    }

    #[test]
    fn public_url_keeps_a_path_prefix() {
        let url = PublicUrl::parse("http://host:8080/gatehouse/").unwrap();
        assert_eq!(url.join("/login"), "http://host:8080/gatehouse/login");
        assert_eq!(url.origin(), "http://host:8080");
    }

    #[test]
    fn public_url_rejects_other_schemes() {
        assert!(PublicUrl::parse("ftp://host").is_err());
        assert!(PublicUrl::parse("https://host/?a=b").is_err());
    }

    #[test]
    fn listen_on_all_interfaces_defaults_to_loopback() {
        let url = PublicUrl::for_listen_address("0.0.0.0:8008".parse().unwrap()).unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8008");
    }
}
