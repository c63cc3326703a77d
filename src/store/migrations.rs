//! Versioned schema migrations, embedded in the binary, one folder per
//! database engine.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

/// (version, description, SQLite text, PostgreSQL text)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "initial",
        include_str!("../../migrations/sqlite/0001_initial.sql"),
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        2,
        "gateway",
        include_str!("../../migrations/sqlite/0002_gateway.sql"),
        include_str!("../../migrations/postgres/0002_gateway.sql"),
    ),
    (
        3,
        "directory",
        include_str!("../../migrations/sqlite/0003_directory.sql"),
        include_str!("../../migrations/postgres/0003_directory.sql"),
    ),
];

/// The migrator for one engine; PostgreSQL's takes an advisory lock, so
/// replicas starting together are safe.
pub fn for_backend(backend: Backend) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|&(version, description, sqlite, postgres)| {
            let sql = match backend {
                Backend::Sqlite => sqlite,
                Backend::Postgres => postgres,
            };
            Migration::new(
                version,
                Cow::Borrowed(description),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect::<Vec<_>>();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}
