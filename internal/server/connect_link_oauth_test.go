package server_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// hostedFixture serves the hosted connect page with the in-test
// authorization server (app testidp), the key stand-in (sendgrid) and
// a workspace webhook endpoint at a receiver that verifies signatures.
type hostedFixture struct {
	linkFixture
	idp *oauthtest.Server
	// hooks is the workspace's endpoint; it takes every event.
	hooks *hookReceiver
}

// startHosted starts the fixture; tokens' own receivers are trusted
// origins too, as webhook_origins are read at start.
func startHosted(t *testing.T, b servertest.Backend, tokenReceivers ...*hookReceiver) hostedFixture {
	p := newProvider(t)
	idp := newIdP(t)
	rcv := newHookReceiver(t)
	cfg := oauthConfig(t, b.DatabaseURL(t), idp)
	cfg.AppOrigins["sendgrid"] = p.URL
	cfg.WebhookOrigins = []string{rcv.URL}
	for _, r := range tokenReceivers {
		cfg.WebhookOrigins = append(cfg.WebhookOrigins, r.URL)
	}
	clock := clockwork.NewFakeClockAt(time.Now())
	inst := servertest.Start(t, cfg, server.Options{Clock: clock})
	f := hostedFixture{linkFixture: linkFixture{fixture: fixture{Instance: inst, provider: p, api: inst.Client()}, clock: clock}, idp: idp, hooks: rcv}
	ctx := context.Background()
	if _, err := f.api.SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
		t.Fatal(err)
	}
	me, err := f.api.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.backend = namedToken(t, f.fixture, me.UserID, "backend", identity.ScopeConnectWrite, identity.ScopeAccountsRead, identity.ScopeAccountsWrite)
	f.browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var ep struct{ Secret string }
	hookCall(t, inst, "POST", "/v1/webhooks", `{"url":"`+rcv.URL+`/all"}`, http.StatusCreated, &ep)
	rcv.trust(ep.Secret)
	return f
}

// endUserBrowser is an end user's browser: it keeps cookies and follows
// redirects on loopback (the page, the provider, the callback), and
// stops at the first redirect elsewhere (the product's redirect URIs,
// which are never fetched).
func endUserBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if ip := net.ParseIP(req.URL.Hostname()); ip == nil || !ip.IsLoopback() {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// startFlow posts the hosted page's OAuth form in the browser and returns
// the provider's authorize URL it was sent to, with the response.
func (f hostedFixture) startFlow(t *testing.T, browser *http.Client, tok, app string) (*http.Response, string) {
	t.Helper()
	return f.startForm(t, browser, url.Values{"token": {tok}, "app": {app}})
}

// startForm is startFlow with the form's every field given.
func (f hostedFixture) startForm(t *testing.T, browser *http.Client, form url.Values) (*http.Response, string) {
	t.Helper()
	noFollow := *browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(strings.TrimSuffix(f.URL, "/")+"/connect/link", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp, resp.Header.Get("Location")
}

// finish opens the authorize URL in the browser, which approves and comes
// back to the callback; it returns the last response and its body.
func finish(t *testing.T, browser *http.Client, authorizeURL string) (*http.Response, string) {
	t.Helper()
	resp, err := browser.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func location(t *testing.T, resp *http.Response) *url.URL {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("want a redirect, got %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc
}

// events returns the data of the receiver's events of the type.
func (r *hookReceiver) events(typ string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, m := range r.got {
		if m["type"] == typ {
			d, _ := m["data"].(map[string]any)
			out = append(out, d)
		}
	}
	return out
}

// TestHostedOAuth: an OAuth app on the hosted page shows its scopes,
// sets a narrow cookie, runs the flow against the real authorization
// server and saves one account for the token's end user with its tags,
// redirecting with its id; the token is then spent, on the page and on
// the OAuth path. account.connected reaches the token's own webhook URL,
// signed with the secret minting returned, and the workspace's endpoint.
func TestHostedOAuth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		own := newHookReceiver(t)
		f := startHosted(t, b, own)
		ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "eu-1", Apps: []string{"testidp"}, Tags: map[string]string{"org": "acme"},
			SuccessRedirectURI: "https://app.example/done", ErrorRedirectURI: "https://app.example/failed", WebhookURL: own.URL + "/mine"})
		if !strings.HasPrefix(ct.WebhookSecret, "whsec_") || ct.WebhookEndpointID == "" {
			t.Fatalf("minting with a webhook_url returned secret %q, endpoint %q", ct.WebhookSecret, ct.WebhookEndpointID)
		}
		own.trust(ct.WebhookSecret)

		// One app: the page goes straight to it, with its scopes.
		resp, body := f.get(t, ct.Token, url.Values{})
		if resp.StatusCode != 200 || !strings.Contains(body, "Connect Test IdP") {
			t.Fatalf("the page: %d\n%s", resp.StatusCode, body)
		}
		for _, sc := range []string{"openid", "email", "offline_access", "read"} {
			if !strings.Contains(body, "<code>"+sc+"</code>") {
				t.Errorf("the page does not show the scope %s:\n%s", sc, body)
			}
		}
		if strings.Contains(body, "<code>write</code>") {
			t.Errorf("the page shows an optional scope that is not asked for")
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, f.idp.URL) {
			t.Errorf("CSP %q does not let the form go to the provider", csp)
		}

		browser := endUserBrowser(t)
		resp, authURL := f.startFlow(t, browser, ct.Token, "testidp")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authURL, f.idp.URL+"/authorize") {
			t.Fatalf("starting: %d to %q", resp.StatusCode, authURL)
		}
		var cookie *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "latchkey_link" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/oauth/callback" || cookie.MaxAge <= 0 || cookie.MaxAge > 600 {
			t.Fatalf("the page's cookie %+v: want HttpOnly, SameSite=Lax, path /oauth/callback, at most 10 minutes", cookie)
		}
		if n := len(f.endUserAccounts(t, "eu-1")); n != 0 {
			t.Fatalf("starting saved %d accounts", n)
		}

		resp, _ = finish(t, browser, authURL)
		loc := location(t, resp)
		if loc.Host != "app.example" || loc.Path != "/done" || loc.Query().Get("account_id") == "" {
			t.Fatalf("finished at %q, want the success redirect with the account id", loc)
		}
		list := f.endUserAccounts(t, "eu-1")
		if len(list) != 1 || list[0].ID != loc.Query().Get("account_id") || list[0].App != "testidp" || list[0].Tags["org"] != "acme" ||
			list[0].ExternalUserID != "eu-1" || list[0].IdentityLabel == "" {
			t.Fatalf("accounts %+v, want one testidp account of eu-1 with the token's tags", list)
		}

		// Spent: the page, the form and a second flow are refused.
		if resp, _ := f.get(t, ct.Token, url.Values{}); resp.StatusCode != http.StatusGone {
			t.Errorf("the used token's page: %d, want 410", resp.StatusCode)
		}
		if resp, _ := f.startFlow(t, endUserBrowser(t), ct.Token, "testidp"); resp.StatusCode != http.StatusGone {
			t.Errorf("a flow with the used token: %d, want 410", resp.StatusCode)
		}

		own.await(t, f.clock, 1)
		f.hooks.await(t, f.clock, 1)
		for name, r := range map[string]*hookReceiver{"the token's": own, "the workspace's": f.hooks} {
			got := r.events("account.connected")
			if len(got) != 1 || got[0]["account_id"] != list[0].ID || got[0]["connect_token_id"] != ct.ID || got[0]["external_user_id"] != "eu-1" {
				t.Errorf("%s endpoint got %v, want one account.connected of the account and token", name, got)
			}
			r.mu.Lock()
			if r.bad != 0 {
				t.Errorf("%s endpoint: %d unverified deliveries", name, r.bad)
			}
			r.mu.Unlock()
		}

		var eps struct {
			Data []client.WebhookEndpoint `json:"data"`
		}
		hookCall(t, f.Instance, "GET", "/v1/webhooks", "", http.StatusOK, &eps)
		marked := 0
		for _, e := range eps.Data {
			if e.ConnectTokenID == ct.ID && e.ID == ct.WebhookEndpointID {
				marked++
			}
		}
		if len(eps.Data) != 2 || marked != 1 {
			t.Errorf("endpoints %+v, want the workspace's and the token's, marked as its", eps.Data)
		}
	})
}

// TestHostedOAuthForwarded: an authorize URL started on the hosted page
// and finished in another browser (no cookie, or another flow's) attaches
// nothing, goes to no product redirect and reports nothing; the token
// stays usable, and the browser that started a flow finishes its own.
func TestHostedOAuthForwarded(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startHosted(t, b)
		ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "eu-2", Apps: []string{"testidp"},
			SuccessRedirectURI: "https://app.example/done", ErrorRedirectURI: "https://app.example/failed"})
		_, authURL := f.startFlow(t, endUserBrowser(t), ct.Token, "testidp")

		other := endUserBrowser(t)
		resp, body := finish(t, other, authURL)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "started in another browser") {
			t.Fatalf("the forwarded URL in another browser: %d, want 400 and why:\n%s", resp.StatusCode, body)
		}
		// A browser with a cookie of its own flow does no better.
		withCookie := endUserBrowser(t)
		_, mine := f.startFlow(t, withCookie, ct.Token, "testidp")
		_, authURL2 := f.startFlow(t, endUserBrowser(t), ct.Token, "testidp")
		if resp, _ := finish(t, withCookie, authURL2); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("another flow's URL in a browser with its own cookie: %d, want 400", resp.StatusCode)
		}
		if n := len(f.endUserAccounts(t, "eu-2")); n != 0 {
			t.Fatalf("a forwarded URL attached %d accounts", n)
		}
		if resp, _ := f.get(t, ct.Token, url.Values{}); resp.StatusCode != 200 {
			t.Fatalf("the token after a forwarded URL: %d, want it still usable", resp.StatusCode)
		}
		resp, _ = finish(t, withCookie, mine)
		if loc := location(t, resp); loc.Path != "/done" || len(f.endUserAccounts(t, "eu-2")) != 1 {
			t.Errorf("the starting browser's own flow: %q, want done with one account", loc)
		}
		f.hooks.await(t, f.clock, 1)
		if got := f.hooks.events("connect.failed"); len(got) != 0 {
			t.Errorf("forwarded URLs reported %v", got)
		}
	})
}

// TestHostedOAuthFailures: a denial at the provider and a failed code
// exchange go to the error redirect with their codes and report
// connect.failed, signed, with the token's ids and tags and no
// credential, leaving the token usable; a token that expires during the
// flow ends it with "expired"; of two flows of one token the second to
// finish is refused, and one account is made.
func TestHostedOAuthFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		own := newHookReceiver(t)
		f := startHosted(t, b, own)
		ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "eu-3", Apps: []string{"testidp"}, Tags: map[string]string{"plan": "pro"},
			SuccessRedirectURI: "https://app.example/done", ErrorRedirectURI: "https://app.example/failed?from=lk", WebhookURL: own.URL + "/mine"})
		own.trust(ct.WebhookSecret)

		f.idp.Deny("access_denied")
		browser := endUserBrowser(t)
		_, authURL := f.startFlow(t, browser, ct.Token, "testidp")
		resp, _ := finish(t, browser, authURL)
		if loc := location(t, resp); loc.Path != "/failed" || loc.Query().Get("error") != "access_denied" || loc.Query().Get("from") != "lk" {
			t.Errorf("a denial went to %q, want the error redirect with error=access_denied", loc)
		}
		f.idp.Deny("")

		f.idp.FailNextToken(http.StatusBadRequest, 1)
		_, authURL = f.startFlow(t, browser, ct.Token, "testidp")
		resp, _ = finish(t, browser, authURL)
		if loc := location(t, resp); loc.Query().Get("error") != "provider_error" {
			t.Errorf("a failed exchange went to %q, want error=provider_error", loc)
		}
		if n := len(f.endUserAccounts(t, "eu-3")); n != 0 {
			t.Fatalf("failed flows saved %d accounts", n)
		}

		own.await(t, f.clock, 2)
		f.hooks.await(t, f.clock, 2)
		for name, r := range map[string]*hookReceiver{"the token's": own, "the workspace's": f.hooks} {
			got := r.events("connect.failed")
			if len(got) != 2 || got[0]["error"] != "access_denied" || got[1]["error"] != "provider_error" {
				t.Fatalf("%s endpoint got %v, want connect.failed access_denied then provider_error", name, got)
			}
			tags, _ := got[0]["tags"].(map[string]any)
			if got[0]["connect_token_id"] != ct.ID || got[0]["external_user_id"] != "eu-3" || got[0]["app"] != "testidp" || tags["plan"] != "pro" {
				t.Errorf("%s connect.failed data %v, want the token, end user, app and tags", name, got[0])
			}
			r.mu.Lock()
			if r.bad != 0 {
				t.Errorf("%s endpoint: %d unverified deliveries", name, r.bad)
			}
			for _, raw := range r.raw {
				if strings.Contains(raw, ct.Token) || strings.Contains(raw, f.idp.ClientSecret()) {
					t.Errorf("a payload holds a secret: %s", raw)
				}
			}
			r.mu.Unlock()
		}

		// Two flows of the token: the first to finish wins, the second is
		// told the token is spent.
		first, second := endUserBrowser(t), endUserBrowser(t)
		_, url1 := f.startFlow(t, first, ct.Token, "testidp")
		_, url2 := f.startFlow(t, second, ct.Token, "testidp")
		resp, _ = finish(t, second, url2)
		if loc := location(t, resp); loc.Path != "/done" {
			t.Fatalf("the first flow to finish: %q", loc)
		}
		resp, _ = finish(t, first, url1)
		if loc := location(t, resp); loc.Query().Get("error") != "expired" {
			t.Errorf("the second flow to finish: %q, want error=expired", loc)
		}
		if n := len(f.endUserAccounts(t, "eu-3")); n != 1 {
			t.Errorf("two flows of one token made %d accounts, want 1", n)
		}

		// Expiring during the flow.
		late := f.mint(t, client.CreateConnectToken{ExternalUserID: "eu-4", Apps: []string{"testidp"}, ErrorRedirectURI: "https://app.example/failed"})
		f.clock.Advance(4*time.Hour - time.Minute)
		_, authURL = f.startFlow(t, browser, late.Token, "testidp")
		f.clock.Advance(2 * time.Minute)
		resp, _ = finish(t, browser, authURL)
		if loc := location(t, resp); loc.Query().Get("error") != "expired" {
			t.Errorf("a token that expired during the flow: %q, want error=expired", loc)
		}
		if resp, _ := f.startFlow(t, browser, late.Token, "testidp"); resp.StatusCode != http.StatusGone {
			t.Errorf("starting with an expired token: %d, want 410", resp.StatusCode)
		}
		if n := len(f.endUserAccounts(t, "eu-4")); n != 0 {
			t.Errorf("an expired token made %d accounts", n)
		}
	})
}

// connectHosted runs a whole hosted OAuth flow of a new token for the end
// user and returns the account it made.
func (f hostedFixture) connectHosted(t *testing.T, user string) string {
	t.Helper()
	ct := f.mint(t, client.CreateConnectToken{ExternalUserID: user, Apps: []string{"testidp"}, Tags: map[string]string{"org": "acme"},
		SuccessRedirectURI: "https://app.example/done"})
	browser := endUserBrowser(t)
	_, authURL := f.startFlow(t, browser, ct.Token, "testidp")
	resp, _ := finish(t, browser, authURL)
	id := location(t, resp).Query().Get("account_id")
	if id == "" {
		t.Fatal("no account id")
	}
	return id
}

// TestHostedReconnect: a token minted for an end user's account goes
// straight to its app and renews it, OAuth or keys, keeping its id, tags
// and workflow links, and sends account.reconnected; each token's own
// endpoint gets the events of that token's flows and no other's. Keys
// the app refuses report connect.failed (keys_refused) and leave the
// token usable.
func TestHostedReconnect(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		ownA, ownB := newHookReceiver(t), newHookReceiver(t)
		f := startHosted(t, b, ownA, ownB)
		ctx := context.Background()
		accID := f.connectHosted(t, "eu-5")
		wf, err := f.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "Who", Steps: []client.WorkflowStep{
			{Key: "who", Kind: "http", Accounts: map[string]string{"testidp": accID}, HTTP: &client.HTTPStep{App: "testidp", Path: "/userinfo"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		before, err := f.api.Credentials(ctx, accID)
		if err != nil {
			t.Fatal(err)
		}

		ctA := f.mint(t, client.CreateConnectToken{AccountID: accID, SuccessRedirectURI: "https://app.example/again", WebhookURL: ownA.URL + "/a"})
		if ctA.ExternalUserID != "eu-5" || len(ctA.Apps) != 1 || ctA.Apps[0] != "testidp" || ctA.AccountID != accID {
			t.Fatalf("reconnect token %+v, want the account's end user and app", ctA)
		}
		ownA.trust(ctA.WebhookSecret)
		if resp, body := f.get(t, ctA.Token, url.Values{}); resp.StatusCode != 200 || !strings.Contains(body, "Reconnect Test IdP") {
			t.Fatalf("the reconnect page: %d\n%s", resp.StatusCode, body)
		}
		browser := endUserBrowser(t)
		_, authURL := f.startFlow(t, browser, ctA.Token, "testidp")
		resp, _ := finish(t, browser, authURL)
		if loc := location(t, resp); loc.Path != "/again" || loc.Query().Get("account_id") != accID {
			t.Fatalf("reconnecting went to %q, want the same account id", loc)
		}
		list := f.endUserAccounts(t, "eu-5")
		if len(list) != 1 || list[0].ID != accID || list[0].Tags["org"] != "acme" {
			t.Fatalf("accounts after reconnecting %+v, want the one account, its tags kept", list)
		}
		after, err := f.api.Credentials(ctx, accID)
		if err != nil || after["oauth_access_token"] == before["oauth_access_token"] {
			t.Errorf("the account's access token was not renewed (%v)", err)
		}
		if got, err := f.api.GetWorkflow(ctx, wf.ID); err != nil || got.Steps[0].Accounts["testidp"] != accID {
			t.Errorf("the workflow's link after reconnecting: %+v, %v", got.Steps, err)
		}

		// Keys: a SendGrid account of an end user, renewed by a token.
		keyTok := f.mint(t, client.CreateConnectToken{ExternalUserID: "eu-6", Apps: []string{"sendgrid"}, SuccessRedirectURI: "https://app.example/done"})
		resp, _ = f.post(t, keyTok.Token, "sendgrid", map[string]string{"api_key": goodKey})
		keyAcc := location(t, resp).Query().Get("account_id")
		ctB := f.mint(t, client.CreateConnectToken{AccountID: keyAcc, ExternalUserID: "eu-6", WebhookURL: ownB.URL + "/b"})
		ownB.trust(ctB.WebhookSecret)
		if resp, body := f.get(t, ctB.Token, url.Values{}); resp.StatusCode != 200 || !strings.Contains(body, "Reconnect SendGrid") || !strings.Contains(body, `name="field_api_key"`) {
			t.Fatalf("the keys reconnect page: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := f.post(t, ctB.Token, "sendgrid", map[string]string{"api_key": "SG.wrong"}); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("a refused key: %d, want 422", resp.StatusCode)
		}
		if resp, _ := f.post(t, ctB.Token, "twilio", map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another app with a reconnect token: %d, want 404", resp.StatusCode)
		}
		resp, body := f.post(t, ctB.Token, "sendgrid", map[string]string{"api_key": goodKey})
		if resp.StatusCode != 200 || !strings.Contains(body, "reconnected") || !strings.Contains(body, keyAcc) {
			t.Fatalf("new keys: %d, want the done page of the same account:\n%s", resp.StatusCode, body)
		}
		if list := f.endUserAccounts(t, "eu-6"); len(list) != 1 || list[0].ID != keyAcc {
			t.Errorf("accounts of eu-6 %+v, want the one account", list)
		}

		ownA.await(t, f.clock, 1)
		ownB.await(t, f.clock, 2)
		if got := ownA.events("account.reconnected"); len(got) != 1 || got[0]["account_id"] != accID || got[0]["connect_token_id"] != ctA.ID {
			t.Errorf("token A's endpoint got %v, want one account.reconnected of the account", got)
		}
		if got := ownB.events("connect.failed"); len(got) != 1 || got[0]["error"] != "keys_refused" || got[0]["account_id"] != keyAcc {
			t.Errorf("token B's endpoint got connect.failed %v, want one keys_refused for the account", got)
		}
		if got := ownB.events("account.reconnected"); len(got) != 1 || got[0]["account_id"] != keyAcc || got[0]["connect_token_id"] != ctB.ID {
			t.Errorf("token B's endpoint got account.reconnected %v", got)
		}
		// Let the deliverer run a while more: nothing else may come.
		for range 5 {
			f.clock.Advance(server.WebhookInterval)
			time.Sleep(20 * time.Millisecond)
		}
		for name, r := range map[string]*hookReceiver{"A": ownA, "B": ownB} {
			r.mu.Lock()
			want := map[string]string{"A": ctA.ID, "B": ctB.ID}[name]
			for _, m := range r.got {
				if d, _ := m["data"].(map[string]any); d["connect_token_id"] != want {
					t.Errorf("token %s's endpoint got another's event: %v", name, m)
				}
			}
			if r.bad != 0 {
				t.Errorf("token %s's endpoint: %d unverified deliveries", name, r.bad)
			}
			r.mu.Unlock()
		}
		ownA.mu.Lock()
		if n := len(ownA.raw); n != 1 {
			t.Errorf("token A's endpoint got %d events, want 1", n)
		}
		ownA.mu.Unlock()
	})
}

// TestReconnectTokenMint: a reconnect token is minted only for an end
// user's account the caller may see: not a member's account, not another
// end user's, not another app, not an account another admin keeps
// private, not an account of another workspace. Nothing is minted then.
func TestReconnectTokenMint(t *testing.T) {
	f := startHosted(t, servertest.Backends[0])
	ctx := context.Background()
	accID := f.connectHosted(t, "eu-7")
	member, err := f.api.CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := f.api.Invite(ctx, client.Invite{Email: "ada@acme.test", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ada := join(t, f.Instance, inv.URL, "ada's password!")
	adaBackend := namedToken(t, f.fixture, ada.id, "ada-backend", identity.ScopeConnectWrite, identity.ScopeAccountsRead)
	outsider := otherWorkspace(t, f.Instance)
	for _, tc := range []struct {
		name  string
		as    *client.Client
		in    client.CreateConnectToken
		field string
	}{
		{"a member's account", f.backend, client.CreateConnectToken{AccountID: member.ID}, "account_id"},
		{"another end user", f.backend, client.CreateConnectToken{AccountID: accID, ExternalUserID: "eu-8"}, "external_user_id"},
		{"another app", f.backend, client.CreateConnectToken{AccountID: accID, Apps: []string{"sendgrid"}}, "apps"},
		{"no such account", f.backend, client.CreateConnectToken{AccountID: "acc_nosuch"}, "account_id"},
		{"another admin's private account", adaBackend, client.CreateConnectToken{AccountID: accID}, "account_id"},
		{"another workspace's account", outsider, client.CreateConnectToken{AccountID: accID}, "account_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.as.CreateConnectToken(ctx, tc.in)
			var p *client.Problem
			if !asProblem(err, &p) || p.Status != http.StatusUnprocessableEntity || p.Field != tc.field {
				t.Errorf("minting: %v, want 422 naming %s", err, tc.field)
			}
		})
	}
	if ct := f.mint(t, client.CreateConnectToken{AccountID: accID, ExternalUserID: "eu-7"}); ct.AccountID != accID {
		t.Errorf("a matching external_user_id: %+v", ct)
	}
}
