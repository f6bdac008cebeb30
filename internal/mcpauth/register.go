package mcpauth

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/ory/fosite"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/netpolicy"
	"github.com/latchkeyhq/latchkey/internal/ratelimit"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// ClientPrefix starts the id of every registered MCP client.
const ClientPrefix = "mcc"

// Registration's limits.
const (
	maxRedirectURIs = 10
	maxURI          = 2000
	maxName         = 100
	// A client registers once per installation it is added to; an
	// address (an IPv6 one's /64) may register a few at once, then one
	// every 12 seconds.
	registerEvery = 12 * time.Second
	registerBurst = 10
	// maxRegisterAddrs bounds the limit's memory.
	maxRegisterAddrs = 100_000
)

// ClientMetadata is what a client sends to register (RFC 7591 section 2);
// fields this server does not use are ignored, as the RFC asks.
type ClientMetadata struct {
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// Registered is the answer to a registration (RFC 7591 section 3.2.1).
type Registered struct {
	ClientID         string `json:"client_id"`
	ClientIDIssuedAt int64  `json:"client_id_issued_at"`
	ClientMetadata
}

// RegistrationError is a refused registration, in RFC 7591's words
// (section 3.2.2): Code is invalid_redirect_uri or invalid_client_metadata.
type RegistrationError struct {
	Code, Description string
}

func (e *RegistrationError) Error() string { return e.Code + ": " + e.Description }

// RateLimitError: the address registers too often; Wait is how long
// until it may again.
type RateLimitError struct{ Wait time.Duration }

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many registrations; try again in %s", e.Wait.Round(time.Second))
}

func badMetadata(format string, args ...any) error {
	return &RegistrationError{Code: "invalid_client_metadata", Description: fmt.Sprintf(format, args...)}
}

func badRedirect(format string, args ...any) error {
	return &RegistrationError{Code: "invalid_redirect_uri", Description: fmt.Sprintf(format, args...)}
}

// Register registers a public client from addr. Bad metadata is a
// *RegistrationError and stores nothing.
func (s *Service) Register(ctx context.Context, addr string, in ClientMetadata) (Registered, error) {
	now := s.o.Clock.Now()
	if wait, ok := s.register.Allow(ratelimit.Peer(addr).String(), now); !ok {
		return Registered{}, &RateLimitError{Wait: wait}
	}
	out, err := checkMetadata(in)
	if err != nil {
		return Registered{}, err
	}
	c := store.MCPClient{ID: ids.New(ClientPrefix, now), Name: out.ClientName, RedirectURIs: out.RedirectURIs,
		GrantTypes: out.GrantTypes, CreatedAt: now.UTC()}
	if err := s.o.Store.CreateMCPClient(ctx, c); err != nil {
		return Registered{}, fmt.Errorf("register mcp client: %w", err)
	}
	hosts := make([]string, 0, len(c.RedirectURIs))
	for _, u := range c.RedirectURIs {
		hosts = append(hosts, redirectHost(u))
	}
	// A client belongs to no workspace yet, so the log, not a workspace's
	// audit log, records it; each consent to it is audited.
	s.o.Log.InfoContext(ctx, "mcp client registered", "client", c.ID, "name", c.Name, "redirect_hosts", hosts, "addr", addr)
	return Registered{ClientID: c.ID, ClientIDIssuedAt: now.Unix(), ClientMetadata: out}, nil
}

// checkMetadata checks a registration and fills in the defaults.
func checkMetadata(in ClientMetadata) (ClientMetadata, error) {
	out := ClientMetadata{TokenEndpointAuthMethod: "none", Scope: in.Scope}
	switch in.TokenEndpointAuthMethod {
	case "", "none":
	default:
		return out, badMetadata("token_endpoint_auth_method %q is not supported: clients here are public and use PKCE, so it must be \"none\"", in.TokenEndpointAuthMethod)
	}
	if len(in.RedirectURIs) == 0 {
		return out, badRedirect("redirect_uris is required")
	}
	if len(in.RedirectURIs) > maxRedirectURIs {
		return out, badRedirect("at most %d redirect_uris", maxRedirectURIs)
	}
	for _, u := range in.RedirectURIs {
		if err := checkRedirect(u); err != nil {
			return out, err
		}
	}
	out.RedirectURIs = slices.Compact(slices.Clone(in.RedirectURIs))
	out.GrantTypes = in.GrantTypes
	if len(out.GrantTypes) == 0 {
		out.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	for _, g := range out.GrantTypes {
		if g != "authorization_code" && g != "refresh_token" {
			return out, badMetadata("grant_types: %q is not supported; use authorization_code and refresh_token", g)
		}
	}
	if !slices.Contains(out.GrantTypes, "authorization_code") {
		return out, badMetadata("grant_types must include authorization_code")
	}
	out.ResponseTypes = in.ResponseTypes
	if len(out.ResponseTypes) == 0 {
		out.ResponseTypes = []string{"code"}
	}
	if !slices.Equal(out.ResponseTypes, []string{"code"}) {
		return out, badMetadata("response_types must be [\"code\"]")
	}
	supported := append(append([]string(nil), Scopes...), ScopeOfflineAccess)
	for _, sc := range strings.Fields(in.Scope) {
		if !slices.Contains(supported, sc) {
			return out, badMetadata("scope %q is not supported; the scopes are %s", sc, strings.Join(supported, " "))
		}
	}
	out.ClientName = strings.TrimSpace(in.ClientName)
	if len([]rune(out.ClientName)) > maxName {
		return out, badMetadata("client_name is longer than %d characters", maxName)
	}
	if strings.IndexFunc(out.ClientName, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return out, badMetadata("client_name has characters that cannot be shown")
	}
	if out.ClientName == "" {
		out.ClientName = "Unnamed MCP client"
	}
	return out, nil
}

// checkRedirect admits what the MCP authorization spec does: https, or
// http on a loopback host, with no fragment.
func checkRedirect(raw string) error {
	if len(raw) > maxURI {
		return badRedirect("a redirect URI is longer than %d bytes", maxURI)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return badRedirect("%q is not an absolute URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return badRedirect("%q has a fragment", raw)
	}
	if u.User != nil {
		return badRedirect("%q has user information", raw)
	}
	if !netpolicy.PlainHost(u.Host) {
		return badRedirect("%q: the host is not a host name, an IP address or a port", raw)
	}
	if !fosite.IsRedirectURISecureStrict(context.Background(), u) {
		return badRedirect("%q must be https, or http on a loopback host (localhost, 127.0.0.1, [::1])", raw)
	}
	return nil
}

// redirectHost is the host a consent page names for a redirect URI.
func redirectHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}
