// Package servertest starts real Latchkey servers for tests: on SQLite in
// a temporary folder, or on an isolated PostgreSQL schema, listening on
// loopback, with the admin token at hand.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
)

// Backend is a store a test server can run on.
type Backend struct {
	Name string
	// DatabaseURL returns the database for one test: "" for SQLite in the
	// data folder, or a PostgreSQL URL pinned to a fresh schema.
	DatabaseURL func(t testing.TB) string
}

// Backends are SQLite, always, and PostgreSQL, whose tests skip (or fail,
// when it is required) without LATCHKEY_TEST_POSTGRES_URL.
var Backends = []Backend{
	{Name: "sqlite", DatabaseURL: func(testing.TB) string { return "" }},
	{Name: "postgres", DatabaseURL: func(t testing.TB) string { return pgtest.URL(t) }},
}

// Config returns a configuration for a test server: a fresh data folder, a
// fresh master key, loopback on a free port.
func Config(t testing.TB, databaseURL string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.DatabaseURL = databaseURL
	k, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg.MasterKey = seal.EncodeKey(k)
	cfg.Listen = "127.0.0.1:0"
	cfg.LogLevel = "debug"
	// Tests that merely run steps run them as plain processes where the
	// sandbox cannot run; the sandbox's own tests skip there instead.
	cfg.StepsUnsandboxed = sandboxtest.Unsandboxed(t)
	return cfg
}

// Instance is a running server.
type Instance struct {
	*server.Server
	Config config.Config
	URL    string
	Token  string
	// Logs holds everything the server logged.
	Logs *LockedBuffer
	stop func()
}

// Client returns an API client with the admin token.
func (i *Instance) Client() *client.Client { return client.New(i.URL, i.Token, nil) }

// Stop shuts the server down and waits for it; tests may call it early
// (to restart), and it runs again harmlessly at cleanup.
func (i *Instance) Stop() { i.stop() }

// Start runs a server with cfg until the test ends, logging everything at
// debug level to the test's log and to Logs.
func Start(t testing.TB, cfg config.Config, opt server.Options) *Instance {
	t.Helper()
	logs := &LockedBuffer{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	inst := StartWith(t, cfg, opt, log)
	inst.Logs = logs
	return inst
}

// StartWith is Start with the caller's logger (a benchmark wants a quiet
// one); Logs stays empty.
func StartWith(t testing.TB, cfg config.Config, opt server.Options, log *slog.Logger) *Instance {
	t.Helper()
	logs := &LockedBuffer{}
	// Listen first, so the public URL (and the OAuth redirect URI) names
	// the real port.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL == "" || strings.HasSuffix(cfg.PublicURL, ":0") {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	cfg.Listen = ln.Addr().String()
	if opt.PasswordCost == 0 {
		// bcrypt at the production cost takes a second a hash under -race.
		opt.PasswordCost = bcrypt.MinCost
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, log, opt)
	if err != nil {
		cancel()
		ln.Close()
		t.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("server did not stop")
		}
		if opt.Store == nil {
			s.Close()
		}
	}
	t.Cleanup(stop)
	token, err := os.ReadFile(cfg.AdminTokenFile())
	if err != nil {
		t.Fatalf("admin token: %v", err)
	}
	return &Instance{Server: s, Config: cfg, URL: "http://" + ln.Addr().String(), Token: strings.TrimSpace(string(token)), Logs: logs, stop: stop}
}

// testWriter sends server logs to the test's log, shown on failure or -v.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// DiscardLogger is a logger that drops everything.
func DiscardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Listen opens a loopback listener closed at the end of the test.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// IdPApp is a catalog entry, slug testidp, for the in-test authorization
// server. Its URLs name a placeholder host; UseIdP sends them to the real
// server through app_origins.
const IdPApp = `slug: testidp
name: Test IdP
categories: [developer-tools]
docs_url: https://idp.example/docs
auth: oauth2
base_url: https://idp.example
oauth2:
  authorize_url: https://idp.example/authorize
  token_url: https://idp.example/token
  revoke_url: https://idp.example/revoke
  default_scopes: [openid, email, offline_access, read]
  optional_scopes: [write]
  client_auth: basic
identity:
  url: /userinfo
  label: '{email}'
`

// NewIdP starts an in-test authorization server that accepts Latchkey's
// callback on any loopback port (RFC 8252).
func NewIdP(t testing.TB) *oauthtest.Server {
	return oauthtest.New(t, oauthtest.Options{RedirectURIs: []string{"http://127.0.0.1/oauth/callback"}})
}

// UseIdP makes cfg know the IdP as the app testidp.
func UseIdP(t testing.TB, cfg *config.Config, idp *oauthtest.Server) {
	t.Helper()
	WriteApp(t, cfg, "testidp", IdPApp)
	if cfg.AppOrigins == nil {
		cfg.AppOrigins = map[string]string{}
	}
	cfg.AppOrigins["testidp"] = idp.URL
}

// WriteApp adds an app definition to cfg's catalog folder, making one if
// cfg has none.
func WriteApp(t testing.TB, cfg *config.Config, slug, definition string) {
	t.Helper()
	if cfg.CatalogDir == "" {
		cfg.CatalogDir = t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(cfg.CatalogDir, slug+".yaml"), []byte(definition), 0o600); err != nil {
		t.Fatal(err)
	}
}
