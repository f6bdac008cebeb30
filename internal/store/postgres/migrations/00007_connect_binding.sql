-- +goose Up
-- A connection started through the API is finished only by its starter:
-- signed in on the web, or with a one-time code. Meanwhile the provider's
-- code is held sealed.
ALTER TABLE connections ADD COLUMN code_hash BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE connections ADD COLUMN code_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN held BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE connections ADD COLUMN hold_hash BYTEA NOT NULL DEFAULT ''::bytea;

-- +goose Down
ALTER TABLE connections DROP COLUMN hold_hash;
ALTER TABLE connections DROP COLUMN held;
ALTER TABLE connections DROP COLUMN code_attempts;
ALTER TABLE connections DROP COLUMN code_hash;
