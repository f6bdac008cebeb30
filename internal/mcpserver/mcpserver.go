// Package mcpserver is Latchkey's MCP surface: agents reach the prebuilt
// actions of the apps they may use as MCP tools over Streamable HTTP, with
// Latchkey adding the credentials, so that none reaches the agent.
//
// The protocol is the official Go SDK's; this package decides who calls
// (a Latchkey API token), which tools they see, which account a call uses,
// and what to answer when there is none: a link to connect one, by URL-mode
// elicitation where the client supports it.
package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
)

// Path is where the MCP server answers, under the public URL.
const Path = "/mcp"

// MetadataPath is the RFC 9728 protected-resource metadata of Path.
const MetadataPath = "/.well-known/oauth-protected-resource"

// Actions is what the server needs of the actions service.
type Actions interface {
	// List lists the actions of the workspace's catalog.
	List(ctx context.Context, actor identity.Actor, app string) ([]actions.View, error)
	// Run runs an action ("app.action") with the account and input.
	Run(ctx context.Context, actor identity.Actor, ref, accountID string, input json.RawMessage) (actions.Result, error)
}

// Accounts is what the server needs of the accounts service.
type Accounts interface {
	List(ctx context.Context, actor identity.Actor, in accounts.ListInput) ([]accounts.Account, bool, error)
	Get(ctx context.Context, actor identity.Actor, id string) (accounts.Account, error)
}

// Identity resolves bearer tokens.
type Identity interface {
	VerifyToken(ctx context.Context, presented string) (identity.Actor, error)
}

// OAuth is the authorization server for MCP clients.
type OAuth interface {
	// VerifyAccessToken resolves an access token of the MCP URL's.
	VerifyAccessToken(ctx context.Context, token string) (identity.Actor, error)
	Metadata() mcpauth.Metadata
	Register(ctx context.Context, addr string, in mcpauth.ClientMetadata) (mcpauth.Registered, error)
	// Token answers the token endpoint.
	Token(w http.ResponseWriter, r *http.Request)
	// RevokeToken answers the revocation endpoint.
	RevokeToken(w http.ResponseWriter, r *http.Request)
}

// ConnectLinks mints the hosted connect page's links for end users.
type ConnectLinks interface {
	Mint(ctx context.Context, actor identity.Actor, in endusers.MintInput) (endusers.Minted, error)
}

// Options configure the server.
type Options struct {
	Actions  Actions
	Accounts Accounts
	Identity Identity
	// EndUsers mints connect links for end users; nil serves members only.
	EndUsers ConnectLinks
	// OAuth lets MCP clients sign members in with OAuth; nil takes API
	// tokens alone.
	OAuth OAuth
	// PublicURL is Latchkey's own URL, without a trailing slash.
	PublicURL string
	Clock     clockwork.Clock
	Log       *slog.Logger
	// WatchEvery is how often a waiting just-in-time connection is looked
	// for; WatchFor how long. Zero means 1 s and 15 minutes.
	WatchEvery, WatchFor time.Duration
	// Version is Latchkey's, as the server names itself.
	Version string
}

// Server is the MCP surface.
type Server struct {
	o       Options
	handler http.Handler
	// watching holds the elicitation of each session and app whose
	// connection is awaited.
	watching sync.Map
}

// New returns the server.
func New(o Options) *Server {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.WatchEvery <= 0 {
		o.WatchEvery = time.Second
	}
	if o.WatchFor <= 0 {
		o.WatchFor = 15 * time.Minute
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	s := &Server{o: o}
	streams := mcp.NewStreamableHTTPHandler(s.session, &mcp.StreamableHTTPOptions{
		Logger: o.Log,
		// Bearer tokens, not cookies, authenticate every request, so a
		// browser on another site cannot ride on them.
		CrossOriginProtection: http.NewCrossOriginProtection(),
	})
	bearer := auth.RequireBearerToken(s.tokenInfo, &auth.RequireBearerTokenOptions{
		ResourceMetadataURL:    o.PublicURL + MetadataPath,
		AllowMissingExpiration: true,
	})
	s.handler = s.authenticate(bearer(streams))
	return s
}

// Register mounts the server and its metadata on mux and, with OAuth,
// the authorization server's endpoints that clients call; the one the
// browser opens, /oauth2/authorize, is the web's. The metadata and the
// endpoints a client calls answer any origin (see cors); /mcp is left to
// the SDK's cross-origin protection.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle(Path, s.handler)
	meta := s.Metadata()
	cors(mux, http.MethodGet, MetadataPath, meta)
	cors(mux, http.MethodGet, MetadataPath+Path, meta)
	if s.o.OAuth != nil {
		cors(mux, http.MethodGet, mcpauth.MetadataPath, http.HandlerFunc(s.authServerMetadata))
		cors(mux, http.MethodPost, mcpauth.RegisterPath, http.HandlerFunc(s.registerClient))
		cors(mux, http.MethodPost, mcpauth.TokenPath, http.HandlerFunc(s.o.OAuth.Token))
		cors(mux, http.MethodPost, mcpauth.RevokePath, http.HandlerFunc(s.o.OAuth.RevokeToken))
	}
}

// Metadata serves the RFC 9728 protected-resource metadata: bearer
// tokens in a header, Latchkey API tokens or, with OAuth, tokens of
// Latchkey's own authorization server, which it names.
func (s *Server) Metadata() http.Handler {
	meta := &oauthex.ProtectedResourceMetadata{
		Resource:               s.o.PublicURL + Path,
		ResourceName:           "Latchkey",
		BearerMethodsSupported: []string{"header"},
		ScopesSupported:        []string{identity.ScopeActionsRun, identity.ScopeAccountsRead, identity.ScopeConnectWrite},
		ResourceDocumentation:  s.o.PublicURL + "/docs/mcp",
	}
	if s.o.OAuth != nil {
		// What an OAuth client asks for: acting for end users stays with
		// API tokens.
		meta.AuthorizationServers = []string{s.o.OAuth.Metadata().Issuer}
		meta.ScopesSupported = mcpauth.Scopes
	}
	// Served here rather than by the SDK's handler, whose CORS headers
	// would replace cors's.
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, meta)
	})
}

type actorKey struct{}

// caller is who a session speaks for: the token's actor, and the product's
// end user when the MCP URL names one.
type caller struct {
	actor identity.Actor
	// endUser is the product's end user the agent acts for; empty for a
	// member's own accounts.
	endUser string
}

// authenticate verifies the bearer token once, before the SDK's bearer
// middleware sees it, so that a token used too often is a 429 with
// Retry-After and not a 401 that would send a client to sign in again.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			next.ServeHTTP(w, r) // the SDK answers 401 with the metadata
			return
		}
		actor, err := s.verify(r.Context(), strings.TrimSpace(tok))
		if limited, ok := errors.AsType[*identity.RateLimitError](err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(limited.Wait.Seconds())))))
			http.Error(w, "this token is used too often; try again later", http.StatusTooManyRequests)
			return
		}
		if err != nil && !errors.Is(err, identity.ErrInvalidToken) && !errors.Is(err, identity.ErrTokenUserGone) {
			s.o.Log.ErrorContext(r.Context(), "mcp: verifying a token failed", "err", err)
			http.Error(w, "the token could not be checked; try again", http.StatusServiceUnavailable)
			return
		}
		if r.Method == http.MethodGet {
			// A GET is the session's stream of the server's own messages
			// (a finished connection's notice among them): it outlives
			// the server's write timeout, up to the longest wait.
			_ = http.NewResponseController(w).SetWriteDeadline(s.o.Clock.Now().Add(s.o.WatchFor))
		}
		c := &caller{}
		if err == nil {
			actor.Surface, actor.Addr = identity.SurfaceMCP, peer(r)
			c.actor = actor
			if c.endUser = r.URL.Query().Get("external_user_id"); c.endUser != "" {
				if err := s.mayActForEndUsers(actor, c.endUser); err != nil {
					http.Error(w, err.Error(), http.StatusForbidden)
					return
				}
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, c)))
	})
}

// verify resolves an API token or, failing that, an OAuth access token
// for this server's MCP URL.
func (s *Server) verify(ctx context.Context, tok string) (identity.Actor, error) {
	actor, err := s.o.Identity.VerifyToken(ctx, tok)
	if s.o.OAuth != nil && errors.Is(err, identity.ErrInvalidToken) {
		return s.o.OAuth.VerifyAccessToken(ctx, tok)
	}
	return actor, err
}

// mayActForEndUsers: acting for an end user takes a token that may mint
// their connect links, since that is what a missing account asks for.
func (s *Server) mayActForEndUsers(actor identity.Actor, endUser string) error {
	if s.o.EndUsers == nil {
		return errors.New("this server does not serve end users")
	}
	if err := accounts.CheckExternalUserID(endUser); err != nil {
		return fmt.Errorf("external_user_id: %w", err)
	}
	if actor.Scopes == nil || !actor.Allows(identity.ScopeConnectWrite) || !actor.Role.Grants(identity.ScopeConnectWrite) {
		return fmt.Errorf("acting for an end user takes an API token with the %s scope, of an owner or an admin", identity.ScopeConnectWrite)
	}
	return nil
}

// tokenInfo is the SDK's verifier: the token was checked by authenticate;
// the session is bound to the token and the end user, so another token
// cannot take it over.
func (s *Server) tokenInfo(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
	c, _ := ctx.Value(actorKey{}).(*caller)
	if c == nil || c.actor.WorkspaceID == "" {
		return nil, fmt.Errorf("%w: the token is not a valid Latchkey API token", auth.ErrInvalidToken)
	}
	return &auth.TokenInfo{
		UserID: c.actor.WorkspaceID + "/" + c.actor.TokenID + "/" + c.endUser,
		Scopes: c.actor.Scopes,
		Extra:  map[string]any{"caller": c},
	}, nil
}

// callerOf is who a request of a session speaks for.
func callerOf(info *auth.TokenInfo) (*caller, error) {
	if info == nil {
		return nil, errors.New("the request carries no verified token")
	}
	c, ok := info.Extra["caller"].(*caller)
	if !ok {
		return nil, errors.New("the request carries no verified token")
	}
	return c, nil
}

func peer(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}
