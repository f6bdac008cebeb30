-- +goose Up
-- Lists at a million accounts. Each filter has an index that yields its
-- accounts in id order, so a page reads Limit rows and stops; the app
-- index also lets the app filter's list of apps skip from app to app.
CREATE INDEX accounts_workspace_app_id ON accounts (workspace_id, app, id);
CREATE INDEX accounts_workspace_status_id ON accounts (workspace_id, status, id);
CREATE INDEX accounts_workspace_owner_id ON accounts (workspace_id, owner_id, id);
DROP INDEX accounts_workspace_app;
DROP INDEX accounts_workspace_owner;

-- Text search: a trigram index of what ?q= matches, kept by triggers. It
-- only narrows the candidates; the LIKE of the query stays the judge. Its
-- rows are the accounts' rowids: after a VACUUM, which may renumber them,
-- run INSERT INTO accounts_fts (accounts_fts) VALUES ('rebuild').
CREATE VIRTUAL TABLE accounts_fts USING fts5(
	nickname, identity_label, app,
	content = 'accounts', content_rowid = 'rowid', tokenize = 'trigram'
);
INSERT INTO accounts_fts (accounts_fts) VALUES ('rebuild');
-- +goose StatementBegin
CREATE TRIGGER accounts_fts_insert AFTER INSERT ON accounts BEGIN
	INSERT INTO accounts_fts (rowid, nickname, identity_label, app)
	VALUES (NEW.rowid, NEW.nickname, NEW.identity_label, NEW.app);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_fts_delete AFTER DELETE ON accounts BEGIN
	INSERT INTO accounts_fts (accounts_fts, rowid, nickname, identity_label, app)
	VALUES ('delete', OLD.rowid, OLD.nickname, OLD.identity_label, OLD.app);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_fts_update AFTER UPDATE OF nickname, identity_label, app ON accounts BEGIN
	INSERT INTO accounts_fts (accounts_fts, rowid, nickname, identity_label, app)
	VALUES ('delete', OLD.rowid, OLD.nickname, OLD.identity_label, OLD.app);
	INSERT INTO accounts_fts (rowid, nickname, identity_label, app)
	VALUES (NEW.rowid, NEW.nickname, NEW.identity_label, NEW.app);
END;
-- +goose StatementEnd

-- Accounts counted by status as they change, for /metrics, instead of a
-- count over every account on each scrape. PostgreSQL spreads a status over
-- shards so that concurrent writers do not queue on one row; SQLite has one
-- writer at a time and keeps shard 0 only.
CREATE TABLE account_counts (
	status TEXT NOT NULL,
	shard  INTEGER NOT NULL,
	n      BIGINT NOT NULL,
	PRIMARY KEY (status, shard)
);
INSERT INTO account_counts (status, shard, n) SELECT status, 0, COUNT(*) FROM accounts GROUP BY status;
-- +goose StatementBegin
CREATE TRIGGER accounts_count_insert AFTER INSERT ON accounts BEGIN
	INSERT INTO account_counts (status, shard, n) VALUES (NEW.status, 0, 1)
	ON CONFLICT (status, shard) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_count_delete AFTER DELETE ON accounts BEGIN
	UPDATE account_counts SET n = n - 1 WHERE status = OLD.status AND shard = 0;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_count_update AFTER UPDATE OF status ON accounts WHEN OLD.status <> NEW.status BEGIN
	UPDATE account_counts SET n = n - 1 WHERE status = OLD.status AND shard = 0;
	INSERT INTO account_counts (status, shard, n) VALUES (NEW.status, 0, 1)
	ON CONFLICT (status, shard) DO UPDATE SET n = n + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER accounts_count_update;
DROP TRIGGER accounts_count_delete;
DROP TRIGGER accounts_count_insert;
DROP TABLE account_counts;
DROP TRIGGER accounts_fts_update;
DROP TRIGGER accounts_fts_delete;
DROP TRIGGER accounts_fts_insert;
DROP TABLE accounts_fts;
CREATE INDEX accounts_workspace_owner ON accounts (workspace_id, owner_id);
CREATE INDEX accounts_workspace_app ON accounts (workspace_id, app);
DROP INDEX accounts_workspace_owner_id;
DROP INDEX accounts_workspace_status_id;
DROP INDEX accounts_workspace_app_id;
