-- +goose Up
-- Every audited read writes a row here, and the foreign key made each
-- row look its workspace up and lock it (a key-share row lock), 15 to 20% of
-- the database's work for the row. The workspace comes from the
-- authenticated actor, never from input, and workspaces are not deleted;
-- the log already names accounts without a key to them, as it outlives them.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_workspace_id_fkey;

-- +goose Down
ALTER TABLE audit_events ADD CONSTRAINT audit_events_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces (id);
