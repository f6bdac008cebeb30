-- +goose Up
-- Apps a workspace defined for itself, kept as given.
CREATE TABLE custom_apps (
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	slug         TEXT NOT NULL,
	definition   BLOB NOT NULL,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL,
	PRIMARY KEY (workspace_id, slug)
);

-- Users' requests for apps the catalog lacks.
CREATE TABLE app_requests (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	user_id      TEXT NOT NULL,
	name         TEXT NOT NULL,
	reason       TEXT NOT NULL,
	url          TEXT NOT NULL,
	created_at   BIGINT NOT NULL
);

CREATE INDEX app_requests_workspace ON app_requests (workspace_id, id);

-- +goose Down
DROP TABLE app_requests;
DROP TABLE custom_apps;
