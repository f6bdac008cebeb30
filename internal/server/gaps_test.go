package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/web"
)

// gapApp is the in-test IdP described with the schema's quirk blocks: a
// callback parameter kept (as QuickBooks' realmId), a metadata request
// whose answer is kept (as Mailchimp's dc), the client id on API requests
// (as Twitch's Client-Id) and a revocation template in place of RFC 7009.
const gapApp = `slug: gapidp
name: Gap IdP
categories: [developer-tools]
docs_url: https://idp.example/docs
auth: oauth2
base_url: https://idp.example
oauth2:
  authorize_url: https://idp.example/authorize
  token_url: https://idp.example/token
  default_scopes: [openid, email, offline_access, read]
  client_auth: basic
  # Unlike testidp's, so the copy-paste check tells the two apart.
  authorize_params:
    gap: "1"
  callback_fields:
    realm_id: realmId
  metadata:
    url: https://idp.example/userinfo
    keep:
      tenant: sub
  revoke:
    url: https://idp.example/revoke
    auth: basic
    body: token={token}&token_type_hint={token_type_hint}
    tokens: [refresh_token]
headers:
  X-Client-Id: '{oauth_client_id}'
identity:
  url: /userinfo
  label: '{email}'
`

// metaApp keeps, from the IdP's userinfo, the value at the path {path}.
const metaApp = `slug: {slug}
name: {slug}
categories: [developer-tools]
docs_url: https://idp.example/docs
auth: oauth2
base_url: https://idp.example
oauth2:
  authorize_url: https://idp.example/authorize
  token_url: https://idp.example/token
  default_scopes: [openid, email, offline_access, read]
  client_auth: basic
  authorize_params:
    which: {slug}
  metadata:
    url: https://idp.example/userinfo
    keep:
      kept: {path}
`

// callbackAs plays a provider that sends the user back its own way: it
// adds parameters to the callback and, when post is set, delivers it as a
// cross-site form post, as a browser would submit Copper's page.
type callbackAs struct {
	extra url.Values
	post  bool
	idp   string
	// posted counts the callbacks delivered as posts.
	posted int
}

func (c *callbackAs) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Path != web.CallbackPath || req.URL.Query().Get("code") == "" {
		return http.DefaultTransport.RoundTrip(req)
	}
	q := req.URL.Query()
	for k, v := range c.extra {
		q[k] = v
	}
	// Latchkey answers the post with the GET callback, which goes as is.
	if !c.post || c.posted > 0 {
		r := req.Clone(req.Context())
		r.URL.RawQuery = q.Encode()
		return http.DefaultTransport.RoundTrip(r)
	}
	c.posted++
	u := *req.URL
	u.RawQuery = ""
	r, err := http.NewRequestWithContext(req.Context(), http.MethodPost, u.String(), strings.NewReader(q.Encode()))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", c.idp)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	for _, ck := range req.Cookies() {
		r.AddCookie(ck)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestSchemaGapsEndToEnd connects through the real authorization server
// an app that uses the quirk blocks, and checks what the user gets: the
// callback's and the metadata's values and the client id among the
// account's credentials, a callback that arrives as a post, and a delete
// that revokes with the template.
func TestSchemaGapsEndToEnd(t *testing.T) {
	idp := newIdP(t)
	cfg := oauthConfig(t, servertest.Backends[0].DatabaseURL(t), idp)
	servertest.WriteApp(t, &cfg, "gapidp", gapApp)
	cfg.AppOrigins["gapidp"] = idp.URL
	// An answer without the kept path, and one whose value is no plain
	// one (an address has an @).
	for slug, path := range map[string]string{"metamissing": "no_such", "metaunsafe": "email"} {
		servertest.WriteApp(t, &cfg, slug, strings.NewReplacer("{slug}", slug, "{path}", path).Replace(metaApp))
		cfg.AppOrigins[slug] = idp.URL
	}
	inst := servertest.Start(t, cfg, server.Options{})
	api := inst.Client()
	ctx := context.Background()
	for _, slug := range []string{"gapidp", "metamissing", "metaunsafe"} {
		if _, err := api.SetOAuthClient(ctx, slug, client.SetOAuthClient{
			ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	idp.SetUser("tenant-42")
	var connectApp func(t *testing.T, app string, as *callbackAs) (client.Connection, int, string)

	connect := func(t *testing.T, as *callbackAs) (client.Connection, int, string) {
		t.Helper()
		return connectApp(t, "gapidp", as)
	}
	connectApp = func(t *testing.T, app string, as *callbackAs) (client.Connection, int, string) {
		t.Helper()
		started, err := api.Connect(ctx, client.Connect{App: app})
		if err != nil {
			t.Fatal(err)
		}
		status, page, err := servertest.Approve(&http.Client{Transport: as}, started.AuthorizeURL, started.OneTimeCode)
		if err != nil {
			t.Fatal(err)
		}
		done, err := api.GetConnection(ctx, started.ID)
		if err != nil {
			t.Fatal(err)
		}
		return done, status, page
	}

	for _, post := range []bool{false, true} {
		name := map[bool]string{false: "callback by GET", true: "callback by cross-site POST"}[post]
		t.Run(name, func(t *testing.T) {
			as := &callbackAs{extra: url.Values{"realmId": {"9130350"}}, post: post, idp: idp.URL}
			done, status, page := connect(t, as)
			if status != 200 || done.Status != "completed" {
				t.Fatalf("connection %+v, page %d:\n%s", done, status, page)
			}
			if post && as.posted != 1 {
				t.Fatalf("the callback was posted %d times", as.posted)
			}
			creds, err := api.Credentials(ctx, done.AccountID)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"realm_id": "9130350", "tenant": "tenant-42", "oauth_client_id": idp.ClientID()}
			for k, v := range want {
				if creds[k] != v {
					t.Errorf("credential %s = %q, want %q", k, creds[k], v)
				}
			}
			if _, ok := creds["oauth_refresh_token"]; ok {
				t.Error("the refresh token is among the credentials")
			}
		})
	}

	t.Run("a callback without the kept parameter saves nothing", func(t *testing.T) {
		before, _ := api.ListAccounts(ctx, client.ListOptions{})
		done, status, page := connect(t, &callbackAs{})
		if done.Status != "failed" || status != http.StatusBadRequest || !strings.Contains(page, "did not include realmId") {
			t.Fatalf("connection %+v, page %d:\n%s", done, status, page)
		}
		after, _ := api.ListAccounts(ctx, client.ListOptions{})
		if len(after.Data) != len(before.Data) {
			t.Fatalf("%d accounts, then %d", len(before.Data), len(after.Data))
		}
	})

	t.Run("a kept parameter that is not a plain value saves nothing", func(t *testing.T) {
		done, status, _ := connect(t, &callbackAs{extra: url.Values{"realmId": {"evil.example/x"}}})
		if done.Status != "failed" || status != http.StatusBadRequest {
			t.Fatalf("connection %+v, page %d", done, status)
		}
	})

	for _, app := range []string{"metamissing", "metaunsafe"} {
		t.Run("a metadata answer that cannot be kept saves nothing: "+app, func(t *testing.T) {
			before, _ := api.ListAccounts(ctx, client.ListOptions{})
			done, status, page := connectApp(t, app, &callbackAs{})
			if done.Status != "failed" || status != http.StatusBadGateway || !strings.Contains(page, "account details could not be read") {
				t.Fatalf("connection %+v, page %d:\n%s", done, status, page)
			}
			after, _ := api.ListAccounts(ctx, client.ListOptions{})
			if len(after.Data) != len(before.Data) {
				t.Fatalf("%d accounts, then %d", len(before.Data), len(after.Data))
			}
		})
	}

	t.Run("a posted callback in another user's or another workspace's browser saves nothing", func(t *testing.T) {
		member := addUser(t, inst, "mia@example.com", store.RoleMember)
		outsider := otherWorkspaceUser(t, inst, "eve@example.com")
		for _, who := range []webUser{member, outsider} {
			b := browser(t)
			if status, _ := signIn(t, b, inst, who, "/"); status != http.StatusOK {
				t.Fatalf("%s could not sign in: %d", who.Email, status)
			}
			before, _ := api.ListAccounts(ctx, client.ListOptions{})
			started, err := api.Connect(ctx, client.Connect{App: "gapidp"})
			if err != nil {
				t.Fatal(err)
			}
			b.Transport = &callbackAs{extra: url.Values{"realmId": {"7"}}, post: true, idp: idp.URL}
			// Without the one-time code the starter was shown, the
			// browser is only asked for it.
			status, page, err := servertest.Approve(b, started.AuthorizeURL, "WRONG-CODE")
			if err != nil {
				t.Fatal(err)
			}
			done, _ := api.GetConnection(ctx, started.ID)
			after, _ := api.ListAccounts(ctx, client.ListOptions{})
			if status == http.StatusOK || done.Status == "completed" || len(after.Data) != len(before.Data) {
				t.Fatalf("%s finished another's connection: %d %+v\n%s", who.Email, status, done, page)
			}
		}
	})

	t.Run("a posted callback without a state is refused", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, inst.URL+web.CallbackPath, strings.NewReader("code=abc"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})

	t.Run("the cross-origin check still guards the other posts", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, inst.URL+web.CallbackPath+"/resume/conn_x", strings.NewReader("code=abc"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
	})

	t.Run("delete revokes with the template", func(t *testing.T) {
		done, _, _ := connect(t, &callbackAs{extra: url.Values{"realmId": {"1"}}})
		creds, err := api.Credentials(ctx, done.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		before := idp.Revocations()
		del, err := api.DeleteAndRevoke(ctx, done.AccountID)
		if err != nil || del.Revocation != "revoked" {
			t.Fatalf("delete: %+v %v", del, err)
		}
		if idp.Revocations() != before+1 {
			t.Fatalf("the IdP saw %d revocations, want one", idp.Revocations()-before)
		}
		// Revoking the refresh token ends the grant's access tokens too.
		if code, _ := userinfo(t, idp, creds["oauth_access_token"]); code != 401 {
			t.Fatalf("the access token still works after revocation: %d", code)
		}
	})
	assertNoSecrets(t, inst.Logs.String(), idp.ClientSecret(), "ory_at_", "ory_rt_", "ory_ac_")
}

// otherWorkspaceUser is the owner of a second workspace, who signs in on
// the web with a password.
func otherWorkspaceUser(t *testing.T, inst *servertest.Instance, email string) webUser {
	t.Helper()
	ctx := context.Background()
	st, now := inst.Store(), time.Now().UTC()
	ws := store.Workspace{ID: ids.New(ids.Workspace, now), Name: "other", CreatedAt: now}
	if err := st.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	pw := "correct horse " + email
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u := store.User{ID: ids.New(ids.User, now), WorkspaceID: ws.ID, Email: email, Name: "eve", Role: store.RoleOwner, PasswordHash: string(hash), CreatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	return webUser{User: u, password: pw}
}

// TestClientRedirectName: eBay's client carries the RuName eBay gave the
// callback URL, which a connection sends as redirect_uri; the API asks for
// it where the app needs it and refuses it where the app does not.
func TestClientRedirectName(t *testing.T) {
	f := startOAuth(t, servertest.Backends[0])
	ctx := context.Background()
	for name, tc := range map[string]struct {
		app string
		in  client.SetOAuthClient
	}{
		"eBay without a RuName":     {"ebay", client.SetOAuthClient{ClientID: "c", ClientSecret: "s"}},
		"eBay with a URL for one":   {"ebay", client.SetOAuthClient{ClientID: "c", ClientSecret: "s", RedirectName: "https://evil.example/cb"}},
		"GitHub with a RuName":      {"github", client.SetOAuthClient{ClientID: "c", ClientSecret: "s", RedirectName: "Acme-App-PRD-1"}},
		"the IdP with a RuName too": {"testidp", client.SetOAuthClient{ClientID: "c", ClientSecret: "s", RedirectName: "x"}},
	} {
		var p *client.Problem
		if _, err := f.api.SetOAuthClient(ctx, tc.app, tc.in); !client.IsProblem(err, "validation") || !asProblem(err, &p) || p.Field != "redirect_name" {
			t.Errorf("%s: %v", name, err)
		}
	}
	oc, err := f.api.SetOAuthClient(ctx, "ebay", client.SetOAuthClient{ClientID: "ebay-cid", ClientSecret: "ebay-secret", Managed: true, RedirectName: "Acme_Inc-AcmeApp-PRD-1a2b3c"})
	if err != nil || oc.RedirectName != "Acme_Inc-AcmeApp-PRD-1a2b3c" {
		t.Fatalf("set: %+v %v", oc, err)
	}
	if got, err := f.api.GetOAuthClient(ctx, oc.ID); err != nil || got.RedirectName != oc.RedirectName {
		t.Fatalf("get: %+v %v", got, err)
	}
	started, err := f.api.Connect(ctx, client.Connect{App: "ebay"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(started.AuthorizeURL)
	if u.Host != "auth.ebay.com" || u.Query().Get("redirect_uri") != "Acme_Inc-AcmeApp-PRD-1a2b3c" || u.Query().Get("client_id") != "ebay-cid" {
		t.Fatalf("authorize URL %s", started.AuthorizeURL)
	}
}
