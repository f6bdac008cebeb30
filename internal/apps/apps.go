// Package apps is the app catalog as a workspace sees it: the shipped apps
// (sent to the operator's origins where configured), the workspace's own
// apps, and its requests for apps the catalog lacks.
package apps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

// ErrUnknownApp: the catalog has no such app.
var ErrUnknownApp = errors.New("unknown app")

// Request is a user's request for an app the catalog lacks.
type Request struct {
	ID        string
	UserID    string
	Name      string
	Reason    string
	URL       string
	CreatedAt time.Time
}

func requestOf(r store.AppRequest) Request {
	return Request{ID: r.ID, UserID: r.UserID, Name: r.Name, Reason: r.Reason, URL: r.URL, CreatedAt: r.CreatedAt}
}

// Store is what the service needs of the store.
type Store interface {
	store.CatalogExtras
}

// Options configure a Service.
type Options struct {
	Store   Store
	Catalog *catalog.Catalog
	// AppOrigins sends an app's requests to another origin.
	AppOrigins map[string]string
	// Audit takes the service's audit events; it is required.
	Audit *audit.Log
	Clock clockwork.Clock
	Log   *slog.Logger
}

// Service is the apps service.
type Service struct {
	store   Store
	catalog *catalog.Catalog
	origins map[string]string
	// rerouted are the shipped apps with a configured origin, rewritten
	// once rather than on every lookup.
	rerouted map[string]*catalog.App
	audit    *audit.Log
	clock    clockwork.Clock
	log      *slog.Logger
}

// New returns a Service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	rerouted := map[string]*catalog.App{}
	for slug, origin := range o.AppOrigins {
		if app, ok := o.Catalog.Get(slug); ok {
			rerouted[slug] = app.WithOrigin(origin)
		}
	}
	return &Service{store: o.Store, catalog: o.Catalog, origins: o.AppOrigins, rerouted: rerouted, audit: o.Audit, clock: o.Clock, log: o.Log}
}

// App returns the catalog entry for slug as this server uses it in the
// workspace: a shipped app (with any configured origin), else one of the
// workspace's own.
func (s *Service) App(ctx context.Context, workspaceID, slug string) (*catalog.App, error) {
	if app, ok := s.rerouted[slug]; ok {
		return app, nil
	}
	if app, ok := s.catalog.Get(slug); ok {
		return app, nil
	}
	app, err := s.customApp(ctx, workspaceID, slug)
	if err != nil {
		return nil, err
	}
	if origin := s.origins[slug]; origin != "" {
		app = app.WithOrigin(origin)
	}
	return app, nil
}

// Lookup returns the apps of the slugs as App would, in one read at most:
// the workspace's own apps are listed once, not read and parsed one by
// one, so a list page looks up all its rows' apps together. A slug that
// names no app (or a stored one that no longer validates) is left out.
func (s *Service) Lookup(ctx context.Context, workspaceID string, slugs []string) (map[string]*catalog.App, error) {
	out := map[string]*catalog.App{}
	custom := false
	for _, slug := range slugs {
		if app, ok := s.rerouted[slug]; ok {
			out[slug] = app
		} else if app, ok := s.catalog.Get(slug); ok {
			out[slug] = app
		} else {
			custom = true
		}
	}
	if !custom {
		return out, nil
	}
	list, err := s.store.ListCustomApps(ctx, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("custom apps: %w", err)
	}
	wanted := map[string]bool{}
	for _, slug := range slugs {
		wanted[slug] = out[slug] == nil
	}
	for _, ca := range list {
		if !wanted[ca.Slug] {
			continue
		}
		app, err := catalog.Parse(ca.Definition)
		if err != nil {
			s.log.WarnContext(ctx, "a stored custom app no longer validates", "app", ca.Slug, "err", err)
			continue
		}
		if origin := s.origins[ca.Slug]; origin != "" {
			app = app.WithOrigin(origin)
		}
		out[ca.Slug] = app
	}
	return out, nil
}

// Catalog returns the shipped catalog.
func (s *Service) Catalog() *catalog.Catalog { return s.catalog }

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
		return nil, validation.Invalid("app", "the workspace's app %s no longer validates; an owner must save it again: %v", slug, err)
	}
	return app, nil
}

// CatalogFor is the catalog as the workspace sees it: the shipped apps and
// its own.
func (s *Service) CatalogFor(ctx context.Context, actor identity.Actor) (*catalog.Catalog, error) {
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

// reservedSlugs are the slugs a custom app may not take, because a page of
// the web UI has that name where an app's slug would stand.
var reservedSlugs = map[string]bool{"link": true}

// SetCustomApp validates an app definition (the catalog's schema, YAML or
// JSON) and saves it as the workspace's own. It may not take a shipped
// app's slug; operators override shipped apps with catalog_dir.
func (s *Service) SetCustomApp(ctx context.Context, actor identity.Actor, slug string, definition []byte) (*catalog.App, error) {
	if err := actor.Require(identity.ScopeClientsWrite); err != nil {
		return nil, err
	}
	if !actor.CanManageWorkspace() {
		return nil, fmt.Errorf("%w: only workspace owners and admins define apps", identity.ErrForbidden)
	}
	app, err := catalog.Parse(definition)
	if err != nil {
		return nil, &validation.Error{Field: "definition", Message: err.Error()}
	}
	if app.Slug != slug {
		return nil, validation.Invalid("slug", "the definition's slug %q does not match the path's %q", app.Slug, slug)
	}
	if reservedSlugs[slug] {
		// The web's /connect/link is the hosted connect page.
		return nil, validation.Invalid("slug", "%q is reserved; choose another slug", slug)
	}
	if _, shipped := s.catalog.Get(slug); shipped {
		return nil, validation.Invalid("slug", "%q is a shipped app; choose another slug (operators override shipped apps with catalog_dir)", slug)
	}
	for _, other := range s.catalog.All() {
		if strings.EqualFold(other.Name, app.Name) {
			return nil, validation.Invalid("name", "%q is the name of the shipped app %q", app.Name, other.Slug)
		}
	}
	now := s.clock.Now().UTC()
	if err := s.store.PutCustomApp(ctx, store.CustomApp{WorkspaceID: actor.WorkspaceID, Slug: slug, Definition: definition, CreatedAt: now, UpdatedAt: now}); err != nil {
		return nil, err
	}
	s.audit.Record(actor, "", "custom_app.set", map[string]string{"app": slug}, s.clock.Now())
	return app, nil
}

// DeleteCustomApp deletes one of the workspace's apps.
func (s *Service) DeleteCustomApp(ctx context.Context, actor identity.Actor, slug string) error {
	if err := actor.Require(identity.ScopeClientsWrite); err != nil {
		return err
	}
	if !actor.CanManageWorkspace() {
		return fmt.Errorf("%w: only workspace owners and admins define apps", identity.ErrForbidden)
	}
	if err := s.store.DeleteCustomApp(ctx, actor.WorkspaceID, slug); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("%w %q", ErrUnknownApp, slug)
		}
		return err
	}
	s.audit.Record(actor, "", "custom_app.deleted", map[string]string{"app": slug}, s.clock.Now())
	return nil
}

// RequestInput asks for an app the catalog lacks.
type RequestInput struct {
	Name, Reason, URL string
}

// RequestApp records a request for a new app.
func (s *Service) RequestApp(ctx context.Context, actor identity.Actor, in RequestInput) (Request, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return Request{}, err
	}
	in.Name, in.Reason, in.URL = strings.TrimSpace(in.Name), strings.TrimSpace(in.Reason), strings.TrimSpace(in.URL)
	switch {
	case in.Name == "" || len(in.Name) > 100:
		return Request{}, validation.Invalid("name", "give the app's name, at most 100 characters")
	case in.Reason == "" || len(in.Reason) > 2000:
		return Request{}, validation.Invalid("reason", "say what you would use it for, at most 2000 characters")
	case len(in.URL) > 500:
		return Request{}, validation.Invalid("url", "must be at most 500 characters")
	}
	if in.URL != "" {
		if u, err := url.Parse(in.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Request{}, validation.Invalid("url", "must be an http(s) URL")
		}
	}
	now := s.clock.Now().UTC()
	r := store.AppRequest{ID: ids.New("req", now), WorkspaceID: actor.WorkspaceID, UserID: actor.UserID, Name: in.Name, Reason: in.Reason, URL: in.URL, CreatedAt: now}
	if err := s.store.CreateAppRequest(ctx, r); err != nil {
		return Request{}, err
	}
	return requestOf(r), nil
}

// AppRequests lists the workspace's requests for its owners.
func (s *Service) AppRequests(ctx context.Context, actor identity.Actor) ([]Request, error) {
	if err := actor.Require(identity.ScopeAccountsRead); err != nil {
		return nil, err
	}
	if !actor.CanManageWorkspace() {
		return nil, fmt.Errorf("%w: only workspace owners and admins see app requests", identity.ErrForbidden)
	}
	list, err := s.store.ListAppRequests(ctx, actor.WorkspaceID)
	if err != nil {
		return nil, fmt.Errorf("list app requests: %w", err)
	}
	out := make([]Request, len(list))
	for i, r := range list {
		out[i] = requestOf(r)
	}
	return out, nil
}
