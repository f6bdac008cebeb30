package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const tokenColumns = `id, workspace_id, user_id, name, hash, scopes, created_at, last_used_at, expires_at,
	account_ids, apps, replaced_by, valid_until`

// CreateAPIToken stores t; ErrConflict when its id or hash exists.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) error {
	scopes, accts, apps, err := tokenLists(t)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, "create api token",
		`INSERT INTO api_tokens (`+tokenColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		t.ID, t.WorkspaceID, t.UserID, t.Name, t.Hash, scopes,
		micros(t.CreatedAt), nullMicros(t.LastUsedAt), nullMicros(t.ExpiresAt),
		accts, apps, t.ReplacedBy, nullMicros(t.ValidUntil))
	if err != nil {
		return s.conflict(err, "create api token %s", t.ID)
	}
	return nil
}

func tokenLists(t store.APIToken) (scopes, accts, apps string, err error) {
	if scopes, err = toJSON(t.Scopes); err != nil {
		return "", "", "", fmt.Errorf("api token %s: scopes: %w", t.ID, err)
	}
	// Empty limits are stored as [] (never null), so "no limit" reads
	// back one way.
	if accts, err = toJSON(nonNilList(t.AccountIDs)); err != nil {
		return "", "", "", fmt.Errorf("api token %s: account ids: %w", t.ID, err)
	}
	if apps, err = toJSON(nonNilList(t.Apps)); err != nil {
		return "", "", "", fmt.Errorf("api token %s: apps: %w", t.ID, err)
	}
	return scopes, accts, apps, nil
}

// nonNilList is list, or an empty list for none: the columns hold JSON
// arrays, and null is not one.
func nonNilList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func scanToken(row scanner) (store.APIToken, error) {
	var (
		t                             store.APIToken
		scopes, accts, apps           string
		created                       int64
		lastUsed, expires, validUntil sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.WorkspaceID, &t.UserID, &t.Name, &t.Hash, &scopes, &created, &lastUsed, &expires,
		&accts, &apps, &t.ReplacedBy, &validUntil); err != nil {
		return store.APIToken{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &t.Scopes); err != nil {
		return store.APIToken{}, fmt.Errorf("api token %s: scopes: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(accts), &t.AccountIDs); err != nil {
		return store.APIToken{}, fmt.Errorf("api token %s: account ids: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(apps), &t.Apps); err != nil {
		return store.APIToken{}, fmt.Errorf("api token %s: apps: %w", t.ID, err)
	}
	if len(t.AccountIDs) == 0 {
		t.AccountIDs = nil
	}
	if len(t.Apps) == 0 {
		t.Apps = nil
	}
	t.CreatedAt = fromMicros(created)
	t.LastUsedAt = fromNullMicros(lastUsed)
	t.ExpiresAt = fromNullMicros(expires)
	t.ValidUntil = fromNullMicros(validUntil)
	return t, nil
}

// APITokenByHash finds a token by its hash, across workspaces.
func (s *Store) APITokenByHash(ctx context.Context, hash []byte) (store.APIToken, error) {
	t, err := scanToken(s.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = $1`, hash))
	if err != nil {
		// The hash stays out of the message: it is as good as the token to
		// anyone who can query the database.
		return store.APIToken{}, notFound(err, "api token by hash")
	}
	return t, nil
}

// GetAPIToken returns the token with the id in the workspace.
func (s *Store) GetAPIToken(ctx context.Context, workspaceID, id string) (store.APIToken, error) {
	t, err := scanToken(s.queryRowDirect(ctx,
		`SELECT `+tokenColumns+` FROM api_tokens WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.APIToken{}, notFound(err, "api token %s", id)
	}
	return t, nil
}

// ListAPITokens lists the workspace's tokens (a user's, when userID is
// set), oldest first.
func (s *Store) ListAPITokens(ctx context.Context, workspaceID, userID string) ([]store.APIToken, error) {
	q := `SELECT ` + tokenColumns + ` FROM api_tokens WHERE workspace_id = $1`
	args := []any{workspaceID}
	if userID != "" {
		q += ` AND user_id = $2`
		args = append(args, userID)
	}
	rows, err := s.query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return collect(rows, "list api tokens", scanToken)
}

// UpdateAPIToken changes a token under its row lock.
func (s *Store) UpdateAPIToken(ctx context.Context, workspaceID, id string, fn func(*store.APIToken) error) (store.APIToken, error) {
	return inTxValue(ctx, s, fmt.Sprintf("update api token %s", id), func(tx *sql.Tx) (store.APIToken, error) {
		t, err := scanToken(tx.QueryRowContext(ctx,
			`SELECT `+tokenColumns+` FROM api_tokens WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id))
		if err != nil {
			return store.APIToken{}, notFound(err, "update api token %s", id)
		}
		orig := t
		if err := fn(&t); err != nil {
			return store.APIToken{}, err
		}
		t.ID, t.WorkspaceID, t.UserID, t.Hash, t.CreatedAt = orig.ID, orig.WorkspaceID, orig.UserID, orig.Hash, orig.CreatedAt
		scopes, accts, apps, err := tokenLists(t)
		if err != nil {
			return store.APIToken{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET name = $3, scopes = $4, expires_at = $5,
		account_ids = $6, apps = $7, replaced_by = $8, valid_until = $9, last_used_at = $10
		WHERE workspace_id = $1 AND id = $2`,
			workspaceID, id, t.Name, scopes, nullMicros(t.ExpiresAt), accts, apps, t.ReplacedBy, nullMicros(t.ValidUntil),
			nullMicros(t.LastUsedAt)); err != nil {
			return store.APIToken{}, fmt.Errorf("update api token %s: %w", id, err)
		}
		t.ExpiresAt, t.ValidUntil, t.LastUsedAt = storedPtr(t.ExpiresAt), storedPtr(t.ValidUntil), storedPtr(t.LastUsedAt)
		t.AccountIDs, t.Apps = emptyNil(t.AccountIDs), emptyNil(t.Apps)
		return t, nil
	})
}

func emptyNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

// TouchAPIToken records a use of the token, at most once per every: the
// condition is in the UPDATE, so no lock is held and replicas racing to
// record the same minute write once.
func (s *Store) TouchAPIToken(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error) {
	res, err := s.execIdem(ctx,
		`UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)`,
		id, micros(at), micros(at.Add(-every)))
	if err != nil {
		return false, fmt.Errorf("touch api token %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("touch api token %s: %w", id, err)
	}
	return n == 1, nil
}

// DeleteAPIToken deletes the token with the id in the workspace.
func (s *Store) DeleteAPIToken(ctx context.Context, workspaceID, id string) error {
	return s.deleteOne(ctx, `DELETE FROM api_tokens WHERE workspace_id = $1 AND id = $2`,
		workspaceID, id, "delete api token")
}

// deleteOne runs a DELETE of one row by workspace and id, ErrNotFound when
// it deleted none.
func (s *Store) deleteOne(ctx context.Context, query, workspaceID, id, what string) error {
	res, err := s.exec(ctx, what, query, workspaceID, id)
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
