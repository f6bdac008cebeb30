package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

type linkFixture struct {
	fixture
	clock   *clockwork.FakeClock
	backend *client.Client
	browser *http.Client
}

func startLink(t *testing.T, b servertest.Backend) linkFixture {
	p := newProvider(t)
	cfg := servertest.Config(t, b.DatabaseURL(t))
	cfg.AppOrigins = map[string]string{"sendgrid": p.URL, "twilio": p.URL}
	clock := clockwork.NewFakeClockAt(time.Now())
	inst := servertest.Start(t, cfg, server.Options{Clock: clock})
	f := linkFixture{fixture: fixture{Instance: inst, provider: p, api: inst.Client()}, clock: clock}
	me, err := f.api.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.backend = namedToken(t, f.fixture, me.UserID, "backend", identity.ScopeConnectWrite, identity.ScopeAccountsRead, identity.ScopeAccountsWrite)
	// No cookies and no redirects followed: an end user's browser, seen
	// one response at a time.
	f.browser = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

func (f linkFixture) mint(t *testing.T, in client.CreateConnectToken) client.ConnectToken {
	t.Helper()
	ct, err := f.backend.CreateConnectToken(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return ct
}

func (f linkFixture) get(t *testing.T, tok string, q url.Values) (*http.Response, string) {
	t.Helper()
	q.Set("token", tok)
	resp, err := f.browser.Get(strings.TrimSuffix(f.URL, "/") + "/connect/link?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f linkFixture) post(t *testing.T, tok, app string, fields map[string]string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"token": {tok}, "app": {app}}
	for k, v := range fields {
		form.Set("field_"+k, v)
	}
	req, err := http.NewRequest(http.MethodPost, strings.TrimSuffix(f.URL, "/")+"/connect/link", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (f linkFixture) endUserAccounts(t *testing.T, user string) []client.Account {
	t.Helper()
	page, err := f.backend.ListAccounts(context.Background(), client.ListOptions{ExternalUserID: user})
	if err != nil {
		t.Fatal(err)
	}
	return page.Data
}

// TestConnectLinkPage: the hosted connect page lists a token's apps and
// shows a key app's form with no sign-in; a good key makes exactly one
// account for the end user with the token's tags and redirects with its
// id; a refused key saves nothing and leaves the token usable; a used or
// expired token is refused with 410; the page may be framed only by the
// token's allowed origins.
func TestConnectLinkPage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startLink(t, b)
		ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "customer-42", Apps: []string{"sendgrid", "twilio", "slack"},
			Tags: map[string]string{"org": "acme"}, SuccessRedirectURI: "https://app.example/done?step=2",
			ErrorRedirectURI: "https://app.example/failed", AllowedOrigins: []string{"https://app.example", "https://admin.app.example"}})

		resp, body := f.get(t, ct.Token, url.Values{})
		if resp.StatusCode != 200 || !strings.Contains(body, "SendGrid") || !strings.Contains(body, "Twilio") {
			t.Fatalf("the app list: %d, want SendGrid and Twilio in:\n%s", resp.StatusCode, body)
		}
		if !strings.Contains(body, "Slack") || !strings.Contains(body, `class="tag oauth"`) {
			t.Errorf("the OAuth app is not offered, marked as OAuth")
		}
		if strings.Contains(body, "HubSpot") {
			t.Errorf("the list shows an app the token does not offer")
		}
		csp := resp.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors https://app.example https://admin.app.example;") || strings.Contains(csp, "'unsafe-inline'") ||
			!strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "form-action 'self' https://app.example;") {
			t.Errorf("CSP = %q, want frame-ancestors of the allowed origins, form-action to the redirects, no inline script", csp)
		}
		if xfo := resp.Header.Get("X-Frame-Options"); xfo != "" {
			t.Errorf("X-Frame-Options %q overrides the allowed origins", xfo)
		}
		if _, body := f.get(t, ct.Token, url.Values{"q": {"twil"}}); !strings.Contains(body, "Twilio") || strings.Contains(body, "SendGrid") {
			t.Errorf("searching for twil:\n%s", body)
		}

		resp, body = f.get(t, ct.Token, url.Values{"app": {"sendgrid"}})
		if resp.StatusCode != 200 || !strings.Contains(body, `name="field_api_key"`) || !strings.Contains(body, `type="password"`) {
			t.Fatalf("the SendGrid form: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := f.get(t, ct.Token, url.Values{"app": {"hubspot"}}); resp.StatusCode != 404 {
			t.Errorf("an app the token does not offer: %d, want 404", resp.StatusCode)
		}

		if resp, _ := f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": strings.Repeat("k", 65<<10)}); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("a form over 64 KiB: %d, want 413", resp.StatusCode)
		}

		// A refused key: the form again with the reason, nothing saved,
		// the token still good.
		resp, body = f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": "SG.wrong-key"})
		if resp.StatusCode != 422 || !strings.Contains(body, "SendGrid refused these credentials (401 Unauthorized") || !strings.Contains(body, `name="field_api_key"`) {
			t.Errorf("a refused key: %d, want 422 and the form again:\n%s", resp.StatusCode, body)
		}
		if strings.Contains(body, "SG.wrong-key") {
			t.Errorf("the refused key came back in the page")
		}
		if n := len(f.endUserAccounts(t, "customer-42")); n != 0 {
			t.Fatalf("a refused key saved %d accounts", n)
		}

		// A good key: one account, the end user's, with the tags.
		resp, _ = f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": goodKey})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a good key: %d, want 303", resp.StatusCode)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || loc.Host != "app.example" || loc.Path != "/done" || loc.Query().Get("step") != "2" {
			t.Fatalf("redirected to %q, want the success redirect URI", resp.Header.Get("Location"))
		}
		list := f.endUserAccounts(t, "customer-42")
		if len(list) != 1 || list[0].ID != loc.Query().Get("account_id") || list[0].Tags["org"] != "acme" || list[0].App != "sendgrid" {
			t.Fatalf("accounts %+v, want one SendGrid account with the redirect's id and the token's tags", list)
		}

		// Spent: a second post and the page itself are refused.
		if resp, _ := f.post(t, ct.Token, "twilio", map[string]string{"account_sid": twilioSID, "auth_token": twilioToken}); resp.StatusCode != http.StatusGone {
			t.Errorf("a second post: %d, want 410", resp.StatusCode)
		}
		if resp, body := f.get(t, ct.Token, url.Values{}); resp.StatusCode != http.StatusGone || !strings.Contains(body, "used already or it expired") {
			t.Errorf("the page of a used token: %d\n%s", resp.StatusCode, body)
		}
		if n := len(f.endUserAccounts(t, "customer-42")); n != 1 {
			t.Errorf("%d accounts after the second post, want 1", n)
		}

		// Expired: refused, even with a good key.
		old := f.mint(t, client.CreateConnectToken{ExternalUserID: "customer-43"})
		f.clock.Advance(4*time.Hour + time.Second)
		if resp, _ := f.get(t, old.Token, url.Values{}); resp.StatusCode != http.StatusGone {
			t.Errorf("an expired token's page: %d, want 410", resp.StatusCode)
		}
		if resp, _ := f.post(t, old.Token, "sendgrid", map[string]string{"api_key": goodKey}); resp.StatusCode != http.StatusGone {
			t.Errorf("an expired token's post: %d, want 410", resp.StatusCode)
		}
		if n := len(f.endUserAccounts(t, "customer-43")); n != 0 {
			t.Errorf("an expired token saved %d accounts", n)
		}
		if resp, _ := f.get(t, "lkc_nosuchtoken", url.Values{}); resp.StatusCode != http.StatusGone {
			t.Errorf("an unknown token: %d, want 410", resp.StatusCode)
		}
	})
}

// TestConnectLinkAnyApp: a token that names no apps offers the key and
// OAuth apps, frames nowhere, and without a success redirect shows a
// done page.
func TestConnectLinkAnyApp(t *testing.T) {
	f := startLink(t, servertest.Backends[0])
	ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "customer-7"})
	resp, body := f.get(t, ct.Token, url.Values{"q": {"send"}})
	if resp.StatusCode != 200 || !strings.Contains(body, "SendGrid") {
		t.Errorf("the any-app list: %d, want SendGrid:\n%s", resp.StatusCode, body)
	}
	if _, body := f.get(t, ct.Token, url.Values{"q": {"slack"}}); !strings.Contains(body, ">Slack<") {
		t.Errorf("the any-app list does not offer an OAuth app:\n%s", body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q, want frame-ancestors 'none'", csp)
	}
	resp, body = f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": goodKey})
	list := f.endUserAccounts(t, "customer-7")
	if resp.StatusCode != 200 || len(list) != 1 || !strings.Contains(body, list[0].ID) {
		t.Errorf("done page: %d, accounts %v:\n%s", resp.StatusCode, list, body)
	}
}

// TestConnectLinkOnce: eight concurrent posts of one token with a good
// key make one account; the others are refused.
func TestConnectLinkOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startLink(t, b)
		ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "racer", SuccessRedirectURI: "https://app.example/ok"})
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Go(func() {
				resp, _ := f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": goodKey})
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		won := 0
		for _, c := range codes {
			switch c {
			case http.StatusSeeOther:
				won++
			case http.StatusGone:
			default:
				t.Errorf("a racing post got %d, want 303 or 410", c)
			}
		}
		if n := len(f.endUserAccounts(t, "racer")); n != 1 || won != 1 {
			t.Errorf("%d accounts and %d redirects from 8 racing posts (%v), want 1 and 1", n, won, codes)
		}
	})
}

// TestConnectLinkWorkspaces: a token shows its own workspace's custom
// apps, never another's, and saves into its own workspace only.
func TestConnectLinkWorkspaces(t *testing.T) {
	f := startLink(t, servertest.Backends[0])
	ctx := context.Background()
	if _, err := f.api.SetCustomApp(ctx, "acme_crm", []byte(customApp)); err != nil {
		t.Fatal(err)
	}
	outsider := otherWorkspace(t, f.Instance)
	ct, err := outsider.CreateConnectToken(ctx, client.CreateConnectToken{ExternalUserID: "customer-42"})
	if err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, ct.Token, url.Values{"q": {"acme"}})
	if strings.Contains(body, "Acme CRM") {
		t.Errorf("another workspace's token lists this workspace's custom app:\n%s", body)
	}
	if resp, _ := f.get(t, ct.Token, url.Values{"app": {"acme_crm"}}); resp.StatusCode != 404 {
		t.Errorf("another workspace's custom app by slug: %d, want 404", resp.StatusCode)
	}
	if _, body := f.get(t, f.mint(t, client.CreateConnectToken{ExternalUserID: "u"}).Token, url.Values{"q": {"acme"}}); !strings.Contains(body, "Acme CRM") {
		t.Errorf("the workspace's own token does not list its custom app:\n%s", body)
	}
	resp, _ := f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": goodKey})
	if resp.StatusCode != 200 {
		t.Fatalf("the other workspace's connect: %d", resp.StatusCode)
	}
	if n := len(f.endUserAccounts(t, "customer-42")); n != 0 {
		t.Errorf("another workspace's end user's account shows here: %d", n)
	}
	if page, err := outsider.ListAccounts(ctx, client.ListOptions{ExternalUserID: "customer-42"}); err != nil || len(page.Data) != 1 {
		t.Errorf("the other workspace's own account: %v, %v", page, err)
	}
}

// otherWorkspace makes a second workspace with an owner, and returns a
// client with an all-scopes token of that owner.
func otherWorkspace(t *testing.T, inst *servertest.Instance) *client.Client {
	t.Helper()
	ctx := context.Background()
	st, now := inst.Store(), time.Now().UTC()
	other := store.Workspace{ID: ids.New("wsp", now), Name: "other", CreatedAt: now}
	if err := st.CreateWorkspace(ctx, other); err != nil {
		t.Fatal(err)
	}
	zed := store.User{ID: ids.New("usr", now), WorkspaceID: other.ID, Email: "zed@other.test", Name: "Zed", Role: store.RoleOwner, CreatedAt: now}
	if err := st.CreateUser(ctx, zed); err != nil {
		t.Fatal(err)
	}
	sec, _, err := inst.Identity().IssueToken(ctx, other.ID, zed.ID, "other", []string{identity.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	return client.New(inst.URL, sec.Reveal(), nil)
}
