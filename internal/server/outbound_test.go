package server_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// silent is a loopback listener that must see nothing: it counts the
// connections made to it (any request needs one) and closes them.
type silent struct {
	net.Listener
	conns atomic.Int64
}

func newSilent(t *testing.T) *silent {
	s := &silent{Listener: servertest.Listen(t)}
	go func() {
		for {
			c, err := s.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			c.Close()
		}
	}()
	return s
}

func (s *silent) host() string { return s.Addr().String() }

func (s *silent) port() string {
	_, p, _ := net.SplitHostPort(s.host())
	return p
}

// assertUntouched fails when the listener saw a connection.
func (s *silent) assertUntouched(t *testing.T) {
	t.Helper()
	if n := s.conns.Load(); n != 0 {
		t.Fatalf("the listener that is not in app_origins saw %d connections", n)
	}
}

// stubProvider stands in for SendGrid with the handlers given; paths not
// given answer as the real one does for a good key.
func stubProvider(t *testing.T, handlers map[string]http.HandlerFunc) *httptest.Server {
	all := map[string]http.HandlerFunc{
		"GET /v3/scopes": func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"scopes":["mail.send"]}`)) },
		"GET /v3/user/profile": func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(`{"first_name":"Ada","last_name":"Lovelace"}`))
		},
	}
	for pattern, h := range handlers {
		all[pattern] = h
	}
	mux := http.NewServeMux()
	for pattern, h := range all {
		mux.HandleFunc(pattern, h)
	}
	p := httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// redirectTo answers every request with a redirect to the target, with a
// path and query that must not show up anywhere.
func redirectTo(target *silent, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+target.host()+"/internal/admin?token=INTERNAL-ONLY-SECRET", status)
	}
}

// assertRedirectMessage checks that a message reports the redirect by its
// target's host and keeps the target's path and query out.
func assertRedirectMessage(t *testing.T, what, msg string, target *silent) {
	t.Helper()
	if !strings.Contains(msg, "redirect to "+target.host()) || !strings.Contains(msg, "does not follow redirects") {
		t.Errorf("%s %q does not say it was a redirect to %s that was not followed", what, msg, target.host())
	}
	if strings.Contains(msg, "INTERNAL-ONLY-SECRET") || strings.Contains(msg, "/internal/admin") {
		t.Errorf("%s %q repeats the redirect target's path or query", what, msg)
	}
}

func startWithSendGrid(t *testing.T, provider *httptest.Server) *servertest.Instance {
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": provider.URL}
	return servertest.Start(t, cfg, server.Options{})
}

// A provider answering the key test with a redirect to an internal address:
// nothing is saved, the error says redirect, and the target sees nothing.
func TestKeyTestRedirectIsNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			target := newSilent(t)
			inst := startWithSendGrid(t, stubProvider(t, map[string]http.HandlerFunc{"GET /v3/scopes": redirectTo(target, status)}))
			api, ctx := inst.Client(), context.Background()

			_, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
			if !client.IsProblem(err, "provider-redirect") {
				t.Fatalf("create: %v, want a provider-redirect problem", err)
			}
			assertRedirectMessage(t, "the problem", err.Error(), target)
			if list, err := api.ListAccounts(ctx, client.ListOptions{}); err != nil || len(list.Data) != 0 {
				t.Fatalf("accounts after a redirected test: %+v, %v", list.Data, err)
			}
			target.assertUntouched(t)
			assertNoSecrets(t, inst.Logs.String(), goodKey, "INTERNAL-ONLY-SECRET")
		})
	}
}

// A redirected identity request leaves the account unlabelled (a failed
// identity request does not fail the connection) and reaches nothing.
func TestIdentityRedirectIsNotFollowed(t *testing.T) {
	target := newSilent(t)
	inst := startWithSendGrid(t, stubProvider(t, map[string]http.HandlerFunc{"GET /v3/user/profile": redirectTo(target, http.StatusFound)}))
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	if acc.IdentityLabel != "" {
		t.Errorf("identity label %q, want none", acc.IdentityLabel)
	}
	target.assertUntouched(t)
	logs := inst.Logs.String()
	if !strings.Contains(logs, "identity request failed") || !strings.Contains(logs, "redirect to "+target.host()) {
		t.Errorf("the log does not say the identity request was redirected:\n%s", logs)
	}
	assertNoSecrets(t, logs, goodKey, "INTERNAL-ONLY-SECRET")
}

// An http step whose answer is a redirect fails, saying so, and the
// credentials go nowhere else.
func TestHTTPStepRedirectIsNotFollowed(t *testing.T) {
	target := newSilent(t)
	inst := startWithSendGrid(t, stubProvider(t, map[string]http.HandlerFunc{"GET /v3/templates": redirectTo(target, http.StatusFound)}))
	api, ctx := inst.Client(), context.Background()
	acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	wf, err := api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "templates", Steps: []client.WorkflowStep{
		{Key: "list", Kind: "http", Accounts: map[string]string{"sendgrid": acc.ID}, HTTP: &client.HTTPStep{App: "sendgrid", Path: "/v3/templates"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "failed" || len(run.Steps) != 1 || run.Steps[0].Status != "failed" {
		t.Fatalf("run %s: %+v", run.Status, run.Steps)
	}
	assertRedirectMessage(t, "the step error", run.Steps[0].Error, target)
	if strings.Contains(string(run.Steps[0].Result), "INTERNAL-ONLY-SECRET") {
		t.Errorf("the step result repeats the redirect target: %s", run.Steps[0].Result)
	}
	target.assertUntouched(t)
}

// A token endpoint answering with a redirect, at the code exchange and at a
// refresh, and a revocation endpoint doing the same: the client secret and
// the code or tokens go nowhere else, and the connection, the account or
// the deletion says why it failed.
func TestTokenRedirectIsNotFollowed(t *testing.T) {
	idp := newIdP(t)
	target := newSilent(t)
	idpURL, _ := url.Parse(idp.URL)
	toIdP := httputil.NewSingleHostReverseProxy(idpURL)
	var redirect atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.URL.Path == "/token" || r.URL.Path == "/revoke") && redirect.Load() {
			redirectTo(target, http.StatusTemporaryRedirect)(w, r)
			return
		}
		toIdP.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	f := &oauthFixture{idp: idp, clock: clockwork.NewFakeClockAt(time.Now())}
	f.cfg = oauthConfig(t, "", idp)
	f.cfg.AppOrigins["testidp"] = front.URL
	f.inst = servertest.Start(t, f.cfg, server.Options{Clock: f.clock})
	f.api = f.inst.Client()
	ctx := context.Background()
	if _, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
		t.Fatal(err)
	}

	// The code exchange.
	redirect.Store(true)
	started, err := f.api.Connect(ctx, client.Connect{App: "testidp"})
	if err != nil {
		t.Fatal(err)
	}
	approve(t, started)
	conn, err := f.api.GetConnection(ctx, started.ID)
	if err != nil || conn.Status != "failed" {
		t.Fatalf("connection: %+v, %v", conn, err)
	}
	assertRedirectMessage(t, "the connection error", conn.Error, target)
	if list, _ := f.api.ListAccounts(ctx, client.ListOptions{}); len(list.Data) != 0 {
		t.Fatalf("an account was saved: %+v", list.Data)
	}
	target.assertUntouched(t)

	// A refresh.
	redirect.Store(false)
	acc := f.connect(t, client.Connect{App: "testidp"})
	redirect.Store(true)
	f.clock.Advance(2 * time.Hour)
	if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "refresh-unavailable") {
		t.Fatalf("read with a redirected refresh: %v", err)
	}
	got, err := f.api.GetAccount(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertRedirectMessage(t, "the account's status error", got.StatusError, target)
	target.assertUntouched(t)

	del, err := f.api.DeleteAndRevoke(ctx, acc.ID)
	if err != nil || del.Revocation != "failed" {
		t.Fatalf("delete with a redirected revocation: %+v, %v", del, err)
	}
	assertRedirectMessage(t, "the revocation detail", del.RevocationDetail, target)
	target.assertUntouched(t)
	assertNoSecrets(t, f.inst.Logs.String(), idp.ClientSecret(), "INTERNAL-ONLY-SECRET")
}

// A provider answering with pages of text: what reaches the error, the
// log and the label is a few hundred bytes of plain, valid text.
func TestProviderTextIsClipped(t *testing.T) {
	// Multi-byte runes, line breaks and a bell, so a byte cut or a kept
	// control character shows.
	flood := strings.Repeat("界 INTERNAL-ONLY-SECRET\n\x07", 30000)
	body, _ := json.Marshal(map[string]any{"errors": []map[string]string{{"message": flood}}})
	name, _ := json.Marshal(map[string]string{"first_name": flood})
	var refuse atomic.Bool
	refuse.Store(true)
	inst := startWithSendGrid(t, stubProvider(t, map[string]http.HandlerFunc{
		"GET /v3/scopes": func(w http.ResponseWriter, r *http.Request) {
			if refuse.Load() {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write(body)
				return
			}
			_, _ = w.Write([]byte(`{}`))
		},
		"GET /v3/user/profile": func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(name) },
	}))
	api, ctx := inst.Client(), context.Background()

	plain := func(what, s string, max int) {
		t.Helper()
		if len(s) > max {
			t.Errorf("%s is %d bytes, want at most %d", what, len(s), max)
		}
		if !strings.Contains(s, "INTERNAL-ONLY-SECRET") {
			t.Errorf("%s %q lost the provider's text altogether", what, s)
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
			t.Errorf("%s %q was cut inside a character", what, s)
		}
		if strings.ContainsFunc(s, unicode.IsControl) {
			t.Errorf("%s %q holds control characters", what, s)
		}
	}

	_, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
	var p *client.Problem
	if !asProblem(err, &p) || p.ProviderStatus != http.StatusUnauthorized {
		t.Fatalf("create: %v, want the provider's 401", err)
	}
	plain("the problem detail", p.Detail, 400)
	if list, _ := api.ListAccounts(ctx, client.ListOptions{}); len(list.Data) != 0 {
		t.Fatalf("an account was saved: %+v", list.Data)
	}

	refuse.Store(false)
	acc, err := api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	plain("the identity label", acc.IdentityLabel, 300)

	for _, line := range strings.Split(inst.Logs.String(), "\n") {
		if strings.Count(line, "INTERNAL-ONLY-SECRET") > 40 {
			t.Fatalf("a log line carries the provider's flood (%d bytes)", len(line))
		}
	}
}

// Custom apps naming an internal address, in any spelling, are refused
// when saved and nothing is stored; a public name is accepted.
func TestCustomAppAddressesRefusedAtSave(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	api, ctx := inst.Client(), context.Background()
	withURL := func(from, to string) string { return strings.Replace(customApp, from, to, 1) }
	for name, tt := range map[string]struct{ def, field string }{
		"http loopback":       {withURL("https://api.acme.example", "http://127.0.0.1"), "base_url"},
		"metadata":            {withURL("https://api.acme.example", "https://169.254.169.254"), "base_url"},
		"mapped loopback":     {withURL("https://api.acme.example", "https://[::ffff:7f00:1]"), "base_url"},
		"decimal loopback":    {withURL("https://api.acme.example", "https://2130706433"), "base_url"},
		"short loopback":      {withURL("https://api.acme.example", "https://127.1"), "base_url"},
		"hex loopback, test":  {withURL("url: /v3/scopes", "url: https://0x7f000001/v3/scopes"), "test.url"},
		"private, identity":   {withURL("url: /v3/user/profile", "url: https://10.0.0.5/me"), "identity.url"},
		"v6 loopback w/ port": {withURL("https://api.acme.example", "https://[::1]:8443"), "base_url"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := api.SetCustomApp(ctx, "acme_crm", []byte(tt.def))
			if !client.IsProblem(err, "validation") || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("got %v, want a validation problem naming %s", err, tt.field)
			}
		})
	}
	if list, err := api.ListCustomApps(ctx); err != nil || len(list) != 0 {
		t.Fatalf("custom apps after refusals: %+v, %v", list, err)
	}
	if _, err := api.SetCustomApp(ctx, "acme_crm", []byte(customApp)); err != nil {
		t.Fatalf("an https app on a public name: %v", err)
	}
	if list, _ := api.ListCustomApps(ctx); len(list) != 1 {
		t.Fatalf("custom apps: %+v", list)
	}
}

// An app whose URL passes every check at save, a name, but resolves to a
// loopback address the operator did not name, is refused when dialled; and
// an address stored past the save check is refused when used. Neither
// listener sees anything.
func TestInternalAddressesRefusedWhenUsed(t *testing.T) {
	byName, byAddress := newSilent(t), newSilent(t)
	cfg := servertest.Config(t, "")
	// An operator's entry, loaded at start: a name resolving to loopback.
	servertest.WriteApp(t, &cfg, "acme_local", strings.NewReplacer(
		"acme_crm", "acme_local", "Acme CRM", "Acme Local", "https://api.acme.example", "https://localhost:"+byName.port(),
	).Replace(customApp))
	inst := servertest.Start(t, cfg, server.Options{})
	api, ctx := inst.Client(), context.Background()

	// The same definition is also accepted as a workspace's own.
	if _, err := api.SetCustomApp(ctx, "acme_mine", []byte(strings.NewReplacer(
		"acme_crm", "acme_mine", "Acme CRM", "Acme Mine", "https://api.acme.example", "https://localhost:"+byName.port(),
	).Replace(customApp))); err != nil {
		t.Fatalf("a custom app on a name: %v", err)
	}
	for _, slug := range []string{"acme_local", "acme_mine"} {
		_, err := api.CreateAccount(ctx, client.CreateAccount{App: slug, Fields: map[string]string{"api_key": goodKey}})
		if !client.IsProblem(err, "provider-unreachable") {
			t.Fatalf("%s: %v, want provider-unreachable", slug, err)
		}
		if msg := err.Error(); !strings.Contains(msg, "localhost resolves to") || !strings.Contains(msg, "loopback") {
			t.Errorf("%s: %q does not say where localhost resolves and why that is refused", slug, msg)
		}
	}
	byName.assertUntouched(t)

	// Written straight to the store, past the save check.
	me, err := api.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	def := strings.NewReplacer("acme_crm", "acme_direct", "Acme CRM", "Acme Direct", "https://api.acme.example", "https://"+byAddress.host()).Replace(customApp)
	if err := inst.Store().PutCustomApp(ctx, store.CustomApp{WorkspaceID: me.WorkspaceID, Slug: "acme_direct", Definition: []byte(def), CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	_, err = api.CreateAccount(ctx, client.CreateAccount{App: "acme_direct", Fields: map[string]string{"api_key": goodKey}})
	if !client.IsProblem(err, "validation") || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("an account with a stored loopback app: %v, want a validation problem naming loopback", err)
	}
	if list, _ := api.ListAccounts(ctx, client.ListOptions{}); len(list.Data) != 0 {
		t.Fatalf("accounts were saved: %+v", list.Data)
	}
	byAddress.assertUntouched(t)
}
