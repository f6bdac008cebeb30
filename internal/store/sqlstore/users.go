package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

const userColumns = `id, workspace_id, email, name, role, password_hash, created_at`

// CreateUser stores u; ErrConflict when its id, or its email within the
// workspace, exists. Emails are compared as given: callers normalise them.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.exec(ctx, "create user",
		`INSERT INTO users (`+userColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		u.ID, u.WorkspaceID, u.Email, u.Name, string(u.Role), u.PasswordHash, micros(u.CreatedAt))
	if err != nil {
		return s.conflict(err, "create user %s (%s)", u.ID, u.Email)
	}
	return nil
}

// GetUser returns the user with the id in the workspace.
func (s *Store) GetUser(ctx context.Context, workspaceID, id string) (store.User, error) {
	u, err := scanUser(s.queryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND id = $2`,
		workspaceID, id))
	if err != nil {
		return store.User{}, notFound(err, "get user %s", id)
	}
	return u, nil
}

// GetUserByEmail returns the user with the email in the workspace.
func (s *Store) GetUserByEmail(ctx context.Context, workspaceID, email string) (store.User, error) {
	u, err := scanUser(s.queryRowDirect(ctx,
		`SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND email = $2`,
		workspaceID, email))
	if err != nil {
		return store.User{}, notFound(err, "get user by email %s", email)
	}
	return u, nil
}

func scanUser(row scanner) (store.User, error) {
	var (
		u       store.User
		role    string
		created int64
	)
	if err := row.Scan(&u.ID, &u.WorkspaceID, &u.Email, &u.Name, &role, &u.PasswordHash, &created); err != nil {
		return store.User{}, err
	}
	u.Role = store.Role(role)
	u.CreatedAt = fromMicros(created)
	return u, nil
}

// CountPasswordUsers counts the workspace's users with a password.
func (s *Store) CountPasswordUsers(ctx context.Context, workspaceID string) (int, error) {
	var n int
	err := s.queryRowDirect(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND password_hash <> ''`, workspaceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateSession stores a browser session.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	_, err := s.exec(ctx, "create session", `INSERT INTO sessions (hash, workspace_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		se.Hash, se.WorkspaceID, se.UserID, micros(se.CreatedAt), micros(se.ExpiresAt))
	if err != nil {
		return s.conflict(err, "create session")
	}
	return nil
}

// GetSession returns an unexpired session.
func (s *Store) GetSession(ctx context.Context, hash []byte, now time.Time) (store.Session, error) {
	var se store.Session
	var created, expires int64
	err := s.queryRowDirect(ctx, `SELECT hash, workspace_id, user_id, created_at, expires_at FROM sessions WHERE hash = $1 AND expires_at > $2`,
		hash, micros(now)).Scan(&se.Hash, &se.WorkspaceID, &se.UserID, &created, &expires)
	if err != nil {
		return store.Session{}, notFound(err, "get session")
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	return se, nil
}

// DeleteSession ends a session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.execIdem(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends the user's sessions in the workspace but keep.
func (s *Store) DeleteUserSessions(ctx context.Context, workspaceID, userID string, keep []byte) (int, error) {
	if keep == nil {
		// No session's hash is empty; NULL would match none of them.
		keep = []byte{}
	}
	res, err := s.execIdem(ctx, `DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2 AND hash <> $3`, workspaceID, userID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete user sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete user sessions: %w", err)
	}
	return int(n), nil
}

// ListUsers lists the workspace's users, oldest first.
func (s *Store) ListUsers(ctx context.Context, workspaceID string) ([]store.User, error) {
	return s.users(ctx, "list users", `SELECT `+userColumns+` FROM users WHERE workspace_id = $1 ORDER BY created_at, id`, workspaceID)
}

// UsersByEmail lists the email's users in every workspace, oldest
// workspace first.
func (s *Store) UsersByEmail(ctx context.Context, email string) ([]store.User, error) {
	return s.users(ctx, "users by email", `SELECT u.id, u.workspace_id, u.email, u.name, u.role, u.password_hash, u.created_at
		FROM users u JOIN workspaces w ON w.id = u.workspace_id WHERE u.email = $1 ORDER BY w.created_at, w.id`, email)
}

func (s *Store) users(ctx context.Context, what, query string, args ...any) ([]store.User, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return collect(rows, what, scanUser)
}

// membership runs change in a transaction that holds the workspace's lock
// (so membership changes of one workspace never interleave) and refuses,
// with ErrLastOwner, a change that leaves the workspace without an owner
// who signs in where it had one.
func (s *Store) membership(ctx context.Context, workspaceID, what string, change func(tx *sql.Tx) error) error {
	return s.inTx(ctx, fmt.Sprintf("%s", what), func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, `SELECT id FROM workspaces WHERE id = $1`+s.d.LockRows, workspaceID).Scan(&id); err != nil {
			return notFound(err, "%s: workspace %s", what, workspaceID)
		}
		owners := func() (int, error) {
			var n int
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND role = $2 AND password_hash <> ''`,
				workspaceID, string(store.RoleOwner)).Scan(&n)
			return n, err
		}
		before, err := owners()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := change(tx); err != nil {
			return err
		}
		after, err := owners()
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if before > 0 && after == 0 {
			return fmt.Errorf("%s: %w", what, store.ErrLastOwner)
		}
		return nil
	})
}

// UpdateUser is the compare-and-swap of one user.
func (s *Store) UpdateUser(ctx context.Context, workspaceID, id string, fn func(store.User) (store.User, error)) (store.User, error) {
	var out store.User
	err := s.membership(ctx, workspaceID, "update user "+id, func(tx *sql.Tx) error {
		old, err := scanUser(tx.QueryRowContext(ctx,
			`SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND id = $2`+s.d.LockRows, workspaceID, id))
		if err != nil {
			return notFound(err, "update user %s", id)
		}
		u, err := fn(old)
		if err != nil {
			return err
		}
		u.ID, u.WorkspaceID, u.Email, u.CreatedAt = old.ID, old.WorkspaceID, old.Email, old.CreatedAt
		if _, err := tx.ExecContext(ctx, `UPDATE users SET name = $3, role = $4, password_hash = $5 WHERE workspace_id = $1 AND id = $2`,
			workspaceID, id, u.Name, string(u.Role), u.PasswordHash); err != nil {
			return fmt.Errorf("update user %s: %w", id, err)
		}
		u.CreatedAt = stored(u.CreatedAt)
		out = u
		return nil
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// DeleteUser deletes the user, their sessions and their API tokens.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) error {
	return s.membership(ctx, workspaceID, "delete user "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
		if err != nil {
			return fmt.Errorf("delete user %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete user %s: %w", id, err)
		} else if n == 0 {
			return fmt.Errorf("delete user %s: %w", id, store.ErrNotFound)
		}
		for _, q := range []string{
			`DELETE FROM sessions WHERE workspace_id = $1 AND user_id = $2`,
			`DELETE FROM api_tokens WHERE workspace_id = $1 AND user_id = $2`,
		} {
			if _, err := tx.ExecContext(ctx, q, workspaceID, id); err != nil {
				return fmt.Errorf("delete user %s: %w", id, err)
			}
		}
		return nil
	})
}

// ReassignAccounts moves the accounts of from to to, within the workspace.
func (s *Store) ReassignAccounts(ctx context.Context, workspaceID, from, to string) ([]string, error) {
	return inTxValue(ctx, s, "reassign accounts", func(tx *sql.Tx) ([]string, error) {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM accounts WHERE workspace_id = $1 AND owner_id = $2 ORDER BY id`+s.d.LockRows, workspaceID, from)
		if err != nil {
			return nil, fmt.Errorf("reassign accounts: %w", err)
		}
		moved, err := collect(rows, "reassign accounts", scanString)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET owner_id = $3 WHERE workspace_id = $1 AND owner_id = $2`, workspaceID, from, to); err != nil {
			return nil, fmt.Errorf("reassign accounts: %w", err)
		}
		// The new owner needs no share of what is now theirs.
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_shares WHERE user_id = $2 AND account_id IN
		(SELECT id FROM accounts WHERE workspace_id = $1 AND owner_id = $2)`, workspaceID, to); err != nil {
			return nil, fmt.Errorf("reassign accounts: %w", err)
		}
		return moved, nil
	})
}
