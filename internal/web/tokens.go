package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
)

// tokensContent is the Tokens page: the user's API tokens and, right
// after one is made or rotated, its secret, shown this once.
type tokensContent struct {
	Tokens []identity.Token
	Scopes []scopeOption
	// Secret is the new token's secret; NewID its id.
	Secret string
	NewID  string
	Form   tokenForm
	// MCP lists the MCP clients the member allowed to act as them; ShowMCP
	// says whether this server has them at all.
	MCP     []mcpauth.Grant
	ShowMCP bool
}

type scopeOption struct {
	Name    string
	Checked bool
}

// tokenForm is what the user typed, kept when the form is refused.
type tokenForm struct {
	Name, Accounts, Apps, Expires string
}

// lifetimes are the expiry choices the form offers.
var lifetimes = map[string]time.Duration{"7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour, "90d": 90 * 24 * time.Hour, "365d": 365 * 24 * time.Hour}

func (h *Handler) tokensPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.renderTokens(w, r, s, http.StatusOK, tokensContent{}, "", r.URL.Query().Get("done"))
}

func (h *Handler) renderTokens(w http.ResponseWriter, r *http.Request, s *session, status int, c tokensContent, errMsg, done string) error {
	list, err := h.identity.Tokens(r.Context(), s.actor)
	if err != nil {
		return internalError{err}
	}
	c.Tokens = list
	if h.mcpAuth != nil {
		c.ShowMCP = true
		if c.MCP, err = h.mcpAuth.Grants(r.Context(), s.actor); err != nil {
			return internalError{err}
		}
	}
	checked := map[string]bool{}
	for _, sc := range r.PostForm["scope"] {
		checked[sc] = true
	}
	for _, sc := range identity.Scopes {
		// Only the scopes this user may grant are offered.
		if s.actor.Role.Grants(sc) {
			c.Scopes = append(c.Scopes, scopeOption{Name: sc, Checked: checked[sc] && c.Secret == ""})
		}
	}
	v := h.view(s, "API tokens", "tokens", c)
	v.Error = errMsg
	switch done {
	case "revoked":
		v.Flash = "The token was revoked. It no longer works."
	case "mcp-revoked":
		v.Flash = "The MCP client's access was revoked. Its tokens no longer work."
	}
	// The page may hold a secret: never kept by a cache.
	w.Header().Set("Cache-Control", "no-store")
	h.render(w, r, status, "tokens.html", v)
	return nil
}

func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	form := tokenForm{Name: r.PostFormValue("name"), Accounts: r.PostFormValue("accounts"), Apps: r.PostFormValue("apps"), Expires: r.PostFormValue("expires")}
	in := identity.NewToken{Name: form.Name, Scopes: r.PostForm["scope"], AccountIDs: splitList(form.Accounts), Apps: splitList(form.Apps)}
	if form.Expires != "" && form.Expires != "never" {
		d, ok := lifetimes[form.Expires]
		if !ok {
			return h.renderTokens(w, r, s, http.StatusUnprocessableEntity, tokensContent{Form: form}, "Choose an expiry from the list.", "")
		}
		at := h.clock.Now().Add(d)
		in.ExpiresAt = &at
	}
	plain, t, err := h.identity.CreateToken(r.Context(), s.actor, in)
	if err != nil {
		if e := classify(err); !e.internal() {
			return h.renderTokens(w, r, s, e.Status, tokensContent{Form: form}, e.Message, "")
		}
		return err
	}
	return h.renderTokens(w, r, s, http.StatusCreated, tokensContent{Secret: plain.Reveal(), NewID: t.ID}, "", "")
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.identity.RevokeToken(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/tokens?done=revoked", http.StatusSeeOther)
	return nil
}

func (h *Handler) rotateToken(w http.ResponseWriter, r *http.Request, s *session) error {
	overlap, err := time.ParseDuration(r.PostFormValue("overlap"))
	if err != nil {
		overlap = identity.DefaultOverlap
	}
	plain, t, err := h.identity.RotateToken(r.Context(), s.actor, r.PathValue("id"), overlap)
	if err != nil {
		if e := classify(err); !e.internal() && e.Status != http.StatusNotFound {
			return h.renderTokens(w, r, s, e.Status, tokensContent{}, e.Message, "")
		}
		return err
	}
	return h.renderTokens(w, r, s, http.StatusOK, tokensContent{Secret: plain.Reveal(), NewID: t.ID}, "", "")
}
