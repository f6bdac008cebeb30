-- +goose Up
-- OAuth clients: workspace_id '' marks the operator's managed client.
CREATE TABLE oauth_clients (
	id           TEXT COLLATE "C" PRIMARY KEY,
	workspace_id TEXT NOT NULL,
	app          TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	secret       BYTEA NOT NULL,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	UNIQUE (workspace_id, app)
);

-- OAuth authorizations in progress; the state is kept only as its hash.
CREATE TABLE connections (
	id              TEXT COLLATE "C" PRIMARY KEY,
	workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
	user_id         TEXT NOT NULL,
	app             TEXT NOT NULL,
	state_hash      BYTEA NOT NULL UNIQUE,
	nickname        TEXT NOT NULL,
	scopes          TEXT NOT NULL,
	shared          BOOLEAN NOT NULL,
	account_id      TEXT NOT NULL,
	oauth_client_id TEXT NOT NULL,
	sealed          BYTEA NOT NULL,
	status          TEXT NOT NULL,
	error           TEXT NOT NULL,
	expires_at      BIGINT NOT NULL,
	created_at      BIGINT NOT NULL
);

CREATE INDEX connections_workspace ON connections (workspace_id, id);

-- +goose Down
DROP TABLE connections;
DROP TABLE oauth_clients;
