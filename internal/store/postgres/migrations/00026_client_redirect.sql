-- +goose Up
-- The name an OAuth client registered with its provider for Latchkey's
-- callback URL, sent as redirect_uri in place of the URL (eBay's RuName).
-- Empty for every other client.
ALTER TABLE oauth_clients ADD COLUMN redirect_name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oauth_clients DROP COLUMN redirect_name;
