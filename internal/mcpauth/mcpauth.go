// Package mcpauth is Latchkey's OAuth 2.1 authorization server for MCP
// clients: a client that knows only the MCP URL discovers it, registers
// itself (RFC 7591), sends the member through sign-in and consent, and
// gets tokens (authorization code with PKCE S256, rotating refresh
// tokens) whose audience is the MCP URL alone (RFC 8707). It owns the
// clients, the members' grants and their tokens; the protocol is ory
// fosite's, over the store, so that any replica answers any step.
package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"golang.org/x/time/rate"

	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ratelimit"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Paths of the authorization server, under the public URL.
const (
	MetadataPath  = "/.well-known/oauth-authorization-server"
	AuthorizePath = "/oauth2/authorize"
	TokenPath     = "/oauth2/token"
	RegisterPath  = "/oauth2/register"
	RevokePath    = "/oauth2/revoke"
)

// ScopeOfflineAccess asks for a refresh token; one is issued either way.
const ScopeOfflineAccess = "offline_access"

// Scopes are what an MCP client may ask for: the MCP server's tools run
// actions and read accounts. A member's role narrows them further.
var Scopes = []string{identity.ScopeActionsRun, identity.ScopeAccountsRead}

// Audit actions.
const (
	ActionConsented   = "mcp_client.consented"
	ActionDenied      = "mcp_client.denied"
	ActionTokenIssued = "mcp_client.token_issued"
	ActionRevoked     = "mcp_client.revoked"
	// ActionTokenRevoked: the client revoked its own token (RFC 7009),
	// and with it the grant; ActionRevoked is the member's doing.
	ActionTokenRevoked = "mcp_client.token_revoked"
)

// Lifetimes.
const (
	CodeTTL    = 10 * time.Minute
	AccessTTL  = time.Hour
	RefreshTTL = 30 * 24 * time.Hour
)

// Errors.
var (
	// ErrWrongAudience: the token is for another resource than this
	// server's MCP URL. It matches identity.ErrInvalidToken.
	ErrWrongAudience = fmt.Errorf("the token is for another resource: %w", identity.ErrInvalidToken)
	// errStorage marks a failure of the store, as opposed to a code or
	// token that is not there, under fosite's errors.
	errStorage = errors.New("mcp authorization storage")
)

// Users looks up the member a grant is for.
type Users interface {
	User(ctx context.Context, workspaceID, id string) (identity.User, error)
}

// Options configure the service.
type Options struct {
	Store store.MCPAuth
	Users Users
	// Ring derives the secret that signs codes and tokens, the same on
	// every replica.
	Ring  *seal.Ring
	Audit *audit.Log
	// PublicURL is Latchkey's URL without a trailing slash: the issuer.
	PublicURL string
	// Resource is the MCP URL, the only audience of the tokens.
	Resource string
	Clock    clockwork.Clock
	Log      *slog.Logger
	// TokenRate and TokenBurst limit the requests of one grant's access
	// tokens on one replica, as identity limits an API token's; zero
	// means identity.TokenRate and identity.TokenBurst.
	TokenRate  rate.Limit
	TokenBurst int
}

// Service is the authorization server.
type Service struct {
	o        Options
	provider fosite.OAuth2Provider
	storage  *storage
	register *ratelimit.Limiter
	// tokenUse limits access token use per grant, so a client cannot
	// escape it by refreshing.
	tokenUse *ratelimit.Limiter
}

// maxTrackedGrants bounds the memory of the token limit.
const maxTrackedGrants = 100_000

// New returns the service.
func New(o Options) *Service {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	secrets := o.Ring.Derive("mcp oauth hmac")
	cfg := &fosite.Config{
		AccessTokenLifespan:   AccessTTL,
		RefreshTokenLifespan:  RefreshTTL,
		AuthorizeCodeLifespan: CodeTTL,
		GlobalSecret:          secrets[0],
		RotatedGlobalSecrets:  secrets[1:],
		// PKCE with S256 on every request: public clients have no secret.
		EnforcePKCE:                    true,
		EnablePKCEPlainChallengeMethod: false,
		// Every exchange gets a refresh token, offline_access or not.
		RefreshTokenScopes:       []string{},
		ScopeStrategy:            fosite.ExactScopeStrategy,
		AudienceMatchingStrategy: fosite.ExactAudienceMatchingStrategy,
		RedirectSecureChecker:    fosite.IsRedirectURISecureStrict,
		TokenURL:                 o.PublicURL + TokenPath,
		MinParameterEntropy:      fosite.MinParameterEntropy,
	}
	st := &storage{store: o.Store, clock: o.Clock, resource: o.Resource}
	provider := compose.Compose(cfg, st, compose.NewOAuth2HMACStrategy(cfg),
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2PKCEFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
	)
	if o.TokenRate == 0 {
		o.TokenRate = identity.TokenRate
	}
	if o.TokenBurst == 0 {
		o.TokenBurst = identity.TokenBurst
	}
	return &Service{o: o, provider: provider, storage: st,
		register: ratelimit.New(rate.Every(registerEvery), registerBurst, maxRegisterAddrs),
		tokenUse: ratelimit.New(o.TokenRate, o.TokenBurst, maxTrackedGrants)}
}

// Resource is the MCP URL the tokens are for.
func (s *Service) Resource() string { return s.o.Resource }

// Metadata is the RFC 8414 authorization server metadata.
type Metadata struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	RegistrationEndpoint              string   `json:"registration_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	RevocationEndpoint                string   `json:"revocation_endpoint"`
	RevocationAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	// IssParameterSupported: every authorization response carries iss
	// (RFC 9207), so a client can tell which server answered.
	IssParameterSupported bool   `json:"authorization_response_iss_parameter_supported"`
	ServiceDocumentation  string `json:"service_documentation,omitempty"`
}

// Metadata returns the server's metadata.
func (s *Service) Metadata() Metadata {
	return Metadata{
		Issuer:                            s.o.PublicURL,
		AuthorizationEndpoint:             s.o.PublicURL + AuthorizePath,
		TokenEndpoint:                     s.o.PublicURL + TokenPath,
		RegistrationEndpoint:              s.o.PublicURL + RegisterPath,
		ScopesSupported:                   append(append([]string(nil), Scopes...), ScopeOfflineAccess),
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported: []string{"none"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		RevocationEndpoint:                s.o.PublicURL + RevokePath,
		RevocationAuthMethodsSupported:    []string{"none"},
		IssParameterSupported:             true,
		ServiceDocumentation:              s.o.PublicURL + "/docs/mcp",
	}
}

// record writes an audit event of the grant's member.
func (s *Service) record(actor identity.Actor, action string, detail map[string]string) {
	if s.o.Audit == nil {
		return
	}
	s.o.Audit.Record(actor, "", action, detail, s.o.Clock.Now())
}
