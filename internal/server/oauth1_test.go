package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauth1test"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

type oauth1Fixture struct {
	p    *oauth1test.Server
	inst *servertest.Instance
	api  *client.Client
}

// startOAuth1 runs Latchkey with the shipped Trello entry sent to an
// in-test OAuth 1.0a provider, whose consumer is Trello's managed client.
func startOAuth1(t *testing.T, b servertest.Backend) *oauth1Fixture {
	f := &oauth1Fixture{p: oauth1test.New(t)}
	cfg := servertest.Config(t, b.DatabaseURL(t))
	cfg.AppOrigins = map[string]string{"trello": f.p.URL}
	f.inst = servertest.Start(t, cfg, server.Options{})
	f.api = f.inst.Client()
	setManagedClient(t, f.api, "trello", f.p.ConsumerKey, f.p.ConsumerSecret)
	return f
}

// TestOAuth1Lifecycle connects Trello through a real OAuth 1.0a exchange
// (request token, approval, access token), reads the credentials, makes
// signed requests with them (identity, an action, the proxy with a query
// and a form body), loses the grant, and reconnects into the same account.
func TestOAuth1Lifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth1(t, b)
		ctx := context.Background()

		started, err := f.api.Connect(ctx, client.Connect{App: "trello", Nickname: ptr("boards")})
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(started.AuthorizeURL)
		q := u.Query()
		if u.Path != "/1/OAuthAuthorizeToken" || q.Get("oauth_token") == "" || q.Get("name") != "Latchkey" || q.Get("scope") != "read,write" || q.Get("expiration") != "never" {
			t.Fatalf("authorize URL: %s", started.AuthorizeURL)
		}
		// The request token's secret is nowhere the browser can see.
		if strings.Contains(started.AuthorizeURL, "oauth_token_secret") || strings.Contains(started.AuthorizeURL, "rs-") {
			t.Fatalf("the authorize URL carries a secret: %s", started.AuthorizeURL)
		}
		acc := finishConnection(t, f.api, started)
		if acc.Nickname != "boards" || acc.IdentityLabel != "Alice Example (alice)" || acc.Status != "healthy" || acc.ExpiresAt != nil || acc.NextRefreshAt != nil {
			t.Fatalf("account %+v", acc)
		}

		creds, err := f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !f.p.IsAccessToken(creds["oauth_token"], creds["oauth_token_secret"]) || creds["consumer_key"] != f.p.ConsumerKey {
			t.Fatalf("credentials read: %v", keys(creds))
		}
		for k, v := range creds {
			if v == f.p.ConsumerSecret || strings.Contains(k, "consumer_secret") {
				t.Fatalf("the consumer secret was handed out as %q", k)
			}
		}
		if len(creds) != 3 {
			t.Fatalf("credentials read: %v", keys(creds))
		}

		// An action: Trello's create_card sends its fields as query
		// parameters, which the signature covers.
		signed := f.p.Signed()
		res, err := f.api.RunAction(ctx, "trello.create_card", client.RunAction{AccountID: acc.ID,
			Input: json.RawMessage(`{"list_id":"5abbe4b7ddc1b351ef961414","name":"Ship it & test","pos":"top"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 200 || !strings.Contains(string(res.Body), `"name":"Ship it \u0026 test"`) || f.p.Signed() != signed+1 {
			t.Fatalf("action: %d %s", res.Status, res.Body)
		}

		// The proxy: a GET with a query, and a POST with a form body.
		for _, c := range []struct {
			method, path, ctype, body, want string
		}{
			{"GET", "/echo?fields=name,url&filter=open%20now", "", "", `"filter":"open now"`},
			{"POST", "/echo?x=1", "application/x-www-form-urlencoded", "text=a%2Bb+c&idList=42", `"text":"a+b c"`},
		} {
			status, body := f.proxy(t, acc.ID, c.method, c.path, c.ctype, c.body)
			if status != 200 || !strings.Contains(body, c.want) {
				t.Fatalf("proxy %s %s: %d %s", c.method, c.path, status, body)
			}
		}

		// The user revokes the app: the next identity check turns the
		// account needs_reconnect; reconnecting keeps its id.
		f.p.RevokeAll()
		if status, _ := f.proxy(t, acc.ID, "GET", "/members/me", "", ""); status != http.StatusUnauthorized {
			t.Fatalf("a revoked token still works: %d", status)
		}
		again, err := f.api.GetAccount(ctx, acc.ID)
		if err != nil || again.Status != "needs_reconnect" {
			t.Fatalf("after the provider refused the token: %+v %v", again, err)
		}
		// Until reconnected, its credentials are not handed out, as an
		// OAuth 2 account's are not after invalid_grant.
		if _, err := f.api.Credentials(ctx, acc.ID); !client.IsProblem(err, "needs-reconnect") {
			t.Fatalf("reading a refused account: %v", err)
		}
		re, err := f.api.Reconnect(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		back := finishConnection(t, f.api, re)
		if back.ID != acc.ID || back.Status != "healthy" || back.Nickname != "boards" {
			t.Fatalf("reconnected %+v, was %s", back, acc.ID)
		}
		fresh, _ := f.api.Credentials(ctx, acc.ID)
		if fresh["oauth_token"] == creds["oauth_token"] || !f.p.IsAccessToken(fresh["oauth_token"], fresh["oauth_token_secret"]) {
			t.Fatal("reconnecting did not store the new token")
		}
		if list, _ := f.api.ListAccounts(ctx, client.ListOptions{}); len(list.Data) != 1 {
			t.Fatalf("%d accounts after a reconnect, want 1", len(list.Data))
		}
		// OAuth 1.0a has no revocation: deleting says so, and deletes.
		del, err := f.api.DeleteAndRevoke(ctx, acc.ID)
		if err != nil || del.Revocation != "unsupported" || !strings.Contains(del.RevocationDetail, "OAuth 1.0a") {
			t.Fatalf("delete with revocation: %+v %v", del, err)
		}
		if _, err := f.api.GetAccount(ctx, acc.ID); !isNotFound(err) {
			t.Fatalf("the deleted account: %v", err)
		}
		assertNoSecrets(t, f.inst.Logs.String(), f.p.ConsumerSecret, fresh["oauth_token_secret"], creds["oauth_token_secret"], "rs-")
	})
}

// TestOAuth1WorkflowSteps: http and action steps sign their requests
// with the account; a command step gets the token and its secret, and
// never the consumer secret.
func TestOAuth1WorkflowSteps(t *testing.T) {
	f := startOAuth1(t, servertest.Backends[0])
	ctx := context.Background()
	started, err := f.api.Connect(ctx, client.Connect{App: "trello"})
	if err != nil {
		t.Fatal(err)
	}
	acc := finishConnection(t, f.api, started)
	link := map[string]string{"trello": acc.ID}
	probe := `input=$(cat); leak=false; has=false
if echo "$input" | grep -q '` + f.p.ConsumerSecret + `'; then leak=true; fi
if echo "$input" | grep -q '"oauth_token_secret"'; then has=true; fi
echo "{\"leak\":$leak,\"has_secret\":$has}"`
	wf, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Trello", Steps: []client.WorkflowStep{
		{Key: "check", Kind: "command", Apps: []string{"trello"}, Accounts: link, Command: []string{"sh", "-c", probe}},
		{Key: "me", Kind: "http", Accounts: link, HTTP: &client.HTTPStep{App: "trello", Path: "/members/me?fields=fullName"}},
		{Key: "card", Kind: "action", Accounts: link, Action: "trello.create_card", Input: json.RawMessage(`{"list_id":"5abbe4b7ddc1b351ef961414","name":"From a step"}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	signed := f.p.Signed()
	run, err := f.api.RunWorkflow(ctx, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "succeeded" || len(run.Steps) != 3 {
		t.Fatalf("run %s: %+v", run.Status, run.Steps)
	}
	if got := string(run.Steps[0].Result); got != `{"leak":false,"has_secret":true}` {
		t.Fatalf("the command step saw %s", got)
	}
	if me := string(run.Steps[1].Result); !strings.Contains(me, `"status":200`) || !strings.Contains(me, "Alice Example") {
		t.Fatalf("http step: %s", me)
	}
	if card := string(run.Steps[2].Result); !strings.Contains(card, `"status":200`) || !strings.Contains(card, "From a step") {
		t.Fatalf("action step: %s", card)
	}
	if n := f.p.Signed() - signed; n != 2 {
		t.Fatalf("the provider verified %d signed requests, want 2", n)
	}
}

// oldTrello is Trello's entry as it was before OAuth 1.0a: an API key and
// a user token.
const oldTrello = `slug: trello
name: Trello
categories: [project-management]
docs_url: https://developer.atlassian.com/cloud/trello/guides/rest-api/api-introduction/
auth: keys
base_url: https://api.trello.com/1
fields:
  - name: api_key
    label: API key
  - name: token
    label: Token
    secret: true
request_auth:
  query:
    key: '{api_key}'
    token: '{token}'
`

// TestOAuth1AfterKeys: an account made with Trello's earlier keys entry
// reads as needs reconnecting once Trello is OAuth 1.0a, and reconnecting
// makes it an OAuth 1.0a account with the same id.
func TestOAuth1AfterKeys(t *testing.T) {
	p := oauth1test.New(t)
	ctx := context.Background()
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"trello": p.URL}
	servertest.WriteApp(t, &cfg, "trello", oldTrello)
	before := servertest.Start(t, cfg, server.Options{})
	old, err := before.Client().CreateAccount(ctx, client.CreateAccount{App: "trello", Nickname: ptr("boards"),
		Fields: map[string]string{"api_key": "old-key", "token": "old-token"}, Test: ptr(false), Identify: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	before.Stop()

	cfg.CatalogDir = ""
	inst := servertest.Start(t, cfg, server.Options{})
	api := inst.Client()
	setManagedClient(t, api, "trello", p.ConsumerKey, p.ConsumerSecret)
	_, err = api.Credentials(ctx, old.ID)
	var pr *client.Problem
	if !errors.As(err, &pr) || pr.Status != http.StatusConflict || !strings.Contains(err.Error(), "connected another way") {
		t.Fatalf("reading the old account: %v", err)
	}
	started, err := api.Reconnect(ctx, old.ID)
	if err != nil {
		t.Fatal(err)
	}
	acc := finishConnection(t, api, started)
	creds, err := api.Credentials(ctx, old.ID)
	if err != nil || acc.ID != old.ID || acc.Nickname != "boards" || !p.IsAccessToken(creds["oauth_token"], creds["oauth_token_secret"]) {
		t.Fatalf("after reconnecting: %+v %v %v", acc, keys(creds), err)
	}
	if _, stale := creds["api_key"]; stale {
		t.Fatal("the old keys survived the reconnect")
	}
}

// TestOAuth1Refusals: a callback naming another flow's request token, a
// replayed callback, a denial, a bad consumer, and another user's or
// workspace's connection: each stores nothing.
func TestOAuth1Refusals(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startOAuth1(t, b)
		ctx := context.Background()
		count := func() int {
			list, err := f.api.ListAccounts(ctx, client.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			return len(list.Data)
		}

		// Two flows; the first's callback arrives with the second's token
		// and verifier. The state names the first, which is spent.
		one, err := f.api.Connect(ctx, client.Connect{App: "trello"})
		if err != nil {
			t.Fatal(err)
		}
		two, err := f.api.Connect(ctx, client.Connect{App: "trello"})
		if err != nil {
			t.Fatal(err)
		}
		cb1, cb2 := f.callbackOf(t, one), f.callbackOf(t, two)
		mixed := *cb1
		mq := cb1.Query()
		mq.Set("oauth_token", cb2.Query().Get("oauth_token"))
		mq.Set("oauth_verifier", cb2.Query().Get("oauth_verifier"))
		mixed.RawQuery = mq.Encode()
		if status, page, _ := servertest.Approve(nil, mixed.String(), one.OneTimeCode); status != http.StatusBadRequest || !strings.Contains(page, "for another authorization") {
			t.Fatalf("a callback with another flow's token: %d\n%s", status, page)
		}
		if c, _ := f.api.GetConnection(ctx, one.ID); c.Status != "failed" {
			t.Fatalf("the first flow after a mixed callback: %+v", c)
		}
		// Its own callback, replayed after that, is refused: the state
		// was spent.
		if status, page, _ := servertest.Approve(nil, cb1.String(), one.OneTimeCode); status == 200 && strings.Contains(page, "is connected") {
			t.Fatal("a spent state connected")
		}
		// The second flow still completes, once; its replay does not.
		if status, page, _ := servertest.Approve(nil, cb2.String(), two.OneTimeCode); status != 200 || !strings.Contains(page, "is connected") {
			t.Fatalf("the second flow: %d %s", status, page)
		}
		if status, page, _ := servertest.Approve(nil, cb2.String(), two.OneTimeCode); status == 200 && strings.Contains(page, "is connected") {
			t.Fatal("a replayed callback connected again")
		}
		if n := count(); n != 1 {
			t.Fatalf("%d accounts, want the second flow's one", n)
		}

		// The user clicks Deny.
		f.p.Deny(true)
		denied, err := f.api.Connect(ctx, client.Connect{App: "trello"})
		if err != nil {
			t.Fatal(err)
		}
		if status, page, _ := servertest.Approve(nil, denied.AuthorizeURL, denied.OneTimeCode); status == 200 && strings.Contains(page, "is connected") {
			t.Fatal("a denial connected")
		}
		f.p.Deny(false)
		if c, _ := f.api.GetConnection(ctx, denied.ID); c.Status != "failed" || !strings.Contains(c.Error, "access_denied") {
			t.Fatalf("the denied connection: %+v", c)
		}

		// Another user of the workspace, and another workspace, can
		// neither follow the owner's flow nor read the account it made.
		mallory := addUser(t, f.inst, "mallory@example.com", store.RoleMember)
		outsider := otherWorkspace(t, f.inst)
		third, err := f.api.Connect(ctx, client.Connect{App: "trello"})
		if err != nil {
			t.Fatal(err)
		}
		list, _ := f.api.ListAccounts(ctx, client.ListOptions{})
		for name, c := range map[string]*client.Client{"another user": mallory.api, "another workspace": outsider} {
			if _, err := c.GetConnection(ctx, third.ID); !isNotFound(err) {
				t.Fatalf("%s reads the connection: %v", name, err)
			}
			if _, err := c.Credentials(ctx, list.Data[0].ID); !isNotFound(err) {
				t.Fatalf("%s reads the credentials: %v", name, err)
			}
		}
		if n := count(); n != 1 {
			t.Fatalf("%d accounts, want 1", n)
		}

		// A wrong consumer secret: the provider refuses the request
		// token, and the error quotes its problem, not a secret.
		if _, err := f.api.SetOAuthClient(ctx, "trello", client.SetOAuthClient{ClientID: f.p.ConsumerKey, ClientSecret: "not-the-secret", Managed: true}); err != nil {
			t.Fatal(err)
		}
		_, err = f.api.Connect(ctx, client.Connect{App: "trello"})
		if err == nil || !strings.Contains(err.Error(), "signature_invalid") || strings.Contains(err.Error(), "not-the-secret") {
			t.Fatalf("a wrong consumer secret: %v", err)
		}
	})
}

// callbackOf approves a flow at the provider and returns the callback URL
// it redirects to, without following it.
func (f *oauth1Fixture) callbackOf(t *testing.T, started client.Connection) *url.URL {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(started.AuthorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("state") == "" || loc.Query().Get("oauth_verifier") == "" {
		t.Fatalf("the provider's redirect: %v %v", loc, err)
	}
	return loc
}

func (f *oauth1Fixture) proxy(t *testing.T, accountID, method, path, ctype, body string) (int, string) {
	t.Helper()
	h := http.Header{}
	if ctype != "" {
		h.Set("Content-Type", ctype)
	}
	resp, b := proxyCall(t, f.inst.URL, f.inst.Token, method, "/v1/proxy/"+accountID+path, strings.NewReader(body), h)
	return resp.StatusCode, string(b)
}

func isNotFound(err error) bool {
	var p *client.Problem
	return errors.As(err, &p) && p.Status == http.StatusNotFound
}
