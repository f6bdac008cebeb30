-- +goose Up
-- The MCP authorization server's clients (RFC 7591, the installation's),
-- the members' grants to them, and the grants' codes and tokens by their
-- signatures: no code or token is stored.
CREATE TABLE mcp_clients (
	id            TEXT PRIMARY KEY,
	name          TEXT NOT NULL,
	redirect_uris TEXT NOT NULL,
	grant_types   TEXT NOT NULL,
	created_at    BIGINT NOT NULL
);
CREATE TABLE mcp_grants (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	user_id      TEXT NOT NULL,
	client_id    TEXT NOT NULL REFERENCES mcp_clients (id),
	redirect_uri TEXT NOT NULL,
	scopes       TEXT NOT NULL,
	resource     TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);
CREATE INDEX mcp_grants_user ON mcp_grants (workspace_id, user_id, id);
CREATE TABLE mcp_tokens (
	kind       TEXT NOT NULL,
	signature  TEXT NOT NULL,
	grant_id   TEXT NOT NULL,
	active     BOOLEAN NOT NULL,
	request    TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (kind, signature)
);
CREATE INDEX mcp_tokens_grant ON mcp_tokens (grant_id, kind);
CREATE INDEX mcp_tokens_expiry ON mcp_tokens (expires_at);

-- +goose Down
DROP TABLE mcp_tokens;
DROP TABLE mcp_grants;
DROP TABLE mcp_clients;
