// Package server assembles a running Latchkey: it opens the store, checks
// the master key, prepares a first start, wires the services to the HTTP
// routes with their middleware, and serves until told to stop.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/api"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/bootstrap"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/demo"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/mcpserver"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/proxy"
	"github.com/latchkeyhq/latchkey/internal/purger"
	"github.com/latchkeyhq/latchkey/internal/refresher"
	"github.com/latchkeyhq/latchkey/internal/sandbox"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/web"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// Server is an assembled Latchkey instance.
type Server struct {
	cfg       config.Config
	log       *slog.Logger
	clock     clockwork.Clock
	store     store.Store
	identity  *identity.Service
	accounts  *accounts.Service
	apps      *apps.Service
	clients   *clients.Service
	audit     *audit.Log
	workflows *workflows.Service
	webhooks  *webhooks.Service
	handler   http.Handler
	// demoLn and demoAPI: with --demo, the demo's API alone, for steps.
	demoLn    net.Listener
	demoAPI   http.Handler
	registry  *prometheus.Registry
	apiRoutes []string
}

// Options are what tests may inject; zero values mean the real thing.
type Options struct {
	Clock clockwork.Clock
	// Store replaces the configured store (tests share one between
	// instances).
	Store store.Store
	// ProviderClient makes requests to providers; nil means the guarded
	// client of internal/outbound, which trusts the app_origins.
	ProviderClient *http.Client
	// PasswordCost is the bcrypt cost of new password hashes; zero means
	// identity.DefaultPasswordCost. Tests lower it.
	PasswordCost int
	// MCPTokenRate and MCPTokenBurst limit an MCP grant's access tokens;
	// zero means those of an API token. Tests lower them.
	MCPTokenRate  rate.Limit
	MCPTokenBurst int
}

// New opens the store, checks the key and prepares a first start. The
// caller runs Serve and, when done, Close.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	clock := opt.Clock
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	cat, err := catalog.LoadDir(cfg.CatalogDir)
	if err != nil {
		return nil, err
	}
	if cfg.Demo {
		if cat, cfg, err = withDemo(cat, cfg); err != nil {
			return nil, err
		}
	}
	for slug := range cfg.AppOrigins {
		if _, ok := cat.Get(slug); !ok {
			// It may name a workspace's own app, defined later.
			log.Warn("LATCHKEY_APP_ORIGINS names an app the shipped catalog lacks; it applies only to a custom app of that slug", "app", slug)
		}
	}
	ring, err := loadRing(cfg, log)
	if err != nil {
		return nil, err
	}
	st := opt.Store
	if st == nil {
		if st, err = OpenStore(ctx, cfg); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	var demoLn net.Listener
	fail := func(err error) (*Server, error) {
		if demoLn != nil {
			demoLn.Close()
		}
		if opt.Store == nil {
			st.Close()
		}
		return nil, err
	}
	if err := bootstrap.CheckKey(ctx, st, ring); err != nil {
		return fail(err)
	}
	resources := &tokenResources{}
	// A reset password ends the member's MCP grants; mcpauth, made
	// below, needs identity, so the hook reaches it once it is.
	var mcpAuth *mcpauth.Service
	revokeMCP := func(ctx context.Context, workspaceID, userID string) (int, error) {
		return mcpAuth.RevokeAll(ctx, workspaceID, userID)
	}
	who := identity.New(identity.Options{Store: st, Clock: clock, Log: log, PasswordCost: opt.PasswordCost, Resources: resources,
		OnPasswordReset: revokeMCP})
	wsID, err := who.FirstStart(ctx, cfg.AdminTokenFile())
	if err != nil {
		return fail(err)
	}
	client := opt.ProviderClient
	if client == nil {
		if client, err = providerClient(cfg); err != nil {
			return fail(err)
		}
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	redirectURI := strings.TrimSuffix(cfg.PublicURL, "/") + web.CallbackPath
	auditLog := audit.New(st, log)
	appSvc := apps.New(apps.Options{Store: st, Catalog: cat, AppOrigins: cfg.AppOrigins, Audit: auditLog, Clock: clock, Log: log})
	clientSvc := clients.New(clients.Options{Store: st, Apps: appSvc, Operators: who, Ring: ring, HTTP: client, RedirectURI: redirectURI, Audit: auditLog, Clock: clock, Log: log})
	svc := accounts.New(accounts.Options{
		Store: st, Apps: appSvc, Clients: clientSvc, Audit: auditLog, Ring: ring, Client: client, Clock: clock, Log: log,
		RefreshMargin: cfg.RefreshMargin, UnhealthyAfter: cfg.UnhealthyAfter, Registerer: registry,
	})
	connSvc := connecting.New(connecting.Options{Store: st, Accounts: svc, Apps: appSvc, Clients: clientSvc, Users: who, Ring: ring, Clock: clock, Log: log})
	resources.accounts, resources.apps = svc, appSvc
	// Managed OAuth clients from the config file replace stored ones.
	system := identity.ConfigOperator(wsID)
	for slug, oc := range cfg.OAuthClients {
		if _, err := clientSvc.SetClient(ctx, system, clients.ClientInput{App: slug, ClientID: oc.ClientID, Secret: oc.Secret, Managed: true, RedirectName: oc.RedirectName}); err != nil {
			return fail(fmt.Errorf("config file: oauth_clients.%s: %w", slug, err))
		}
	}
	var demoSrv *demo.Server
	var stepAllow []string
	if cfg.Demo {
		if demoLn, err = listenDemoAPI(); err != nil {
			return fail(err)
		}
		if demoSrv, err = startDemo(ctx, clientSvc, system, redirectURI, demoAPIURL(demoLn), log); err != nil {
			return fail(err)
		}
		stepAllow = []string{demoLn.Addr().String()}
	}
	box, err := newSandbox(ctx, cfg, stepAllow, log)
	if err != nil {
		return fail(err)
	}
	s := &Server{cfg: cfg, log: log, clock: clock, store: st, identity: who, accounts: svc, apps: appSvc, clients: clientSvc, audit: auditLog, registry: registry}
	if demoSrv != nil {
		s.demoLn, s.demoAPI = demoLn, demoSrv.APIHandler()
	}
	actionSvc := actions.New(actions.Options{Apps: appSvc, Accounts: svc, HTTP: client, Audit: auditLog, Clock: clock, Log: log})
	wf := workflows.New(workflows.Options{Store: st, Accounts: svc, Apps: appSvc, Clock: clock, Log: log, HTTP: client, Sandbox: box, Audit: auditLog, Actions: actionSvc})
	s.workflows = wf
	// A document that does not build, or that the reference page cannot
	// read, is a defect of this build: say so now.
	document, err := api.OpenAPIDocument()
	if err != nil {
		return fail(err)
	}
	reference, err := web.NewAPIReference(document, api.OpenAPIPath)
	if err != nil {
		return fail(err)
	}
	apiHandler := api.New(svc, connSvc, appSvc, clientSvc, wf, who, clock, log, redirectURI)
	apiHandler.SetPublicURL(cfg.PublicURL)
	s.apiRoutes = apiHandler.Routes()
	auditSvc := audit.NewService(st, auditLog, clock)
	apiHandler.SetAudit(auditSvc)
	hooks, err := newWebhooks(cfg, st, ring, clock, log)
	if err != nil {
		return fail(err)
	}
	s.webhooks = hooks
	endUsers := endusers.New(endusers.Options{
		Store: st, Accounts: svc, Apps: appSvc, Users: who, Connecting: connSvc, Webhooks: hooks, Audit: auditLog, Clock: clock, Log: log,
		PublicURL: cfg.PublicURL, TokenTTL: cfg.ConnectTokenTTL,
	})
	connSvc.SetTokens(endUsers)
	apiHandler.SetEndUsers(endUsers)
	apiHandler.SetWebhooks(hooks)
	apiHandler.SetActions(actionSvc)
	apiHandler.SetProxy(proxy.New(proxy.Options{Accounts: svc, Client: client, Audit: auditLog, Clock: clock, Log: log}))
	// cfg.PublicURL has no trailing slash: Validate trims it.
	mcpAuth = mcpauth.New(mcpauth.Options{Store: st, Users: who, Ring: ring, Audit: auditLog, PublicURL: cfg.PublicURL,
		Resource: cfg.PublicURL + mcpserver.Path, Clock: clock, Log: log, TokenRate: opt.MCPTokenRate, TokenBurst: opt.MCPTokenBurst})
	apiHandler.SetMCPAuth(mcpAuth)
	agents := mcpserver.New(mcpserver.Options{
		Actions: actionSvc, Accounts: svc, Identity: who, EndUsers: endUsers, OAuth: mcpAuth, PublicURL: cfg.PublicURL, Clock: clock, Log: log,
	})
	s.handler = s.routes(apiHandler, agents, demoSrv, web.New(web.Options{
		Workflows: wf, Identity: who, Audit: auditSvc, EndUsers: endUsers, Actions: actionSvc, Webhooks: hooks,
		Accounts: svc, Connecting: connSvc, Apps: appSvc, Clients: clientSvc, Clock: clock, Log: log, PublicURL: cfg.PublicURL, AppOrigins: cfg.AppOrigins,
		MCPAuth:      mcpAuth,
		APIReference: reference,
	}))
	log.InfoContext(ctx, "catalog loaded", "apps", cat.Len())
	return s, nil
}

// newSandbox sets up the workflow steps' sandbox, and says at start what
// it could not do. allow adds to the operator's step_network_allow.
func newSandbox(ctx context.Context, cfg config.Config, allow []string, log *slog.Logger) (*sandbox.Sandbox, error) {
	allow = append(slices.Clip(cfg.StepNetworkAllow), allow...)
	box, err := sandbox.New(sandbox.Config{Allow: allow, Memory: cfg.StepMemory,
		Processes: cfg.StepProcesses, Unsandboxed: cfg.StepsUnsandboxed})
	if err != nil {
		return nil, err
	}
	switch {
	case box.Unsandboxed():
		log.WarnContext(ctx, "steps_unsandboxed is on: code and command steps run as this server's user and can read its files, its key and its database; use it only on a single-user machine")
	case box.Available() != nil:
		log.WarnContext(ctx, "code and command steps will refuse to run", "reason", box.Available().Error())
	}
	return box, nil
}

// providerClient is the one guarded client every request for an app goes
// through; the operator's app_origins are the only addresses it may reach
// outside the public internet.
func providerClient(cfg config.Config) (*http.Client, error) {
	o, err := providerOptions(cfg)
	if err != nil {
		return nil, err
	}
	return outbound.New(o), nil
}

// providerOptions are the guarded client's exceptions: the app_origins,
// and with --demo this server's own address for the demo's paths alone.
func providerOptions(cfg config.Config) (outbound.Options, error) {
	o := outbound.Options{Timeout: cfg.ProviderTimeout}
	for slug, origin := range cfg.AppOrigins {
		hp, err := outbound.Origin(origin)
		if err != nil {
			return o, fmt.Errorf("app_origins: %s: %w", slug, err)
		}
		if cfg.Demo && slug == demo.Slug {
			continue // added below, narrower
		}
		o.Allow = append(o.Allow, hp)
	}
	if cfg.Demo {
		hp, err := outbound.Origin(demoOrigin(cfg))
		if err != nil {
			return o, fmt.Errorf("demo: %w", err)
		}
		o.Scoped = append(o.Scoped, outbound.Scoped{HostPort: hp, Paths: demo.ProviderPaths})
	}
	return o, nil
}

// WebhookInterval is how often the deliverer looks for due deliveries,
// unless webhook_interval says otherwise.
const WebhookInterval = 5 * time.Second

// newWebhooks is the webhooks service. Its deliveries go through a guarded
// client of their own, which trusts the webhook_origins alone: an app's
// gateway is no place to send a workspace's events.
func newWebhooks(cfg config.Config, st store.Store, ring *seal.Ring, clock clockwork.Clock, log *slog.Logger) (*webhooks.Service, error) {
	var allow []string
	for _, origin := range cfg.WebhookOrigins {
		hp, err := outbound.Origin(origin)
		if err != nil {
			return nil, fmt.Errorf("webhook_origins: %w", err)
		}
		allow = append(allow, hp)
	}
	client := outbound.New(outbound.Options{Allow: allow, Timeout: 15 * time.Second})
	return webhooks.New(webhooks.Options{Store: st, Ring: ring, Client: client, Trusted: cfg.WebhookOrigins, Clock: clock, Log: log,
		RetryBase: cfg.WebhookRetry}), nil
}

// Webhooks is the webhooks service.
func (s *Server) Webhooks() *webhooks.Service { return s.webhooks }

// loadRing reads the master key(s) from the environment or the key file.
// The log says where a new key file went, never what is in it.
func loadRing(cfg config.Config, log *slog.Logger) (*seal.Ring, error) {
	var keys [][]byte
	var err error
	if cfg.MasterKey != "" {
		if keys, err = seal.ParseKeys(cfg.MasterKey); err != nil {
			return nil, fmt.Errorf("LATCHKEY_MASTER_KEY: %w", err)
		}
	} else {
		var created bool
		if keys, created, err = seal.LoadOrCreateKeyFile(cfg.MasterKeyFile); err != nil {
			return nil, err
		}
		if created {
			log.Warn("created a new master key file; back it up: without it the stored credentials cannot be read", "file", cfg.MasterKeyFile)
		}
	}
	return seal.NewRing(keys...)
}

// Handler is the server's whole HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Accounts is the accounts service.
func (s *Server) Accounts() *accounts.Service { return s.accounts }

// Identity is the identity service: users, sessions, API tokens.
func (s *Server) Identity() *identity.Service { return s.identity }

// Clients is the OAuth clients service.
func (s *Server) Clients() *clients.Service { return s.clients }

// Workflows is the workflows service.
func (s *Server) Workflows() *workflows.Service { return s.workflows }

// APIRoutes lists the API's authenticated route patterns.
func (s *Server) APIRoutes() []string { return s.apiRoutes }

// Store is the server's store.
func (s *Server) Store() store.Store { return s.store }

// Serve answers on ln until ctx is done, then shuts down gracefully: it
// stops accepting, lets requests in flight finish within the shutdown
// timeout, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if s.demoLn != nil {
		defer s.serveDemoAPI(ctx)()
	}
	if s.cfg.PprofListen != "" {
		stopPprof, err := s.servePprof(ctx)
		if err != nil {
			_ = srv.Close()
			return err
		}
		defer stopPprof()
	}
	refreshDone := make(chan struct{})
	// rctx runs the background work: the refresher and the purger.
	rctx, stopRefresher := context.WithCancel(ctx)
	defer func() { stopRefresher(); <-refreshDone }()
	go func() {
		defer close(refreshDone)
		if s.cfg.RefreshInterval > 0 {
			r := &refresher.Refresher{Renewer: s.accounts, Clock: s.clock, Log: s.log, Interval: s.cfg.RefreshInterval, Concurrency: s.cfg.RefreshConcurrency}
			r.Run(rctx)
		}
	}()
	hooksDone := make(chan struct{})
	defer func() { stopRefresher(); <-hooksDone }()
	go func() {
		defer close(hooksDone)
		interval := s.cfg.WebhookInterval
		if interval <= 0 {
			interval = WebhookInterval
		}
		s.webhooks.Run(rctx, interval)
	}()
	purgeDone := make(chan struct{})
	defer func() { stopRefresher(); <-purgeDone }()
	go func() {
		defer close(purgeDone)
		(&purger.Purger{Store: s.store, Clock: s.clock, Log: s.log}).Run(rctx)
	}()
	s.log.Info("latchkey is serving", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close writes what is queued and releases the store.
func (s *Server) Close() error {
	if s.demoLn != nil {
		// Already closed when Serve ran; a Server never served has it open.
		_ = s.demoLn.Close()
	}
	s.accounts.Close()
	s.audit.Close()
	return s.store.Close()
}

// Run is `latchkey serve`: New, listen on the configured address, Serve.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	s, err := New(ctx, cfg, log, Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("LATCHKEY_LISTEN: %w", err)
	}
	return s.Serve(ctx, ln)
}

func (s *Server) routes(apiHandler http.Handler, agents *mcpserver.Server, demoSrv *demo.Server, pages *web.Handler) http.Handler {
	mux := http.NewServeMux()
	if demoSrv != nil {
		demoSrv.Register(mux)
	}
	mux.Handle("/v1/", apiHandler)
	agents.Register(mux)
	pages.Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.store.Ping(ctx); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("store unavailable\n"))
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	mux.Handle("GET "+api.OpenAPIPath, api.OpenAPIHandler())
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	return s.middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Proxied paths reach the API as sent: the mux would clean ".."
		// and "//" away with a redirect, and the proxy refuses them.
		if api.IsProxyPath(r) {
			apiHandler.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}
