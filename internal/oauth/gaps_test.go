package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// entry parses an OAuth 2 catalog entry from the lines of its oauth2 block.
func entry(t *testing.T, oauth2 string) *catalog.App {
	t.Helper()
	app, err := catalog.Parse([]byte(`slug: gap
name: Gap
categories: [developer-tools]
docs_url: https://provider.example/docs
auth: oauth2
fields:
  - name: ru_name
    label: RuName
    pattern: '^[A-Za-z0-9_-]+$'
    optional: true
oauth2:
  authorize_url: https://provider.example/authorize
  token_url: https://provider.example/token
` + oauth2))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func form(body string) url.Values {
	v, _ := url.ParseQuery(body)
	return v
}

// TestSchemaGapRequests drives, for each quirk the schema gained, the
// request the provider documents against a stand-in, and checks what a
// user would see of the answer: the token's expiry and the kept values.
func TestSchemaGapRequests(t *testing.T) {
	tests := []struct {
		name   string
		oauth2 string
		fields map[string]string
		// redirectName is the client's name for the callback URL.
		redirectName string
		// refresh runs a refresh instead of a code exchange.
		refresh bool
		// path is where the request must go.
		path  string
		check func(r *http.Request, body string) error
		// authorize, when set, checks the authorize URL's query.
		authorize func(q url.Values) error
		answer    string
		// then checks the token.
		then func(t *testing.T, tok *oauth.Token)
	}{
		{
			name:   "TikTok names the client id client_key",
			oauth2: "  client_id_param: client_key\n",
			path:   "/token",
			authorize: func(q url.Values) error {
				if q.Get("client_key") != "cid" || q.Has("client_id") {
					return fmt.Errorf("authorize query %v", q)
				}
				return nil
			},
			check: func(r *http.Request, body string) error {
				if f := form(body); f.Get("client_key") != "cid" || f.Has("client_id") || f.Get("client_secret") != "csecret" {
					return fmt.Errorf("body %s", body)
				}
				return nil
			},
			answer: `{"access_token":"at","refresh_token":"rt","expires_in":86400}`,
		},
		{
			name:    "Figma refreshes at its own endpoint",
			oauth2:  "  refresh_url: https://provider.example/refresh\n",
			refresh: true,
			path:    "/refresh",
			check: func(r *http.Request, body string) error {
				if f := form(body); f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "old-rt" {
					return fmt.Errorf("body %s", body)
				}
				return nil
			},
			answer: `{"access_token":"at2","expires_in":7776000}`,
			then: func(t *testing.T, tok *oauth.Token) {
				if tok.AccessToken.Reveal() != "at2" || tok.RefreshToken.Reveal() != "old-rt" {
					t.Errorf("refreshed token %q, refresh token %q", tok.AccessToken.Reveal(), tok.RefreshToken.Reveal())
				}
			},
		},
		{
			name:    "Deel wants redirect_uri in the refresh request",
			oauth2:  "  refresh_params:\n    redirect_uri: '{redirect_uri}'\n",
			refresh: true,
			path:    "/token",
			check: func(r *http.Request, body string) error {
				if f := form(body); f.Get("redirect_uri") != "https://latchkey.example/oauth/callback" {
					return fmt.Errorf("body %s", body)
				}
				return nil
			},
			answer: `{"access_token":"at2","refresh_token":"rt2","expires_in":3600}`,
		},
		{
			name:         "eBay's RuName is the redirect_uri",
			oauth2:       "  redirect_name: true\n",
			redirectName: "Acme-AcmeApp-PRD-abc123",
			path:         "/token",
			authorize: func(q url.Values) error {
				if q.Get("redirect_uri") != "Acme-AcmeApp-PRD-abc123" {
					return fmt.Errorf("authorize redirect_uri %q", q.Get("redirect_uri"))
				}
				return nil
			},
			check: func(r *http.Request, body string) error {
				if f := form(body); f.Get("redirect_uri") != "Acme-AcmeApp-PRD-abc123" {
					return fmt.Errorf("body %s", body)
				}
				return nil
			},
			answer: `{"access_token":"at","refresh_token":"rt","expires_in":7200}`,
		},
		{
			name:   "Mailchimp's expires_in 0 means the token lasts",
			oauth2: "  default_expires_in: 1h\n",
			path:   "/token",
			check:  func(*http.Request, string) error { return nil },
			answer: `{"access_token":"at","expires_in":0,"scope":null}`,
			then: func(t *testing.T, tok *oauth.Token) {
				if !tok.Expiry.IsZero() {
					t.Errorf("expiry %v, want none", tok.Expiry)
				}
			},
		},
		{
			name:   "a missing expires_in still takes the default",
			oauth2: "  default_expires_in: 1h\n",
			path:   "/token",
			check:  func(*http.Request, string) error { return nil },
			answer: `{"access_token":"at"}`,
			then: func(t *testing.T, tok *oauth.Token) {
				if !tok.Expiry.Equal(now.Add(3600e9)) {
					t.Errorf("expiry %v, want an hour on", tok.Expiry)
				}
			},
		},
		{
			name:   "Teamwork's and HighLevel's nested and numeric ids are kept",
			oauth2: "  keep_fields: [installation.id, installation.apiEndPoint, locationId, user.admin]\n",
			path:   "/token",
			check:  func(*http.Request, string) error { return nil },
			answer: `{"access_token":"at","installation":{"id":123456,"apiEndPoint":"https://acme.teamwork.com/"},"locationId":"loc-1","user":{"admin":true}}`,
			then: func(t *testing.T, tok *oauth.Token) {
				want := map[string]string{"installation.id": "123456", "installation.apiEndPoint": "https://acme.teamwork.com/",
					"locationId": "loc-1", "user.admin": "true"}
				for k, v := range want {
					if tok.Kept[k] != v {
						t.Errorf("kept %s = %q, want %q (all: %v)", k, tok.Kept[k], v, tok.Kept)
					}
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := entry(t, tt.oauth2)
			var seen bool
			origin := standIn(t, func(r *http.Request, body string) error {
				seen = true
				if r.URL.Path != tt.path {
					return fmt.Errorf("request to %s, want %s", r.URL.Path, tt.path)
				}
				return tt.check(r, body)
			}, 200, "application/json", tt.answer)
			f := flow(app, origin)
			f.Fields, f.RedirectName = tt.fields, tt.redirectName
			if tt.authorize != nil {
				raw, err := f.AuthCodeURL("state-123456", "verifier-verifier-verifier-verifier-verifier", nil)
				if err != nil {
					t.Fatal(err)
				}
				u, _ := url.Parse(raw)
				if err := tt.authorize(u.Query()); err != nil {
					t.Error(err)
				}
			}
			var tok *oauth.Token
			var err error
			if tt.refresh {
				tok, err = f.Refresh(context.Background(), secret.New("old-rt"))
			} else {
				tok, err = f.Exchange(context.Background(), "the-code", "verifier-verifier-verifier-verifier-verifier")
			}
			if err != nil {
				t.Fatal(err)
			}
			if !seen {
				t.Fatal("the stand-in got no request")
			}
			if tt.then != nil {
				tt.then(t, tok)
			}
		})
	}
}

// TestRedirectNameMissing: an app that sends the client's name for the
// callback URL cannot start a flow with a client that gives none, and an
// app that does not ignores one.
func TestRedirectNameMissing(t *testing.T) {
	f := flow(entry(t, "  redirect_name: true\n"), "https://provider.example")
	if _, err := f.AuthCodeURL("state-123456", "v", nil); !errors.Is(err, oauth.ErrNoRedirectName) {
		t.Fatalf("authorize URL without a redirect name: %v", err)
	}
	f = flow(entry(t, ""), "https://provider.example")
	f.RedirectName = "Stray-Name"
	raw, err := f.AuthCodeURL("state-123456", "v", nil)
	if u, _ := url.Parse(raw); err != nil || u.Query().Get("redirect_uri") != "https://latchkey.example/oauth/callback" {
		t.Fatalf("authorize URL %s, %v", raw, err)
	}
}

// TestRevocationTemplates drives each provider's own revocation call, as
// its shipped entry describes it, against a stand-in.
func TestRevocationTemplates(t *testing.T) {
	tests := []struct {
		app  string
		hint string
		// method, path and the checks of the request the provider wants.
		method, path string
		check        func(r *http.Request, body string) error
		status       int
	}{
		{app: "github", hint: "access_token", method: http.MethodDelete, path: "/applications/cid/grant", status: http.StatusNoContent,
			check: func(r *http.Request, body string) error {
				user, pass, ok := r.BasicAuth()
				var b map[string]string
				if !ok || user != "cid" || pass != "csecret" || json.Unmarshal([]byte(body), &b) != nil || b["access_token"] != "tok/en+1" {
					return fmt.Errorf("basic %v %s:%s, body %s", ok, user, pass, body)
				}
				return nil
			}},
		{app: "dropbox", hint: "access_token", method: http.MethodPost, path: "/2/auth/token/revoke", status: http.StatusOK,
			check: func(r *http.Request, body string) error {
				if r.Header.Get("Authorization") != "Bearer tok/en+1" || body != "" {
					return fmt.Errorf("authorization %q, body %q", r.Header.Get("Authorization"), body)
				}
				return nil
			}},
		{app: "hubspot", hint: "refresh_token", method: http.MethodPost, path: "/oauth/2026-03/token/revoke", status: http.StatusOK,
			check: func(r *http.Request, body string) error {
				f := form(body)
				if f.Get("client_id") != "cid" || f.Get("client_secret") != "csecret" || f.Get("token") != "tok/en+1" ||
					f.Get("token_type_hint") != "refresh_token" {
					return fmt.Errorf("body %s", body)
				}
				return nil
			}},
		{app: "mollie", hint: "refresh_token", method: http.MethodDelete, path: "/oauth2/tokens", status: http.StatusNoContent,
			check: func(r *http.Request, body string) error {
				user, pass, ok := r.BasicAuth()
				f := form(body)
				if !ok || user != "cid" || pass != "csecret" || f.Get("token") != "tok/en+1" || f.Get("token_type_hint") != "refresh_token" {
					return fmt.Errorf("basic %v, body %s", ok, body)
				}
				return nil
			}},
		{app: "square", hint: "access_token", method: http.MethodPost, path: "/oauth2/revoke", status: http.StatusOK,
			check: func(r *http.Request, body string) error {
				var b map[string]string
				if r.Header.Get("Authorization") != "Client csecret" || json.Unmarshal([]byte(body), &b) != nil ||
					b["client_id"] != "cid" || b["access_token"] != "tok/en+1" {
					return fmt.Errorf("authorization %q, body %s", r.Header.Get("Authorization"), body)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.app, func(t *testing.T) {
			app := shipped(t, tt.app)
			if app.OAuth2.Revoke == nil {
				t.Fatalf("%s has no revocation template", tt.app)
			}
			if got := app.OAuth2.Revoke.RevokeTokens(); len(got) != 1 || got[0] != tt.hint {
				t.Errorf("revokes %v, want just the %s", got, tt.hint)
			}
			var seen bool
			origin := standIn(t, func(r *http.Request, body string) error {
				seen = true
				if r.Method != tt.method || r.URL.EscapedPath() != tt.path {
					return fmt.Errorf("%s %s, want %s %s", r.Method, r.URL.EscapedPath(), tt.method, tt.path)
				}
				return tt.check(r, body)
			}, tt.status, "application/json", "null")
			if err := flow(app, origin).Revoke(context.Background(), secret.New("tok/en+1"), tt.hint); err != nil {
				t.Fatal(err)
			}
			if !seen {
				t.Fatal("the stand-in got no request")
			}
		})
	}
}

// TestRevocationTokenInThePath shows a template that puts the token in
// the URL's path (HubSpot's v1 DELETE) escapes it as one segment, and that
// a refusal reports the status, never the URL that holds the token.
func TestRevocationTokenInThePath(t *testing.T) {
	app := entry(t, "  revoke:\n    method: DELETE\n    url: https://provider.example/oauth/v1/refresh-tokens/{token}\n    tokens: [refresh_token]\n")
	var path string
	origin := standIn(t, func(r *http.Request, _ string) error {
		path = r.URL.EscapedPath()
		return nil
	}, http.StatusBadRequest, "application/json", `{"message":"bad token"}`)
	err := flow(app, origin).Revoke(context.Background(), secret.New("the/refresh?token"), "refresh_token")
	if path != "/oauth/v1/refresh-tokens/the%2Frefresh%3Ftoken" {
		t.Errorf("path %s", path)
	}
	if err == nil || strings.Contains(err.Error(), "the/refresh") || strings.Contains(err.Error(), "the%2Frefresh") ||
		!strings.Contains(err.Error(), "400") {
		t.Fatalf("error %v", err)
	}
}
