//! Command line: the `gatehouse` subcommands and their flags, each with an
//! environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::ServeConfig;

/// Self-hosted access server for AI coding assistants.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Sign in with user name and password and print your Plugin API Key.
    Login(LoginArgs),
    /// Work with the Keycloak directory of a running gatehouse.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// Check or set up the Keycloak connection of a running gatehouse.
    #[command(subcommand)]
    Keycloak(KeycloakCommand),
}

#[derive(Debug, Subcommand)]
pub enum KeycloakCommand {
    /// Configure Keycloak as the integration guide says, through its Admin API, and save the
    /// settings in gatehouse (needs GATEHOUSE_ADMIN_TOKEN; asks for the Keycloak admin password).
    Setup {
        /// gatehouse's address, e.g. https://gatehouse.example.com
        #[arg(long, env = "GATEHOUSE_SERVER")]
        server: String,
        /// The address users see, for redirect URIs; default: --server.
        #[arg(long)]
        public_url: Option<String>,
        /// Keycloak's address, e.g. https://keycloak.example.com/
        #[arg(long)]
        keycloak_url: String,
        /// The realm; created if missing.
        #[arg(long)]
        realm: String,
        #[arg(long, default_value = "refact_client")]
        client_id: String,
        /// A Keycloak administrator of the master realm.
        #[arg(long, default_value = "admin")]
        admin_user: String,
    },
    /// Check each Keycloak setting against the real server (needs GATEHOUSE_ADMIN_TOKEN).
    Check {
        /// gatehouse's address, e.g. https://gatehouse.example.com
        #[arg(long, env = "GATEHOUSE_SERVER")]
        server: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DirectoryCommand {
    /// Sync users and groups from Keycloak now (needs GATEHOUSE_ADMIN_TOKEN).
    Sync {
        /// gatehouse's address, e.g. https://gatehouse.example.com
        #[arg(long, env = "GATEHOUSE_SERVER")]
        server: String,
    },
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// gatehouse's address, e.g. https://gatehouse.example.com
    #[arg(long, env = "GATEHOUSE_SERVER")]
    pub server: String,

    /// Your Keycloak user name; asked for when left out.
    #[arg(long)]
    pub username: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:8008")]
    pub listen: SocketAddr,

    /// Folder for the SQLite database and the encryption key.
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,

    /// Database URL; default: an SQLite file in the data dir.
    #[arg(long, env = "GATEHOUSE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// The address users and Keycloak see, e.g. https://gatehouse.example.com.
    /// Default: http://<listen address>.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// A TOML config file with gateway settings and upstream inference servers.
    #[arg(long, env = "GATEHOUSE_CONFIG")]
    pub config: Option<PathBuf>,

    /// An upstream inference server, NAME=URL (repeatable); its models are
    /// read from URL/v1/models.
    #[arg(long = "upstream", value_name = "NAME=URL", value_parser = parse_upstream)]
    pub upstreams: Vec<(String, String)>,

    /// Minutes between directory syncs with Keycloak; 0 syncs only on demand.
    #[arg(long, env = "GATEHOUSE_DIRECTORY_SYNC_MINUTES", default_value_t = 5)]
    pub directory_sync_minutes: u64,

    /// Days a newly issued Plugin API Key stays valid; 0 (the default):
    /// keys do not expire. An expired key is renewed at the owner's next
    /// sign-in.
    #[arg(long, env = "GATEHOUSE_KEY_LIFETIME_DAYS", default_value_t = 0)]
    pub key_lifetime_days: u32,

    /// Log format: text or json.
    #[arg(long, env = "GATEHOUSE_LOG_FORMAT", default_value = "text")]
    pub log_format: crate::telemetry::LogFormat,
}

fn parse_upstream(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((name, url)) if !name.trim().is_empty() && !url.trim().is_empty() => {
            Ok((name.trim().to_owned(), url.trim().to_owned()))
        }
        _ => Err(format!(
            "expected NAME=URL, e.g. vllm=http://127.0.0.1:8000/v1, not {raw:?}"
        )),
    }
}

/// Runs the chosen subcommand to completion.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            crate::telemetry::init(args.log_format);
            let config = ServeConfig::from_args(args)?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("starting the async runtime")?;
            runtime.block_on(crate::app::serve(config))
        }
        Command::Login(args) => crate::remote::login::run(&args.server, args.username),
        Command::Directory(DirectoryCommand::Sync { server }) => {
            crate::remote::directory::sync(&server)
        }
        Command::Keycloak(KeycloakCommand::Setup {
            server,
            public_url,
            keycloak_url,
            realm,
            client_id,
            admin_user,
        }) => {
            let admin_password = crate::remote::login::prompt("Keycloak admin password: ", true)?;
            crate::remote::keycloak_setup::run(crate::remote::keycloak_setup::SetupArgs {
                public_url: public_url.unwrap_or_else(|| server.clone()),
                server,
                keycloak_url,
                realm,
                client_id,
                admin_user,
                admin_password,
            })
        }
        Command::Keycloak(KeycloakCommand::Check { server }) => {
            crate::remote::keycloak::check(&server)
        }
    }
}
