package server

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"time"

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

// listenDemoAPI opens the listener workflow steps reach the demo's API on:
// loopback, a port the OS picks. Steps may reach it (the sandbox forwards
// it as it does a step_network_allow loopback port) because it serves the
// demo's API alone; Latchkey's own port, with its API and UI, stays out of
// their reach.
func listenDemoAPI() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("demo: the listener for workflow steps: %w", err)
	}
	return ln, nil
}

// demoAPIURL is the demo API's base URL on ln, as code steps see it.
func demoAPIURL(ln net.Listener) string {
	return "http://" + ln.Addr().String() + demo.APIPrefix
}

// serveDemoAPI serves the demo's API for workflow steps on s.demoLn until
// the returned function stops it.
func (s *Server) serveDemoAPI(ctx context.Context) func() {
	srv := &http.Server{Handler: s.demoAPI, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn), BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) }}
	stop := s.serveAside(srv, s.demoLn, "the demo API's listener for workflow steps")
	s.log.InfoContext(ctx, "serving the demo API for workflow steps", "url", demoAPIURL(s.demoLn))
	// Stopped after the main server drained, so after every step it ran.
	return stop
}

// startDemo builds the demo provider and makes its client the demo app's
// managed one. apiURL is where steps reach its API.
func startDemo(ctx context.Context, clientSvc *clients.Service, system identity.Actor, redirectURI, apiURL string, log *slog.Logger) (*demo.Server, error) {
	d, err := demo.New(demo.Options{RedirectURI: redirectURI, APIURL: apiURL, Log: log})
	if err != nil {
		return nil, err
	}
	if _, err := clientSvc.SetClient(ctx, system, clients.ClientInput{App: demo.Slug, ClientID: demo.ClientID, Secret: d.ClientSecret(), Managed: true}); err != nil {
		return nil, fmt.Errorf("demo: its OAuth client: %w", err)
	}
	log.WarnContext(ctx, "demo mode is on: the demo app and its provider are served under /demo; never use it in production")
	return d, nil
}
