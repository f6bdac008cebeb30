-- +goose Up
-- A connection started on the hosted connect page: the connect token it
-- spends, and the SHA-256 of the page's own cookie the callback must
-- bring back ('' for connections of members).
ALTER TABLE connections ADD COLUMN connect_token_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE connections ADD COLUMN link_hash BYTEA NOT NULL DEFAULT ''::bytea;

-- An endpoint a connect token brought (its webhook_url): it takes only
-- that token's events, and is deleted after purge_after.
ALTER TABLE webhook_endpoints ADD COLUMN connect_token_id TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE webhook_endpoints ADD COLUMN purge_after BIGINT;
CREATE INDEX webhook_endpoints_purge ON webhook_endpoints (purge_after);

-- +goose Down
DROP INDEX webhook_endpoints_purge;
ALTER TABLE webhook_endpoints DROP COLUMN purge_after;
ALTER TABLE webhook_endpoints DROP COLUMN connect_token_id;
ALTER TABLE connections DROP COLUMN link_hash;
ALTER TABLE connections DROP COLUMN connect_token_id;
