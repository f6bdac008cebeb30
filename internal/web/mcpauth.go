package web

import (
	"net/http"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
)

// consentContent is the page that asks a member whether an MCP client
// may act as them.
type consentContent struct {
	Request   *mcpauth.Request
	Workspace string
	// Action is the authorize request itself: the form posts it back
	// with the member's decision.
	Action string
	Scopes []scopeText
}

type scopeText struct{ Name, Text string }

// scopeTexts say what each scope lets an MCP client do.
var scopeTexts = map[string]string{
	identity.ScopeActionsRun:   "Run your apps' actions with the accounts you may use. Latchkey adds the credentials; the client never sees them.",
	identity.ScopeAccountsRead: "See which accounts you may use: their app, name and status.",
}

// mcpAuthorize asks the signed-in member to consent to an MCP client, or
// answers a request that is refused at the client's redirect URI.
func (h *Handler) mcpAuthorize(w http.ResponseWriter, r *http.Request, s *session) error {
	req, err := h.mcpAuth.Authorize(r.Context(), r, s.actor)
	if err != nil {
		return err
	}
	if req.Refused() {
		return h.mcpAuth.Respond(r.Context(), w, req, s.actor, false)
	}
	c := consentContent{Request: req, Action: r.URL.RequestURI()}
	for _, sc := range req.Scopes {
		c.Scopes = append(c.Scopes, scopeText{Name: sc, Text: scopeTexts[sc]})
	}
	for _, m := range s.workspaces {
		if m.Current {
			c.Workspace = m.Workspace.Name
		}
	}
	// The form's answer redirects to the client, and form-action
	// governs that redirect.
	w.Header().Set("Content-Security-Policy", strings.Replace(h.csp, "form-action ", "form-action "+req.RedirectOrigin+" ", 1))
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, http.StatusOK, "mcp_consent.html", h.view(s, "Allow "+req.ClientName+"?", "", c))
	return nil
}

// mcpConsent takes the member's decision and sends the browser back to
// the client with a code, or with access_denied.
func (h *Handler) mcpConsent(w http.ResponseWriter, r *http.Request, s *session) error {
	req, err := h.mcpAuth.Authorize(r.Context(), r, s.actor)
	if err != nil {
		return err
	}
	return h.mcpAuth.Respond(r.Context(), w, req, s.actor, r.PostFormValue("decision") == "allow")
}

// revokeMCPGrant revokes one of the member's MCP client grants.
func (h *Handler) revokeMCPGrant(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.mcpAuth.Revoke(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/tokens?done=mcp-revoked#mcp-clients", http.StatusSeeOther)
	return nil
}
