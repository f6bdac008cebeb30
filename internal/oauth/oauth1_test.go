package oauth_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauth1test"
	"github.com/latchkeyhq/latchkey/internal/outbound"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

func oauth1App(origin string) *catalog.App {
	return &catalog.App{Slug: "one", Name: "One", Auth: catalog.AuthOAuth1, OAuth1: &catalog.OAuth1{
		RequestTokenURL: origin + "/1/OAuthGetRequestToken",
		AuthorizeURL:    origin + "/1/OAuthAuthorizeToken",
		AccessTokenURL:  origin + "/1/OAuthGetAccessToken",
		AuthorizeParams: map[string]string{"scope": "read,write", "name": "Latchkey"},
	}}
}

func guarded(origin string) *http.Client {
	return outbound.New(outbound.Options{Allow: []string{strings.TrimPrefix(origin, "http://")}})
}

// approve plays the user at the provider and returns the verifier.
func approveAt(t *testing.T, authorizeURL string) (token, verifier string) {
	t.Helper()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	return loc.Query().Get("oauth_token"), loc.Query().Get("oauth_verifier")
}

// TestFlow1 runs the three legs against the in-test provider, then signs
// requests of every shape it must verify.
func TestFlow1(t *testing.T) {
	p := oauth1test.New(t)
	ctx := context.Background()
	flow := &oauth.Flow1{App: oauth1App(p.URL), Consumer: oauth.Client{ID: p.ConsumerKey, Secret: secret.New(p.ConsumerSecret)}, HTTP: guarded(p.URL)}
	rt, err := flow.RequestToken(ctx, "https://latchkey.example/oauth/callback?state=abc")
	if err != nil || rt.Token == "" || rt.Secret.IsZero() {
		t.Fatalf("request token: %+v %v", rt, err)
	}
	au, err := flow.AuthorizeURL(rt.Token)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(au)
	if q := u.Query(); q.Get("oauth_token") != rt.Token || q.Get("scope") != "read,write" || q.Get("name") != "Latchkey" || q.Has("oauth_token_secret") {
		t.Fatalf("authorize URL %s", au)
	}
	tok, verifier := approveAt(t, au)
	if tok != rt.Token || verifier == "" {
		t.Fatalf("callback token %q verifier %q", tok, verifier)
	}
	if _, err := flow.AccessToken(ctx, rt, "not-the-verifier"); !oauth.IsPermanent(err) || !strings.Contains(err.Error(), "permission_denied") {
		t.Fatalf("a wrong verifier: %v", err)
	}
	// The provider spent the request token on that try, as a careful one
	// does; start again.
	rt, _ = flow.RequestToken(ctx, "https://latchkey.example/oauth/callback?state=def")
	au, _ = flow.AuthorizeURL(rt.Token)
	_, verifier = approveAt(t, au)
	at, err := flow.AccessToken(ctx, rt, verifier)
	if err != nil || !p.IsAccessToken(at.AccessToken.Reveal(), at.TokenSecret.Reveal()) || !at.Expiry.IsZero() || !at.RefreshToken.IsZero() {
		t.Fatalf("access token: %+v %v", at, err)
	}

	consumer := oauth.Client{ID: p.ConsumerKey, Secret: secret.New(p.ConsumerSecret)}
	hc := guarded(p.URL)
	tests := []struct {
		name, method, path, ctype, body string
		want                            []string
	}{
		{"plain GET", "GET", "/1/echo", "", "", []string{`"oauth_token":"` + at.AccessToken.Reveal() + `"`}},
		{"query with reserved characters", "GET", "/1/echo?q=" + url.QueryEscape("a b&c=d/é~*") + "&n=1", "", "", []string{`"q":"a b\u0026c=d/é~*"`, `"n":"1"`}},
		{"form body", "POST", "/1/echo?x=y", "application/x-www-form-urlencoded", "text=" + url.QueryEscape("a+b c!") + "&list=42", []string{`"text":"a+b c!"`, `"list":"42"`, `"x":"y"`}},
		{"JSON body, not signed but sent", "PUT", "/1/echo", "application/json", `{"name":"x"}`, []string{`"oauth_consumer_key"`}},
		{"DELETE", "DELETE", "/1/echo", "", "", []string{`"oauth_signature_method":"HMAC-SHA1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(ctx, tt.method, p.URL+tt.path, strings.NewReader(tt.body))
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if err := oauth.Sign1(req, consumer, at.AccessToken.Reveal(), at.TokenSecret.Reveal()); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(req.Header.Get("Authorization"), p.ConsumerSecret) || strings.Contains(req.Header.Get("Authorization"), at.TokenSecret.Reveal()) {
				t.Fatal("the Authorization header carries a secret")
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("answer %s lacks %s", b, w)
				}
			}
		})
	}
	// A signature over another token's secret is refused.
	req, _ := http.NewRequest("GET", p.URL+"/1/echo", nil)
	_ = oauth.Sign1(req, consumer, at.AccessToken.Reveal(), "not-the-secret")
	if resp, err := hc.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong token secret: %v %v", resp, err)
	}
}

// TestFlow1Failures: each failure of a token request is a classified
// *oauth.Error that holds no secret and no raw provider page.
func TestFlow1Failures(t *testing.T) {
	p := oauth1test.New(t)
	ctx := context.Background()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/1/OAuthGetRequestToken":
			if r.URL.Query().Get("mode") == "redirect" {
				http.Redirect(w, r, "https://elsewhere.example/login", http.StatusFound)
				return
			}
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, "<html><body>upstream down</body></html>")
		}
	}))
	t.Cleanup(page.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name      string
		origin    string
		consumer  string
		query     string
		permanent bool
		want      string
	}{
		{"wrong consumer secret", p.URL, "wrong-secret-value", "", true, "signature_invalid"},
		{"a 502 page", page.URL, p.ConsumerSecret, "", false, "502 Bad Gateway"},
		{"a redirect", page.URL, p.ConsumerSecret, "?mode=redirect", false, "redirect"},
		{"nobody listening", closedURL, p.ConsumerSecret, "", false, "could not be reached"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := oauth1App(tt.origin)
			app.OAuth1.RequestTokenURL += tt.query
			flow := &oauth.Flow1{App: app, Consumer: oauth.Client{ID: p.ConsumerKey, Secret: secret.New(tt.consumer)}, HTTP: guarded(tt.origin)}
			_, err := flow.RequestToken(ctx, "https://latchkey.example/oauth/callback?state=s")
			var oe *oauth.Error
			if !errors.As(err, &oe) {
				t.Fatalf("got %v (%T)", err, err)
			}
			if oauth.IsPermanent(err) != tt.permanent || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %q (permanent %v)", err, oauth.IsPermanent(err))
			}
			if strings.Contains(err.Error(), tt.consumer) || strings.Contains(err.Error(), "<html") {
				t.Fatalf("the error quotes too much: %q", err)
			}
		})
	}
}

// BenchmarkSign1 is the cost of signing one API request (a GET with a
// query): what every OAuth 1.0a request pays before it is sent.
func BenchmarkSign1(b *testing.B) {
	consumer := oauth.Client{ID: "ck-0123456789", Secret: secret.New("cs-0123456789abcdef")}
	for b.Loop() {
		req, _ := http.NewRequest("GET", "https://api.trello.com/1/boards/nC8QJJoZ/lists?fields=name,pos&filter=open", nil)
		if err := oauth.Sign1(req, consumer, "at-0123456789ab", "as-0123456789abcdef"); err != nil {
			b.Fatal(err)
		}
	}
}
