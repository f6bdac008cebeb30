package accounts

import (
	"context"
	"errors"
	"fmt"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"net/url"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// customApp parses one of the workspace's own apps.
func (s *Service) customApp(ctx context.Context, workspaceID, slug string) (*catalog.App, error) {
	ca, err := s.store.GetCustomApp(ctx, workspaceID, slug)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w %q", ErrUnknownApp, slug)
	}
	if err != nil {
		return nil, err
	}
	app, err := catalog.Parse(ca.Definition)
	if err != nil {
		// Saved before a rule it breaks (an internal address, say): it is
		// not used until an owner saves it again.
		return nil, invalid("app", "the workspace's app %s no longer validates; an owner must save it again: %v", slug, err)
	}
	return app, nil
}

// CatalogFor is the catalog as the workspace sees it: the shipped apps and
// its own.
func (s *Service) CatalogFor(ctx context.Context, actor Actor) (*catalog.Catalog, error) {
	list, err := s.store.ListCustomApps(ctx, actor.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("custom apps: %w", err)
	}
	var extra []*catalog.App
	for _, ca := range list {
		app, err := catalog.Parse(ca.Definition)
		if err != nil {
			s.log.WarnContext(ctx, "a stored custom app no longer validates", "app", ca.Slug, "err", err)
			continue
		}
		extra = append(extra, app)
	}
	return s.catalog.With(extra...), nil
}

// SetCustomApp validates an app definition (the catalog's schema, YAML or
// JSON) and saves it as the workspace's own. It may not take a shipped
// app's slug; operators override shipped apps with catalog_dir.
func (s *Service) SetCustomApp(ctx context.Context, actor Actor, slug string, definition []byte) (*catalog.App, error) {
	if err := actor.Require(ScopeClientsWrite); err != nil {
		return nil, err
	}
	if !actor.IsOwner() {
		return nil, fmt.Errorf("%w: only workspace owners define apps", ErrForbidden)
	}
	app, err := catalog.Parse(definition)
	if err != nil {
		return nil, &ValidationError{Field: "definition", Message: err.Error()}
	}
	if app.Slug != slug {
		return nil, invalid("slug", "the definition's slug %q does not match the path's %q", app.Slug, slug)
	}
	if _, shipped := s.catalog.Get(slug); shipped {
		return nil, invalid("slug", "%q is a shipped app; choose another slug (operators override shipped apps with catalog_dir)", slug)
	}
	for _, other := range s.catalog.All() {
		if strings.EqualFold(other.Name, app.Name) {
			return nil, invalid("name", "%q is the name of the shipped app %q", app.Name, other.Slug)
		}
	}
	now := s.clock.Now().UTC()
	if err := s.store.PutCustomApp(ctx, store.CustomApp{WorkspaceID: actor.WorkspaceID, Slug: slug, Definition: definition, CreatedAt: now, UpdatedAt: now}); err != nil {
		return nil, err
	}
	s.audit(ctx, actor, "", "custom_app.set", map[string]string{"app": slug})
	return app, nil
}

// DeleteCustomApp deletes one of the workspace's apps.
func (s *Service) DeleteCustomApp(ctx context.Context, actor Actor, slug string) error {
	if err := actor.Require(ScopeClientsWrite); err != nil {
		return err
	}
	if !actor.IsOwner() {
		return fmt.Errorf("%w: only workspace owners define apps", ErrForbidden)
	}
	if err := s.store.DeleteCustomApp(ctx, actor.WorkspaceID, slug); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w %q", ErrUnknownApp, slug)
		}
		return err
	}
	s.audit(ctx, actor, "", "custom_app.deleted", map[string]string{"app": slug})
	return nil
}

// RequestInput asks for an app the catalog lacks.
type RequestInput struct {
	Name, Reason, URL string
}

// RequestApp records a request for a new app.
func (s *Service) RequestApp(ctx context.Context, actor Actor, in RequestInput) (store.AppRequest, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return store.AppRequest{}, err
	}
	in.Name, in.Reason, in.URL = strings.TrimSpace(in.Name), strings.TrimSpace(in.Reason), strings.TrimSpace(in.URL)
	switch {
	case in.Name == "" || len(in.Name) > 100:
		return store.AppRequest{}, invalid("name", "give the app's name, at most 100 characters")
	case in.Reason == "" || len(in.Reason) > 2000:
		return store.AppRequest{}, invalid("reason", "say what you would use it for, at most 2000 characters")
	case len(in.URL) > 500:
		return store.AppRequest{}, invalid("url", "must be at most 500 characters")
	}
	if in.URL != "" {
		if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return store.AppRequest{}, invalid("url", "must be an http(s) URL")
		}
	}
	now := s.clock.Now().UTC()
	r := store.AppRequest{ID: ids.New("req", now), WorkspaceID: actor.WorkspaceID, UserID: actor.UserID, Name: in.Name, Reason: in.Reason, URL: in.URL, CreatedAt: now}
	if err := s.store.CreateAppRequest(ctx, r); err != nil {
		return store.AppRequest{}, err
	}
	return r, nil
}

// AppRequests lists the workspace's requests for its owners.
func (s *Service) AppRequests(ctx context.Context, actor Actor) ([]store.AppRequest, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	if !actor.IsOwner() {
		return nil, fmt.Errorf("%w: only workspace owners see app requests", ErrForbidden)
	}
	return s.store.ListAppRequests(ctx, actor.WorkspaceID)
}
