package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// Secrets of the echoing provider. Each has characters URL escaping
// changes, so the escaped echo differs from the raw one.
const (
	echoClientSecret = "cs/CANARY+1=2"
	echoRefreshToken = "rt/CANARY+3=4"
	echoCode         = "code/CANARY+5=6"
)

// echoApp is a catalog entry for the echoing provider.
const echoApp = `slug: echoidp
name: Echo IdP
categories: [developer-tools]
docs_url: https://echo.example/docs
auth: oauth2
base_url: https://echo.example
oauth2:
  authorize_url: https://echo.example/authorize
  token_url: https://echo.example/token
  default_scopes: [read]
  client_auth: body
`

// echoProvider is an authorization server that repeats what it was sent
// in its errors: the refresh token and the client secret when a refresh
// fails, the code, the PKCE verifier and the client secret when a code
// exchange fails, raw and URL-encoded.
type echoProvider struct {
	*httptest.Server
	failExchange atomic.Bool
}

func newEchoProvider(t *testing.T) *echoProvider {
	p := &echoProvider{}
	fail := func(w http.ResponseWriter, desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		back := q.Get("redirect_uri") + "?" + url.Values{"code": {echoCode}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f := r.PostForm
		cs := f.Get("client_secret")
		switch f.Get("grant_type") {
		case "authorization_code":
			if p.failExchange.Load() {
				code, v := f.Get("code"), f.Get("code_verifier")
				fail(w, "code "+code+" ("+url.QueryEscape(code)+") with verifier "+v+" for secret "+cs+" ("+url.QueryEscape(cs)+") is invalid")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-echo-first", "refresh_token": echoRefreshToken, "token_type": "bearer", "expires_in": 3600})
		case "refresh_token":
			rt := f.Get("refresh_token")
			fail(w, "refresh_token "+rt+" ("+url.QueryEscape(rt)+") of client secret "+cs+" ("+url.PathEscape(cs)+") is revoked")
		default:
			http.Error(w, "unsupported grant", http.StatusBadRequest)
		}
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// TestProviderErrorsKeepNoSecrets: a provider that echoes the secrets it
// was sent in error_description gets none of them into the log, the
// account's status error, the events API, the API's problem bodies, the
// callback page or the connection's error.
func TestProviderErrorsKeepNoSecrets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		idp := newEchoProvider(t)
		clock := clockwork.NewFakeClockAt(time.Now())
		cfg := servertest.Config(t, b.DatabaseURL(t))
		cfg.RefreshInterval = 0
		servertest.WriteApp(t, &cfg, "echoidp", echoApp)
		cfg.AppOrigins = map[string]string{"echoidp": idp.URL}
		inst := servertest.Start(t, cfg, server.Options{Clock: clock})
		api := inst.Client()
		ctx := context.Background()
		if _, err := api.SetOAuthClient(ctx, "echoidp", client.SetOAuthClient{ClientID: "echo-client", ClientSecret: echoClientSecret, Managed: true}); err != nil {
			t.Fatal(err)
		}
		f := &oauthFixture{clock: clock, cfg: cfg, inst: inst, api: api}
		noCanary := func(where, text string) {
			t.Helper()
			if strings.Contains(text, "CANARY") {
				t.Errorf("%s holds a secret:\n%s", where, text)
			}
		}
		raw := func(path string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", inst.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+inst.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}

		// A refresh that fails with the refresh token and client secret
		// in the provider's words.
		acc := f.connect(t, client.Connect{App: "echoidp"})
		clock.Advance(2 * time.Hour)
		for i := range 2 { // the refresh, then the stored status
			status, body := raw("/v1/accounts/" + acc.ID + "/credentials")
			if status != http.StatusConflict || !strings.Contains(body, "needs-reconnect") {
				t.Fatalf("read %d after the failed refresh: %d %s", i, status, body)
			}
			noCanary("the problem body", body)
		}
		got, err := api.GetAccount(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != "needs_reconnect" || !strings.Contains(got.StatusError, "refresh_token [redacted] ([redacted]) of client secret [redacted] ([redacted]) is revoked") {
			t.Errorf("status error %q, want the provider's words with the secrets redacted", got.StatusError)
		}
		noCanary("the account's status error", got.StatusError)
		_, events := raw("/v1/accounts/" + acc.ID + "/events")
		if !strings.Contains(events, "account.needs_reconnect") {
			t.Errorf("no needs_reconnect event: %s", events)
		}
		noCanary("the events API", events)

		// A code exchange that fails with the code, the verifier and the
		// client secret in the provider's words.
		idp.failExchange.Store(true)
		started, err := api.Connect(ctx, client.Connect{App: "echoidp"})
		if err != nil {
			t.Fatal(err)
		}
		status, page := approve(t, started)
		// A 502: the page says so in general words; the provider's,
		// redacted, are in the log.
		if status != http.StatusBadGateway || !strings.Contains(page, "The provider did not issue a token.") || strings.Contains(page, "[redacted]") {
			t.Errorf("callback page %d, want the friendly failure without the provider's words:\n%s", status, page)
		}
		noCanary("the callback page", page)
		if logs := inst.Logs.String(); !strings.Contains(logs, "page failed") || !strings.Contains(logs, "[redacted]") {
			t.Error("the log lacks the failed exchange's redacted detail")
		}
		noCanary("the log", inst.Logs.String())
		conn, err := api.GetConnection(ctx, started.ID)
		if err != nil || conn.Status != "failed" || !strings.Contains(conn.Error, "[redacted]") {
			t.Errorf("failed connection: %+v, %v; want its error with the secrets redacted", conn, err)
		}
		noCanary("the connection's error", conn.Error)
		_, connBody := raw("/v1/connect/" + started.ID)
		if !strings.Contains(connBody, "[redacted]") {
			t.Errorf("the connection as the API shows it: %s", connBody)
		}
		noCanary("the connections API", connBody)

		noCanary("the log", inst.Logs.String())
	})
}
