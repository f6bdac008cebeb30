package mcpauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/ory/fosite"

	"github.com/latchkeyhq/latchkey/internal/identity"
)

// maxTokenForm is the largest token request read.
const maxTokenForm = 64 << 10

// Token answers the token endpoint: a code (with its PKCE verifier) or a
// refresh token for tokens. A resource other than the MCP URL is refused
// with invalid_target (RFC 8707); none means the one the grant has.
func (s *Service) Token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !readForm(w, r) {
		return
	}
	for _, res := range r.PostForm["resource"] {
		if res != s.o.Resource {
			writeOAuthError(w, http.StatusBadRequest, "invalid_target", "resource must be this server's MCP URL, "+s.o.Resource)
			return
		}
	}
	ar, err := s.provider.NewAccessRequest(ctx, r, &session{})
	if err != nil {
		s.accessError(ctx, w, ar, err)
		return
	}
	// Every grant is for the MCP URL (Respond grants that audience and
	// no other), and the MCP server checks it on every use.
	sess, _ := ar.GetSession().(*session)
	if sess == nil {
		s.accessError(ctx, w, ar, fosite.ErrInvalidGrant.WithHint("The grant has no member."))
		return
	}
	// A member removed since consenting gets nothing more.
	if _, err := s.o.Users.User(ctx, sess.WorkspaceID, sess.UserID); err != nil {
		if !errors.Is(err, identity.ErrNoUser) {
			s.accessError(ctx, w, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
		s.accessError(ctx, w, ar, fosite.ErrInvalidGrant.WithHint("The member who consented is no longer in the workspace."))
		return
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		s.accessError(ctx, w, ar, err)
		return
	}
	actor := identity.Actor{WorkspaceID: sess.WorkspaceID, UserID: sess.UserID, TokenID: ar.GetID(), TokenName: sess.ClientName,
		Surface: identity.SurfaceMCP}
	s.record(actor, ActionTokenIssued, map[string]string{"grant_id": ar.GetID(), "client_id": ar.GetClient().GetID(),
		"grant_type": r.PostForm.Get("grant_type")})
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}

// accessError answers a refused token request; a fault of the store is
// logged and answered as server_error.
func (s *Service) accessError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, err error) {
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 || errors.Is(err, errStorage) {
		s.o.Log.ErrorContext(ctx, "mcp: token request failed", "err", err)
	}
	s.provider.WriteAccessError(ctx, w, ar, err)
}

// readForm reads a form of at most maxTokenForm, or answers
// invalid_request and reports false.
func readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenForm)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "the request body is not a form")
		return false
	}
	return true
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// VerifyAccessToken returns the member an access token speaks for, with
// their role as it is now and the scopes they granted that it still
// allows. A token that is unknown, expired, revoked, of a member gone, a
// refresh token, or for another audience than the MCP URL matches
// identity.ErrInvalidToken; a grant whose tokens are used faster than
// its limit is an *identity.RateLimitError, as an API token is.
func (s *Service) VerifyAccessToken(ctx context.Context, token string) (identity.Actor, error) {
	use, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, &session{})
	if err != nil {
		if errors.Is(err, errStorage) {
			return identity.Actor{}, fmt.Errorf("verify mcp token: %w", err)
		}
		return identity.Actor{}, identity.ErrInvalidToken
	}
	// fosite tries a token as a refresh token too, when it is no access
	// token; a refresh token is for the token endpoint alone.
	if use != fosite.AccessToken {
		return identity.Actor{}, identity.ErrInvalidToken
	}
	if !ar.GetGrantedAudience().Has(s.o.Resource) {
		return identity.Actor{}, ErrWrongAudience
	}
	sess, _ := ar.GetSession().(*session)
	if sess == nil {
		return identity.Actor{}, identity.ErrInvalidToken
	}
	if wait, ok := s.tokenUse.Allow(ar.GetID(), s.o.Clock.Now()); !ok {
		return identity.Actor{}, &identity.RateLimitError{Wait: wait}
	}
	u, err := s.o.Users.User(ctx, sess.WorkspaceID, sess.UserID)
	if errors.Is(err, identity.ErrNoUser) {
		return identity.Actor{}, identity.ErrTokenUserGone
	}
	if err != nil {
		return identity.Actor{}, fmt.Errorf("verify mcp token: %w", err)
	}
	scopes := []string{} // never nil: nil would mean a session
	for _, sc := range ar.GetGrantedScopes() {
		if slices.Contains(Scopes, sc) && u.Role.Grants(sc) {
			scopes = append(scopes, sc)
		}
	}
	return identity.Actor{WorkspaceID: u.WorkspaceID, UserID: u.ID, Role: u.Role, Scopes: scopes,
		TokenID: ar.GetID(), TokenName: sess.ClientName}, nil
}
