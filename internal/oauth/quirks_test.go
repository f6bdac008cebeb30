package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

var now = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func shipped(t *testing.T, slug string) *catalog.App {
	t.Helper()
	c, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	app, ok := c.Get(slug)
	if !ok {
		t.Fatalf("no app %s", slug)
	}
	return app
}

// standIn is a provider's token endpoint that checks the request it gets
// and answers as that provider does.
func standIn(t *testing.T, check func(r *http.Request, body string) error, status int, contentType, answer string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := check(r, string(b)); err != nil {
			t.Errorf("token request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, strings.ReplaceAll(answer, "SELF", "http://"+r.Host))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

type errf string

func (e errf) Error() string { return string(e) }

func flow(app *catalog.App, origin string) *oauth.Flow {
	return &oauth.Flow{
		App:         app.WithOrigin(origin),
		Client:      oauth.Client{ID: "cid", Secret: secret.New("csecret")},
		RedirectURI: "https://latchkey.example/oauth/callback",
		HTTP:        &http.Client{Timeout: 5 * time.Second},
		Now:         func() time.Time { return now },
	}
}

func TestExchangeQuirks(t *testing.T) {
	tests := []struct {
		name        string
		app         string
		check       func(r *http.Request, body string) error
		contentType string
		answer      string
		want        func(t *testing.T, tok *oauth.Token)
	}{
		{
			name: "slack nests the user token under authed_user, basic auth",
			app:  "slack",
			check: func(r *http.Request, body string) error {
				if u, p, ok := r.BasicAuth(); !ok || u != "cid" || p != "csecret" {
					return errf("want client credentials in HTTP Basic")
				}
				if strings.Contains(body, "csecret") {
					return errf("secret also in the body")
				}
				return nil
			},
			contentType: "application/json",
			answer:      `{"ok":true,"app_id":"A1","authed_user":{"id":"U1","scope":"chat:write,users:read","access_token":"xoxp-user","token_type":"user","refresh_token":"xoxe-1","expires_in":43200},"team":{"id":"T1"}}`,
			want: func(t *testing.T, tok *oauth.Token) {
				if tok.AccessToken.Reveal() != "xoxp-user" || tok.RefreshToken.Reveal() != "xoxe-1" {
					t.Errorf("tokens %q %q", tok.AccessToken.Reveal(), tok.RefreshToken.Reveal())
				}
				if strings.Join(tok.Scopes, " ") != "chat:write users:read" {
					t.Errorf("comma scopes read as %v", tok.Scopes)
				}
				if !tok.Expiry.Equal(now.Add(12 * time.Hour)) {
					t.Errorf("expiry %v", tok.Expiry)
				}
			},
		},
		{
			name: "github answers form-encoded unless asked for JSON; the catalog asks",
			app:  "github",
			check: func(r *http.Request, body string) error {
				if r.Header.Get("Accept") != "application/json" {
					return errf("no Accept: application/json")
				}
				f, _ := url.ParseQuery(body)
				if f.Get("client_id") != "cid" || f.Get("client_secret") != "csecret" || f.Get("code") != "the-code" {
					return errf("want client credentials and code in the form body: " + body)
				}
				return nil
			},
			contentType: "application/json",
			answer:      `{"access_token":"gho_x","token_type":"bearer","scope":"repo,read:user"}`,
			want: func(t *testing.T, tok *oauth.Token) {
				if tok.AccessToken.Reveal() != "gho_x" || !tok.Expiry.IsZero() || !tok.RefreshToken.IsZero() {
					t.Errorf("token %q expiry %v", tok.AccessToken.Reveal(), tok.Expiry)
				}
				if strings.Join(tok.Scopes, " ") != "repo read:user" {
					t.Errorf("scopes %v", tok.Scopes)
				}
			},
		},
		{
			name:        "a form-encoded answer still parses",
			app:         "github",
			check:       func(*http.Request, string) error { return nil },
			contentType: "application/x-www-form-urlencoded",
			answer:      `access_token=gho_form&scope=repo&token_type=bearer`,
			want: func(t *testing.T, tok *oauth.Token) {
				if tok.AccessToken.Reveal() != "gho_form" {
					t.Errorf("token %q", tok.AccessToken.Reveal())
				}
			},
		},
		{
			name: "notion wants basic auth and a JSON body",
			app:  "notion",
			check: func(r *http.Request, body string) error {
				if _, _, ok := r.BasicAuth(); !ok {
					return errf("no HTTP Basic")
				}
				if r.Header.Get("Content-Type") != "application/json" {
					return errf("content type " + r.Header.Get("Content-Type"))
				}
				var m map[string]string
				if err := json.Unmarshal([]byte(body), &m); err != nil || m["grant_type"] != "authorization_code" || m["code"] != "the-code" || m["redirect_uri"] == "" {
					return errf("body is not the JSON grant: " + body)
				}
				return nil
			},
			contentType: "application/json",
			answer:      `{"access_token":"ntn_x","token_type":"bearer","refresh_token":"nr_1","bot_id":"b","workspace_name":"Acme"}`,
			want: func(t *testing.T, tok *oauth.Token) {
				if tok.AccessToken.Reveal() != "ntn_x" || tok.RefreshToken.Reveal() != "nr_1" {
					t.Errorf("tokens %q %q", tok.AccessToken.Reveal(), tok.RefreshToken.Reveal())
				}
			},
		},
		{
			name:        "expires_in as a string",
			app:         "github",
			check:       func(*http.Request, string) error { return nil },
			contentType: "application/json",
			answer:      `{"access_token":"a","token_type":"bearer","expires_in":"3600"}`,
			want: func(t *testing.T, tok *oauth.Token) {
				if !tok.Expiry.Equal(now.Add(time.Hour)) {
					t.Errorf("expiry %v, want an hour on", tok.Expiry)
				}
			},
		},
		{
			name:        "salesforce: no expires_in uses the catalog default; instance_url is kept",
			app:         "salesforce",
			check:       func(*http.Request, string) error { return nil },
			contentType: "application/json",
			answer:      `{"access_token":"00D!x","refresh_token":"5Aep","instance_url":"https://acme.my.salesforce.com","id":"https://login.salesforce.com/id/00D/005","token_type":"Bearer","issued_at":"1700000000000","signature":"s"}`,
			want: func(t *testing.T, tok *oauth.Token) {
				if tok.Kept["instance_url"] != "https://acme.my.salesforce.com" {
					t.Errorf("kept %v", tok.Kept)
				}
				if !tok.Expiry.Equal(now.Add(2 * time.Hour)) {
					t.Errorf("expiry %v, want the catalog's 2h default", tok.Expiry)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := standIn(t, tt.check, 200, tt.contentType, tt.answer)
			tok, err := flow(shipped(t, tt.app), origin).Exchange(context.Background(), "the-code", "verifier-verifier-verifier-verifier-verifier")
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, tok)
		})
	}
}

func TestRefreshKeepsRefreshTokenWhenNoneReturned(t *testing.T) {
	origin := standIn(t, func(r *http.Request, body string) error {
		f, _ := url.ParseQuery(body)
		if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "rt-old" {
			return errf("not a refresh: " + body)
		}
		return nil
	}, 200, "application/json", `{"access_token":"at-new","token_type":"bearer","expires_in":3600}`)
	tok, err := flow(shipped(t, "github"), origin).Refresh(context.Background(), secret.New("rt-old"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken.Reveal() != "at-new" || tok.RefreshToken.Reveal() != "rt-old" {
		t.Fatalf("tokens %q %q: the old refresh token must be kept", tok.AccessToken.Reveal(), tok.RefreshToken.Reveal())
	}
}

func TestRefreshParamsAndErrors(t *testing.T) {
	zendesk := shipped(t, "zendesk")
	tests := []struct {
		name      string
		status    int
		answer    string
		permanent bool
		code      string
	}{
		{"invalid_grant is permanent", 400, `{"error":"invalid_grant","error_description":"revoked"}`, true, "invalid_grant"},
		{"invalid_client is permanent", 401, `{"error":"invalid_client"}`, true, "invalid_client"},
		{"slack's ok:false with a 200", 200, `{"ok":false,"error":"invalid_refresh_token"}`, true, "invalid_refresh_token"},
		{"503 is transient", 503, `{"error":"temporarily_unavailable"}`, false, "temporarily_unavailable"},
		{"429 is transient", 429, `{}`, false, ""},
		{"an HTML error page is transient", 502, `<html>bad gateway</html>`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			origin := standIn(t, func(r *http.Request, body string) error {
				var m map[string]string
				if err := json.Unmarshal([]byte(body), &m); err != nil || m["expires_in"] == "" {
					return errf("zendesk refresh lacks the catalog's refresh params: " + body)
				}
				return nil
			}, tt.status, "application/json", tt.answer)
			f := flow(zendesk, origin)
			f.Fields = map[string]string{"subdomain": "acme"}
			_, err := f.Refresh(context.Background(), secret.New("rt-secret-value"))
			if err == nil {
				t.Fatal("no error")
			}
			if oauth.IsPermanent(err) != tt.permanent {
				t.Fatalf("permanent = %v for %v", oauth.IsPermanent(err), err)
			}
			var oe *oauth.Error
			if !asErr(err, &oe) || oe.Code != tt.code {
				t.Fatalf("error %#v, want code %q", err, tt.code)
			}
			if strings.Contains(err.Error(), "rt-secret-value") || strings.Contains(err.Error(), "csecret") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
}

func TestAuthCodeURL(t *testing.T) {
	f := flow(shipped(t, "slack"), "https://slack.com")
	u, err := f.AuthCodeURL("st", "verifier-verifier-verifier-verifier-verifier", []string{"chat:write", "users:read"})
	if err != nil {
		t.Fatal(err)
	}
	q, _ := url.Parse(u)
	v := q.Query()
	if v.Get("user_scope") != "chat:write,users:read" || v.Has("scope") {
		t.Errorf("slack scopes: %s", q.RawQuery)
	}
	if v.Get("state") != "st" || v.Get("client_id") != "cid" || v.Get("redirect_uri") != "https://latchkey.example/oauth/callback" {
		t.Errorf("params: %s", q.RawQuery)
	}
	if v.Get("code_challenge_method") != "S256" || v.Get("code_challenge") == "" {
		t.Errorf("no PKCE: %s", q.RawQuery)
	}
	if strings.Contains(u, "csecret") {
		t.Error("the client secret is in the URL")
	}

	g := flow(shipped(t, "google_sheets"), "https://accounts.google.com")
	u, _ = g.AuthCodeURL("st", "verifier-verifier-verifier-verifier-verifier", shipped(t, "google_sheets").OAuth2.DefaultScopes)
	gq, _ := url.Parse(u)
	if gq.Query().Get("access_type") != "offline" || gq.Query().Get("prompt") != "consent" || !strings.Contains(gq.Query().Get("scope"), " ") {
		t.Errorf("google: %s", gq.RawQuery)
	}
}

func asErr(err error, target **oauth.Error) bool {
	e, ok := err.(*oauth.Error)
	if ok {
		*target = e
	}
	return ok
}
