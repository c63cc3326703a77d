-- Keycloak as the source of truth: group-to-team mappings, where a user's
-- team and a disablement came from, and a record of every directory sync.

CREATE TABLE group_mappings (
    group_path TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    priority BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- 'default', 'mapping', 'user' (chosen among the mapped teams) or 'admin'.
ALTER TABLE users ADD COLUMN team_source TEXT NOT NULL DEFAULT 'default';
-- JSON list of the team ids the mapping offers the user.
ALTER TABLE users ADD COLUMN team_choices TEXT;
-- JSON list of the user's Keycloak group paths as last seen.
ALTER TABLE users ADD COLUMN group_paths TEXT;
-- 'admin' or 'directory' while disabled_at is set.
ALTER TABLE users ADD COLUMN disabled_by TEXT;

CREATE TABLE directory_syncs (
    id TEXT PRIMARY KEY,
    trigger_source TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    status TEXT NOT NULL,
    summary TEXT,
    error TEXT
);

CREATE INDEX directory_syncs_by_start ON directory_syncs (started_at);
