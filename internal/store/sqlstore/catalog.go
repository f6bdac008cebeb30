package sqlstore

import (
	"context"
	"fmt"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// PutCustomApp creates or replaces the workspace's app with the slug.
func (s *Store) PutCustomApp(ctx context.Context, a store.CustomApp) error {
	_, err := s.exec(ctx, "create custom app", `INSERT INTO custom_apps (workspace_id, slug, definition, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (workspace_id, slug) DO UPDATE SET definition = excluded.definition, updated_at = excluded.updated_at`,
		a.WorkspaceID, a.Slug, nonNil(a.Definition), micros(a.CreatedAt), micros(a.UpdatedAt))
	if err != nil {
		return s.conflict(err, "put custom app %s", a.Slug)
	}
	return nil
}

// GetCustomApp returns the workspace's app with the slug.
func (s *Store) GetCustomApp(ctx context.Context, workspaceID, slug string) (store.CustomApp, error) {
	a, err := scanCustomApp(s.queryRowDirect(ctx,
		`SELECT workspace_id, slug, definition, created_at, updated_at FROM custom_apps WHERE workspace_id = $1 AND slug = $2`,
		workspaceID, slug))
	if err != nil {
		return store.CustomApp{}, notFound(err, "get custom app %s", slug)
	}
	return a, nil
}

// ListCustomApps lists the workspace's apps by slug.
func (s *Store) ListCustomApps(ctx context.Context, workspaceID string) ([]store.CustomApp, error) {
	rows, err := s.query(ctx,
		`SELECT workspace_id, slug, definition, created_at, updated_at FROM custom_apps WHERE workspace_id = $1 ORDER BY slug`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list custom apps: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list custom apps", scanCustomApp)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

// DeleteCustomApp deletes the workspace's app with the slug.
func (s *Store) DeleteCustomApp(ctx context.Context, workspaceID, slug string) error {
	return s.deleteOne(ctx, `DELETE FROM custom_apps WHERE workspace_id = $1 AND slug = $2`, workspaceID, slug, "delete custom app")
}

func scanCustomApp(row scanner) (store.CustomApp, error) {
	var a store.CustomApp
	var created, updated int64
	if err := row.Scan(&a.WorkspaceID, &a.Slug, &a.Definition, &created, &updated); err != nil {
		return store.CustomApp{}, err
	}
	a.CreatedAt, a.UpdatedAt = fromMicros(created), fromMicros(updated)
	return a, nil
}

// CreateAppRequest records a request for an app.
func (s *Store) CreateAppRequest(ctx context.Context, r store.AppRequest) error {
	_, err := s.exec(ctx, "create app request", `INSERT INTO app_requests (id, workspace_id, user_id, name, reason, url, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, r.ID, r.WorkspaceID, r.UserID, r.Name, r.Reason, r.URL, micros(r.CreatedAt))
	if err != nil {
		return s.conflict(err, "create app request %s", r.ID)
	}
	return nil
}

// ListAppRequests lists the workspace's requests, newest first.
func (s *Store) ListAppRequests(ctx context.Context, workspaceID string) ([]store.AppRequest, error) {
	rows, err := s.query(ctx, `SELECT id, workspace_id, user_id, name, reason, url, created_at
		FROM app_requests WHERE workspace_id = $1 ORDER BY id DESC LIMIT 1000`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("list app requests: %w", err)
	}
	defer rows.Close()
	out, err := scanAll(rows, "list app requests", scanAppRequest)
	if err != nil {
		return nil, err
	}
	return out, rows.Err()
}

func scanAppRequest(row scanner) (store.AppRequest, error) {
	var r store.AppRequest
	var created int64
	if err := row.Scan(&r.ID, &r.WorkspaceID, &r.UserID, &r.Name, &r.Reason, &r.URL, &created); err != nil {
		return store.AppRequest{}, err
	}
	r.CreatedAt = fromMicros(created)
	return r, nil
}
