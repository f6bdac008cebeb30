package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const clientColumns = `id, workspace_id, app, client_id, secret, created_at, updated_at, redirect_name`

// clientAttempts bounds how often UpdateOAuthClient starts over after a
// concurrent call created the client it was about to create.
const clientAttempts = 5

// errClientRaced: another transaction created the client between our read
// and our insert.
var errClientRaced = errors.New("created concurrently")

// UpdateOAuthClient changes or creates the client of (workspace, app) under
// its row lock. A missing row has no lock to take in PostgreSQL, so two
// calls may both see none; the insert of the loser does nothing (ON
// CONFLICT DO NOTHING waits for the winner's commit), and it starts over,
// this time reading and locking the winner's row.
func (s *Store) UpdateOAuthClient(ctx context.Context, workspaceID, app string, fn func(*store.OAuthClient) (store.OAuthClient, error)) (store.OAuthClient, error) {
	for range clientAttempts {
		c, err := s.updateOAuthClient(ctx, workspaceID, app, fn)
		if !errors.Is(err, errClientRaced) {
			return c, err
		}
	}
	return store.OAuthClient{}, fmt.Errorf("update oauth client for %s: %w %d times", app, errClientRaced, clientAttempts)
}

func (s *Store) updateOAuthClient(ctx context.Context, workspaceID, app string, fn func(*store.OAuthClient) (store.OAuthClient, error)) (store.OAuthClient, error) {
	return inTxValue(ctx, s, fmt.Sprintf("update oauth client for %s", app), func(tx *sql.Tx) (store.OAuthClient, error) {
		var old *store.OAuthClient
		c, err := scanClient(tx.QueryRowContext(ctx,
			`SELECT `+clientColumns+` FROM oauth_clients WHERE workspace_id = $1 AND app = $2`+s.d.LockRows, workspaceID, app))
		switch {
		case err == nil:
			old = &c
		case !errors.Is(err, sql.ErrNoRows):
			return store.OAuthClient{}, fmt.Errorf("update oauth client for %s: %w", app, err)
		}
		next, err := fn(old)
		if err != nil {
			return store.OAuthClient{}, err
		}
		next.WorkspaceID, next.App = workspaceID, app
		if old != nil {
			if next.ID != old.ID {
				return store.OAuthClient{}, fmt.Errorf("update oauth client %s: fn changed its id to %q", old.ID, next.ID)
			}
			next.CreatedAt = old.CreatedAt
			if _, err := tx.ExecContext(ctx,
				`UPDATE oauth_clients SET client_id = $2, secret = $3, updated_at = $4, redirect_name = $5 WHERE id = $1`,
				next.ID, next.ClientID, nonNil(next.Secret), micros(next.UpdatedAt), next.RedirectName); err != nil {
				return store.OAuthClient{}, fmt.Errorf("update oauth client %s: %w", next.ID, err)
			}
		} else {
			if next.ID == "" {
				return store.OAuthClient{}, fmt.Errorf("create oauth client for %s: no id", app)
			}
			res, err := tx.ExecContext(ctx,
				`INSERT INTO oauth_clients (`+clientColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (workspace_id, app) DO NOTHING`,
				next.ID, next.WorkspaceID, next.App, next.ClientID, nonNil(next.Secret), micros(next.CreatedAt), micros(next.UpdatedAt), next.RedirectName)
			if err != nil {
				return store.OAuthClient{}, s.conflict(err, "create oauth client %s for %s", next.ID, app)
			}
			if n, err := res.RowsAffected(); err != nil {
				return store.OAuthClient{}, fmt.Errorf("create oauth client %s for %s: %w", next.ID, app, err)
			} else if n == 0 {
				return store.OAuthClient{}, errClientRaced
			}
		}
		next.CreatedAt, next.UpdatedAt = stored(next.CreatedAt), stored(next.UpdatedAt)
		return next, nil
	})
}

// GetOAuthClient finds a client by id in the workspace or among the
// managed ones.
func (s *Store) GetOAuthClient(ctx context.Context, workspaceID, id string) (store.OAuthClient, error) {
	c, err := scanClient(s.queryRowDirect(ctx,
		`SELECT `+clientColumns+` FROM oauth_clients WHERE id = $1 AND workspace_id IN ($2, '')`, id, workspaceID))
	if err != nil {
		return store.OAuthClient{}, notFound(err, "get oauth client %s", id)
	}
	return c, nil
}

// FindOAuthClient prefers the workspace's own client to the managed one.
func (s *Store) FindOAuthClient(ctx context.Context, workspaceID, app string) (store.OAuthClient, error) {
	c, err := scanClient(s.queryRowDirect(ctx,
		`SELECT `+clientColumns+` FROM oauth_clients WHERE app = $1 AND workspace_id IN ($2, '')
		ORDER BY workspace_id DESC LIMIT 1`, app, workspaceID))
	if err != nil {
		return store.OAuthClient{}, notFound(err, "find oauth client for %s", app)
	}
	return c, nil
}

// ListOAuthClients lists the workspace's and the managed clients by app.
func (s *Store) ListOAuthClients(ctx context.Context, workspaceID string) ([]store.OAuthClient, error) {
	rows, err := s.query(ctx,
		`SELECT `+clientColumns+` FROM oauth_clients WHERE workspace_id IN ($1, '') ORDER BY app, workspace_id`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list oauth clients: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list oauth clients", scanClient)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

// DeleteOAuthClient deletes a client of the workspace ("" for managed).
func (s *Store) DeleteOAuthClient(ctx context.Context, workspaceID, id string) error {
	return s.deleteOne(ctx, `DELETE FROM oauth_clients WHERE workspace_id = $1 AND id = $2`,
		workspaceID, id, "delete oauth client")
}

func scanClient(row scanner) (store.OAuthClient, error) {
	var c store.OAuthClient
	var created, updated int64
	if err := row.Scan(&c.ID, &c.WorkspaceID, &c.App, &c.ClientID, &c.Secret, &created, &updated, &c.RedirectName); err != nil {
		return store.OAuthClient{}, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

const connectionColumns = `id, workspace_id, user_id, app, state_hash, nickname, scopes, shared,
	account_id, oauth_client_id, sealed, status, error, expires_at, created_at, session_hash,
	code_hash, code_attempts, held, hold_hash, connect_token_id, link_hash`

// CreateConnection stores a new authorization in progress.
func (s *Store) CreateConnection(ctx context.Context, c store.Connection) error {
	scopes, err := toJSON(c.Scopes)
	if err != nil {
		return fmt.Errorf("create connection %s: %w", c.ID, err)
	}
	_, err = s.exec(ctx, "create connection", `INSERT INTO connections (`+connectionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`,
		c.ID, c.WorkspaceID, c.UserID, c.App, c.StateHash, c.Nickname, scopes, c.Shared,
		c.AccountID, c.OAuthClientID, nonNil(c.Sealed), string(c.Status), c.Error, micros(c.ExpiresAt), micros(c.CreatedAt),
		nonNil(c.SessionHash), nonNil(c.CodeHash), c.CodeAttempts, nonNil(c.Held), nonNil(c.HoldHash),
		c.ConnectTokenID, nonNil(c.LinkHash))
	if err != nil {
		return s.conflict(err, "create connection %s", c.ID)
	}
	return nil
}

// ClaimConnection is one UPDATE, so two callbacks with the same state
// cannot both claim it.
func (s *Store) ClaimConnection(ctx context.Context, stateHash []byte, now time.Time) (store.Connection, error) {
	// In a transaction, so that a claim whose answer was lost is not
	// claimed again as someone else's.
	var c store.Connection
	err := s.inTx(ctx, "claim connection", func(tx *sql.Tx) error {
		var err error
		c, err = scanConnection(tx.QueryRowContext(ctx,
			`UPDATE connections SET status = $1 WHERE state_hash = $2 AND status = $3 AND expires_at > $4
			RETURNING `+connectionColumns,
			string(store.ConnectionClaimed), stateHash, string(store.ConnectionPending), micros(now)))
		if err != nil {
			return notFound(err, "claim connection")
		}
		return nil
	})
	if err != nil {
		return store.Connection{}, err
	}
	return c, nil
}

// UpdateConnection changes a connection under its row lock.
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(*store.Connection) error) (store.Connection, error) {
	return inTxValue(ctx, s, fmt.Sprintf("update connection %s", id), func(tx *sql.Tx) (store.Connection, error) {
		c, err := scanConnection(tx.QueryRowContext(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1`+s.d.LockRows, id))
		if err != nil {
			return store.Connection{}, notFound(err, "update connection %s", id)
		}
		if err := fn(&c); err != nil {
			return store.Connection{}, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE connections SET status = $2, error = $3, account_id = $4, code_attempts = $5, held = $6, hold_hash = $7
		WHERE id = $1`, id, string(c.Status), c.Error, c.AccountID, c.CodeAttempts, nonNil(c.Held), nonNil(c.HoldHash)); err != nil {
			return store.Connection{}, fmt.Errorf("update connection %s: %w", id, err)
		}
		c.Held, c.HoldHash = storedBytes(c.Held), storedBytes(c.HoldHash)
		return c, nil
	})
}

// FinishConnection records the outcome of a claimed connection.
func (s *Store) FinishConnection(ctx context.Context, id string, status store.ConnectionStatus, accountID, errMsg string) error {
	res, err := s.exec(ctx, "finish connection",
		`UPDATE connections SET status = $2, account_id = $3, error = $4 WHERE id = $1 AND status = $5`,
		id, string(status), accountID, errMsg, string(store.ConnectionClaimed))
	if err != nil {
		return fmt.Errorf("finish connection %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("finish connection %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// GetConnection returns a connection of the workspace.
func (s *Store) GetConnection(ctx context.Context, workspaceID, id string) (store.Connection, error) {
	c, err := scanConnection(s.queryRowDirect(ctx,
		`SELECT `+connectionColumns+` FROM connections WHERE workspace_id = $1 AND id = $2`, workspaceID, id))
	if err != nil {
		return store.Connection{}, notFound(err, "get connection %s", id)
	}
	return c, nil
}

func scanConnection(row scanner) (store.Connection, error) {
	var c store.Connection
	var scopes, status string
	var expires, created int64
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.UserID, &c.App, &c.StateHash, &c.Nickname, &scopes, &c.Shared,
		&c.AccountID, &c.OAuthClientID, &c.Sealed, &status, &c.Error, &expires, &created, &c.SessionHash,
		&c.CodeHash, &c.CodeAttempts, &c.Held, &c.HoldHash, &c.ConnectTokenID, &c.LinkHash)
	if err != nil {
		return store.Connection{}, err
	}
	if err := json.Unmarshal([]byte(scopes), &c.Scopes); err != nil {
		return store.Connection{}, fmt.Errorf("connection %s: scopes: %w", c.ID, err)
	}
	c.Status = store.ConnectionStatus(status)
	c.SessionHash, c.LinkHash = storedBytes(c.SessionHash), storedBytes(c.LinkHash)
	c.CodeHash, c.Held, c.HoldHash = storedBytes(c.CodeHash), storedBytes(c.Held), storedBytes(c.HoldHash)
	c.ExpiresAt, c.CreatedAt = fromMicros(expires), fromMicros(created)
	return c, nil
}
