-- +goose Up
-- Browser sessions; only the SHA-256 of the cookie is kept.
CREATE TABLE sessions (
	hash         BYTEA PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	user_id      TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL
);

CREATE INDEX sessions_expires ON sessions (expires_at);

-- A connection started in a browser is bound to that browser's session.
ALTER TABLE connections ADD COLUMN session_hash BYTEA NOT NULL DEFAULT ''::bytea;

-- +goose Down
ALTER TABLE connections DROP COLUMN session_hash;
DROP TABLE sessions;
