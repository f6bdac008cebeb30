package oauthtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
)

const redirectURI = "http://127.0.0.1:9/callback"

func newServer(t *testing.T, mod func(*oauthtest.Options)) *oauthtest.Server {
	t.Helper()
	o := oauthtest.Options{RedirectURIs: []string{redirectURI}}
	if mod != nil {
		mod(&o)
	}
	return oauthtest.New(t, o)
}

func config(s *oauthtest.Server, style oauth2.AuthStyle, scopes ...string) *oauth2.Config {
	if len(scopes) == 0 {
		scopes = []string{"read", "write"}
	}
	return &oauth2.Config{
		ClientID:     s.ClientID(),
		ClientSecret: s.ClientSecret(),
		Endpoint:     oauth2.Endpoint{AuthURL: s.AuthorizeURL(), TokenURL: s.TokenURL(), AuthStyle: style},
		RedirectURL:  redirectURI,
		Scopes:       scopes,
	}
}

// noFollow does not follow the redirect back to the client.
var noFollow = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// authorize visits the authorize URL like a browser and returns the query of
// the redirect back to the client.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noFollow.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		t.Fatalf("authorize: status %d, want a redirect", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != redirectURI {
		t.Fatalf("redirected to %q, want %q", got, redirectURI)
	}
	return loc.Query()
}

func code(t *testing.T, cfg *oauth2.Config, state string, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	q := authorize(t, cfg.AuthCodeURL(state, opts...))
	if q.Get("error") != "" {
		t.Fatalf("authorize error %q: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state {
		t.Fatalf("state = %q, want %q", q.Get("state"), state)
	}
	if q.Get("code") == "" {
		t.Fatal("no code")
	}
	return q.Get("code")
}

func connect(t *testing.T, s *oauthtest.Server, style oauth2.AuthStyle) *oauth2.Token {
	t.Helper()
	cfg := config(s, style)
	tok, err := cfg.Exchange(context.Background(), code(t, cfg, "state-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func refresh(s *oauthtest.Server, rt string) (*oauth2.Token, error) {
	cfg := config(s, oauth2.AuthStyleInHeader)
	return cfg.TokenSource(context.Background(), &oauth2.Token{RefreshToken: rt}).Token()
}

func wantErrorCode(t *testing.T, err error, want string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want RetrieveError %q", err, want)
	}
	if re.ErrorCode != want {
		t.Fatalf("error code = %q (%s), want %q", re.ErrorCode, re.ErrorDescription, want)
	}
}

type userinfo struct{ Sub, Email, Name string }

func getUserinfo(t *testing.T, s *oauthtest.Server, accessToken string) (int, userinfo) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.UserinfoURL(), nil)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u userinfo
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&u); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, u
}

func TestCodeFlowBasicAuth(t *testing.T) {
	s := newServer(t, nil)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL = %q", s.URL)
	}
	cfg := config(s, oauth2.AuthStyleInHeader, "read", "write", "offline_access")
	c := code(t, cfg, "state-basic-1234")
	tok, err := cfg.Exchange(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token = %+v", tok)
	}
	if tok.ExpiresIn < 3500 || tok.ExpiresIn > 3600 {
		t.Fatalf("expires_in = %d", tok.ExpiresIn)
	}
	if got := tok.Extra("scope"); got != "read write offline_access" {
		t.Fatalf("scope = %v", got)
	}
	if s.CodeExchanges() != 1 || s.Refreshes() != 0 {
		t.Fatalf("counters: %d exchanges, %d refreshes", s.CodeExchanges(), s.Refreshes())
	}
	status, u := getUserinfo(t, s, tok.AccessToken)
	if status != http.StatusOK || u != (userinfo{"alice", "alice@example.com", "Alice"}) {
		t.Fatalf("userinfo = %d %+v", status, u)
	}

	// A code is single-use.
	_, err = cfg.Exchange(context.Background(), c)
	wantErrorCode(t, err, "invalid_grant")

	// Wrong client secret.
	bad := config(s, oauth2.AuthStyleInHeader)
	bad.ClientSecret = "nope"
	_, err = bad.Exchange(context.Background(), code(t, bad, "state-basic-5678"))
	wantErrorCode(t, err, "invalid_client")
}

func TestCodeFlowPostAuth(t *testing.T) {
	s := newServer(t, func(o *oauthtest.Options) { o.ClientID, o.ClientSecret = "my-app", "s3cret-value" })
	cfg := config(s, oauth2.AuthStyleInParams)
	tok, err := cfg.Exchange(context.Background(), code(t, cfg, "state-post-1234"))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token = %+v", tok)
	}

	// Refresh with client_secret_post too, by hand, to be sure no Basic header is sent.
	resp, err := http.PostForm(s.TokenURL(), url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_id": {"my-app"}, "client_secret": {"s3cret-value"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	if resp.StatusCode != http.StatusOK || body["refresh_token"] == nil || body["expires_in"] == nil {
		t.Fatalf("refresh via post: %d %v", resp.StatusCode, body)
	}
}

func TestPKCE(t *testing.T) {
	s := newServer(t, nil)
	cfg := config(s, oauth2.AuthStyleInHeader)
	ctx := context.Background()

	verifier := oauth2.GenerateVerifier()
	c := code(t, cfg, "state-pkce-1234", oauth2.S256ChallengeOption(verifier))
	if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(verifier)); err != nil {
		t.Fatal(err)
	}

	c = code(t, cfg, "state-pkce-5678", oauth2.S256ChallengeOption(verifier))
	_, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier()))
	wantErrorCode(t, err, "invalid_grant")

	c = code(t, cfg, "state-pkce-9012", oauth2.S256ChallengeOption(verifier))
	_, err = cfg.Exchange(ctx, c)
	wantErrorCode(t, err, "invalid_grant")

	// plain is not enabled.
	q := authorize(t, cfg.AuthCodeURL("state-pkce-plain", oauth2.SetAuthURLParam("code_challenge", verifier),
		oauth2.SetAuthURLParam("code_challenge_method", "plain")))
	if q.Get("error") != "invalid_request" || q.Get("state") != "state-pkce-plain" {
		t.Fatalf("plain challenge: %v", q)
	}
}

func TestRefreshRotates(t *testing.T) {
	s := newServer(t, nil)
	tok := connect(t, s, oauth2.AuthStyleInHeader)

	tok2, err := refresh(s, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken {
		t.Fatalf("not rotated: %+v", tok2)
	}
	if tok2.ExpiresIn <= 0 || tok2.Extra("scope") != "read write" {
		t.Fatalf("refresh response: expires_in=%d scope=%v", tok2.ExpiresIn, tok2.Extra("scope"))
	}
	// The previous access token is revoked by rotation.
	if st, _ := getUserinfo(t, s, tok.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("old access token: %d", st)
	}
	if st, _ := getUserinfo(t, s, tok2.AccessToken); st != http.StatusOK {
		t.Fatalf("new access token: %d", st)
	}

	_, err = refresh(s, tok.RefreshToken)
	wantErrorCode(t, err, "invalid_grant")

	// Reuse detection: replaying a rotated-out refresh token revokes the whole chain.
	_, err = refresh(s, tok2.RefreshToken)
	wantErrorCode(t, err, "invalid_grant")

	_, err = refresh(s, "garbage.token")
	wantErrorCode(t, err, "invalid_grant")

	if s.Refreshes() != 4 || s.CodeExchanges() != 1 {
		t.Fatalf("counters: %d refreshes, %d exchanges", s.Refreshes(), s.CodeExchanges())
	}
}

func TestRefreshWithoutOfflineAccess(t *testing.T) {
	s := newServer(t, func(o *oauthtest.Options) { o.RequireOfflineAccess = true })
	if tok := connect(t, s, oauth2.AuthStyleInHeader); tok.RefreshToken != "" {
		t.Fatal("refresh token issued without offline_access")
	}
	cfg := config(s, oauth2.AuthStyleInHeader, "read", "offline_access")
	tok, err := cfg.Exchange(context.Background(), code(t, cfg, "state-offline-1"))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("with offline_access: %v %+v", err, tok)
	}
}

func TestRevokeUser(t *testing.T) {
	s := newServer(t, nil)
	alice := connect(t, s, oauth2.AuthStyleInHeader)
	alice2, err := refresh(s, alice.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	aliceOther := connect(t, s, oauth2.AuthStyleInHeader) // a second grant for alice
	s.SetUser("bob")
	bob := connect(t, s, oauth2.AuthStyleInHeader)

	s.RevokeUser("alice")

	_, err = refresh(s, alice2.RefreshToken)
	wantErrorCode(t, err, "invalid_grant")
	_, err = refresh(s, aliceOther.RefreshToken)
	wantErrorCode(t, err, "invalid_grant")
	if st, _ := getUserinfo(t, s, alice2.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("alice userinfo after RevokeUser: %d", st)
	}
	if _, err := refresh(s, bob.RefreshToken); err != nil {
		t.Fatalf("bob refresh: %v", err)
	}
}

func TestRevokeEndpoint(t *testing.T) {
	s := newServer(t, nil)
	tok := connect(t, s, oauth2.AuthStyleInHeader)

	post := func(form url.Values, basic bool) int {
		req, _ := http.NewRequest(http.MethodPost, s.RevokeURL(), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			req.SetBasicAuth(s.ClientID(), s.ClientSecret())
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	// No client credentials: fosite answers invalid_request (400).
	if st := post(url.Values{"token": {tok.RefreshToken}}, false); st != http.StatusBadRequest {
		t.Fatalf("unauthenticated revoke: %d", st)
	}
	if st := post(url.Values{"token": {tok.RefreshToken}, "client_id": {s.ClientID()}, "client_secret": {"wrong"}}, false); st != http.StatusUnauthorized {
		t.Fatalf("wrong-secret revoke: %d", st)
	}
	if st := post(url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}, true); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	_, err := refresh(s, tok.RefreshToken)
	wantErrorCode(t, err, "invalid_grant")
	if st, _ := getUserinfo(t, s, tok.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("access token after revoking its refresh token: %d", st)
	}
	// Unknown tokens revoke fine (RFC 7009 §2.2); client_secret_post works too.
	if st := post(url.Values{"token": {"unknown"}, "client_id": {s.ClientID()}, "client_secret": {s.ClientSecret()}}, false); st != http.StatusOK {
		t.Fatalf("revoke unknown: %d", st)
	}
	if s.Revocations() != 4 {
		t.Fatalf("Revocations = %d", s.Revocations())
	}
}

func TestUserinfo(t *testing.T) {
	s := newServer(t, func(o *oauthtest.Options) { o.AccessTokenLifespan = time.Second; o.User = "carol" })
	tok := connect(t, s, oauth2.AuthStyleInHeader)
	if st, u := getUserinfo(t, s, tok.AccessToken); st != http.StatusOK || u.Name != "Carol" || u.Email != "carol@example.com" {
		t.Fatalf("userinfo = %d %+v", st, u)
	}
	for name, bearer := range map[string]string{"none": "", "garbage": "x.y", "refresh token": tok.RefreshToken} {
		if st, _ := getUserinfo(t, s, bearer); st != http.StatusUnauthorized {
			t.Errorf("%s: status %d", name, st)
		}
	}
	time.Sleep(2100 * time.Millisecond)
	if st, _ := getUserinfo(t, s, tok.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("expired token: %d", st)
	}
}

func TestSetUser(t *testing.T) {
	s := newServer(t, nil)
	a := connect(t, s, oauth2.AuthStyleInHeader)
	s.SetUser("dave")
	d := connect(t, s, oauth2.AuthStyleInParams)
	if _, u := getUserinfo(t, s, a.AccessToken); u.Sub != "alice" {
		t.Fatalf("first = %+v", u)
	}
	if _, u := getUserinfo(t, s, d.AccessToken); u.Sub != "dave" || u.Name != "Dave" {
		t.Fatalf("second = %+v", u)
	}
}

func TestDeny(t *testing.T) {
	s := newServer(t, nil)
	cfg := config(s, oauth2.AuthStyleInHeader)

	s.Deny("access_denied")
	q := authorize(t, cfg.AuthCodeURL("state-deny-1234"))
	if q.Get("error") != "access_denied" || q.Get("state") != "state-deny-1234" || q.Has("code") {
		t.Fatalf("denied: %v", q)
	}
	s.Deny("temporarily_unavailable")
	q = authorize(t, cfg.AuthCodeURL("state-deny-5678"))
	if q.Get("error") != "temporarily_unavailable" || q.Get("state") != "state-deny-5678" || q.Has("code") {
		t.Fatalf("denied: %v", q)
	}
	s.Deny("")
	code(t, cfg, "state-deny-9012")
}

// TestRequireConsent: with consent required, the authorize URL shows a
// page that refuses to be framed and repeats the request in its form;
// approving it redirects with a code, denying it with access_denied, and
// turning consent off again approves at once.
func TestRequireConsent(t *testing.T) {
	s := newServer(t, nil)
	cfg := config(s, oauth2.AuthStyleInHeader)
	s.RequireConsent(true)
	resp, err := noFollow.Get(cfg.AuthCodeURL("state-consent-1234"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Frame-Options") != "DENY" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("the consent page: %d, headers %v", resp.StatusCode, resp.Header)
	}
	for _, want := range []string{`id="approve"`, `id="deny"`, `name="state" value="state-consent-1234"`, `name="client_id" value="` + s.ClientID() + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the consent page lacks %s:\n%s", want, page)
		}
	}
	answer := func(consent string) url.Values {
		u, _ := url.Parse(cfg.AuthCodeURL("state-consent-1234"))
		q := u.Query()
		q.Set("consent", consent)
		u.RawQuery = q.Encode()
		return authorize(t, u.String())
	}
	if q := answer("approve"); q.Get("code") == "" || q.Get("state") != "state-consent-1234" {
		t.Errorf("approved: %v, want a code", q)
	}
	if q := answer("deny"); q.Get("error") != "access_denied" || q.Has("code") {
		t.Errorf("denied: %v, want access_denied", q)
	}
	s.RequireConsent(false)
	code(t, cfg, "state-consent-5678")
}

func TestAuthorizeErrors(t *testing.T) {
	s := newServer(t, func(o *oauthtest.Options) { o.Scopes = []string{"read"} })
	cfg := config(s, oauth2.AuthStyleInHeader, "read", "admin")
	q := authorize(t, cfg.AuthCodeURL("state-scope-1234"))
	if q.Get("error") != "invalid_scope" || q.Get("state") != "state-scope-1234" {
		t.Fatalf("disallowed scope: %v", q)
	}

	// An unregistered redirect URI is never redirected to.
	cfg = config(s, oauth2.AuthStyleInHeader, "read")
	cfg.RedirectURL = "http://evil.example/callback"
	if loc, err := s.FollowAuthorize(cfg.AuthCodeURL("state-evil-1234")); err == nil {
		t.Fatalf("redirected to %v", loc)
	}

	// FollowAuthorize returns the redirect.
	cfg.RedirectURL = redirectURI
	loc, err := s.FollowAuthorize(cfg.AuthCodeURL("state-follow-1234"))
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "state-follow-1234" {
		t.Fatalf("FollowAuthorize = %v, %v", loc, err)
	}
}

func TestFailNextToken(t *testing.T) {
	s := newServer(t, nil)
	cfg := config(s, oauth2.AuthStyleInHeader)
	c := code(t, cfg, "state-fail-1234")

	s.FailNextToken(http.StatusServiceUnavailable, 2)
	for i := 0; i < 2; i++ {
		_, err := cfg.Exchange(context.Background(), c)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.Response.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// The outage did not consume the code.
	tok, err := cfg.Exchange(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	s.FailNextToken(http.StatusBadGateway, 1)
	if _, err := refresh(s, tok.RefreshToken); err == nil {
		t.Fatal("refresh during outage succeeded")
	}
	if _, err := refresh(s, tok.RefreshToken); err != nil {
		t.Fatalf("refresh after outage: %v", err)
	}
	if s.CodeExchanges() != 3 || s.Refreshes() != 2 {
		t.Fatalf("counters: %d exchanges, %d refreshes", s.CodeExchanges(), s.Refreshes())
	}
}

func TestConcurrentRefreshOfOneToken(t *testing.T) {
	s := newServer(t, nil)
	tok := connect(t, s, oauth2.AuthStyleInHeader)
	s.SetTokenDelay(100 * time.Millisecond)

	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	start := time.Now()
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = refresh(s, tok.RefreshToken)
		}()
	}
	wg.Wait()
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Fatalf("token delay not applied: %v", d)
	}
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantErrorCode(t, err, "invalid_grant")
		}
	}
	if ok != 1 || s.Refreshes() != n {
		t.Fatalf("%d of %d refreshes succeeded; Refreshes() = %d", ok, n, s.Refreshes())
	}
}
