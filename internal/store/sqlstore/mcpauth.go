package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// CreateMCPClient stores c; ErrConflict when its id exists.
func (s *Store) CreateMCPClient(ctx context.Context, c store.MCPClient) error {
	uris, err := toJSON(nonNilList(c.RedirectURIs))
	if err != nil {
		return fmt.Errorf("create mcp client %s: redirect uris: %w", c.ID, err)
	}
	grants, err := toJSON(nonNilList(c.GrantTypes))
	if err != nil {
		return fmt.Errorf("create mcp client %s: grant types: %w", c.ID, err)
	}
	if _, err := s.exec(ctx, "create mcp client", `INSERT INTO mcp_clients (id, name, redirect_uris, grant_types, created_at)
		VALUES ($1, $2, $3, $4, $5)`, c.ID, c.Name, uris, grants, micros(c.CreatedAt)); err != nil {
		return s.conflict(err, "create mcp client %s", c.ID)
	}
	return nil
}

// GetMCPClient returns the client with the id.
func (s *Store) GetMCPClient(ctx context.Context, id string) (store.MCPClient, error) {
	var (
		c            store.MCPClient
		uris, grants string
		created      int64
	)
	err := s.queryRowDirect(ctx, `SELECT id, name, redirect_uris, grant_types, created_at FROM mcp_clients WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &uris, &grants, &created)
	if err != nil {
		return store.MCPClient{}, notFound(err, "get mcp client %s", id)
	}
	if err := json.Unmarshal([]byte(uris), &c.RedirectURIs); err != nil {
		return store.MCPClient{}, fmt.Errorf("mcp client %s: redirect uris: %w", id, err)
	}
	if err := json.Unmarshal([]byte(grants), &c.GrantTypes); err != nil {
		return store.MCPClient{}, fmt.Errorf("mcp client %s: grant types: %w", id, err)
	}
	c.CreatedAt = fromMicros(created)
	return c, nil
}

// CreateMCPGrant stores g; ErrConflict when its id exists.
func (s *Store) CreateMCPGrant(ctx context.Context, g store.MCPGrant) error {
	scopes, err := toJSON(nonNilList(g.Scopes))
	if err != nil {
		return fmt.Errorf("create mcp grant %s: scopes: %w", g.ID, err)
	}
	if _, err := s.exec(ctx, "create mcp grant", `INSERT INTO mcp_grants
		(id, workspace_id, user_id, client_id, redirect_uri, scopes, resource, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		g.ID, g.WorkspaceID, g.UserID, g.ClientID, g.RedirectURI, scopes, g.Resource, micros(g.CreatedAt)); err != nil {
		return s.conflict(err, "create mcp grant %s", g.ID)
	}
	return nil
}

const grantSelect = `SELECT g.id, g.workspace_id, g.user_id, g.client_id, c.name, g.redirect_uri, g.scopes, g.resource, g.created_at
	FROM mcp_grants g JOIN mcp_clients c ON c.id = g.client_id`

func scanGrant(row scanner) (store.MCPGrant, error) {
	var (
		g       store.MCPGrant
		scopes  string
		created int64
	)
	if err := row.Scan(&g.ID, &g.WorkspaceID, &g.UserID, &g.ClientID, &g.ClientName, &g.RedirectURI, &scopes, &g.Resource, &created); err != nil {
		return store.MCPGrant{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &g.Scopes); err != nil {
		return store.MCPGrant{}, fmt.Errorf("mcp grant %s: scopes: %w", g.ID, err)
	}
	g.CreatedAt = fromMicros(created)
	return g, nil
}

// GetMCPGrant returns the grant with the id.
func (s *Store) GetMCPGrant(ctx context.Context, id string) (store.MCPGrant, error) {
	g, err := scanGrant(s.queryRowDirect(ctx, grantSelect+` WHERE g.id = $1`, id))
	if err != nil {
		return store.MCPGrant{}, notFound(err, "get mcp grant %s", id)
	}
	return g, nil
}

// ListMCPGrants lists the user's grants, newest first.
func (s *Store) ListMCPGrants(ctx context.Context, workspaceID, userID string) ([]store.MCPGrant, error) {
	rows, err := s.query(ctx, grantSelect+` WHERE g.workspace_id = $1 AND g.user_id = $2 ORDER BY g.id DESC LIMIT $3`,
		workspaceID, userID, MaxLimit)
	if err != nil {
		return nil, fmt.Errorf("list mcp grants: %w", err)
	}
	return collect(rows, "list mcp grants", scanGrant)
}

// DeleteMCPGrant deletes the user's grant and its tokens together.
func (s *Store) DeleteMCPGrant(ctx context.Context, workspaceID, userID, id string) error {
	return s.inTx(ctx, "delete mcp grant "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM mcp_grants WHERE workspace_id = $1 AND user_id = $2 AND id = $3`, workspaceID, userID, id)
		if err != nil {
			return fmt.Errorf("delete mcp grant %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFound(sql.ErrNoRows, "delete mcp grant %s", id)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM mcp_tokens WHERE grant_id = $1`, id); err != nil {
			return fmt.Errorf("delete mcp grant %s: tokens: %w", id, err)
		}
		return nil
	})
}

// CreateMCPToken stores t; ErrConflict when (kind, signature) exists.
func (s *Store) CreateMCPToken(ctx context.Context, t store.MCPToken) error {
	if _, err := s.exec(ctx, "create mcp token", `INSERT INTO mcp_tokens (kind, signature, grant_id, active, request, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, string(t.Kind), t.Signature, t.GrantID, t.Active, string(t.Request), micros(t.ExpiresAt)); err != nil {
		// The signature stays out of the message, as a token's hash does.
		return s.conflict(err, "create mcp %s", t.Kind)
	}
	return nil
}

// GetMCPToken returns the row of the kind with the signature.
func (s *Store) GetMCPToken(ctx context.Context, kind store.MCPTokenKind, signature string) (store.MCPToken, error) {
	t := store.MCPToken{Kind: kind, Signature: signature}
	var (
		request string
		expires int64
	)
	err := s.queryRowDirect(ctx, `SELECT grant_id, active, request, expires_at FROM mcp_tokens WHERE kind = $1 AND signature = $2`,
		string(kind), signature).Scan(&t.GrantID, &t.Active, &request, &expires)
	if err != nil {
		return store.MCPToken{}, notFound(err, "get mcp %s", kind)
	}
	t.Request, t.ExpiresAt = []byte(request), fromMicros(expires)
	return t, nil
}

// DeleteMCPToken deletes one row; a row already gone is no error.
func (s *Store) DeleteMCPToken(ctx context.Context, kind store.MCPTokenKind, signature string) error {
	if _, err := s.execIdem(ctx, `DELETE FROM mcp_tokens WHERE kind = $1 AND signature = $2`, string(kind), signature); err != nil {
		return fmt.Errorf("delete mcp %s: %w", kind, err)
	}
	return nil
}

// DeactivateMCPToken turns an active row inactive, and reports whether
// this call did.
func (s *Store) DeactivateMCPToken(ctx context.Context, kind store.MCPTokenKind, signature string) (bool, error) {
	res, err := s.exec(ctx, "deactivate mcp token", `UPDATE mcp_tokens SET active = $3 WHERE kind = $1 AND signature = $2 AND active = $4`,
		string(kind), signature, false, true)
	if err != nil {
		return false, fmt.Errorf("deactivate mcp %s: %w", kind, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("deactivate mcp %s: %w", kind, err)
	}
	return n == 1, nil
}

// DeactivateMCPTokens turns the grant's rows of the kind inactive.
func (s *Store) DeactivateMCPTokens(ctx context.Context, kind store.MCPTokenKind, grantID string) error {
	if _, err := s.execIdem(ctx, `UPDATE mcp_tokens SET active = $3 WHERE grant_id = $1 AND kind = $2`, grantID, string(kind), false); err != nil {
		return fmt.Errorf("deactivate mcp %s of grant %s: %w", kind, grantID, err)
	}
	return nil
}

// DeleteMCPTokens deletes the grant's rows of the kind.
func (s *Store) DeleteMCPTokens(ctx context.Context, kind store.MCPTokenKind, grantID string) error {
	if _, err := s.execIdem(ctx, `DELETE FROM mcp_tokens WHERE grant_id = $1 AND kind = $2`, grantID, string(kind)); err != nil {
		return fmt.Errorf("delete mcp %s of grant %s: %w", kind, grantID, err)
	}
	return nil
}

// DeleteExpiredMCPTokens deletes expired rows, then the grants older
// than before that no row names any more.
func (s *Store) DeleteExpiredMCPTokens(ctx context.Context, before time.Time) (int, error) {
	n, err := s.purge(ctx, `DELETE FROM mcp_tokens WHERE (kind, signature) IN
		(SELECT kind, signature FROM mcp_tokens WHERE expires_at <= $1 LIMIT $2)`, before)
	if err != nil {
		return n, fmt.Errorf("delete expired mcp tokens: %w", err)
	}
	g, err := s.purge(ctx, `DELETE FROM mcp_grants WHERE id IN
		(SELECT id FROM mcp_grants g WHERE created_at <= $1
			AND NOT EXISTS (SELECT 1 FROM mcp_tokens t WHERE t.grant_id = g.id) LIMIT $2)`, before)
	if err != nil {
		return n + g, fmt.Errorf("delete spent mcp grants: %w", err)
	}
	return n + g, nil
}

// DeleteUnusedMCPClients deletes the clients registered at or before
// before that no grant names.
func (s *Store) DeleteUnusedMCPClients(ctx context.Context, before time.Time) (int, error) {
	n, err := s.purge(ctx, `DELETE FROM mcp_clients WHERE id IN
		(SELECT id FROM mcp_clients c WHERE created_at <= $1
			AND NOT EXISTS (SELECT 1 FROM mcp_grants g WHERE g.client_id = c.id) LIMIT $2)`, before)
	if err != nil {
		return n, fmt.Errorf("delete unused mcp clients: %w", err)
	}
	return n, nil
}
