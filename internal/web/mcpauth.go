package web

import (
	"fmt"
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
	// governs that redirect; an origin the CSP cannot name is answered
	// with a page of ours instead (mcpConsent).
	csp := h.csp
	if cspNames(req.RedirectOrigin) {
		csp = strings.Replace(csp, "form-action ", "form-action "+req.RedirectOrigin+" ", 1)
	}
	w.Header().Set("Content-Security-Policy", csp)
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
	allow := r.PostFormValue("decision") == "allow"
	if cspNames(req.RedirectOrigin) {
		return h.mcpAuth.Respond(r.Context(), w, req, s.actor, allow)
	}
	// form-action cannot let the redirect through, so the answer is a
	// page of this origin that goes on to the client: a navigation, which
	// form-action does not govern.
	rec := &redirectRecorder{header: http.Header{}}
	if err := h.mcpAuth.Respond(r.Context(), rec, req, s.actor, allow); err != nil {
		return err
	}
	loc := rec.header.Get("Location")
	if rec.status < 300 || rec.status >= 400 || loc == "" {
		return internalError{fmt.Errorf("mcp consent: the answer was %d, not a redirect", rec.status)}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Refresh", "0; url="+loc)
	h.render(w, r, http.StatusOK, "mcp_continue.html", h.view(s, "Back to "+req.RedirectHost, "", continueContent{Host: req.RedirectHost, URL: loc}))
	return nil
}

type continueContent struct{ Host, URL string }

// cspNames reports whether a CSP host-source can name origin: its grammar
// has no IPv6 literal, and Chromium ignores such a source, so a redirect
// to http://[::1]:port after a form would be blocked.
func cspNames(origin string) bool { return !strings.Contains(origin, "[") }

// redirectRecorder keeps the redirect an answer would have sent.
type redirectRecorder struct {
	header http.Header
	status int
}

func (r *redirectRecorder) Header() http.Header         { return r.header }
func (r *redirectRecorder) WriteHeader(status int)      { r.status = status }
func (r *redirectRecorder) Write(b []byte) (int, error) { return len(b), nil }

// revokeMCPGrant revokes one of the member's MCP client grants.
func (h *Handler) revokeMCPGrant(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.mcpAuth.Revoke(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/tokens?done=mcp-revoked#mcp-clients", http.StatusSeeOther)
	return nil
}
