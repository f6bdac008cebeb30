package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// demoBrowser is one person's browser: a cookie jar, so the demo
// provider's sign-in and Latchkey's connect binding both hold.
func demoBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 20 * time.Second}
}

// demoConnect approves a started connection at the demo provider as user
// and returns the account it made or reconnected.
func demoConnect(t *testing.T, api *client.Client, hc *http.Client, started client.Connection, user, password string) client.Account {
	t.Helper()
	status, page, err := servertest.ApproveForm(hc, started.AuthorizeURL, started.OneTimeCode, url.Values{"username": {user}, "password": {password}})
	if err != nil || status != 200 || !strings.Contains(page, "is connected") {
		t.Fatalf("callback page %d, %v:\n%s", status, err, page)
	}
	done, err := api.GetConnection(context.Background(), started.ID)
	if err != nil || done.Status != "completed" {
		t.Fatalf("connection after approval: %+v, %v", done, err)
	}
	acc, err := api.GetAccount(context.Background(), done.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

// demoCall sends one request to the server and returns the status and body.
func demoCall(t *testing.T, hc *http.Client, method, u, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var grantRow = regexp.MustCompile(`data-grant="([^"]+)"`)

// TestDemoLifecycle is a new user's first OAuth account, all offline:
// `serve --demo` connects the demo app through its own sign-in and consent
// page, hands out a token that posts a message, refreshes it when it
// expires, loses it when the user revokes the grant at the demo's page
// (the account turns needs_reconnect), and reconnects under the same id.
func TestDemoLifecycle(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	cfg := servertest.Config(t, "")
	cfg.Demo = true
	inst := servertest.Start(t, cfg, server.Options{Clock: clock})
	api := inst.Client()
	ctx := context.Background()

	app, err := api.GetApp(ctx, "demo")
	if err != nil {
		t.Fatalf("the demo app is not in the catalog: %v", err)
	}
	if !strings.Contains(string(app), `"auth":"oauth2"`) {
		t.Fatalf("demo app: %s", app)
	}

	alice := demoBrowser(t)
	started, err := api.Connect(ctx, client.Connect{App: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(started.AuthorizeURL, inst.URL+"/demo/oauth/authorize?") || !strings.Contains(started.AuthorizeURL, "code_challenge=") {
		t.Fatalf("authorize URL %s: want the built-in provider, with PKCE", started.AuthorizeURL)
	}
	acc := demoConnect(t, api, alice, started, "alice", "alice-pw")
	if acc.Status != "healthy" || acc.IdentityLabel != "alice (demo)" {
		t.Fatalf("connected account: status %q, identity %q", acc.Status, acc.IdentityLabel)
	}
	if !slices.Contains(acc.Scopes, "messages.write") || !slices.Contains(acc.Scopes, "profile") {
		t.Fatalf("granted scopes %v", acc.Scopes)
	}

	creds, err := api.Credentials(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	first := creds["oauth_access_token"]
	if first == "" {
		t.Fatalf("no access token in %v", keys(creds))
	}
	if _, ok := creds["oauth_refresh_token"]; ok {
		t.Fatal("the refresh token left the server")
	}
	// Another Latchkey user of the workspace does not get the owner's
	// private demo account's token.
	member := addUser(t, inst, "member@example.com", store.RoleMember)
	if c, err := member.api.Credentials(ctx, acc.ID); err == nil {
		t.Fatalf("a member read the owner's demo credentials: %v", keys(c))
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	if status, body := demoCall(t, hc, "POST", inst.URL+"/demo/api/messages", first, `{"text":"hello from the demo"}`); status != http.StatusCreated {
		t.Fatalf("post a message: %d %s", status, body)
	}
	// The catalog's action posts through the guarded client, with the
	// account's token, as a workflow's action step does.
	res, err := api.RunAction(ctx, "demo.post_message", client.RunAction{AccountID: acc.ID, Input: []byte(`{"text":"from an action"}`)})
	if err != nil || res.Status != http.StatusCreated || !strings.Contains(string(res.Output), `"from":"alice"`) {
		t.Fatalf("run demo.post_message: %+v, %v", res, err)
	}
	if status, _ := demoCall(t, hc, "POST", inst.URL+"/demo/api/messages", "not-a-token", `{"text":"x"}`); status != http.StatusUnauthorized {
		t.Fatalf("a made-up token posted a message: %d", status)
	}
	if status, _ := demoCall(t, hc, "POST", inst.URL+"/demo/api/messages", first, `{"text":""}`); status != http.StatusUnprocessableEntity {
		t.Fatalf("an empty message: %d", status)
	}

	// Sixty seconds later the token is due: the next read refreshes it.
	clock.Advance(2 * time.Minute)
	creds, err = api.Credentials(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	second := creds["oauth_access_token"]
	if second == "" || second == first {
		t.Fatal("the expired token was not refreshed")
	}
	if !strings.HasPrefix(creds["api_url"], "http://127.0.0.1:") {
		t.Fatalf("after the refresh, api_url is %q", creds["api_url"])
	}
	if status, body := demoCall(t, hc, "GET", inst.URL+"/demo/api/me", second, ""); status != 200 || !strings.Contains(body, `"sub":"alice"`) {
		t.Fatalf("me with the refreshed token: %d %s", status, body)
	}
	_, page := demoCall(t, alice, "GET", inst.URL+"/demo", "", "")
	if !strings.Contains(page, "once, last at") || !strings.Contains(page, "hello from the demo") || !strings.Contains(page, "from an action") {
		t.Fatalf("the demo page does not show the refresh and the message:\n%s", page)
	}
	m := grantRow.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no grant on the demo page:\n%s", page)
	}
	grant := m[1]

	// Another demo user sees no grant of alice's and cannot revoke it.
	bob := demoBrowser(t)
	if status, body := postForm(t, bob, inst.URL+"/demo/signin", url.Values{"username": {"bob"}, "password": {"bob-pw"}}); status != 200 || strings.Contains(body, grant) || !strings.Contains(body, "Signed in as <strong>bob</strong>") {
		t.Fatalf("bob's demo page %d:\n%s", status, body)
	}
	if status, _ := postForm(t, bob, inst.URL+"/demo/grants/"+grant+"/revoke", nil); status != http.StatusNotFound {
		t.Fatalf("bob revoking alice's grant: %d, want 404", status)
	}
	if status, _ := postForm(t, demoBrowser(t), inst.URL+"/demo/grants/"+grant+"/revoke", nil); status != http.StatusUnauthorized {
		t.Fatalf("revoking while signed out: %d, want 401", status)
	}
	// Nor can anyone sign in as alice without her password.
	if status, body := postForm(t, bob, inst.URL+"/demo/signin", url.Values{"username": {"alice"}, "password": {"guess"}}); status != http.StatusUnprocessableEntity || strings.Contains(body, grant) {
		t.Fatalf("sign-in as alice with a wrong password: %d", status)
	}
	if status, _ := demoCall(t, hc, "GET", inst.URL+"/demo/api/me", second, ""); status != 200 {
		t.Fatalf("the grant was hurt by the refused revocations: %d", status)
	}

	// Alice revokes it at the demo's page.
	if status, body := postForm(t, alice, inst.URL+"/demo/grants/"+grant+"/revoke", nil); status != 200 || strings.Contains(body, grant) {
		t.Fatalf("revoke: %d\n%s", status, body)
	}
	if status, _ := demoCall(t, hc, "POST", inst.URL+"/demo/api/messages", second, `{"text":"after revoke"}`); status != http.StatusUnauthorized {
		t.Fatalf("a revoked token posted a message: %d", status)
	}
	clock.Advance(2 * time.Minute)
	if _, err := api.Credentials(ctx, acc.ID); err == nil {
		t.Fatal("credentials were handed out after the grant was revoked")
	}
	after, err := api.GetAccount(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != "needs_reconnect" {
		t.Fatalf("after the revocation: status %q", after.Status)
	}

	// Reconnect: alice is still signed in at the demo, so she only allows.
	again, err := api.Reconnect(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	re := demoConnect(t, api, alice, again, "", "")
	if re.ID != acc.ID || re.Status != "healthy" {
		t.Fatalf("reconnected account %s status %q, want %s healthy", re.ID, re.Status, acc.ID)
	}
	creds, err = api.Credentials(ctx, acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := demoCall(t, hc, "POST", inst.URL+"/demo/api/messages", creds["oauth_access_token"], `{"text":"back again"}`); status != http.StatusCreated {
		t.Fatalf("post after reconnect: %d %s", status, body)
	}
}

func postForm(t *testing.T, hc *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := hc.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestDemoRefusedWithPostgres: --demo never starts against a PostgreSQL
// database, the production store, and the refusal says what to change.
func TestDemoRefusedWithPostgres(t *testing.T) {
	cfg := servertest.Config(t, "postgres://latchkey@127.0.0.1:5432/test?sslmode=disable")
	cfg.Demo = true
	_, err := server.New(context.Background(), cfg, servertest.DiscardLogger(), server.Options{})
	if err == nil || !strings.Contains(err.Error(), "LATCHKEY_DEMO") || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("server.New with --demo and PostgreSQL: %v, want a refusal naming LATCHKEY_DEMO", err)
	}
}

// TestDemoOffByDefault: without --demo there is no demo app and no /demo.
func TestDemoOffByDefault(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	if _, err := inst.Client().GetApp(context.Background(), "demo"); err == nil {
		t.Fatal("the demo app is in the catalog without --demo")
	}
	hc := &http.Client{Timeout: 20 * time.Second}
	for _, p := range []string{"/demo", "/demo/api/me", "/demo/oauth/authorize"} {
		if status, _ := demoCall(t, hc, "GET", inst.URL+p, "", ""); status != http.StatusNotFound {
			t.Errorf("GET %s without --demo: %d, want 404", p, status)
		}
	}
}
