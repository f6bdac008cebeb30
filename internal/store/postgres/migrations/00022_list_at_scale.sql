-- +goose Up
-- Lists at a million accounts. Each filter has an index that yields its
-- accounts in id order, so a page reads Limit rows and stops; the app
-- index also lets the app filter's list of apps skip from app to app.
CREATE INDEX accounts_workspace_app_id ON accounts (workspace_id, app, id);
CREATE INDEX accounts_workspace_status_id ON accounts (workspace_id, status, id);
CREATE INDEX accounts_workspace_owner_id ON accounts (workspace_id, owner_id, id);
DROP INDEX accounts_workspace_app;
DROP INDEX accounts_workspace_owner;

-- Text search: trigram indexes (pg_trgm) that ILIKE '%q%' uses. The
-- extension lives in public, never in an installation's own schema, so
-- dropping one schema cannot take it from the others; the operator class
-- is named with whatever schema holds it.
-- Installations migrating side by side take turns at creating it.
-- +goose StatementBegin
DO $$
DECLARE
	s text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('latchkey.create_extension.pg_trgm'));
	CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
	SELECT n.nspname INTO s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm';
	EXECUTE format('CREATE INDEX accounts_nickname_trgm ON accounts USING gin (nickname %I.gin_trgm_ops)', s);
	EXECUTE format('CREATE INDEX accounts_identity_label_trgm ON accounts USING gin (identity_label %I.gin_trgm_ops)', s);
	EXECUTE format('CREATE INDEX accounts_app_trgm ON accounts USING gin (app %I.gin_trgm_ops)', s);
END
$$;
-- +goose StatementEnd

-- Accounts counted by status as they change, for /metrics, instead of a
-- count over every account on each scrape. A status is spread over 16
-- shards, picked by the account's id, so that concurrent writers do not
-- queue on one row's lock.
CREATE TABLE account_counts (
	status TEXT NOT NULL,
	shard  INTEGER NOT NULL,
	n      BIGINT NOT NULL,
	PRIMARY KEY (status, shard)
);
-- Its few rows are updated on every write of an account: room on the
-- page for their new versions (HOT updates, pruned without a vacuum), and
-- a vacuum soon after a bulk load leaves many behind.
ALTER TABLE account_counts SET (fillfactor = 50, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0);
INSERT INTO account_counts (status, shard, n)
	SELECT status, hashtext(id) & 15, COUNT(*) FROM accounts GROUP BY 1, 2;
-- +goose StatementBegin
CREATE FUNCTION account_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP IN ('DELETE', 'UPDATE') THEN
		UPDATE account_counts SET n = n - 1 WHERE status = OLD.status AND shard = hashtext(OLD.id) & 15;
	END IF;
	IF TG_OP IN ('INSERT', 'UPDATE') THEN
		INSERT INTO account_counts (status, shard, n) VALUES (NEW.status, hashtext(NEW.id) & 15, 1)
		ON CONFLICT (status, shard) DO UPDATE SET n = account_counts.n + 1;
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER accounts_count_insert_delete AFTER INSERT OR DELETE ON accounts
	FOR EACH ROW EXECUTE FUNCTION account_counts_track();
CREATE TRIGGER accounts_count_update AFTER UPDATE OF status ON accounts
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION account_counts_track();

-- +goose Down
DROP TRIGGER accounts_count_update ON accounts;
DROP TRIGGER accounts_count_insert_delete ON accounts;
DROP FUNCTION account_counts_track();
DROP TABLE account_counts;
DROP INDEX accounts_app_trgm;
DROP INDEX accounts_identity_label_trgm;
DROP INDEX accounts_nickname_trgm;
CREATE INDEX accounts_workspace_owner ON accounts (workspace_id, owner_id);
CREATE INDEX accounts_workspace_app ON accounts (workspace_id, app);
DROP INDEX accounts_workspace_owner_id;
DROP INDEX accounts_workspace_status_id;
DROP INDEX accounts_workspace_app_id;
