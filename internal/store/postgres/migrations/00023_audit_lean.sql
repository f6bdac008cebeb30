-- +goose Up
-- Every audited read writes a row here, so each index the row touches is
-- paid on every read. The primary key becomes (workspace_id, id), which
-- lists a workspace's log in order, so the separate workspace index goes;
-- time bounds ride the id (ids are ULIDs made at created_at), so the
-- created_at index goes too.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events ADD PRIMARY KEY (workspace_id, id);
DROP INDEX audit_events_workspace;
DROP INDEX audit_events_created;

-- +goose Down
CREATE INDEX audit_events_created ON audit_events (workspace_id, created_at);
CREATE INDEX audit_events_workspace ON audit_events (workspace_id, id);
ALTER TABLE audit_events DROP CONSTRAINT audit_events_pkey;
ALTER TABLE audit_events ADD PRIMARY KEY (id);
