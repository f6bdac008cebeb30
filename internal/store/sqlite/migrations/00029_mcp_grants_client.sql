-- +goose Up
-- The purger deletes MCP clients that no grant names: each deleted client
-- has the foreign key look for a grant that names it, and without this
-- index every look scans all grants.
CREATE INDEX mcp_grants_client ON mcp_grants (client_id);

-- +goose Down
DROP INDEX mcp_grants_client;
