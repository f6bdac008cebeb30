package endusers_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
	"github.com/latchkeyhq/latchkey/internal/validation"
)

var backends = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store { return pgtest.Open(t) }},
}

type fixture struct {
	svc   *endusers.Service
	accts *accounts.Service
	st    store.Store
	clock *clockwork.FakeClock
	who   map[string]identity.Actor
}

const publicURL = "https://latchkey.example/"

func newFixture(t *testing.T, open func(t *testing.T) store.Store) fixture {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	k, _ := seal.GenerateKey()
	ring, _ := seal.NewRing(k)
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, ws := range []string{"wsp_a", "wsp_b"} {
		if err := st.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: ws, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	connect := []string{identity.ScopeConnectWrite, identity.ScopeAccountsRead, identity.ScopeAccountsWrite}
	who := map[string]identity.Actor{
		"backend":   {WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner, Scopes: connect},
		"session":   {WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner},
		"reader":    {WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner, Scopes: []string{identity.ScopeAccountsRead, identity.ScopeAccountsWrite}},
		"member":    {WorkspaceID: "wsp_a", UserID: "usr_member", Role: identity.RoleMember, Scopes: connect},
		"outsider":  {WorkspaceID: "wsp_b", UserID: "usr_out", Role: identity.RoleOwner, Scopes: connect},
		"limited":   {WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner, Scopes: connect, Apps: []string{"openai"}},
		"allscopes": {WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner, Scopes: []string{identity.ScopeAll}},
	}
	for _, u := range []struct{ id, ws string }{{"usr_owner", "wsp_a"}, {"usr_member", "wsp_a"}, {"usr_out", "wsp_b"}} {
		if err := st.CreateUser(ctx, store.User{ID: u.id, WorkspaceID: u.ws, Email: u.id + "@x", Role: store.RoleOwner, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	clock, log := clockwork.NewFakeClockAt(now), slog.New(slog.NewTextHandler(io.Discard, nil))
	auditLog := audit.New(st, log)
	t.Cleanup(auditLog.Close)
	appSvc := apps.New(apps.Options{Store: st, Catalog: cat, Audit: auditLog, Clock: clock, Log: log})
	clientSvc := clients.New(clients.Options{Store: st, Apps: appSvc, Operators: identity.New(identity.Options{Store: st}), Ring: ring, Audit: auditLog, Clock: clock, Log: log})
	acc := accounts.New(accounts.Options{Store: st, Apps: appSvc, Clients: clientSvc, Audit: auditLog, Ring: ring, Clock: clock, Log: log})
	svc := endusers.New(endusers.Options{Store: st, Accounts: acc, Apps: appSvc, Audit: auditLog, Clock: clock, Log: log, PublicURL: publicURL})
	return fixture{svc: svc, accts: acc, st: st, clock: clock, who: who}
}

func forEachBackend(t *testing.T, fn func(t *testing.T, f fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, newFixture(t, b.open)) })
	}
}

// stored counts every connect token of every workspace.
func stored(t *testing.T, f fixture) int {
	t.Helper()
	n, err := f.st.DeleteExpiredConnectTokens(context.Background(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMintRefusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		ok := endusers.MintInput{ExternalUserID: "customer-42", Apps: []string{"slack"}}
		with := func(change func(*endusers.MintInput)) endusers.MintInput {
			in := ok
			change(&in)
			return in
		}
		for _, tc := range []struct {
			name      string
			actor     string
			in        endusers.MintInput
			forbidden bool
			field     string
		}{
			{"a session, not a token", "session", ok, true, ""},
			{"a token without connect:write", "reader", ok, true, ""},
			{"a member's token", "member", ok, true, ""},
			{"an app beyond the token's limits", "limited", ok, true, ""},
			{"no end user", "backend", with(func(in *endusers.MintInput) { in.ExternalUserID = "" }), false, "external_user_id"},
			{"an end user id too long", "backend", with(func(in *endusers.MintInput) { in.ExternalUserID = strings.Repeat("x", 251) }), false, "external_user_id"},
			{"a control character", "backend", with(func(in *endusers.MintInput) { in.ExternalUserID = "a\nb" }), false, "external_user_id"},
			{"an unknown app", "backend", with(func(in *endusers.MintInput) { in.Apps = []string{"no-such-app"} }), false, "apps"},
			{"a limited token naming no app", "limited", with(func(in *endusers.MintInput) { in.Apps = nil }), false, "apps"},
			{"a malformed tag", "backend", with(func(in *endusers.MintInput) { in.Tags = map[string]string{"o=rg": "acme"} }), false, "tags"},
			{"an empty tag value", "backend", with(func(in *endusers.MintInput) { in.Tags = map[string]string{"org": ""} }), false, "tags"},
			{"a plain http redirect", "backend", with(func(in *endusers.MintInput) { in.SuccessRedirectURI = "http://app.example/ok" }), false, "success_redirect_uri"},
			{"a relative redirect", "backend", with(func(in *endusers.MintInput) { in.ErrorRedirectURI = "/err" }), false, "error_redirect_uri"},
			{"a redirect with a password", "backend", with(func(in *endusers.MintInput) { in.SuccessRedirectURI = "https://u:p@app.example/ok" }), false, "success_redirect_uri"},
			{"a javascript webhook", "backend", with(func(in *endusers.MintInput) { in.WebhookURL = "javascript:alert(1)" }), false, "webhook_url"},
			{"an origin with a path", "backend", with(func(in *endusers.MintInput) { in.AllowedOrigins = []string{"https://app.example/page"} }), false, "allowed_origins"},
			{"an origin without a scheme", "backend", with(func(in *endusers.MintInput) { in.AllowedOrigins = []string{"app.example"} }), false, "allowed_origins"},
			{"a plain http origin", "backend", with(func(in *endusers.MintInput) { in.AllowedOrigins = []string{"http://app.example"} }), false, "allowed_origins"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := f.svc.Mint(ctx, f.who[tc.actor], tc.in)
				if tc.forbidden {
					if !errors.Is(err, identity.ErrForbidden) {
						t.Fatalf("Mint: %v, want forbidden", err)
					}
				} else if ve, isVE := errors.AsType[*validation.Error](err); !isVE || ve.Field != tc.field {
					t.Fatalf("Mint: %v, want a validation error about %s", err, tc.field)
				}
				if n := stored(t, f); n != 0 {
					t.Errorf("a refused mint stored %d tokens", n)
				}
			})
		}
		// Loopback http is allowed, for a developer's machine.
		if _, err := f.svc.Mint(ctx, f.who["backend"], with(func(in *endusers.MintInput) {
			in.SuccessRedirectURI, in.AllowedOrigins = "http://127.0.0.1:8080/ok", []string{"http://[::1]:3000"}
		})); err != nil {
			t.Errorf("loopback http: %v", err)
		}
	})
}

func TestConnectTokenSingleUseAndExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		in := endusers.MintInput{ExternalUserID: "customer-42", Apps: []string{"slack", "slack", "github"}, Tags: map[string]string{"org": "acme"},
			SuccessRedirectURI: "https://app.example/ok", AllowedOrigins: []string{"https://App.Example"}}
		m, err := f.svc.Mint(ctx, f.who["backend"], in)
		if err != nil {
			t.Fatal(err)
		}
		link, err := url.Parse(m.LinkURL.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if got := link.Scheme + "://" + link.Host + link.Path; got != "https://latchkey.example"+endusers.LinkPath || link.Query().Get("token") != m.Secret.Reveal() {
			t.Errorf("link %s is not the public URL's %s with the token", link.Redacted(), endusers.LinkPath)
		}
		if !strings.HasPrefix(m.Secret.Reveal(), endusers.TokenPrefix) {
			t.Errorf("token does not start with %s", endusers.TokenPrefix)
		}
		if want := f.clock.Now().Add(endusers.DefaultTokenTTL); !m.Token.ExpiresAt.Equal(want) {
			t.Errorf("expires at %v, want %v", m.Token.ExpiresAt, want)
		}
		if got := strings.Join(m.Token.Apps, " "); got != "slack github" {
			t.Errorf("apps %q, want slack github once each", got)
		}
		if got := strings.Join(m.Token.AllowedOrigins, " "); got != "https://app.example" {
			t.Errorf("origins %q, want the origin as browsers send it", got)
		}

		// Another workspace sees nothing of it.
		if _, err := f.svc.Token(ctx, f.who["outsider"], m.Token.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another workspace's Token: %v, want not found", err)
		}
		if got, err := f.svc.Token(ctx, f.who["backend"], m.Token.ID); err != nil || got.ExternalUserID != "customer-42" {
			t.Errorf("Token: %+v, %v", got, err)
		}

		got, err := f.svc.Lookup(ctx, m.Secret.Reveal())
		if err != nil || got.ID != m.Token.ID || got.Tags["org"] != "acme" {
			t.Fatalf("Lookup: %+v, %v", got, err)
		}
		if _, err := f.svc.Lookup(ctx, m.Secret.Reveal()+"x"); !errors.Is(err, endusers.ErrInvalidToken) {
			t.Errorf("Lookup of another token: %v", err)
		}
		if _, err := f.svc.Use(ctx, m.Secret.Reveal()); err != nil {
			t.Fatalf("first Use: %v", err)
		}
		if _, err := f.svc.Use(ctx, m.Secret.Reveal()); !errors.Is(err, endusers.ErrTokenUsed) {
			t.Errorf("second Use: %v, want used", err)
		}
		if _, err := f.svc.Lookup(ctx, m.Secret.Reveal()); !errors.Is(err, endusers.ErrTokenUsed) {
			t.Errorf("Lookup after use: %v, want used", err)
		}

		// Expiry, on the fake clock.
		m2, err := f.svc.Mint(ctx, f.who["allscopes"], endusers.MintInput{ExternalUserID: "customer-43"})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(endusers.DefaultTokenTTL - time.Second)
		if _, err := f.svc.Lookup(ctx, m2.Secret.Reveal()); err != nil {
			t.Errorf("Lookup a second before expiry: %v", err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.svc.Lookup(ctx, m2.Secret.Reveal()); !errors.Is(err, endusers.ErrTokenExpired) {
			t.Errorf("Lookup at expiry: %v, want expired", err)
		}
		if _, err := f.svc.Use(ctx, m2.Secret.Reveal()); !errors.Is(err, endusers.ErrTokenExpired) {
			t.Errorf("Use at expiry: %v, want expired", err)
		}
	})
}

func TestConnectTokenUseRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		m, err := f.svc.Mint(ctx, f.who["backend"], endusers.MintInput{ExternalUserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			wins int
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Use(ctx, m.Secret.Reveal())
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, endusers.ErrTokenUsed) {
					t.Errorf("Use: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Errorf("%d of %d racing uses won, want 1", wins, n)
		}
	})
}

func TestEndUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, f fixture) {
		ctx := context.Background()
		backend := f.who["backend"]
		create := func(actor identity.Actor, user string) string {
			a, err := f.accts.Create(ctx, actor, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-test"}, SkipTest: true,
				ExternalUserID: user, Tags: map[string]string{"org": "acme"}})
			if err != nil {
				t.Fatal(err)
			}
			return a.ID
		}
		a1, a2 := create(backend, "customer-42"), create(backend, "customer-42")
		other := create(backend, "customer-43")
		outsiders := create(f.who["outsider"], "customer-42")

		u, err := f.svc.Get(ctx, backend, "customer-42")
		if err != nil || len(u.Accounts) != 2 || u.Accounts[0].ID != a1 || u.Accounts[1].ID != a2 {
			t.Fatalf("Get: %+v, %v; want %s and %s", u, err, a1, a2)
		}
		if _, err := f.svc.Get(ctx, backend, "nobody"); !errors.Is(err, endusers.ErrNoEndUser) {
			t.Errorf("Get of nobody: %v", err)
		}
		if _, err := f.svc.Delete(ctx, f.who["reader"], "customer-42"); err != nil {
			// reader has accounts:write; it may delete.
			t.Fatalf("Delete: %v", err)
		}
		if _, err := f.svc.Get(ctx, backend, "customer-42"); !errors.Is(err, endusers.ErrNoEndUser) {
			t.Errorf("Get after Delete: %v, want no end user", err)
		}
		if _, err := f.accts.Get(ctx, backend, other); err != nil {
			t.Errorf("another end user's account went too: %v", err)
		}
		// The other workspace's customer-42 is another person, untouched.
		if u, err := f.svc.Get(ctx, f.who["outsider"], "customer-42"); err != nil || len(u.Accounts) != 1 || u.Accounts[0].ID != outsiders {
			t.Errorf("the other workspace's end user: %+v, %v", u, err)
		}
	})
}
