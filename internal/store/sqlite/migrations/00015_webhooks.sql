-- +goose Up
-- Webhook endpoints of a workspace. secrets holds the signing secrets,
-- sealed with the endpoint's id bound; event_types is a JSON list, empty
-- for every type.
CREATE TABLE webhook_endpoints (
	id              TEXT PRIMARY KEY,
	workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
	url             TEXT NOT NULL,
	event_types     TEXT NOT NULL,
	secrets         BLOB NOT NULL,
	enabled         BOOLEAN NOT NULL,
	disabled_reason TEXT NOT NULL DEFAULT '',
	created_at      BIGINT NOT NULL,
	updated_at      BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_workspace ON webhook_endpoints (workspace_id, id);

-- The outbox: one row per event, written in the transaction of the change
-- it reports, and one delivery row per endpoint that takes its type.
CREATE TABLE webhook_outbox (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
	type         TEXT NOT NULL,
	payload      TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);
CREATE TABLE webhook_deliveries (
	id               TEXT PRIMARY KEY,
	workspace_id     TEXT NOT NULL,
	event_id         TEXT NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
	endpoint_id      TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
	status           TEXT NOT NULL,
	attempts         INTEGER NOT NULL DEFAULT 0,
	next_attempt_at  BIGINT,
	lease_holder     TEXT NOT NULL DEFAULT '',
	lease_until      BIGINT,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT NOT NULL DEFAULT '',
	last_attempt_at  BIGINT,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);
-- The deliverer asks for due rows; the API lists an endpoint's newest.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_outbox;
DROP TABLE webhook_endpoints;
