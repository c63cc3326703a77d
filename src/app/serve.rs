//! Start-up: storage, secrets, the admin token, the Keycloak client, the
//! housekeeping task, and the listener with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;

use super::state::Shared;
use super::{AppState, router};
use crate::accounts::plugin_key::KeyIssuer;
use crate::auth::admin_token::Established;
use crate::auth::{AdminToken, AttemptThrottle, LoginThrottle, Sessions};
use crate::config::ServeConfig;
use crate::crypto::SecretBox;
use crate::directory_sync::{self, DirectorySync};
use crate::gateway::{Gateway, GatewayOptions};
use crate::keycloak::Keycloak;
use crate::store::Store;

const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(300);

pub async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data dir {}", config.data_dir.display()))?;

    let store = Store::open(&config.database_url)
        .await
        .context("opening the database")?;
    let secrets = match &config.secret_key {
        Some(key) => SecretBox::from_base64(key).context("GATEHOUSE_SECRET_KEY")?,
        None => SecretBox::load_or_create(&config.data_dir)?,
    };
    let admin_token = match AdminToken::establish(&store, config.admin_token.as_deref()).await? {
        Established::FromEnvironment(token) | Established::Stored(token) => token,
        Established::Generated(plain, token) => {
            announce_generated_token(&plain);
            token
        }
    };

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;

    let secrets = Arc::new(secrets);
    let (gateway, usage_writer) = Gateway::start(
        store.clone(),
        Arc::clone(&secrets),
        GatewayOptions {
            section: config.config_file.gateway,
            file_upstreams: config.config_file.upstreams,
            cli_upstreams: config.cli_upstreams,
        },
    )
    .await?;
    let watcher = tokio::spawn(gateway.clone().watch());

    let state = AppState::new(Shared {
        gateway,
        public_url: config.public_url.clone(),
        sessions: Sessions::new(store.clone(), config.public_url.is_https()),
        store: store.clone(),
        keys: KeyIssuer::new(Arc::clone(&secrets), config.key_lifetime),
        secrets,
        admin_token: Arc::new(admin_token),
        directory: DirectorySync::new(http.clone()),
        keycloak_http: http.clone(),
        directory_sync_minutes: config
            .directory_sync_every
            .map(|every| every.as_secs() / 60),
        keycloak: Keycloak::new(http),
        admin_throttle: Arc::new(AttemptThrottle::new(5, Duration::from_secs(900))),
        login_throttle: Arc::new(LoginThrottle::default()),
    });
    // Background tasks that hold the state must end before the usage writer
    // can see its last sender go.
    let mut background = vec![watcher, tokio::spawn(housekeeping(store.clone()))];
    if let Some(every) = config.directory_sync_every {
        background.push(tokio::spawn(directory_sync::schedule(state.clone(), every)));
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    tracing::info!(listen = %config.listen, public_url = %config.public_url.as_str(), "gatehouse is serving");
    // Streamed answers are many small writes: send each at once instead of
    // waiting for the client's delayed ACK (Nagle's algorithm).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving HTTP")?;
    for task in &background {
        task.abort();
    }
    for task in background {
        let _ = task.await;
    }
    // The router and its state are gone: the usage writer drains and ends.
    if tokio::time::timeout(Duration::from_secs(10), usage_writer)
        .await
        .is_err()
    {
        tracing::warn!("usage records still queued at shutdown were not written");
    }
    store.close().await;
    tracing::info!("gatehouse stopped");
    Ok(())
}

/// Shows a generated admin token once, on the console, outside the log.
fn announce_generated_token(token: &str) {
    eprintln!(
        "\n==================================================================\n\
         No GATEHOUSE_ADMIN_TOKEN was set, so gatehouse generated one.\n\
         It is shown only this once; gatehouse keeps only its hash.\n\n    \
         {token}\n\n\
         Sign in at /admin/login with it. To choose your own, set\n\
         GATEHOUSE_ADMIN_TOKEN (24+ random characters) and restart.\n\
         ==================================================================\n"
    );
}

async fn housekeeping(store: Store) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_INTERVAL);
    loop {
        tick.tick().await;
        match store.purge_expired().await {
            Ok(removed) if removed > 0 => {
                tracing::debug!(removed, "purged expired sessions and sign-ins")
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "could not purge expired sessions"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
