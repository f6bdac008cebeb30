package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

type oauthFixture struct {
	idp    *oauthtest.Server
	clock  *clockwork.FakeClock
	cfg    config.Config
	inst   *servertest.Instance
	api    *client.Client
	cookie http.CookieJar
}

// oauthConfig is a server configuration that knows the test IdP.
func oauthConfig(t *testing.T, databaseURL string, idp *oauthtest.Server) config.Config {
	cfg := servertest.Config(t, databaseURL)
	servertest.UseIdP(t, &cfg, idp)
	cfg.RefreshInterval = 0 // tests drive refreshes themselves
	return cfg
}

func newIdP(t *testing.T) *oauthtest.Server { return servertest.NewIdP(t) }

func startOAuth(t *testing.T, b servertest.Backend) *oauthFixture {
	f := &oauthFixture{idp: newIdP(t), clock: clockwork.NewFakeClockAt(time.Now())}
	f.cfg = oauthConfig(t, b.DatabaseURL(t), f.idp)
	f.inst = servertest.Start(t, f.cfg, server.Options{Clock: f.clock})
	f.api = f.inst.Client()
	setManagedClient(t, f.api, "testidp", f.idp.ClientID(), f.idp.ClientSecret())
	return f
}

// setManagedClient sets the operator's OAuth client (or OAuth 1.0a
// consumer) of an app.
func setManagedClient(t *testing.T, api *client.Client, app, id, secret string) {
	t.Helper()
	if _, err := api.SetOAuthClient(context.Background(), app, client.SetOAuthClient{ClientID: id, ClientSecret: secret, Managed: true}); err != nil {
		t.Fatal(err)
	}
}

// approve plays the user's browser: it opens the authorize URL, follows
// every redirect back to Latchkey's callback, enters the one-time code the
// start printed when asked, and returns the final page.
func approve(t *testing.T, started client.Connection) (int, string) {
	t.Helper()
	status, page, err := servertest.Approve(nil, started.AuthorizeURL, started.OneTimeCode)
	if err != nil {
		t.Fatal(err)
	}
	return status, page
}

// userinfo asks the IdP who an access token belongs to.
func userinfo(t *testing.T, idp *oauthtest.Server, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", idp.UserinfoURL(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *oauthFixture) connect(t *testing.T, in client.Connect) client.Account {
	t.Helper()
	ctx := context.Background()
	started, err := f.api.Connect(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return finishConnection(t, f.api, started)
}

// finishConnection approves a started connection in a browser and returns
// the account it made (or reconnected).
func finishConnection(t *testing.T, api *client.Client, started client.Connection) client.Account {
	t.Helper()
	ctx := context.Background()
	if status, page := approve(t, started); status != 200 || !strings.Contains(page, "is connected") {
		t.Fatalf("callback page %d:\n%s", status, page)
	}
	done, err := api.GetConnection(ctx, started.ID)
	if err != nil || done.Status != "completed" || done.AccountID == "" {
		t.Fatalf("connection after approval: %+v, %v", done, err)
	}
	acc, err := api.GetAccount(ctx, done.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// TestOAuthLifecycle runs the whole flow against a real authorization
// server: connect, use, refresh with rotation, reconnect as someone else,
// lose the grant, reconnect, and delete with revocation.
func TestOAuthLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth(t, b)
		ctx := context.Background()

		started, err := f.api.Connect(ctx, client.Connect{App: "testidp", Nickname: ptr("work"), Scopes: []string{"write"}})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(started.AuthorizeURL)
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("scope") != "openid email offline_access read write" {
			t.Fatalf("authorize URL: %s", started.AuthorizeURL)
		}
		if q.Get("redirect_uri") != f.inst.URL+"/oauth/callback" {
			t.Fatalf("redirect_uri %q", q.Get("redirect_uri"))
		}
		if status, page := approve(t, started); status != 200 || !strings.Contains(page, "Test IdP is connected") {
			t.Fatalf("callback page %d:\n%s", status, page)
		}
		done, err := f.api.GetConnection(ctx, started.ID)
		if err != nil || done.Status != "completed" {
			t.Fatalf("connection: %+v %v", done, err)
		}
		acc, err := f.api.GetAccount(ctx, done.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if acc.Nickname != "work" || acc.IdentityLabel != "alice@example.com" || acc.Status != "healthy" || acc.ExpiresAt == nil {
			t.Fatalf("account %+v", acc)
		}
		if strings.Join(acc.Scopes, " ") != "openid email offline_access read write" {
			t.Errorf("granted scopes %v", acc.Scopes)
		}

		creds, err := f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		first := creds["oauth_access_token"]
		if code, body := userinfo(t, f.idp, first); code != 200 || !strings.Contains(body, "alice") {
			t.Fatalf("the handed-out token does not work: %d %s", code, body)
		}
		// The access token and the client id it was issued to (which
		// some APIs want on each request), never the refresh token.
		if _, leaked := creds["refresh_token"]; leaked || len(creds) != 2 || creds["oauth_client_id"] != f.idp.ClientID() {
			t.Fatalf("credentials hold more than the access token and the client id: %v", keys(creds))
		}
		if f.idp.Refreshes() != 0 {
			t.Fatal("a fresh token was refreshed")
		}

		// Two refreshes in a row: the second works only if the rotated
		// refresh token from the first was saved.
		for i := 1; i <= 2; i++ {
			f.clock.Advance(56 * time.Minute)
			creds, err = f.api.Credentials(ctx, acc.ID)
			if err != nil {
				t.Fatalf("refresh %d: %v", i, err)
			}
			if f.idp.Refreshes() != i {
				t.Fatalf("after read %d the IdP saw %d refreshes", i, f.idp.Refreshes())
			}
			if creds["oauth_access_token"] == first {
				t.Fatalf("refresh %d handed out the old token", i)
			}
			if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
				t.Fatalf("refreshed token %d does not work", i)
			}
			first = creds["oauth_access_token"]
		}

		// Reconnect as another identity: same id, new label and tokens.
		f.idp.SetUser("bob")
		re, err := f.api.Reconnect(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if status, page := approve(t, re); status != 200 || !strings.Contains(page, "ready again") {
			t.Fatalf("reconnect page %d:\n%s", status, page)
		}
		again, err := f.api.GetAccount(ctx, acc.ID)
		if err != nil || again.IdentityLabel != "bob@example.com" || again.Nickname != "work" {
			t.Fatalf("after reconnect: %+v %v", again, err)
		}

		// The user revokes access at the provider: the next refresh gets
		// invalid_grant and the account needs reconnecting, once.
		f.idp.RevokeUser("bob")
		f.clock.Advance(56 * time.Minute)
		_, err = f.api.Credentials(ctx, acc.ID)
		var p *client.Problem
		if !asProblem(err, &p) || p.Type != "urn:latchkey:problem:needs-reconnect" || p.Status != 409 || p.ReconnectPath != "/v1/accounts/"+acc.ID+"/reconnect" {
			t.Fatalf("read after revocation: %v", err)
		}
		refreshes := f.idp.Refreshes()
		if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "needs-reconnect") {
			t.Fatalf("second read: %v", err)
		}
		if f.idp.Refreshes() != refreshes {
			t.Fatal("an account that needs reconnecting was refreshed again")
		}
		broken, _ := f.api.GetAccount(ctx, acc.ID)
		if broken.Status != "needs_reconnect" || !strings.Contains(broken.StatusError, "invalid_grant") {
			t.Fatalf("account after invalid_grant: %+v", broken)
		}
		if n := countEvents(t, f.api, acc.ID, "account.needs_reconnect"); n != 1 {
			t.Fatalf("%d needs_reconnect events, want 1", n)
		}

		// Reconnecting heals it.
		f.idp.SetUser("alice")
		re, err = f.api.Reconnect(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		approve(t, re)
		healed, _ := f.api.GetAccount(ctx, acc.ID)
		if healed.Status != "healthy" || healed.StatusError != "" {
			t.Fatalf("after reconnect: %+v", healed)
		}
		creds, err = f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}

		// Delete with revocation: the provider forgets the grant.
		del, err := f.api.DeleteAndRevoke(ctx, acc.ID)
		if err != nil || del.Revocation != "revoked" {
			t.Fatalf("delete: %+v %v", del, err)
		}
		if f.idp.Revocations() == 0 {
			t.Fatal("the IdP saw no revocation")
		}
		if code, _ := userinfo(t, f.idp, creds["oauth_access_token"]); code != 401 {
			t.Fatalf("the token still works after revocation: %d", code)
		}
		if _, err := f.api.GetAccount(ctx, acc.ID); !client.IsProblem(err, "not-found") {
			t.Fatalf("account after delete: %v", err)
		}

		// Nothing secret reached the log.
		assertNoSecrets(t, f.inst.Logs.String(), f.idp.ClientSecret(), first, "ory_at_", "ory_rt_", "ory_ac_")
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func asProblem(err error, p **client.Problem) bool {
	pp, ok := err.(*client.Problem)
	if ok {
		*p = pp
	}
	return ok
}

func countEvents(t *testing.T, api *client.Client, id, action string) int {
	t.Helper()
	page, err := api.Events(context.Background(), id, client.ListOptions{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range page.Data {
		if e.Action == action {
			n++
		}
	}
	return n
}

func assertNoSecrets(t *testing.T, logs string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the log holds a secret (%.8s...)", s)
		}
	}
}

// TestCallbackRejections: every bad callback gets a clear answer and
// stores nothing.
func TestCallbackRejections(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	start := func() (client.Connection, string) {
		c, err := f.api.Connect(ctx, client.Connect{App: "testidp"})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(c.AuthorizeURL)
		return c, u.Query().Get("state")
	}
	callback := func(q url.Values) (int, string) {
		resp, err := http.Get(f.inst.URL + "/oauth/callback?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// A completed flow's state, to replay.
	used, usedState := start()
	if status, _ := approve(t, used); status != 200 {
		t.Fatal("the good flow failed")
	}
	expired, expiredState := start()
	_ = expired
	denied, deniedState := start()
	_, noCodeState := start()

	tests := []struct {
		name    string
		setup   func()
		query   url.Values
		status  int
		message string
	}{
		{"no state", nil, url.Values{"code": {"x"}}, 400, "unknown, was used already, or has expired"},
		{"unknown state", nil, url.Values{"code": {"x"}, "state": {"not-a-state-we-issued"}}, 400, "unknown, was used already, or has expired"},
		{"replayed state", nil, url.Values{"code": {"x"}, "state": {usedState}}, 400, "unknown, was used already, or has expired"},
		{"provider error", nil, url.Values{"error": {"access_denied"}, "error_description": {"The user said no"}, "state": {deniedState}}, 400, "access_denied: The user said no"},
		{"missing code", nil, url.Values{"state": {noCodeState}}, 400, "has no authorization code"},
		// Last: it moves the clock past every state's lifetime.
		{"expired state", func() { f.clock.Advance(11 * time.Minute) }, url.Values{"code": {"x"}, "state": {expiredState}}, 400, "has expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			status, page := callback(tt.query)
			if status != tt.status || !strings.Contains(page, tt.message) || !strings.Contains(page, "Nothing was saved") {
				t.Fatalf("%d:\n%s", status, page)
			}
			if strings.Contains(page, tt.query.Get("state")) && tt.query.Get("state") != "" {
				t.Fatal("the page repeats the state")
			}
		})
	}
	list, _ := f.api.ListAccounts(ctx, client.ListOptions{})
	if len(list.Data) != 1 {
		t.Fatalf("%d accounts after the rejections, want only the good one", len(list.Data))
	}
	// The denied connection was claimed but not used: a retry of its state
	// with a code is refused too.
	if status, _ := callback(url.Values{"code": {"x"}, "state": {deniedState}}); status != 400 {
		t.Fatal("a denied state worked afterwards")
	}
	c, _ := f.api.GetConnection(ctx, denied.ID)
	if c.Status != "failed" || !strings.Contains(c.Error, "access_denied") {
		t.Fatalf("denied connection %+v", c)
	}
	// The IdP never saw a code exchange for the bad callbacks.
	if n := f.idp.CodeExchanges(); n != 1 {
		t.Fatalf("%d code exchanges, want 1", n)
	}

	// The JSON form of the callback answers problem+json.
	req, _ := http.NewRequest("GET", f.inst.URL+"/oauth/callback?state=nope&code=x", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("JSON callback: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestConnectBadInput(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	keyAcc, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-x"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   client.Connect
		kind string
	}{
		{"keys app", client.Connect{App: "openai"}, "validation"},
		{"unknown app", client.Connect{App: "nosuch"}, "unknown-app"},
		{"no client set", client.Connect{App: "github"}, "validation"},
		{"bad scope", client.Connect{App: "testidp", Scopes: []string{"a b"}}, "validation"},
		{"scope the app does not offer", client.Connect{App: "testidp", Scopes: []string{"write", "admin:everything"}}, "validation"},
		{"reconnect another app's account", client.Connect{App: "testidp", AccountID: keyAcc.ID}, "validation"},
		{"reconnect unknown account", client.Connect{AccountID: "acc_01jd0000000000000000000000"}, "not-found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.api.Connect(ctx, tt.in)
			if !client.IsProblem(err, tt.kind) {
				t.Fatalf("got %v, want %s", err, tt.kind)
			}
			if len(tt.in.Scopes) > 0 && !strings.Contains(err.Error(), tt.in.Scopes[len(tt.in.Scopes)-1]) {
				t.Fatalf("the problem does not name the scope: %v", err)
			}
		})
	}

	// The problem of an app with no client names where to set one, and
	// that route sets it: the connection then starts.
	_, err = f.api.Connect(ctx, client.Connect{App: "github"})
	var p *client.Problem
	if !asProblem(err, &p) || p.App != "github" || p.OAuthClientPath != "/v1/apps/github/oauth-client" || !strings.Contains(p.Detail, "no OAuth client is set") || !strings.Contains(p.Detail, "PUT /v1/apps/github/oauth-client") {
		t.Fatalf("no client set: %+v", p)
	}
	req, _ := http.NewRequest("PUT", f.inst.URL+p.OAuthClientPath, strings.NewReader(`{"client_id":"gh-id","client_secret":"gh-secret"}`))
	req.Header.Set("Authorization", "Bearer "+f.inst.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT %s: %d", p.OAuthClientPath, resp.StatusCode)
	}
	if started, err := f.api.Connect(ctx, client.Connect{App: "github"}); err != nil || started.AuthorizeURL == "" {
		t.Fatalf("connect after setting the client: %+v %v", started, err)
	}
}

func TestOAuthClientsAPI(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	list, err := f.api.ListOAuthClients(ctx)
	if err != nil || len(list) != 1 || !list[0].Managed || list[0].RedirectURI != f.inst.URL+"/oauth/callback" {
		t.Fatalf("clients: %+v %v", list, err)
	}
	own, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: "own-id", ClientSecret: "own-secret-value"})
	if err != nil || own.Managed || own.ClientID != "own-id" {
		t.Fatalf("set workspace client: %+v %v", own, err)
	}
	got, err := f.api.GetOAuthClient(ctx, own.ID)
	if err != nil || got.ClientID != "own-id" {
		t.Fatalf("get: %+v %v", got, err)
	}
	raw, _ := http.NewRequest("GET", f.inst.URL+"/v1/oauth-clients/"+own.ID, nil)
	raw.Header.Set("Authorization", "Bearer "+f.inst.Token)
	resp, _ := http.DefaultClient.Do(raw)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "own-secret-value") {
		t.Fatal("the API shows a client secret")
	}
	// An update keeps the id.
	upd, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: "own-id-2", ClientSecret: "s2"})
	if err != nil || upd.ID != own.ID || upd.ClientID != "own-id-2" {
		t.Fatalf("update: %+v %v", upd, err)
	}
	for name, in := range map[string]client.SetOAuthClient{
		"no client id": {ClientSecret: "s"},
		"no secret":    {ClientID: "c"},
	} {
		if _, err := f.api.SetOAuthClient(ctx, "testidp", in); !client.IsProblem(err, "validation") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := f.api.SetOAuthClient(ctx, "openai", client.SetOAuthClient{ClientID: "c", ClientSecret: "s"}); !client.IsProblem(err, "validation") {
		t.Errorf("client for a keys app: %v", err)
	}
	if err := f.api.DeleteOAuthClient(ctx, own.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.api.ListOAuthClients(ctx); len(list) != 1 {
		t.Fatalf("after delete: %+v", list)
	}
}

// TestConcurrentReadsRefreshOnce: 200 concurrent reads of one expired
// account cause exactly one refresh at the provider, and every reader gets
// the same new token: across 3 instances sharing PostgreSQL, and across
// goroutines of one instance on SQLite.
func TestConcurrentReadsRefreshOnce(t *testing.T) {
	for _, tc := range []struct {
		backend   servertest.Backend
		instances int
	}{{servertest.Backends[0], 1}, {servertest.Backends[1], 3}} {
		t.Run(fmt.Sprintf("%s/%d instances", tc.backend.Name, tc.instances), func(t *testing.T) {
			idp := newIdP(t)
			clock := clockwork.NewFakeClockAt(time.Now())
			cfg := oauthConfig(t, tc.backend.DatabaseURL(t), idp)
			var insts []*servertest.Instance
			for i := 0; i < tc.instances; i++ {
				c := cfg
				c.DataDir = filepath.Join(t.TempDir(), "data")
				if tc.backend.Name == "sqlite" {
					c.DataDir = cfg.DataDir
				}
				insts = append(insts, servertest.Start(t, c, server.Options{Clock: clock}))
			}
			ctx := context.Background()
			f := &oauthFixture{idp: idp, clock: clock, inst: insts[0], api: insts[0].Client()}
			if _, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
				t.Fatal(err)
			}
			acc := f.connect(t, client.Connect{App: "testidp"})

			clock.Advance(2 * time.Hour) // well past expiry
			idp.SetTokenDelay(150 * time.Millisecond)
			const readers = 200
			tokens := make([]string, readers)
			errs := make([]error, readers)
			var wg sync.WaitGroup
			for i := 0; i < readers; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					creds, err := insts[i%len(insts)].Client().Credentials(ctx, acc.ID)
					tokens[i], errs[i] = creds["oauth_access_token"], err
				}(i)
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("reader %d: %v", i, err)
				}
			}
			if n := idp.Refreshes(); n != 1 {
				t.Fatalf("the provider saw %d refreshes, want exactly 1", n)
			}
			for i, tok := range tokens {
				if tok != tokens[0] || tok == "" {
					t.Fatalf("reader %d got a different token", i)
				}
			}
			if code, _ := userinfo(t, idp, tokens[0]); code != 200 {
				t.Fatal("the shared new token does not work")
			}
		})
	}
}

// TestTransientFailureBacksOff: a provider outage keeps the account
// healthy, records the error, hands out nothing expired, and heals.
func TestTransientFailureBacksOff(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	acc := f.connect(t, client.Connect{App: "testidp"})
	f.clock.Advance(2 * time.Hour)
	f.idp.FailNextToken(503, 1)
	_, err := f.api.Credentials(ctx, acc.ID)
	if !client.IsProblem(err, "refresh-unavailable") {
		t.Fatalf("read during the outage: %v", err)
	}
	mid, _ := f.api.GetAccount(ctx, acc.ID)
	if mid.Status != "healthy" || !strings.Contains(mid.StatusError, "will retry") || mid.NextRefreshAt == nil {
		t.Fatalf("account during the outage: %+v", mid)
	}
	// The next read, after the backoff, succeeds.
	f.clock.Advance(2 * time.Hour)
	creds, err := f.api.Credentials(ctx, acc.ID)
	if err != nil || creds["oauth_access_token"] == "" {
		t.Fatalf("read after the outage: %v", err)
	}
	healed, _ := f.api.GetAccount(ctx, acc.ID)
	if healed.StatusError != "" {
		t.Fatalf("error not cleared: %+v", healed)
	}
	if n := countEvents(t, f.api, acc.ID, "account.refresh_failed"); n != 1 {
		t.Fatalf("%d refresh_failed events", n)
	}
}

// TestBackgroundRefresher: the refresher renews a token before it expires,
// without anyone reading it.
func TestBackgroundRefresher(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	acc := f.connect(t, client.Connect{App: "testidp"})
	if acc.NextRefreshAt == nil {
		t.Fatal("no next refresh time")
	}
	next, _ := time.Parse(time.RFC3339, *acc.NextRefreshAt)
	exp, _ := time.Parse(time.RFC3339, *acc.ExpiresAt)
	if !next.Before(exp.Add(-5 * time.Minute)) {
		t.Fatalf("next refresh %v is not well before expiry %v", next, exp)
	}
	f.clock.Advance(next.Sub(f.clock.Now()) + time.Second)
	n, err := f.inst.Accounts().RefreshDue(ctx, 10)
	if err != nil || n != 1 || f.idp.Refreshes() != 1 {
		t.Fatalf("refresh pass: %d accounts, %d refreshes, %v", n, f.idp.Refreshes(), err)
	}
	after, _ := f.api.GetAccount(ctx, acc.ID)
	if after.LastRefreshedAt == nil || *after.ExpiresAt == *acc.ExpiresAt {
		t.Fatalf("account not renewed: %+v", after)
	}
	// Reading now needs no refresh.
	if _, err := f.api.Credentials(ctx, acc.ID); err != nil || f.idp.Refreshes() != 1 {
		t.Fatalf("read after background refresh: %v, %d refreshes", err, f.idp.Refreshes())
	}
}

// TestConnectRateLimit: a user may start only so many connections; past
// the limit the API answers 429 with Retry-After, and the limit refills
// with time.
func TestConnectRateLimit(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := f.api.Connect(ctx, client.Connect{App: "testidp"}); err != nil {
			t.Fatalf("start %d: %v", i+1, err)
		}
	}
	req, _ := http.NewRequest("POST", f.inst.URL+"/v1/connect", strings.NewReader(`{"app":"testidp"}`))
	req.Header.Set("Authorization", "Bearer "+f.inst.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "6" || resp.Header.Get("Content-Type") != "application/problem+json" ||
		!strings.Contains(string(body), "rate-limited") {
		t.Fatalf("21st start: %d Retry-After %q\n%s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another user has a limit of their own.
	alice := addUser(t, f.inst, "alice@example.com", "member")
	if _, err := alice.api.Connect(ctx, client.Connect{App: "testidp"}); err != nil {
		t.Fatalf("another user's start: %v", err)
	}
	f.clock.Advance(6 * time.Second)
	if _, err := f.api.Connect(ctx, client.Connect{App: "testidp"}); err != nil {
		t.Fatalf("start after waiting: %v", err)
	}
}

// TestManagedClientIsTheOperators: a workspace owner changes only the
// workspace's own client; the managed one, which every workspace shares,
// only the operator (the admin token, the config file) may change.
func TestManagedClientIsTheOperators(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	managed, err := f.api.ListOAuthClients(ctx)
	if err != nil || len(managed) != 1 || !managed[0].Managed {
		t.Fatalf("clients: %+v %v", managed, err)
	}
	owner := addUser(t, f.inst, "owner@example.com", "owner")

	_, err = owner.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: "hijack", ClientSecret: "hijack-secret", Managed: true})
	if !client.IsProblem(err, "forbidden") || !strings.Contains(err.Error(), "operator") {
		t.Fatalf("owner overwrites the managed client: %v", err)
	}
	if err := owner.api.DeleteOAuthClient(ctx, managed[0].ID); !client.IsProblem(err, "forbidden") {
		t.Fatalf("owner deletes the managed client: %v", err)
	}
	// The web form saves the workspace's own client, whatever it is sent.
	b := browser(t)
	signIn(t, b, f.inst, owner, "/")
	if _, body := get(t, b, f.inst.URL+"/oauth-clients"); strings.Contains(body, `value="managed"`) || !strings.Contains(body, "Set by the operator") {
		t.Fatalf("the clients page offers the managed client:\n%s", body)
	}
	if status, _ := post(t, b, f.inst.URL+"/oauth-clients/"+managed[0].ID+"/delete", nil); status != http.StatusForbidden {
		t.Fatalf("web delete of the managed client: %d", status)
	}
	if status, _ := post(t, b, f.inst.URL+"/oauth-clients", url.Values{"app": {"testidp"}, "client_id": {"web-own"}, "client_secret": {"s"}, "kind": {"managed"}}); status != http.StatusOK {
		t.Fatalf("web save: %d", status)
	}
	after, _ := f.api.ListOAuthClients(ctx)
	var own client.OAuthClient
	for _, c := range after {
		if c.Managed && (c.ID != managed[0].ID || c.ClientID != managed[0].ClientID) {
			t.Fatalf("the managed client changed: %+v", c)
		}
		if !c.Managed {
			own = c
		}
	}
	if len(after) != 2 || own.ClientID != "web-own" {
		t.Fatalf("clients after the web save: %+v", after)
	}
	// The owner manages the workspace's own client.
	if err := owner.api.DeleteOAuthClient(ctx, own.ID); err != nil {
		t.Fatalf("owner deletes the workspace's client: %v", err)
	}
	// The operator still may.
	if _, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: f.idp.ClientID(), ClientSecret: f.idp.ClientSecret(), Managed: true}); err != nil {
		t.Fatalf("the admin token sets the managed client: %v", err)
	}
}
