package server

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/demo"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

// withDemo adds the demo app to the catalog and lets the guarded client
// reach this server's own address for that app alone: the one loopback
// exception, and only while --demo is on.
func withDemo(cat *catalog.Catalog, cfg config.Config) (*catalog.Catalog, config.Config, error) {
	origin := demoOrigin(cfg)
	app, err := demo.App()
	if err != nil {
		return nil, cfg, fmt.Errorf("demo app: %w", err)
	}
	// A copy: the caller's map stays as the operator wrote it.
	cfg.AppOrigins = maps.Clone(cfg.AppOrigins)
	if cfg.AppOrigins == nil {
		cfg.AppOrigins = map[string]string{}
	}
	cfg.AppOrigins[demo.Slug] = origin
	return cat.With(app), cfg, nil
}

// demoOrigin is where the server reaches itself: its listen address, with
// an unspecified host read as loopback.
func demoOrigin(cfg config.Config) string { return "http://" + cfg.ClientHost() }

// startDemo builds the demo provider and makes its client the demo app's
// managed one.
func startDemo(ctx context.Context, clientSvc *clients.Service, system identity.Actor, redirectURI string, log *slog.Logger) (*demo.Server, error) {
	d, err := demo.New(demo.Options{RedirectURI: redirectURI, Log: log})
	if err != nil {
		return nil, err
	}
	if _, err := clientSvc.SetClient(ctx, system, clients.ClientInput{App: demo.Slug, ClientID: demo.ClientID, Secret: d.ClientSecret(), Managed: true}); err != nil {
		return nil, fmt.Errorf("demo: its OAuth client: %w", err)
	}
	log.WarnContext(ctx, "demo mode is on: the demo app and its provider are served under /demo; never use it in production")
	return d, nil
}
