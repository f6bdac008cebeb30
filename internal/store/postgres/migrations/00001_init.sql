-- +goose Up
-- Times are unix microseconds (UTC); scopes and detail are JSON text.
-- Ids collate as bytes, as in SQLite, so pages by id > $after sort the same
-- whatever the database's collation.
CREATE TABLE workspaces (
	id         TEXT COLLATE "C" PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

CREATE TABLE users (
	id            TEXT COLLATE "C" PRIMARY KEY,
	workspace_id  TEXT NOT NULL REFERENCES workspaces (id),
	email         TEXT NOT NULL,
	name          TEXT NOT NULL,
	role          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	UNIQUE (workspace_id, email)
);

CREATE TABLE api_tokens (
	id           TEXT COLLATE "C" PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	user_id      TEXT NOT NULL,
	name         TEXT NOT NULL,
	hash         BYTEA NOT NULL UNIQUE,
	scopes       TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT,
	expires_at   BIGINT
);

CREATE INDEX api_tokens_workspace ON api_tokens (workspace_id, id);

CREATE TABLE accounts (
	id                TEXT COLLATE "C" PRIMARY KEY,
	workspace_id      TEXT NOT NULL REFERENCES workspaces (id),
	owner_id          TEXT NOT NULL,
	app               TEXT NOT NULL,
	nickname          TEXT NOT NULL,
	identity_label    TEXT NOT NULL,
	scopes            TEXT NOT NULL,
	status            TEXT NOT NULL,
	status_error      TEXT NOT NULL,
	shared            BOOLEAN NOT NULL,
	untested          BOOLEAN NOT NULL,
	oauth_client_id   TEXT NOT NULL,
	credentials       BYTEA,
	expires_at        BIGINT,
	last_refreshed_at BIGINT,
	next_refresh_at   BIGINT,
	failing_since     BIGINT,
	refresh_failures  INTEGER NOT NULL,
	created_at        BIGINT NOT NULL,
	updated_at        BIGINT NOT NULL
);

CREATE INDEX accounts_workspace_id ON accounts (workspace_id, id);
CREATE INDEX accounts_workspace_app ON accounts (workspace_id, app);
CREATE INDEX accounts_workspace_owner ON accounts (workspace_id, owner_id);
-- For the background refresher, which picks the accounts due next.
CREATE INDEX accounts_next_refresh ON accounts (next_refresh_at);

-- No foreign key to accounts: the log outlives the accounts it mentions.
CREATE TABLE audit_events (
	id           TEXT COLLATE "C" PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	actor_id     TEXT NOT NULL,
	account_id   TEXT NOT NULL,
	action       TEXT NOT NULL,
	detail       TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);

CREATE INDEX audit_events_workspace ON audit_events (workspace_id, id);
CREATE INDEX audit_events_account ON audit_events (workspace_id, account_id, id);

CREATE TABLE meta (
	name  TEXT PRIMARY KEY,
	value BYTEA NOT NULL
);

-- +goose Down
DROP TABLE meta;
DROP TABLE audit_events;
DROP TABLE accounts;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE workspaces;
