//! The storage layer: every SQL statement of gatehouse lives below this
//! module. One code path serves SQLite (the default) and PostgreSQL through
//! sqlx's `Any` driver, so queries use `$1` placeholders and only TEXT and
//! BIGINT columns; times are unix milliseconds.

mod access;
mod directory;
mod group_mappings;
mod migrations;
mod pending_logins;
mod plugin_keys;
mod sessions;
mod settings;
mod teams;
mod telemetry;
mod upstreams;
mod usage;
mod user_admin;
mod user_list;
mod users;

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use access::KeyGrantRecord;
pub use directory::SyncRecord;
pub use pending_logins::PendingLoginRecord;
pub use plugin_keys::{ActiveKeyRecord, NewPluginKey};
pub use sessions::{NewSession, SessionKind, SessionRecord};
pub use teams::{TeamRecord, TeamRules};
pub use upstreams::UpstreamRecord;
pub use usage::{UsageGroup, UsageRecord, UsageTotal};
pub use user_list::{KeyFacts, UserListing};
pub use users::{NewUser, SignInRecord, UserRecord};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
}

/// Which database engine the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects, applies SQLite's pragmas, and runs pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = backend_of(url)?;
        let mut options = AnyPoolOptions::new().max_connections(16);
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await?;
        migrations::for_backend(backend).run(&pool).await?;
        Ok(Self { pool, backend })
    }

    /// Whether the database answers: the readiness check.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn backend_of(url: &str) -> Result<Backend, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}

/// The current time in unix milliseconds, as stored in every time column.
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;

    /// A store on a fresh SQLite file; `sqlite::memory:` would give every
    /// pooled connection its own database.
    pub async fn temp_store() -> Store {
        let dir = std::env::temp_dir().join(format!(
            "gatehouse-test-{}",
            crate::crypto::random_alphanumeric(12)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
        Store::open(&url).await.unwrap()
    }
}
