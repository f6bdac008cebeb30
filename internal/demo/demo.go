// Package demo is the provider behind `latchkey serve --demo`: a small, real
// OAuth 2 authorization server (built from github.com/ory/fosite) with its own
// sign-in and consent page, a two-endpoint API that checks bearer tokens, and
// a page where the signed-in demo user sees and revokes grants. It lets a new
// user try connecting, refreshing and losing an OAuth account with no
// registration anywhere. Everything lives in memory: a restart forgets the
// demo's users and grants, and Latchkey then sees invalid_grant, as it would
// after a real provider forgot a grant.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/storage"
	"golang.org/x/crypto/bcrypt"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

// Paths the demo serves, all on Latchkey's own port.
const (
	PagePath      = "/demo"
	AuthorizePath = "/demo/oauth/authorize"
	TokenPath     = "/demo/oauth/token"
	RevokePath    = "/demo/oauth/revoke"
	APIPrefix     = "/demo/api"
	MePath        = APIPrefix + "/me"
	MessagesPath  = APIPrefix + "/messages"
	signInPath    = "/demo/signin"
	signOutPath   = "/demo/signout"
)

// ProviderPaths are the path prefixes Latchkey calls as the demo app's
// provider; its guarded client reaches its own address for these alone.
var ProviderPaths = []string{"/demo/oauth/", "/demo/api/"}

// Slug is the demo app's catalog slug; ClientID its managed OAuth client.
const (
	Slug     = "demo"
	ClientID = "latchkey-demo"
)

// AccessTokenLifespan is short so that a new user watches a refresh happen.
const AccessTokenLifespan = 60 * time.Second

// Scopes the demo app may ask for.
var Scopes = []string{"profile", "messages.write"}

// APIURLField is the token response field that tells the client where
// workflow steps reach the demo's API; the demo app keeps it, so code reads
// it as auths.demo.api_url.
const APIURLField = "api_url"

// Options configure a Server.
type Options struct {
	// RedirectURI is Latchkey's OAuth callback, the client's only one.
	RedirectURI string
	// APIURL is where APIHandler is served for workflow steps, sent with
	// every token as api_url; empty sends none.
	APIURL string
	Log    *slog.Logger
}

// Server is the demo provider.
type Server struct {
	log      *slog.Logger
	provider fosite.OAuth2Provider
	store    *grantStore
	secret   secret.String
	apiURL   string
	// callbackOrigin is the redirect URI's scheme://host, for the CSP.
	callbackOrigin string

	// mu serialises every call into fosite: its memory store hands out
	// shared request objects that fosite mutates, and has no transactions.
	mu sync.Mutex

	users    sync.Mutex
	accounts map[string][]byte // demo user name -> bcrypt hash of the password
	sessions map[string]string // session id -> demo user name
	messages map[string][]Message
	// lastMessage numbers the messages, across users.
	lastMessage int
}

// Message is what POST /demo/api/messages received.
type Message struct {
	ID   int       `json:"id"`
	Text string    `json:"text"`
	From string    `json:"from"`
	At   time.Time `json:"at"`
}

// New builds the demo provider with a fresh client secret and HMAC key.
func New(o Options) (*Server, error) {
	if o.RedirectURI == "" {
		return nil, fmt.Errorf("demo: a redirect URI is required")
	}
	cb, err := url.Parse(o.RedirectURI)
	if err != nil || cb.Host == "" {
		return nil, fmt.Errorf("demo: redirect URI %q is not an absolute URL", o.RedirectURI)
	}
	if o.APIURL != "" {
		if u, err := url.Parse(o.APIURL); err != nil || u.Host == "" {
			return nil, fmt.Errorf("demo: API URL %q is not an absolute URL", o.APIURL)
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	key, err := random(32)
	if err != nil {
		return nil, err
	}
	clientSecret, err := random(32)
	if err != nil {
		return nil, err
	}
	config := &fosite.Config{
		AccessTokenLifespan: AccessTokenLifespan,
		GlobalSecret:        key,
		// The client secret is 32 random bytes: a slow hash adds nothing.
		HashCost:    bcrypt.MinCost,
		EnforcePKCE: true,
		// Every code exchange returns a refresh token.
		RefreshTokenScopes: []string{},
		// The demo runs on plain http on loopback.
		RedirectSecureChecker: func(context.Context, *url.URL) bool { return true },
	}
	config.ClientSecretsHasher = &fosite.BCrypt{Config: config}
	hashed, err := config.ClientSecretsHasher.Hash(context.Background(), []byte(hex.EncodeToString(clientSecret)))
	if err != nil {
		return nil, err
	}
	st := &grantStore{MemoryStore: storage.NewMemoryStore(), grants: map[string]*Grant{}}
	st.Clients[ClientID] = &fosite.DefaultClient{
		ID:            ClientID,
		Secret:        hashed,
		RedirectURIs:  []string{o.RedirectURI},
		ResponseTypes: []string{"code"},
		GrantTypes:    []string{"authorization_code", "refresh_token"},
		Scopes:        append([]string(nil), Scopes...),
	}
	provider := compose.Compose(config, st, compose.NewOAuth2HMACStrategy(config),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
	)
	return &Server{
		log: o.Log, provider: provider, callbackOrigin: cb.Scheme + "://" + cb.Host, store: st, secret: secret.New(hex.EncodeToString(clientSecret)), apiURL: o.APIURL,
		accounts: map[string][]byte{}, sessions: map[string]string{}, messages: map[string][]Message{},
	}, nil
}

// ClientSecret is the managed client's secret, for Latchkey's client record.
func (s *Server) ClientSecret() secret.String { return s.secret }

// placeholder is the demo app's host in its definition, where the catalog
// asks for https; app_origins sends it to the server's own address.
const placeholder = "https://demo.latchkey.invalid"

// App is the demo's catalog entry. Its URLs name a placeholder host; the
// caller routes the slug to the server's own origin through app_origins.
func App() (*catalog.App, error) {
	def := fmt.Sprintf(`slug: %[2]s
name: Latchkey Demo
description: A built-in OAuth 2 provider for trying Latchkey offline (serve --demo).
categories: [developer-tools]
docs_url: https://www.rfc-editor.org/rfc/rfc6749
auth: oauth2
base_url: %[1]s%[8]s
oauth2:
  authorize_url: %[1]s%[3]s
  token_url: %[1]s%[4]s
  revoke_url: %[1]s%[5]s
  default_scopes: [profile, messages.write]
  client_auth: basic
  keep_fields: [%[7]s]
identity:
  url: %[1]s%[6]s
  label: '{name}'
actions:
  - name: post_message
    description: Post a message to the demo provider; it shows on the demo's page.
    docs_url: https://www.rfc-editor.org/rfc/rfc6750
    input:
      type: object
      required: [text]
      additionalProperties: false
      properties:
        text:
          type: string
          description: The message, up to 2000 bytes.
          minLength: 1
          maxLength: 2000
    request:
      method: POST
      path: /messages
      body:
        text: '{text}'
    output:
      id: /id
      from: /from
`, placeholder, Slug, AuthorizePath, TokenPath, RevokePath, MePath, APIURLField, APIPrefix)
	return catalog.Parse([]byte(def))
}

// Register adds the demo's routes to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AuthorizePath, s.handleAuthorize)
	mux.HandleFunc("POST "+AuthorizePath, s.handleAuthorize)
	mux.HandleFunc("POST "+TokenPath, s.handleToken)
	mux.HandleFunc("POST "+RevokePath, s.handleRevoke)
	mux.HandleFunc("GET "+MePath, s.handleMe)
	mux.HandleFunc("POST "+MessagesPath, s.handleMessage)
	mux.HandleFunc("GET "+PagePath, s.handlePage)
	mux.HandleFunc("POST "+signInPath, s.handleSignIn)
	mux.HandleFunc("POST "+signOutPath, s.handleSignOut)
	mux.HandleFunc("POST "+PagePath+"/grants/{id}/revoke", s.handleRevokeGrant)
}

// APIHandler serves the demo's API alone, for the listener workflow steps
// may reach: no sign-in, consent or token endpoint, nothing of Latchkey.
func (s *Server) APIHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+MePath, s.handleMe)
	mux.HandleFunc("POST "+MessagesPath, s.handleMessage)
	return mux
}

// Grant is one authorization a demo user gave, alive until revoked.
type Grant struct {
	ID          string
	Subject     string
	Scopes      []string
	GrantedAt   time.Time
	RefreshedAt time.Time
	Refreshes   int
}

// Grants lists the user's live grants, newest first.
func (s *Server) Grants(user string) []Grant {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	var out []Grant
	for _, g := range s.store.grants {
		if g.Subject == user {
			out = append(out, *g)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GrantedAt.After(out[j].GrantedAt) })
	return out
}

// Revoke ends one of the user's grants: its access and refresh tokens stop
// working. It reports false when the user has no such grant.
func (s *Server) Revoke(ctx context.Context, user, id string) bool {
	s.store.mu.Lock()
	g, ok := s.store.grants[id]
	if ok && g.Subject == user {
		delete(s.store.grants, id)
	}
	s.store.mu.Unlock()
	if !ok || g.Subject != user {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// The memory store keys tokens by request id, constant along a refresh
	// chain; an error means already gone.
	_ = s.store.RevokeRefreshToken(ctx, id)
	_ = s.store.RevokeAccessToken(ctx, id)
	s.log.InfoContext(ctx, "demo grant revoked", "user", user)
	return true
}

// grantStore is fosite's memory store that also keeps the grants list.
type grantStore struct {
	*storage.MemoryStore
	mu     sync.Mutex
	grants map[string]*Grant
}

func (g *grantStore) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	if err := g.MemoryStore.CreateAccessTokenSession(ctx, signature, req); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	now := time.Now().UTC()
	if gr, ok := g.grants[req.GetID()]; ok {
		gr.Refreshes++
		gr.RefreshedAt = now
		return nil
	}
	g.grants[req.GetID()] = &Grant{
		ID: req.GetID(), Subject: req.GetSession().GetSubject(),
		Scopes: append([]string(nil), req.GetGrantedScopes()...), GrantedAt: now,
	}
	return nil
}

func random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("demo: random: %w", err)
	}
	return b, nil
}
