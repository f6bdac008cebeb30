-- +goose Up
-- Invitations to join a workspace, and password-reset links: single-use,
-- expiring, and only the SHA-256 of the link's token is kept.
CREATE TABLE invitations (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	kind         TEXT NOT NULL,
	email        TEXT NOT NULL,
	role         TEXT NOT NULL,
	user_id      TEXT NOT NULL,
	token_hash   BYTEA NOT NULL UNIQUE,
	created_by   TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	used_at      BIGINT
);

CREATE INDEX invitations_workspace ON invitations (workspace_id, id);
-- Sign-in looks a person up by email across the workspaces they belong to.
CREATE INDEX users_email ON users (email);

-- +goose Down
DROP INDEX users_email;
DROP TABLE invitations;
