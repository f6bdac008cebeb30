// Package api serves Latchkey's JSON API under /v1: bearer-token
// authentication, JSON in and out, RFC 9457 problem details for errors.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/proxy"
	"github.com/latchkeyhq/latchkey/internal/ratelimit"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// Handler serves the API.
type Handler struct {
	accounts   *accounts.Service
	connecting *connecting.Service
	apps       *apps.Service
	clients    *clients.Service
	workflows  *workflows.Service
	identity   *identity.Service
	clock      clockwork.Clock
	log        *slog.Logger
	mux        *http.ServeMux
	// redirectURI is shown with OAuth clients, to copy into providers'
	// settings.
	redirectURI string
	// failures limits failed tokens per client address.
	failures *failureLimiter
	// publicURL starts the invitation and reset links returned.
	publicURL string
	// patterns are the routes registered, for the role × route test.
	patterns []string
	// audit reads the workspace's audit log.
	audit *audit.Service
	// endUsers mints connect tokens and serves end users.
	endUsers *endusers.Service
	// webhooks manages the workspace's webhook endpoints.
	webhooks *webhooks.Service
	// actions lists and runs the catalog's actions.
	actions *actions.Service
	// mcpAuth lists and revokes the members' grants to MCP clients.
	mcpAuth *mcpauth.Service
	// proxy forwards requests to apps with an account's credentials.
	proxy *proxy.Service
	// proxyRoute is the proxy's handler, reached before the mux.
	proxyRoute http.Handler
}

// New returns the API handler; mount it at the server's root.
// Callers are who identity says the bearer token speaks for.
func New(svc *accounts.Service, conn *connecting.Service, ap *apps.Service, cl *clients.Service, wf *workflows.Service, who *identity.Service, clock clockwork.Clock, log *slog.Logger, redirectURI string) *Handler {
	h := &Handler{accounts: svc, connecting: conn, apps: ap, clients: cl, workflows: wf, identity: who, clock: clock, log: log, mux: http.NewServeMux(), redirectURI: redirectURI,
		failures: newFailureLimiter(clock)}
	route := func(pattern string, fn handlerFunc) {
		h.patterns = append(h.patterns, pattern)
		h.mux.Handle(pattern, h.authenticate(h.adapt(fn)))
	}
	// account routes name an account by {id}: a token limited to chosen
	// accounts or apps is told "not found" for any other.
	account := func(pattern string, fn handlerFunc) { route(pattern, h.withinLimits(fn)) }

	route("GET /v1/me", h.me)
	route("GET /v1/apps", h.listApps)
	route("GET /v1/apps/{slug}", h.getApp)
	route("GET /v1/categories", h.listCategories)
	route("GET /v1/accounts", h.listAccounts)
	route("POST /v1/accounts", h.createAccount)
	account("GET /v1/accounts/{id}", h.getAccount)
	account("PATCH /v1/accounts/{id}", h.renameAccount)
	account("DELETE /v1/accounts/{id}", h.deleteAccount)
	account("GET /v1/accounts/{id}/credentials", h.credentials)
	account("GET /v1/accounts/{id}/events", h.accountEvents)
	account("POST /v1/accounts/{id}/reconnect", h.reconnect)
	account("PUT /v1/accounts/{id}/credentials", h.replaceKeys)
	account("PUT /v1/accounts/{id}/sharing", h.share)
	route("POST /v1/connect", h.connect)
	route("GET /v1/connect/{id}", h.getConnection)
	route("GET /v1/oauth-clients", h.listClients)
	route("GET /v1/oauth-clients/{id}", h.getClient)
	route("DELETE /v1/oauth-clients/{id}", h.deleteClient)
	route("PUT /v1/apps/{slug}/oauth-client", h.setClient)
	route("GET /v1/workflows", h.listWorkflows)
	route("POST /v1/workflows", h.createWorkflow)
	route("GET /v1/workflows/{id}", h.getWorkflow)
	route("PUT /v1/workflows/{id}", h.updateWorkflow)
	route("DELETE /v1/workflows/{id}", h.deleteWorkflow)
	route("PUT /v1/workflows/{id}/steps/{step}/accounts/{app}", h.linkAccount)
	route("POST /v1/workflows/{id}/runs", h.runWorkflow)
	route("GET /v1/workflows/{id}/runs", h.listRuns)
	route("GET /v1/runs/{id}", h.getRun)
	account("GET /v1/accounts/{id}/workflows", h.usedBy)
	route("GET /v1/custom-apps", h.listCustomApps)
	route("PUT /v1/custom-apps/{slug}", h.setCustomApp)
	route("DELETE /v1/custom-apps/{slug}", h.deleteCustomApp)
	route("POST /v1/app-requests", h.requestApp)
	route("GET /v1/app-requests", h.listAppRequests)
	route("GET /v1/members", h.listMembers)
	route("PATCH /v1/members/{id}", h.changeRole)
	route("DELETE /v1/members/{id}", h.removeMember)
	route("POST /v1/members/{id}/password-reset", h.passwordReset)
	route("GET /v1/invitations", h.listInvitations)
	route("POST /v1/invitations", h.invite)
	route("DELETE /v1/invitations/{id}", h.revokeInvitation)
	route("POST /v1/invitations/{id}/resend", h.resendInvitation)
	route("POST /v1/me/password", h.changePassword)
	route("GET /v1/workspaces", h.listWorkspaces)
	route("POST /v1/workspaces", h.createWorkspace)
	route("POST /v1/tokens", h.createToken)
	route("GET /v1/tokens", h.listTokens)
	route("DELETE /v1/tokens/{id}", h.revokeToken)
	route("POST /v1/tokens/{id}/rotate", h.rotateToken)
	route("GET /v1/mcp-grants", h.listMCPGrants)
	route("DELETE /v1/mcp-grants/{id}", h.revokeMCPGrant)
	route("GET /v1/audit", h.listAudit)
	route("GET /v1/audit/export", h.exportAudit)
	route("POST /v1/connect-tokens", h.createConnectToken)
	route("GET /v1/end-users/{id}", h.getEndUser)
	route("DELETE /v1/end-users/{id}", h.deleteEndUser)
	route("POST /v1/webhooks", h.createWebhook)
	route("GET /v1/webhooks", h.listWebhooks)
	route("GET /v1/webhooks/{id}", h.getWebhook)
	route("PATCH /v1/webhooks/{id}", h.updateWebhook)
	route("DELETE /v1/webhooks/{id}", h.deleteWebhook)
	route("POST /v1/webhooks/{id}/rotate-secret", h.rotateWebhookSecret)
	route("GET /v1/webhooks/{id}/deliveries", h.listDeliveries)
	route("GET /v1/webhooks/{id}/deliveries/{delivery}", h.getDelivery)
	route("POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver", h.redeliver)
	route("GET /v1/actions", h.listActions)
	route("GET /v1/actions/{ref}", h.getAction)
	route("POST /v1/actions/{ref}/run", h.runAction)
	// The proxy takes any method, and its paths are read as sent: see
	// IsProxyPath.
	h.patterns = append(h.patterns, proxyPattern)
	h.proxyRoute = h.authenticate(h.adapt(h.serveProxy))
	h.mux.Handle("/v1/", h.adapt(func(w http.ResponseWriter, r *http.Request) error {
		return problem(http.StatusNotFound, "no-such-route", "No such API route", r.Method+" "+r.URL.Path)
	}))
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if IsProxyPath(r) {
		r.Pattern = proxyPattern
		h.proxyRoute.ServeHTTP(w, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// Routes lists the patterns of every authenticated route, in the order
// they were registered.
func (h *Handler) Routes() []string { return slices.Clone(h.patterns) }

type actorKey struct{}

// actor is the authenticated caller of a request.
func actor(r *http.Request) identity.Actor {
	a, _ := r.Context().Value(actorKey{}).(identity.Actor)
	return a
}

// authenticate resolves the bearer token to an actor or answers 401; an
// address with too many failed tokens gets 429 until it has waited.
func (h *Handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		addr := ratelimit.Peer(r.RemoteAddr)
		if wait, ok := h.failures.blocked(addr); ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			writeProblem(w, problem(http.StatusTooManyRequests, "too-many-failed-tokens", "Too many failed tokens from this address",
				fmt.Sprintf("this address sent more than %d tokens that are not valid; try again in %d s", tokenFailureBurst, max(secs, 1))))
			return
		}
		a, err := h.actorFor(r)
		if errors.Is(err, errBadToken) {
			h.failures.failed(addr)
		}
		if err == nil {
			a.Addr = peerHost(r)
			a.Surface, err = surfaceOf(r)
		}
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey"`)
			var p *Problem
			if !errors.As(err, &p) {
				h.log.ErrorContext(r.Context(), "authentication failed", "err", err)
				p = toProblem(err)
			}
			writeProblem(w, p)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, a)))
	})
}

func (h *Handler) actorFor(r *http.Request) (identity.Actor, error) {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		return identity.Actor{}, errUnauthorized("send Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return identity.Actor{}, errUnauthorized("the Authorization header must be: Bearer <token>")
	}
	token = strings.TrimSpace(token)
	a, err := h.identity.VerifyToken(r.Context(), token)
	var limited *identity.RateLimitError
	switch {
	case errors.As(err, &limited):
		return identity.Actor{}, toProblem(err)
	case errors.Is(err, identity.ErrTokenUserGone):
		return identity.Actor{}, &badToken{errUnauthorized("the token's user no longer exists")}
	case errors.Is(err, identity.ErrInvalidToken):
		return identity.Actor{}, &badToken{errUnauthorized("the token is not valid")}
	case err != nil:
		return identity.Actor{}, err
	}
	return a, nil
}

// errBadToken marks a token that was checked and refused, as opposed to
// a missing or malformed Authorization header; only those count against
// the address.
var errBadToken = errors.New("bad token")

// badToken is a refused token's problem, matching errBadToken.
type badToken struct{ *Problem }

func (b *badToken) Unwrap() []error { return []error{b.Problem, errBadToken} }

func (h *Handler) me(w http.ResponseWriter, r *http.Request) error {
	a := actor(r)
	u, err := h.identity.User(r.Context(), a.WorkspaceID, a.UserID)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, map[string]any{
		"user_id": u.ID, "email": u.Email, "role": u.Role, "workspace_id": a.WorkspaceID, "scopes": a.Scopes,
	})
}
