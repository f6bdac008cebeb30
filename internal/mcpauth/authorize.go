package mcpauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/netpolicy"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// GrantPrefix starts the id of every grant.
const GrantPrefix = "mcg"

// BadRequestError is an authorization request that cannot be answered
// at a redirect URI, because the client or the URI is not known to be
// right: the member is shown it instead.
type BadRequestError struct{ Description string }

func (e *BadRequestError) Error() string {
	return "this MCP client's sign-in request is not valid: " + e.Description
}

// Request is an authorization request that names a registered client and
// one of its redirect URIs: the member is asked to consent to it, unless
// it is refused (see Refused), when it is answered at once.
type Request struct {
	ClientID, ClientName string
	// RedirectHost is where the browser goes back to; RedirectOrigin
	// the same with its scheme, which the consent form must be allowed
	// to send the browser to.
	RedirectHost, RedirectOrigin string
	// Scopes are what the member would grant: the scopes asked for that
	// their role allows.
	Scopes []string

	ar      fosite.AuthorizeRequester
	refused error
}

// Refused reports whether the request is answered with an error at the
// client's redirect URI rather than asked of the member.
func (r *Request) Refused() bool { return r.refused != nil }

// Authorize checks an authorization request of the actor's. A request
// that cannot be answered at a redirect URI is a *BadRequestError.
func (s *Service) Authorize(ctx context.Context, r *http.Request, actor identity.Actor) (*Request, error) {
	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		if ar == nil || !ar.IsRedirectURIValid() {
			if errors.Is(err, errStorage) {
				return nil, fmt.Errorf("mcp authorize: %w", err)
			}
			return nil, &BadRequestError{Description: describe(err)}
		}
		return &Request{ar: ar, refused: err}, nil
	}
	to := ar.GetRedirectURI()
	if !netpolicy.PlainHost(to.Host) {
		// The origin goes into the consent page's CSP, where a ";" or a
		// "," would start a directive or a policy of the client's.
		return nil, &BadRequestError{Description: "the redirect URI's host is not a host name, an IP address or a port"}
	}
	req := &Request{ar: ar, ClientID: ar.GetClient().GetID(), RedirectHost: to.Host, RedirectOrigin: to.Scheme + "://" + to.Host}
	c, err := s.o.Store.GetMCPClient(ctx, req.ClientID)
	if err != nil {
		return nil, fmt.Errorf("mcp authorize: %w", err)
	}
	req.ClientName = c.Name
	form := ar.GetRequestForm()
	switch {
	case form.Get("code_challenge") == "" || form.Get("code_challenge_method") != "S256":
		req.refused = fosite.ErrInvalidRequest.WithHint("PKCE is required: send code_challenge with code_challenge_method=S256.")
	case form.Get("resource") != s.o.Resource:
		req.refused = errInvalidTarget.WithHintf("resource must be this server's MCP URL, %s.", s.o.Resource)
	}
	for _, sc := range ar.GetRequestedScopes() {
		if slices.Contains(Scopes, sc) && actor.Role.Grants(sc) {
			req.Scopes = append(req.Scopes, sc)
		}
	}
	if len(req.Scopes) == 0 && !slices.ContainsFunc(ar.GetRequestedScopes(), func(sc string) bool { return slices.Contains(Scopes, sc) }) {
		// No scope of Latchkey's asked for: what the MCP server needs.
		for _, sc := range Scopes {
			if actor.Role.Grants(sc) {
				req.Scopes = append(req.Scopes, sc)
			}
		}
	}
	return req, nil
}

// errInvalidTarget is RFC 8707's error for a resource this server does
// not serve.
var errInvalidTarget = &fosite.RFC6749Error{ErrorField: "invalid_target", DescriptionField: "The requested resource is invalid, unknown, or malformed.", CodeField: http.StatusBadRequest}

// describe is what a member is told of a request fosite refused.
func describe(err error) string {
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.HintField != "" {
		return rfc.HintField
	}
	return rfc.GetDescription()
}

// Respond answers the request at the client's redirect URI: with a code
// when the actor allows it, with access_denied when they do not, and with
// the request's fault when it was refused. A grant that cannot be stored
// is returned as an error, and nothing is written.
func (s *Service) Respond(ctx context.Context, w http.ResponseWriter, req *Request, actor identity.Actor, allow bool) error {
	w = &issuerWriter{ResponseWriter: w, issuer: s.o.PublicURL}
	if req.refused != nil {
		// Clients register no response mode but the query's, so a request
		// for another is refused, and answered in the query too.
		if ar, ok := req.ar.(*fosite.AuthorizeRequest); ok {
			ar.ResponseMode = fosite.ResponseModeQuery
		}
		s.provider.WriteAuthorizeError(ctx, w, req.ar, req.refused)
		return nil
	}
	detail := map[string]string{"client_id": req.ClientID, "client_name": req.ClientName, "redirect_host": req.RedirectHost}
	if !allow {
		s.record(actor, ActionDenied, detail)
		s.provider.WriteAuthorizeError(ctx, w, req.ar, fosite.ErrAccessDenied.WithHint("The member denied the request."))
		return nil
	}
	now := s.o.Clock.Now()
	ar := req.ar
	ar.SetID(ids.New(GrantPrefix, now))
	for _, sc := range req.Scopes {
		ar.GrantScope(sc)
	}
	if ar.GetRequestedScopes().Has(ScopeOfflineAccess) {
		ar.GrantScope(ScopeOfflineAccess)
	}
	ar.GrantAudience(s.o.Resource)
	if err := s.o.Store.CreateMCPGrant(ctx, store.MCPGrant{
		ID: ar.GetID(), WorkspaceID: actor.WorkspaceID, UserID: actor.UserID, ClientID: req.ClientID,
		RedirectURI: ar.GetRedirectURI().String(), Scopes: req.Scopes, Resource: s.o.Resource, CreatedAt: now.UTC(),
	}); err != nil {
		return fmt.Errorf("mcp consent: %w", err)
	}
	sess := &session{WorkspaceID: actor.WorkspaceID, UserID: actor.UserID, ClientName: req.ClientName}
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		s.o.Log.ErrorContext(ctx, "mcp: issuing an authorization code failed", "client", req.ClientID, "err", err)
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return nil
	}
	detail["grant_id"] = ar.GetID()
	s.record(actor, ActionConsented, detail)
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
	return nil
}

// issuerWriter adds iss to the redirect of every authorization response,
// a code or an error (RFC 9207), which fosite does not: a client of
// several authorization servers can then tell which one answered.
type issuerWriter struct {
	http.ResponseWriter
	issuer string
}

func (w *issuerWriter) WriteHeader(status int) {
	if status >= 300 && status < 400 {
		if loc, err := url.Parse(w.Header().Get("Location")); err == nil && loc.IsAbs() {
			q := loc.Query()
			q.Set("iss", w.issuer)
			loc.RawQuery = q.Encode()
			w.Header().Set("Location", loc.String())
		}
	}
	w.ResponseWriter.WriteHeader(status)
}
