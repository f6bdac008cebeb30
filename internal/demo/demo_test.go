package demo

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

const redirect = "http://127.0.0.1:7355/oauth/callback"

func newDemo(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	d, err := New(Options{RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	d.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return d, srv
}

func authorizeQuery(mod func(url.Values)) string {
	q := url.Values{
		"client_id": {ClientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"profile messages.write"}, "state": {"state-123456789"},
		"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSw9-cM"}, "code_challenge_method": {"S256"},
	}
	if mod != nil {
		mod(q)
	}
	return q.Encode()
}

// TestAuthorizeAnswers: what the demo's authorize endpoint does with each
// request, as the user or the client would see it.
func TestAuthorizeAnswers(t *testing.T) {
	_, srv := newDemo(t)
	noRedirect := func(hc *http.Client) *http.Client {
		hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return hc
	}
	tests := []struct {
		name     string
		query    func(url.Values)
		form     url.Values // nil: a GET
		status   int
		location string // a part of the redirect, when there is one
		page     string // a part of the page, when there is one
	}{
		{"the consent page", nil, nil, 200, "", "It asks for: <code>profile</code>, <code>messages.write</code>"},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, nil, 303, "error=invalid_request", ""},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, nil, 303, "error=invalid_request", ""},
		{"another redirect URI", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:9/steal") }, nil, 400, "", ""},
		{"an unknown scope", func(q url.Values) { q.Set("scope", "admin") }, nil, 303, "error=invalid_scope", ""},
		{"deny", nil, url.Values{"consent": {"deny"}}, 303, "error=access_denied", ""},
		{"allow without signing in", nil, url.Values{"consent": {"approve"}}, 422, "", "Enter a user name"},
		{"a short password", nil, url.Values{"consent": {"approve"}, "username": {"ada"}, "password": {"x"}}, 422, "", "Enter a password"},
		{"a bad user name", nil, url.Values{"consent": {"approve"}, "username": {"<ada>"}, "password": {"ada-pw"}}, 422, "", "Enter a user name"},
		{"allow", nil, url.Values{"consent": {"approve"}, "username": {"ada"}, "password": {"ada-pw"}}, 303, "code=", ""},
		{"another password for ada", nil, url.Values{"consent": {"approve"}, "username": {"ada"}, "password": {"not-ada"}}, 422, "", "not the password of ada"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			hc := noRedirect(&http.Client{Jar: jar})
			u := srv.URL + AuthorizePath + "?" + authorizeQuery(tt.query)
			var resp *http.Response
			var err error
			if tt.form == nil {
				resp, err = hc.Get(u)
			} else {
				resp, err = hc.PostForm(u, tt.form)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body := new(strings.Builder)
			_, _ = io.Copy(body, resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if loc := resp.Header.Get("Location"); tt.location != "" && !(strings.HasPrefix(loc, redirect+"?") && strings.Contains(loc, tt.location)) {
				t.Fatalf("redirect %q, want one to the callback with %q", loc, tt.location)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); tt.page != "" && (!strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'")) {
				t.Errorf("the page's CSP is %q", csp)
			}
			if tt.page != "" && !strings.Contains(body.String(), tt.page) {
				t.Fatalf("page lacks %q:\n%s", tt.page, body)
			}
		})
	}
}

// TestAPIRefusesBadTokens: the demo API answers 401 to no token, a
// made-up one, and a refresh token used as an access token.
func TestAPIRefusesBadTokens(t *testing.T) {
	_, srv := newDemo(t)
	for _, auth := range []string{"", "Bearer ", "Bearer made-up", "Basic YTpi"} {
		for _, r := range []struct{ method, path string }{{"GET", MePath}, {"POST", MessagesPath}} {
			req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(`{"text":"hi"}`))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
				t.Errorf("%s %s with %q: %d %q, want 401 invalid_token", r.method, r.path, auth, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
		}
	}
}

// TestTokenRefusesWrongSecret: the token endpoint wants the client secret.
func TestTokenRefusesWrongSecret(t *testing.T) {
	d, srv := newDemo(t)
	for _, secret := range []string{"wrong", ""} {
		req, _ := http.NewRequest("POST", srv.URL+TokenPath, strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(ClientID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("secret %q: %d, want 401", secret, resp.StatusCode)
		}
	}
	if d.ClientSecret().String() == d.ClientSecret().Reveal() {
		t.Error("the client secret prints as itself")
	}
}

// TestMessagesKeepTheLatest: the demo keeps a user's latest messages only,
// each with its own number.
func TestMessagesKeepTheLatest(t *testing.T) {
	d, err := New(Options{RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < maxMessages+5; i++ {
		d.keep("ada", "m")
	}
	d.keep("bob", "b")
	got := d.Messages("ada")
	if len(got) != maxMessages || got[0].ID != 6 || got[len(got)-1].ID != maxMessages+5 {
		t.Fatalf("kept %d messages, %d to %d", len(got), got[0].ID, got[len(got)-1].ID)
	}
	if b := d.Messages("bob"); len(b) != 1 || b[0].ID != maxMessages+6 {
		t.Fatalf("bob's messages: %+v", b)
	}
}

// TestAPIHandlerServesTheAPIAlone: the handler for workflow steps answers
// the API's two endpoints (here 401, for want of a token) and nothing of
// the provider's pages or token endpoints.
func TestAPIHandlerServesTheAPIAlone(t *testing.T) {
	d, err := New(Options{RedirectURI: redirect, APIURL: "http://127.0.0.1:7356" + APIPrefix})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d.APIHandler())
	t.Cleanup(srv.Close)
	for _, r := range []struct {
		method, path string
		status       int
	}{
		{"GET", MePath, http.StatusUnauthorized},
		{"POST", MessagesPath, http.StatusUnauthorized},
		{"GET", PagePath, http.StatusNotFound},
		{"GET", AuthorizePath, http.StatusNotFound},
		{"POST", TokenPath, http.StatusNotFound},
		{"POST", RevokePath, http.StatusNotFound},
		{"POST", signInPath, http.StatusNotFound},
		{"GET", "/v1/accounts", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(`{"text":"hi"}`))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != r.status {
			t.Errorf("%s %s: %d, want %d", r.method, r.path, resp.StatusCode, r.status)
		}
	}
}

// TestNewRefusesABadAPIURL: the steps' API URL must be absolute.
func TestNewRefusesABadAPIURL(t *testing.T) {
	for _, u := range []string{"/demo/api", "127.0.0.1:7356", "http://%zz"} {
		if _, err := New(Options{RedirectURI: redirect, APIURL: u}); err == nil || !strings.Contains(err.Error(), "API URL") {
			t.Errorf("API URL %q: %v, want a refusal", u, err)
		}
	}
}
