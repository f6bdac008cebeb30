package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// TestShippedOAuthEntries shows, for a sample of real catalog entries, that
// their data drives the requests each provider documents: the authorize
// URL's host, path and parameters, and the token request's client
// authentication and body.
func TestShippedOAuthEntries(t *testing.T) {
	tests := []struct {
		app    string
		fields map[string]string
		// authorize is the URL before the query; params must all be in it.
		authorize string
		params    map[string]string
		// basic: client credentials in an HTTP Basic header, not the body.
		basic bool
		json  bool
		// clientParam names the client id where it is not client_id.
		clientParam string
		// redirectName is the client's name for the callback URL.
		redirectName string
	}{
		{app: "slack", authorize: "https://slack.com/oauth/v2/authorize",
			params: map[string]string{"user_scope": "users:read,chat:write,channels:read"}, basic: true},
		{app: "github", authorize: "https://github.com/login/oauth/authorize",
			params: map[string]string{"scope": "repo read:user user:email"}},
		{app: "google_sheets", authorize: "https://accounts.google.com/o/oauth2/v2/auth",
			params: map[string]string{"access_type": "offline", "prompt": "consent", "scope": "openid email https://www.googleapis.com/auth/spreadsheets"}},
		{app: "microsoft_outlook", fields: map[string]string{"tenant": "contoso.onmicrosoft.com"},
			authorize: "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
			params:    map[string]string{"scope": "offline_access User.Read Mail.ReadWrite Mail.Send"}},
		{app: "notion", authorize: "https://api.notion.com/v1/oauth/authorize",
			params: map[string]string{"owner": "user"}, basic: true, json: true},
		{app: "salesforce", authorize: "https://login.salesforce.com/services/oauth2/authorize"},
		{app: "zendesk", fields: map[string]string{"subdomain": "acme"}, authorize: "https://acme.zendesk.com/oauth/authorizations/new",
			json: true},
		{app: "shopify", fields: map[string]string{"shop": "acme-store"}, authorize: "https://acme-store.myshopify.com/admin/oauth/authorize",
			params: map[string]string{"scope": "read_products"}},
		{app: "dropbox", authorize: "https://www.dropbox.com/oauth2/authorize",
			params: map[string]string{"token_access_type": "offline"}},
		{app: "jira", authorize: "https://auth.atlassian.com/authorize",
			params: map[string]string{"audience": "api.atlassian.com", "prompt": "consent"}},
		{app: "tiktok", authorize: "https://www.tiktok.com/v2/auth/authorize/", clientParam: "client_key",
			params: map[string]string{"scope": "user.info.basic"}},
		{app: "ebay", redirectName: "Acme-AcmeApp-PRD-abc123", authorize: "https://auth.ebay.com/oauth2/authorize",
			params: map[string]string{"redirect_uri": "Acme-AcmeApp-PRD-abc123"}, basic: true},
		{app: "figma", authorize: "https://www.figma.com/oauth", basic: true},
		{app: "dropbox_sign", authorize: "https://app.hellosign.com/oauth/authorize", json: true},
		{app: "adobe_sign", fields: map[string]string{"shard": "eu1"}, authorize: "https://secure.eu1.adobesign.com/public/oauth/v2"},
		{app: "myob", authorize: "https://secure.myob.com/oauth2/account/authorize", params: map[string]string{"scope": "CompanyFile"}},
		{app: "quickbooks", authorize: "https://appcenter.intuit.com/connect/oauth2", basic: true},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			app := shipped(t, tt.app)
			f := &oauth.Flow{App: app, Client: oauth.Client{ID: "cid", Secret: secret.New("csecret")},
				RedirectURI: "https://latchkey.example/oauth/callback", RedirectName: tt.redirectName, Fields: tt.fields}
			raw, err := f.AuthCodeURL("state-123456", "verifier-verifier-verifier-verifier-verifier", app.OAuth2.DefaultScopes)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(raw)
			if got := u.Scheme + "://" + u.Host + u.Path; got != tt.authorize {
				t.Errorf("authorize URL %s, want %s", got, tt.authorize)
			}
			q := u.Query()
			for k, v := range tt.params {
				if q.Get(k) != v {
					t.Errorf("authorize %s = %q, want %q", k, q.Get(k), v)
				}
			}
			clientParam := tt.clientParam
			if clientParam == "" {
				clientParam = "client_id"
			}
			if q.Get(clientParam) != "cid" || q.Get("response_type") != "code" || q.Get("state") != "state-123456" {
				t.Errorf("authorize basics: %s", u.RawQuery)
			}
			if (q.Get("code_challenge") != "") != app.OAuth2.UsesPKCE() {
				t.Errorf("PKCE in URL = %v, entry says %v", q.Get("code_challenge") != "", app.OAuth2.UsesPKCE())
			}

			// The token request, against a stand-in at the entry's path.
			var seen *http.Request
			var body string
			origin := standIn(t, func(r *http.Request, b string) error {
				seen, body = r, b
				return nil
			}, 200, "application/json", `{"access_token":"at","refresh_token":"rt","token_type":"bearer","expires_in":3600,"instance_url":"SELF"}`)
			sf := flow(app, origin)
			sf.Fields, sf.RedirectName = tt.fields, tt.redirectName
			if _, err := sf.Exchange(context.Background(), "the-code", "verifier-verifier-verifier-verifier-verifier"); err != nil {
				t.Fatal(err)
			}
			expanded, err := catalog.Expand(app.OAuth2.TokenURL, catalog.MapLookup(tt.fields))
			if err != nil {
				t.Fatal(err)
			}
			tokenURL, _ := url.Parse(expanded)
			if seen.URL.Path != tokenURL.Path {
				t.Errorf("token request to %s, want %s", seen.URL.Path, tokenURL.Path)
			}
			user, pass, hasBasic := seen.BasicAuth()
			if hasBasic != tt.basic || (tt.basic && (user != "cid" || pass != "csecret")) {
				t.Errorf("HTTP Basic = %v, want %v", hasBasic, tt.basic)
			}
			var fields map[string]string
			if tt.json {
				if err := json.Unmarshal([]byte(body), &fields); err != nil {
					t.Fatalf("token body is not JSON: %s", body)
				}
			} else {
				v, err := url.ParseQuery(body)
				if err != nil {
					t.Fatalf("token body is not a form: %s", body)
				}
				fields = map[string]string{}
				for k := range v {
					fields[k] = v.Get(k)
				}
			}
			if fields["grant_type"] != "authorization_code" || fields["code"] != "the-code" {
				t.Errorf("token body: %s", body)
			}
			if inBody := fields["client_secret"] == "csecret"; inBody == tt.basic {
				t.Errorf("client_secret in the body = %v with basic = %v", inBody, tt.basic)
			}
			if !tt.basic && fields[clientParam] != "cid" {
				t.Errorf("token body names the client %q as %s: %s", fields[clientParam], clientParam, body)
			}
			want := "https://latchkey.example/oauth/callback"
			if app.OAuth2.RedirectName {
				want = tt.redirectName
			}
			if fields["redirect_uri"] != want {
				t.Errorf("token body redirect_uri %q, want %q", fields["redirect_uri"], want)
			}
			for k, v := range app.OAuth2.TokenHeaders {
				if seen.Header.Get(k) != v {
					t.Errorf("token header %s = %q, want %q", k, seen.Header.Get(k), v)
				}
			}
		})
	}
}
