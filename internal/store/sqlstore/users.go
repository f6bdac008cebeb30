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
	_, err := s.db.ExecContext(ctx,
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
	u, err := scanUser(s.db.QueryRowContext(ctx,
		`SELECT `+userColumns+` FROM users WHERE workspace_id = $1 AND email = $2`,
		workspaceID, email))
	if err != nil {
		return store.User{}, notFound(err, "get user by email %s", email)
	}
	return u, nil
}

func scanUser(row *sql.Row) (store.User, error) {
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
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE workspace_id = $1 AND password_hash <> ''`, workspaceID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateSession stores a browser session.
func (s *Store) CreateSession(ctx context.Context, se store.Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (hash, workspace_id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
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
	err := s.db.QueryRowContext(ctx, `SELECT hash, workspace_id, user_id, created_at, expires_at FROM sessions WHERE hash = $1 AND expires_at > $2`,
		hash, micros(now)).Scan(&se.Hash, &se.WorkspaceID, &se.UserID, &created, &expires)
	if err != nil {
		return store.Session{}, notFound(err, "get session")
	}
	se.CreatedAt, se.ExpiresAt = fromMicros(created), fromMicros(expires)
	return se, nil
}

// DeleteSession ends a session; ending one that is gone is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
