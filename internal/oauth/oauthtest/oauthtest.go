// Package oauthtest runs a real, standards-compliant OAuth 2 authorization
// server for tests, built from github.com/ory/fosite with its in-memory store.
//
// The server registers one confidential client and auto-approves every
// authorization request for the current user (no login page), unless
// RequireConsent asks for a consent page first. It serves:
//
//	/authorize  authorization code grant (RFC 6749 §4.1), optional PKCE S256 (RFC 7636)
//	/token      authorization_code, refresh_token, client_credentials (RFC 6749
//	            §4.4) and JWT bearer (RFC 7523) grants; client_secret_basic
//	            and client_secret_post; refresh-token rotation with reuse detection
//	/revoke     token revocation (RFC 7009)
//	/userinfo   {"sub","email","name"} for a valid bearer access token
//
// Knobs (SetUser, Deny, RequireConsent, RevokeUser, SetTokenDelay, HoldRefreshes, FailNextToken,
// TrustKey, SetClientSecret) and counters (CodeExchanges, Refreshes, Mints, Revocations) let tests steer and observe it. It is
// test-support code: a normal package so that other packages' tests can
// import it.
package oauthtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
)

// Options configures a Server. Zero values take the documented defaults.
type Options struct {
	// ClientID and ClientSecret of the single confidential client.
	// Defaults: "latchkey-test" and a random secret.
	ClientID, ClientSecret string
	// RedirectURIs the client may use (exact match; fosite additionally lets
	// loopback URIs vary in port, per RFC 8252). Required.
	RedirectURIs []string
	// Scopes the client may request. Default:
	// {"openid","email","profile","offline_access","read","write"}.
	Scopes []string
	// AccessTokenLifespan of issued access tokens. Default 1h.
	AccessTokenLifespan time.Duration
	// User is the subject who approves authorizations. Default "alice".
	User string
	// RequireOfflineAccess, when true, issues refresh tokens only if the
	// "offline" or "offline_access" scope was granted (fosite's default
	// behaviour). When false (the default) every code exchange returns a
	// refresh token.
	RequireOfflineAccess bool
	// Audiences the client may ask for with the audience parameter of a
	// client credentials grant.
	Audiences []string
	// JWTAudience is the token URL JWT assertions must name as their
	// audience; default the server's own token URL. Set it to the public
	// URL when requests reach the server through another origin.
	JWTAudience string
}

// DefaultScopes are the scopes the client may request when Options.Scopes is empty.
var DefaultScopes = []string{"openid", "email", "profile", "offline_access", "read", "write"}

// Server is a running test authorization server.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:port.
	URL string

	srv          *httptest.Server
	provider     fosite.OAuth2Provider
	store        *indexedStore
	clientID     string
	clientSecret string

	// mu serialises every call into fosite and its memory store. The memory
	// store hands out shared request objects that fosite mutates and it has
	// no transactions; serialising makes concurrent use of one refresh token
	// deterministic (one wins, the others hit reuse detection) and race-free.
	mu sync.Mutex

	knobs      sync.Mutex
	user       string
	denyCode   string
	consent    bool
	failStatus int
	failLeft   int
	tokenDelay atomic.Int64
	// gate, when set, holds refresh requests until it is closed; arrived
	// hears of each one held.
	gate        chan struct{}
	arrived     chan struct{}
	codeExch    atomic.Int64
	mints       atomic.Int64
	config      *fosite.Config
	refreshes   atomic.Int64
	revocations atomic.Int64
}

// New starts a Server on 127.0.0.1; it is closed at t.Cleanup.
func New(t testing.TB, o Options) *Server {
	t.Helper()
	if len(o.RedirectURIs) == 0 {
		t.Fatal("oauthtest: Options.RedirectURIs is required")
	}
	if o.ClientID == "" {
		o.ClientID = "latchkey-test"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "secret-" + randomHex(t, 16)
	}
	if len(o.Scopes) == 0 {
		o.Scopes = append([]string(nil), DefaultScopes...)
	}
	if o.AccessTokenLifespan <= 0 {
		o.AccessTokenLifespan = time.Hour
	}
	if o.User == "" {
		o.User = "alice"
	}

	secret := make([]byte, 32) // HMAC key for codes and tokens
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	config := &fosite.Config{
		AccessTokenLifespan: o.AccessTokenLifespan,
		GlobalSecret:        secret,
		HashCost:            4, // bcrypt.MinCost: keep client auth fast
		// Only bearer access tokens are valid at /userinfo.
		DisableRefreshTokenValidation: true,
		// Tests may use non-TLS, non-loopback redirect URIs.
		RedirectSecureChecker:      func(context.Context, *url.URL) bool { return true },
		SendDebugMessagesToClients: true,
		// RFC 7523 section 3: a JWT bearer grant may come without
		// client authentication, as Google's and DocuSign's do.
		GrantTypeJWTBearerCanSkipClientAuth: true,
	}
	if !o.RequireOfflineAccess {
		config.RefreshTokenScopes = []string{} // empty: every exchange gets a refresh token
	}
	config.ClientSecretsHasher = &fosite.BCrypt{Config: config}
	hashed, err := config.ClientSecretsHasher.Hash(context.Background(), []byte(o.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}

	store := &indexedStore{MemoryStore: storage.NewMemoryStore(), bySubject: map[string]map[string]struct{}{}}
	// A plain DefaultClient (not an OpenIDConnectClient) has no
	// token_endpoint_auth_method, so fosite accepts client_secret_basic and
	// client_secret_post alike.
	store.Clients[o.ClientID] = &fosite.DefaultClient{
		ID:            o.ClientID,
		Secret:        hashed,
		RedirectURIs:  append([]string(nil), o.RedirectURIs...),
		ResponseTypes: []string{"code"},
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials", jwtBearerGrant},
		Scopes:        append([]string(nil), o.Scopes...),
		Audience:      append([]string(nil), o.Audiences...),
	}

	strategy := compose.NewOAuth2HMACStrategy(config)
	provider := compose.Compose(config, store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.RFC7523AssertionGrantFactory,
	)

	s := &Server{
		provider:     provider,
		store:        store,
		clientID:     o.ClientID,
		clientSecret: o.ClientSecret,
		user:         o.User,
		config:       config,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", s.handleAuthorize)
	mux.HandleFunc("/token", s.handleToken)
	mux.HandleFunc("/revoke", s.handleRevoke)
	mux.HandleFunc("/userinfo", s.handleUserinfo)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	// A JWT assertion's audience must name the token endpoint.
	config.TokenURL = s.TokenURL()
	if o.JWTAudience != "" {
		config.TokenURL = o.JWTAudience
	}
	t.Cleanup(s.srv.Close)
	return s
}

// AuthorizeURL is the authorization endpoint.
func (s *Server) AuthorizeURL() string { return s.URL + "/authorize" }

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/token" }

// RevokeURL is the RFC 7009 revocation endpoint.
func (s *Server) RevokeURL() string { return s.URL + "/revoke" }

// UserinfoURL is the userinfo endpoint.
func (s *Server) UserinfoURL() string { return s.URL + "/userinfo" }

// ClientID of the registered client.
func (s *Server) ClientID() string { return s.clientID }

// ClientSecret of the registered client (plain text).
func (s *Server) ClientSecret() string { return s.clientSecret }

// SetUser sets the subject who approves subsequent authorizations.
func (s *Server) SetUser(sub string) {
	s.knobs.Lock()
	s.user = sub
	s.knobs.Unlock()
}

// Deny makes subsequent authorizations redirect back with ?error=errCode
// (plus state) instead of a code, until Deny("") is called. Use
// "access_denied" for a user who declines.
func (s *Server) Deny(errCode string) {
	s.knobs.Lock()
	s.denyCode = errCode
	s.knobs.Unlock()
}

// RequireConsent makes authorizations stop at a consent page, as a real
// provider's do, until RequireConsent(false): its Approve button goes on
// to the redirect with a code, its Deny button to access_denied. Like a
// real provider's, the page refuses to be framed. Browser tests use it to
// act while the end user is at the provider.
func (s *Server) RequireConsent(on bool) {
	s.knobs.Lock()
	s.consent = on
	s.knobs.Unlock()
}

// consentPage asks the user to approve; its form repeats the authorize
// request's parameters, plus the answer.
var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test IdP: approve access</title><link rel="icon" href="data:,"></head>
<body><h1>Allow access?</h1><p id="consent-client">{{.Client}} asks for: {{.Scopes}}</p>
<form method="get" action="/authorize">{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<button type="submit" name="consent" value="approve" id="approve">Approve</button>
<button type="submit" name="consent" value="deny" id="deny">Deny</button>
</form></body></html>`))

// CodeExchanges counts token requests with grant_type=authorization_code
// (including ones answered by FailNextToken).
func (s *Server) CodeExchanges() int { return int(s.codeExch.Load()) }

// Refreshes counts token requests with grant_type=refresh_token, successful
// or not (including ones answered by FailNextToken).
func (s *Server) Refreshes() int { return int(s.refreshes.Load()) }

// Revocations counts requests to /revoke.
func (s *Server) Revocations() int { return int(s.revocations.Load()) }

// SetTokenDelay makes each token request sleep d before it is handled.
// Requests sleep concurrently; fosite processing itself is serialised.
func (s *Server) SetTokenDelay(d time.Duration) { s.tokenDelay.Store(int64(d)) }

// HoldRefreshes makes refresh_token requests, once counted, wait until
// release is called (or the client gives up); arrived receives as each one
// starts waiting. Tests use it to act while a refresh is in flight.
func (s *Server) HoldRefreshes() (arrived <-chan struct{}, release func()) {
	gate, arr := make(chan struct{}), make(chan struct{}, 1000)
	s.knobs.Lock()
	s.gate, s.arrived = gate, arr
	s.knobs.Unlock()
	var once sync.Once
	return arr, func() {
		once.Do(func() {
			s.knobs.Lock()
			s.gate = nil
			s.knobs.Unlock()
			close(gate)
		})
	}
}

// FailNextToken makes the next n token requests answer HTTP status with
// {"error":"temporarily_unavailable"} without reaching fosite (a transient
// outage). They still count in CodeExchanges/Refreshes.
func (s *Server) FailNextToken(status int, n int) {
	s.knobs.Lock()
	s.failStatus, s.failLeft = status, n
	s.knobs.Unlock()
}

// RevokeUser revokes every access and refresh token issued to sub, so that
// its next refresh fails with invalid_grant and /userinfo answers 401.
func (s *Server) RevokeUser(sub string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ctx := context.Background()
	s.store.idxMu.Lock()
	ids := make([]string, 0, len(s.store.bySubject[sub]))
	for id := range s.store.bySubject[sub] {
		ids = append(ids, id)
	}
	s.store.idxMu.Unlock()
	for _, id := range ids {
		// The memory store maps a request ID (constant along a rotation
		// chain) to its latest tokens; errors mean "already gone".
		_ = s.store.RevokeRefreshToken(ctx, id)
		_ = s.store.RevokeAccessToken(ctx, id)
	}
}

// FollowAuthorize performs a browser's GET of authorizeURL without following
// the redirect and returns the Location the server redirects to (the
// client's redirect URI with code/state or error/state).
func (s *Server) FollowAuthorize(authorizeURL string) (*url.URL, error) {
	c := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(authorizeURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode > 399 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return nil, fmt.Errorf("oauthtest: authorize answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return resp.Location()
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// indexedStore is fosite's MemoryStore plus an index subject -> request IDs,
// so RevokeUser can find a subject's tokens.
type indexedStore struct {
	*storage.MemoryStore
	idxMu     sync.Mutex
	bySubject map[string]map[string]struct{}
}

func (s *indexedStore) index(req fosite.Requester) {
	if req == nil || req.GetSession() == nil {
		return
	}
	sub := req.GetSession().GetSubject()
	s.idxMu.Lock()
	defer s.idxMu.Unlock()
	ids := s.bySubject[sub]
	if ids == nil {
		ids = map[string]struct{}{}
		s.bySubject[sub] = ids
	}
	ids[req.GetID()] = struct{}{}
}

func (s *indexedStore) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	s.index(req)
	return s.MemoryStore.CreateAccessTokenSession(ctx, signature, req)
}

func (s *indexedStore) CreateRefreshTokenSession(ctx context.Context, signature, accessTokenSignature string, req fosite.Requester) error {
	s.index(req)
	return s.MemoryStore.CreateRefreshTokenSession(ctx, signature, accessTokenSignature, req)
}
