package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// sessionApp trades an API key for a session token, as Tableau's or
// Jamf's sign-in does, and sends the token in a header of its own.
const sessionApp = `slug: testsession
name: Test Session
categories: [developer-tools]
docs_url: https://session.example/docs
auth: two_step
base_url: https://session.example
fields:
  - {name: api_key, label: API key, secret: true}
two_step:
  token_url: https://session.example/auth/signin
  body: '{"key": "{api_key}"}'
  token_path: data.token
  expires_in_path: data.expires_in
  default_expires_in: 1h
  keep:
    site_id: data.site.id
request_auth:
  header: X-Session
  value: '{oauth_access_token}'
test:
  url: /sites/{site_id}/me
identity:
  url: /sites/{site_id}/me
  label: '{name}'
`

// sessionProvider is the stand-in: a sign-in that answers a token valid
// for ten minutes, and an API that takes only the latest one.
type sessionProvider struct {
	*httptest.Server
	mu      sync.Mutex
	key     string
	signins int
	current string
}

func newSessionProvider(t *testing.T, key string) *sessionProvider {
	p := &sessionProvider{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/signin", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Key string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.signins++
		w.Header().Set("Content-Type", "application/json")
		if in.Key != p.key {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "invalid_client", "message": "unknown key"}`)
			return
		}
		p.current = fmt.Sprintf("session-%d", p.signins)
		fmt.Fprintf(w, `{"data": {"token": %q, "expires_in": 600, "site": {"id": "s42"}}}`, p.current)
	})
	mux.HandleFunc("GET /sites/s42/me", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		ok := r.Header.Get("X-Session") == p.current && p.current != ""
		p.mu.Unlock()
		if !ok {
			http.Error(w, `{"error": "expired"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name": "Ada"}`)
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *sessionProvider) counts() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.signins, p.current
}

// TestTwoStepAccount: the key is exchanged at connect, and the test and
// identity requests use the token and the kept site id; reads hand out
// the token, never the key; an expiring token is exchanged again on read;
// the proxy sends the current one; a key the provider forgets turns the
// account needs_reconnect.
func TestTwoStepAccount(t *testing.T) {
	p := newSessionProvider(t, "key-abc-123")
	f := startMinted(t, servertest.Backends[0], func(cfg *config.Config) {
		servertest.WriteApp(t, cfg, "testsession", sessionApp)
		cfg.AppOrigins["testsession"] = p.URL
	})
	ctx := context.Background()

	if _, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testsession", Fields: map[string]string{"api_key": "not-the-key"}}); err == nil {
		t.Fatal("a refused key was saved")
	}
	acc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "testsession", Fields: map[string]string{"api_key": "key-abc-123"}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := p.counts(); acc.IdentityLabel != "Ada" || acc.Untested || n != 2 {
		t.Fatalf("account %+v after %d sign-ins", acc, n)
	}
	creds, err := f.api.Credentials(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, has := creds["api_key"]; has || creds["site_id"] != "s42" || !strings.HasPrefix(creds["oauth_access_token"], "session-") {
		t.Fatalf("credentials hold %v, want the token and site id, never the key", keysOf(creds))
	}

	f.clock.Advance(9 * time.Minute) // within the margin of its 10 minutes
	creds, err = f.api.Credentials(ctx, acc.ID)
	n, current := p.counts()
	if err != nil || creds["oauth_access_token"] != current || n != 3 {
		t.Fatalf("read near expiry: %v, %d sign-ins, want a new token", err, n)
	}
	resp, body := proxyCall(t, f.inst.URL, f.inst.Token, http.MethodGet, "/v1/proxy/"+acc.ID+"/sites/s42/me", nil, nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Ada") {
		t.Fatalf("proxy: %d %s", resp.StatusCode, body)
	}

	p.mu.Lock()
	p.key = "rotated"
	p.mu.Unlock()
	f.clock.Advance(time.Hour)
	if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "needs-reconnect") {
		t.Fatalf("read after the key was revoked: %v", err)
	}
	if e := events(t, f.api, acc.ID); e["account.needs_reconnect"] != 1 {
		t.Fatalf("events %v, want one needs_reconnect", e)
	}
	if strings.Contains(f.inst.Logs.String(), "key-abc-123") {
		t.Fatal("the key reached the log")
	}
}

// TestTwoStepConnectLink: an end user connects a two-step app on the
// hosted connect page: the form asks for its key, a refused key saves
// nothing, and a good one makes the end user's account, whose reads hand
// out the token and never the key.
func TestTwoStepConnectLink(t *testing.T) {
	p := newSessionProvider(t, "key-abc-123")
	mf := startMinted(t, servertest.Backends[0], func(cfg *config.Config) {
		servertest.WriteApp(t, cfg, "testsession", sessionApp)
		cfg.AppOrigins["testsession"] = p.URL
	})
	ctx := context.Background()
	me, err := mf.api.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := linkFixture{fixture: fixture{Instance: mf.inst, api: mf.api}, clock: mf.clock,
		browser: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	f.backend = namedToken(t, f.fixture, me.UserID, "backend", identity.ScopeConnectWrite, identity.ScopeAccountsRead, identity.ScopeAccountsWrite)
	ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "customer-7", Apps: []string{"testsession"}, SuccessRedirectURI: "https://app.example/done"})

	resp, body := f.get(t, ct.Token, url.Values{"app": {"testsession"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `name="field_api_key"`) || !strings.Contains(body, `type="password"`) {
		t.Fatalf("the form: %d\n%s", resp.StatusCode, body)
	}
	if resp, body := f.post(t, ct.Token, "testsession", map[string]string{"api_key": "not-the-key"}); resp.StatusCode != 422 || !strings.Contains(body, "invalid_client") {
		t.Fatalf("a refused key: %d, want 422 with the provider's reason:\n%s", resp.StatusCode, body)
	}
	if n := len(f.endUserAccounts(t, "customer-7")); n != 0 {
		t.Fatalf("a refused key saved %d accounts", n)
	}
	if resp, _ := f.post(t, ct.Token, "testsession", map[string]string{"api_key": "key-abc-123"}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a good key: %d, want a redirect", resp.StatusCode)
	}
	accs := f.endUserAccounts(t, "customer-7")
	if len(accs) != 1 || accs[0].IdentityLabel != "Ada" {
		t.Fatalf("the end user's accounts: %+v", accs)
	}
	creds, err := mf.api.Credentials(ctx, accs[0].ID)
	if _, has := creds["api_key"]; err != nil || has || creds["oauth_access_token"] == "" {
		t.Fatalf("credentials %v, %v: want the token, never the key", keysOf(creds), err)
	}
}
