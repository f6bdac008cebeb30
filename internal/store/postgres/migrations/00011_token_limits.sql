-- +goose Up
-- Scoped tokens: limits to chosen accounts or apps (JSON lists, empty for
-- none), and rotation's overlap: the token that replaced this one, and
-- when this one stops working.
ALTER TABLE api_tokens ADD COLUMN account_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_tokens ADD COLUMN apps TEXT NOT NULL DEFAULT '[]';
ALTER TABLE api_tokens ADD COLUMN replaced_by TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN valid_until BIGINT;
CREATE INDEX api_tokens_user ON api_tokens (workspace_id, user_id, id);

-- +goose Down
DROP INDEX api_tokens_user;
ALTER TABLE api_tokens DROP COLUMN valid_until;
ALTER TABLE api_tokens DROP COLUMN replaced_by;
ALTER TABLE api_tokens DROP COLUMN apps;
ALTER TABLE api_tokens DROP COLUMN account_ids;
