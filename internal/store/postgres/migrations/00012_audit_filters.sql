-- +goose Up
-- The workspace audit log is filtered by who acted and by action, newest
-- (or, for export, oldest) first; the time bounds follow the id order.
CREATE INDEX audit_events_actor ON audit_events (workspace_id, actor_id, id);
CREATE INDEX audit_events_action ON audit_events (workspace_id, action, id);
CREATE INDEX audit_events_created ON audit_events (workspace_id, created_at);

-- +goose Down
DROP INDEX audit_events_created;
DROP INDEX audit_events_action;
DROP INDEX audit_events_actor;
