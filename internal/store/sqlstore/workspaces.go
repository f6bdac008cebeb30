package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// CreateWorkspace stores w; ErrConflict when its id exists.
func (s *Store) CreateWorkspace(ctx context.Context, w store.Workspace) error {
	_, err := s.exec(ctx, "create workspace",
		`INSERT INTO workspaces (id, name, created_at) VALUES ($1, $2, $3)`,
		w.ID, w.Name, micros(w.CreatedAt))
	if err != nil {
		return s.conflict(err, "create workspace %s", w.ID)
	}
	return nil
}

// GetWorkspace returns the workspace with the id.
func (s *Store) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	w, err := scanWorkspace(s.queryRowDirect(ctx,
		`SELECT id, name, created_at FROM workspaces WHERE id = $1`, id))
	if err != nil {
		return store.Workspace{}, notFound(err, "get workspace %s", id)
	}
	return w, nil
}

// FirstWorkspace returns the oldest workspace.
func (s *Store) FirstWorkspace(ctx context.Context) (store.Workspace, error) {
	w, err := scanWorkspace(s.queryRowDirect(ctx,
		`SELECT id, name, created_at FROM workspaces ORDER BY created_at, id LIMIT 1`))
	if err != nil {
		return store.Workspace{}, notFound(err, "first workspace")
	}
	return w, nil
}

// ListWorkspaces lists every workspace, oldest first.
func (s *Store) ListWorkspaces(ctx context.Context) ([]store.Workspace, error) {
	rows, err := s.query(ctx, `SELECT id, name, created_at FROM workspaces ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list workspaces", scanWorkspace)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

func scanWorkspace(row scanner) (store.Workspace, error) {
	var (
		w       store.Workspace
		created int64
	)
	if err := row.Scan(&w.ID, &w.Name, &created); err != nil {
		return store.Workspace{}, err
	}
	w.CreatedAt = fromMicros(created)
	return w, nil
}

// notFound turns sql.ErrNoRows into store.ErrNotFound and wraps any other
// error as it is, both with what failed.
func notFound(err error, format string, args ...any) error {
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
