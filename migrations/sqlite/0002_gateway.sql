-- The inference gateway: upstreams added in the console, team rules,
-- usage records and Refact telemetry.

CREATE TABLE upstreams (
    name TEXT PRIMARY KEY,
    base_url TEXT NOT NULL,
    sealed_api_key TEXT,
    models TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE teams ADD COLUMN allowed_models TEXT;
ALTER TABLE teams ADD COLUMN default_completion_model TEXT;
ALTER TABLE teams ADD COLUMN default_chat_model TEXT;
ALTER TABLE teams ADD COLUMN requests_per_minute BIGINT;
ALTER TABLE teams ADD COLUMN tokens_per_minute BIGINT;
ALTER TABLE teams ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

CREATE TABLE usage_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    upstream TEXT NOT NULL,
    status BIGINT NOT NULL,
    streamed BIGINT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL
);

CREATE INDEX usage_records_by_time ON usage_records (at);

CREATE TABLE telemetry_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    teletype TEXT NOT NULL,
    payload TEXT NOT NULL
);

CREATE INDEX telemetry_records_by_user ON telemetry_records (user_id, at);
