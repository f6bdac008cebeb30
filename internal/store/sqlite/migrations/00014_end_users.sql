-- +goose Up
-- Accounts of a product's end users: the product's own id for the user
-- ('' for a member's account), free metadata (JSON text, '' for none) and
-- tags. Tags are kept twice: as JSON on the row, read with it, and one row
-- each in account_tags, which the tag filter looks up by index.
ALTER TABLE accounts ADD COLUMN external_user_id TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN metadata TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN tags TEXT NOT NULL DEFAULT '{}';
CREATE INDEX accounts_workspace_external_user ON accounts (workspace_id, external_user_id, id);

CREATE TABLE account_tags (
	account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	workspace_id TEXT NOT NULL,
	tag_key      TEXT NOT NULL,
	tag_value    TEXT NOT NULL,
	PRIMARY KEY (account_id, tag_key)
);
CREATE INDEX account_tags_lookup ON account_tags (workspace_id, tag_key, tag_value, account_id);

-- Connect tokens: single-use, short-lived links a product's backend mints
-- for one end user. Only the SHA-256 of the token is kept; lists are JSON.
CREATE TABLE connect_tokens (
	id                   TEXT PRIMARY KEY,
	workspace_id         TEXT NOT NULL REFERENCES workspaces (id),
	token_hash           BLOB NOT NULL UNIQUE,
	external_user_id     TEXT NOT NULL,
	account_id           TEXT NOT NULL,
	apps                 TEXT NOT NULL,
	tags                 TEXT NOT NULL,
	success_redirect_uri TEXT NOT NULL,
	error_redirect_uri   TEXT NOT NULL,
	allowed_origins      TEXT NOT NULL,
	webhook_url          TEXT NOT NULL,
	created_by           TEXT NOT NULL,
	created_at           BIGINT NOT NULL,
	expires_at           BIGINT NOT NULL,
	used_at              BIGINT
);
CREATE INDEX connect_tokens_workspace ON connect_tokens (workspace_id, id);
CREATE INDEX connect_tokens_expires ON connect_tokens (expires_at);

-- +goose Down
DROP TABLE connect_tokens;
DROP TABLE account_tags;
DROP INDEX accounts_workspace_external_user;
ALTER TABLE accounts DROP COLUMN tags;
ALTER TABLE accounts DROP COLUMN metadata;
ALTER TABLE accounts DROP COLUMN external_user_id;
