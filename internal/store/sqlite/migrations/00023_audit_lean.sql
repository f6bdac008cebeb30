-- +goose Up
-- Every audited read writes a row here, so each b-tree the row touches is
-- paid on every read. The rows are now kept in (workspace_id, id) order,
-- WITHOUT ROWID: the table is that one b-tree, which lists a workspace's
-- log in order, with no separate rowid, primary-key and workspace index.
-- Time bounds ride the id (ids are ULIDs made at created_at), so the
-- created_at index goes. The filter indexes need no id column: a WITHOUT
-- ROWID table's index carries the primary key.
CREATE TABLE audit_events_lean (
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	id           TEXT NOT NULL,
	actor_id     TEXT NOT NULL,
	account_id   TEXT NOT NULL,
	action       TEXT NOT NULL,
	detail       TEXT NOT NULL,
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (workspace_id, id)
) WITHOUT ROWID;
INSERT INTO audit_events_lean (workspace_id, id, actor_id, account_id, action, detail, created_at)
	SELECT workspace_id, id, actor_id, account_id, action, detail, created_at FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_lean RENAME TO audit_events;
CREATE INDEX audit_events_account ON audit_events (workspace_id, account_id);
CREATE INDEX audit_events_actor ON audit_events (workspace_id, actor_id);
CREATE INDEX audit_events_action ON audit_events (workspace_id, action);

-- +goose Down
CREATE TABLE audit_events_rowid (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	actor_id     TEXT NOT NULL,
	account_id   TEXT NOT NULL,
	action       TEXT NOT NULL,
	detail       TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);
INSERT INTO audit_events_rowid (id, workspace_id, actor_id, account_id, action, detail, created_at)
	SELECT id, workspace_id, actor_id, account_id, action, detail, created_at FROM audit_events;
DROP TABLE audit_events;
ALTER TABLE audit_events_rowid RENAME TO audit_events;
CREATE INDEX audit_events_workspace ON audit_events (workspace_id, id);
CREATE INDEX audit_events_account ON audit_events (workspace_id, account_id, id);
CREATE INDEX audit_events_actor ON audit_events (workspace_id, actor_id, id);
CREATE INDEX audit_events_action ON audit_events (workspace_id, action, id);
CREATE INDEX audit_events_created ON audit_events (workspace_id, created_at);
