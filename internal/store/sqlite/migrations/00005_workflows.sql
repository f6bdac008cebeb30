-- +goose Up
-- Workflows keep their steps as JSON; workflow_links says which account
-- each step uses for each app, so "used by" is one indexed query.
CREATE TABLE workflows (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	owner_id     TEXT NOT NULL,
	name         TEXT NOT NULL,
	steps        BLOB NOT NULL,
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);

CREATE INDEX workflows_workspace ON workflows (workspace_id, id);

CREATE TABLE workflow_links (
	workflow_id  TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
	workspace_id TEXT NOT NULL,
	step         TEXT NOT NULL,
	app          TEXT NOT NULL,
	account_id   TEXT NOT NULL,
	PRIMARY KEY (workflow_id, step, app)
);

CREATE INDEX workflow_links_account ON workflow_links (workspace_id, account_id);

CREATE TABLE runs (
	id           TEXT PRIMARY KEY,
	workspace_id TEXT NOT NULL REFERENCES workspaces (id),
	workflow_id  TEXT NOT NULL,
	actor_id     TEXT NOT NULL,
	status       TEXT NOT NULL,
	steps        BLOB NOT NULL,
	started_at   BIGINT NOT NULL,
	finished_at  BIGINT
);

CREATE INDEX runs_workflow ON runs (workspace_id, workflow_id, id);

-- +goose Down
DROP TABLE runs;
DROP TABLE workflow_links;
DROP TABLE workflows;
