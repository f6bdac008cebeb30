package mcpauth

import (
	"errors"
	"net/http"

	"github.com/ory/fosite"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// RevokeToken answers the revocation endpoint (RFC 7009): a client sends
// its client_id and one of its tokens, access or refresh, and every token
// of the grant ends, and the grant with them, as if the member had
// revoked it. A token that is unknown, no longer active or another
// client's is answered 200 and changes nothing, as the RFC has it.
func (s *Service) RevokeToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !readForm(w, r) {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "token is required")
		return
	}
	// Whose the token is, while it is active: fosite's handler says only
	// whether the request was good. It checks that the token is the
	// client's, and revokes the grant's tokens.
	use, ar, lookup := s.provider.IntrospectToken(ctx, token, fosite.TokenType(r.PostForm.Get("token_type_hint")), &session{})
	err := s.provider.NewRevocationRequest(ctx, r)
	if errors.Is(lookup, errStorage) || errors.Is(err, errStorage) || errors.Is(err, fosite.ErrTemporarilyUnavailable) {
		// fosite would answer 200, and the client believe the token gone.
		s.o.Log.ErrorContext(ctx, "mcp: revoking a token failed", "err", errors.Join(lookup, err))
		writeOAuthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "the token could not be revoked; try again")
		return
	}
	if err == nil && lookup == nil {
		s.endGrant(r, ar, use)
	}
	s.provider.WriteRevocationResponse(ctx, w, err)
}

// endGrant deletes the grant of a token its client revoked, so that the
// member no longer sees it, and records it in the member's workspace.
func (s *Service) endGrant(r *http.Request, ar fosite.Requester, use fosite.TokenUse) {
	sess, _ := ar.GetSession().(*session)
	if sess == nil {
		return
	}
	err := s.o.Store.DeleteMCPGrant(r.Context(), sess.WorkspaceID, sess.UserID, ar.GetID())
	if errors.Is(err, store.ErrNotFound) {
		return // revoked at the same time by another request, or the member
	}
	if err != nil {
		// The tokens are revoked; the member still sees the grant, and
		// may revoke it.
		s.o.Log.ErrorContext(r.Context(), "mcp: deleting a revoked token's grant failed", "grant", ar.GetID(), "err", err)
		return
	}
	actor := identity.Actor{WorkspaceID: sess.WorkspaceID, UserID: sess.UserID, TokenID: ar.GetID(), TokenName: sess.ClientName,
		Surface: identity.SurfaceMCP}
	s.record(actor, ActionTokenRevoked, map[string]string{"grant_id": ar.GetID(), "client_id": ar.GetClient().GetID(),
		"client_name": sess.ClientName, "token_type": string(use)})
}
