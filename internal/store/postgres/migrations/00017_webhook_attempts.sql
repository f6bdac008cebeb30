-- +goose Up
-- Every attempt to send a delivery, kept for the deliveries page. error is
-- short, clipped and scrubbed; duration_ms is how long the request took.
CREATE TABLE webhook_attempts (
	id           TEXT COLLATE "C" PRIMARY KEY,
	workspace_id TEXT COLLATE "C" NOT NULL,
	delivery_id  TEXT COLLATE "C" NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
	endpoint_id  TEXT COLLATE "C" NOT NULL,
	attempted_at BIGINT NOT NULL,
	status_code  INTEGER NOT NULL DEFAULT 0,
	error        TEXT NOT NULL DEFAULT '',
	duration_ms  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
CREATE INDEX webhook_attempts_time ON webhook_attempts (attempted_at);

-- Deliveries with one order key (an account's id) to one endpoint go out
-- in event order: the lease passes over one while an earlier is pending.
ALTER TABLE webhook_deliveries ADD COLUMN order_key TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE INDEX webhook_deliveries_order ON webhook_deliveries (endpoint_id, order_key, status, event_id);
-- The purger looks for old finished deliveries and old events.
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);
CREATE INDEX webhook_outbox_created ON webhook_outbox (created_at);

-- +goose Down
DROP INDEX webhook_outbox_created;
DROP INDEX webhook_deliveries_created;
DROP INDEX webhook_deliveries_order;
ALTER TABLE webhook_deliveries DROP COLUMN order_key;
DROP TABLE webhook_attempts;
