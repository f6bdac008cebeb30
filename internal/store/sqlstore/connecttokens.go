package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const connectTokenColumns = `id, workspace_id, token_hash, external_user_id, account_id, apps, tags,
	success_redirect_uri, error_redirect_uri, allowed_origins, webhook_url,
	created_by, created_at, expires_at, used_at`

// CreateConnectToken stores t; ErrConflict when its id or hash exists.
func (s *Store) CreateConnectToken(ctx context.Context, t store.ConnectToken) error {
	apps, err := toJSON(nonNilList(t.Apps))
	if err != nil {
		return fmt.Errorf("create connect token %s: apps: %w", t.ID, err)
	}
	tags, err := tagsJSON(t.Tags)
	if err != nil {
		return fmt.Errorf("create connect token %s: tags: %w", t.ID, err)
	}
	origins, err := toJSON(nonNilList(t.AllowedOrigins))
	if err != nil {
		return fmt.Errorf("create connect token %s: origins: %w", t.ID, err)
	}
	_, err = s.exec(ctx, "create connect token", `INSERT INTO connect_tokens (`+connectTokenColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		t.ID, t.WorkspaceID, t.TokenHash, t.ExternalUserID, t.AccountID, apps, tags,
		t.SuccessRedirectURI, t.ErrorRedirectURI, origins, t.WebhookURL,
		t.CreatedBy, micros(t.CreatedAt), micros(t.ExpiresAt), nullMicros(t.UsedAt))
	if err != nil {
		return s.conflict(err, "create connect token %s", t.ID)
	}
	return nil
}

func scanConnectToken(row scanner) (store.ConnectToken, error) {
	var (
		t                   store.ConnectToken
		apps, tags, origins string
		created, expires    int64
		used                sql.NullInt64
	)
	if err := row.Scan(&t.ID, &t.WorkspaceID, &t.TokenHash, &t.ExternalUserID, &t.AccountID, &apps, &tags,
		&t.SuccessRedirectURI, &t.ErrorRedirectURI, &origins, &t.WebhookURL,
		&t.CreatedBy, &created, &expires, &used); err != nil {
		return store.ConnectToken{}, err
	}
	for _, f := range []struct {
		what string
		src  string
		dst  any
	}{{"apps", apps, &t.Apps}, {"tags", tags, &t.Tags}, {"allowed origins", origins, &t.AllowedOrigins}} {
		if err := json.Unmarshal([]byte(f.src), f.dst); err != nil {
			return store.ConnectToken{}, fmt.Errorf("connect token %s: %s: %w", t.ID, f.what, err)
		}
	}
	if len(t.Apps) == 0 {
		t.Apps = nil
	}
	if len(t.Tags) == 0 {
		t.Tags = nil
	}
	if len(t.AllowedOrigins) == 0 {
		t.AllowedOrigins = nil
	}
	t.CreatedAt, t.ExpiresAt, t.UsedAt = fromMicros(created), fromMicros(expires), fromNullMicros(used)
	return t, nil
}

// GetConnectToken returns the workspace's token with the id.
func (s *Store) GetConnectToken(ctx context.Context, workspaceID, id string) (store.ConnectToken, error) {
	t, err := scanConnectToken(s.queryRowDirect(ctx,
		`SELECT `+connectTokenColumns+` FROM connect_tokens WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.ConnectToken{}, notFound(err, "get connect token %s", id)
	}
	return t, nil
}

// ConnectTokenByHash finds a token by its hash.
func (s *Store) ConnectTokenByHash(ctx context.Context, hash []byte) (store.ConnectToken, error) {
	t, err := scanConnectToken(s.queryRowDirect(ctx,
		`SELECT `+connectTokenColumns+` FROM connect_tokens WHERE token_hash = $1`, hash))
	if err != nil {
		// The hash stays out of the message, as a token's does.
		return store.ConnectToken{}, notFound(err, "connect token by hash")
	}
	return t, nil
}

// UpdateConnectToken is the compare-and-swap of one token; only its used
// time is written.
func (s *Store) UpdateConnectToken(ctx context.Context, workspaceID, id string, fn func(store.ConnectToken) (store.ConnectToken, error)) (store.ConnectToken, error) {
	var t store.ConnectToken
	err := s.inTx(ctx, "update connect token "+id, func(tx *sql.Tx) error {
		old, err := scanConnectToken(tx.QueryRowContext(ctx,
			`SELECT `+connectTokenColumns+` FROM connect_tokens WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id))
		if err != nil {
			return notFound(err, "update connect token %s", id)
		}
		if t, err = fn(old); err != nil {
			return err
		}
		used := t.UsedAt
		t = old
		t.UsedAt = storedPtr(used)
		if _, err := tx.ExecContext(ctx, `UPDATE connect_tokens SET used_at = $3 WHERE workspace_id = $1 AND id = $2`,
			workspaceID, id, nullMicros(t.UsedAt)); err != nil {
			return fmt.Errorf("update connect token %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return store.ConnectToken{}, err
	}
	return t, nil
}

// DeleteExpiredConnectTokens deletes the tokens that expired at or before
// the given time.
func (s *Store) DeleteExpiredConnectTokens(ctx context.Context, before time.Time) (int, error) {
	res, err := s.execIdem(ctx, `DELETE FROM connect_tokens WHERE expires_at <= $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired connect tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired connect tokens: %w", err)
	}
	return int(n), nil
}
