package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const tokenColumns = `id, workspace_id, user_id, name, hash, scopes, created_at, last_used_at, expires_at`

// CreateAPIToken stores t; ErrConflict when its id or hash exists.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	scopes, err := toJSON(t.Scopes)
	if err != nil {
		return fmt.Errorf("create api token %s: scopes: %w", t.ID, err)
	}
	_, err = s.db.ExecContext(ctx,
		`INSERT INTO api_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		t.ID, t.WorkspaceID, t.UserID, t.Name, t.Hash, scopes,
		micros(t.CreatedAt), nullMicros(t.LastUsedAt), nullMicros(t.ExpiresAt))
	if err != nil {
		return s.conflict(err, "create api token %s", t.ID)
	}
	return nil
}

// APITokenByHash finds a token by its hash, across workspaces.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	var (
		t                 store.APIToken
		scopes            string
		created           int64
		lastUsed, expires sql.NullInt64
	)
	err := s.queryRow(ctx,
		`SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash).
		Scan(&t.ID, &t.WorkspaceID, &t.UserID, &t.Name, &t.Hash, &scopes, &created, &lastUsed, &expires)
	if err != nil {
		// The hash stays out of the message: it is as good as the token to
		// anyone who can query the database.
		return store.APIToken{}, notFound(err, "api token by hash")
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return store.APIToken{}, fmt.Errorf("api token %s: scopes: %w", t.ID, err)
	}
	t.CreatedAt = fromMicros(created)
	t.LastUsedAt = fromNullMicros(lastUsed)
	t.ExpiresAt = fromNullMicros(expires)
	return t, nil
}

// DeleteAPIToken deletes the token with the id in the workspace.
func (s *Store) DeleteAPIToken(ctx context.Context, workspaceID, id string) error {
	return s.deleteOne(ctx, `DELETE FROM api_tokens WHERE workspace_id = $1 AND id = $2`,
		workspaceID, id, "delete api token")
}

// deleteOne runs a DELETE of one row by workspace and id, ErrNotFound when
// it deleted none.
func (s *Store) deleteOne(ctx context.Context, query, workspaceID, id, what string) error {
	res, err := s.db.ExecContext(ctx, query, workspaceID, id)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s %s: %w", what, id, store.ErrNotFound)
	}
	return nil
}
