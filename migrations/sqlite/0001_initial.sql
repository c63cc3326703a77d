-- Settings, teams, users, plugin keys, sessions and pending Keycloak logins.
-- Types are limited to TEXT and BIGINT so that the same queries run through
-- sqlx's Any driver on SQLite and PostgreSQL; times are unix milliseconds.

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

INSERT INTO teams (id, name, created_at) VALUES ('default', 'default', 0);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    username TEXT NOT NULL,
    email TEXT,
    display_name TEXT,
    team_id TEXT NOT NULL REFERENCES teams (id),
    disabled_at BIGINT,
    created_at BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    UNIQUE (issuer, subject)
);

CREATE TABLE plugin_keys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    secret_digest TEXT NOT NULL UNIQUE,
    sealed_secret TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE INDEX plugin_keys_by_user ON plugin_keys (user_id);

CREATE TABLE sessions (
    id_digest TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    sealed_id_token TEXT,
    keycloak_sid TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE pending_logins (
    state_digest TEXT PRIMARY KEY,
    binding_digest TEXT NOT NULL,
    sealed_request TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
