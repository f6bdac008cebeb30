package store

import (
	"context"
	"time"
)

// CustomApp is an app a workspace defined for itself, in the catalog's
// schema.
type CustomApp struct {
	WorkspaceID string
	Slug        string
	// Definition is the app's YAML (or JSON) as the workspace gave it.
	Definition []byte
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// AppRequest is a user's request for an app the catalog lacks.
type AppRequest struct {
	ID          string
	WorkspaceID string
	UserID      string
	Name        string
	Reason      string
	URL         string
	CreatedAt   time.Time
}

// CatalogExtras stores workspaces' own apps and requests for new ones.
type CatalogExtras interface {
	// PutCustomApp creates or replaces the workspace's app with the slug.
	PutCustomApp(ctx context.Context, a CustomApp) error
	GetCustomApp(ctx context.Context, workspaceID, slug string) (CustomApp, error)
	ListCustomApps(ctx context.Context, workspaceID string) ([]CustomApp, error)
	DeleteCustomApp(ctx context.Context, workspaceID, slug string) error
	CreateAppRequest(ctx context.Context, r AppRequest) error
	// ListAppRequests lists the workspace's requests, newest first.
	ListAppRequests(ctx context.Context, workspaceID string) ([]AppRequest, error)
}
