package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

// The hosted connect page: a product's end user, who has no Latchkey
// sign-in, connects an account with a connect token. Only key-based apps
// for now; an OAuth app is listed as not yet available here.

// linkCard is an app the connect link offers.
type linkCard struct {
	Slug, Name, Href string
	Categories       []string
	// NotHere marks an OAuth app, which this page cannot connect yet.
	NotHere bool
}

type connectLinkContent struct {
	// Token is the connect token, carried in the page's forms; it is in
	// the page's own URL already.
	Token string
	Query string
	Apps  []linkCard
	App   *catalog.App
	// Values are the non-secret fields entered, shown again after a
	// refusal.
	Values         map[string]string
	ProviderStatus int
	NotHere        bool
	// Back is the app list, when the token offers more than one app.
	Back      string
	AccountID string
	// Origin is the page that embeds this one through connect.js, one
	// of the token's allowed origins; the outcome is posted to it alone.
	// Empty: nothing is posted.
	Origin string
	// Failed is the error code of an outcome posted to Origin.
	Failed string
}

func linkHref(tok, origin string, v url.Values) string {
	v.Set("token", tok)
	if origin != "" {
		v.Set("origin", origin)
	}
	return endusers.LinkPath + "?" + v.Encode()
}

// embedOrigin is raw if it is one of the token's allowed origins, or "":
// a token without allowed origins is embedded by nobody.
func embedOrigin(t endusers.ConnectToken, raw string) string {
	if raw == "" || !slices.Contains(t.AllowedOrigins, strings.ToLower(raw)) {
		return ""
	}
	return strings.ToLower(raw)
}

// lookupLink finds the page's token. A page of a used or expired token
// may be framed by anyone, so that connect.js's modal shows it: it says
// only that the link does not work, and has nothing to click.
func (h *Handler) lookupLink(w http.ResponseWriter, r *http.Request, tok string) (endusers.ConnectToken, error) {
	t, err := h.endUsers.Lookup(r.Context(), tok)
	if errors.Is(err, endusers.ErrInvalidToken) {
		w.Header().Set("Content-Security-Policy", linkPolicy(endusers.ConnectToken{AllowedOrigins: []string{"*"}}))
		w.Header().Del("X-Frame-Options")
	}
	return t, err
}

// linkPolicy is the page's Content-Security-Policy: the strict one, but
// framed by the token's allowed origins, and its form may end in a
// redirect to the token's redirect URIs (form-action governs that).
func linkPolicy(t endusers.ConnectToken) string {
	formAction := []string{"'self'"}
	for _, u := range []string{t.SuccessRedirectURI, t.ErrorRedirectURI} {
		if p, err := url.Parse(u); err == nil && u != "" {
			if o := p.Scheme + "://" + p.Host; !slices.Contains(formAction, o) {
				formAction = append(formAction, o)
			}
		}
	}
	frame := "'none'"
	if len(t.AllowedOrigins) > 0 {
		frame = strings.Join(t.AllowedOrigins, " ")
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + strings.Join(formAction, " ") + "; frame-ancestors " + frame + "; base-uri 'none'"
}

func setLinkHeaders(w http.ResponseWriter, t endusers.ConnectToken) {
	w.Header().Set("Content-Security-Policy", linkPolicy(t))
	if len(t.AllowedOrigins) > 0 {
		// frame-ancestors says who may frame the page; the blanket
		// DENY would override it in older browsers.
		w.Header().Del("X-Frame-Options")
	}
}

// linkPage shows the token's apps, or with app= one app's keys form.
func (h *Handler) connectLinkPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tok := q.Get("token")
	t, err := h.lookupLink(w, r, tok)
	if err != nil {
		return err
	}
	setLinkHeaders(w, t)
	c := connectLinkContent{Token: tok, Values: map[string]string{}, Origin: embedOrigin(t, q.Get("origin"))}
	if slug := q.Get("app"); slug != "" {
		if err := h.linkApp(r, t, slug, &c); err != nil {
			return err
		}
		h.render(w, r, http.StatusOK, "connect_link.html", view{Title: "Connect " + c.App.Name, Content: c})
		return nil
	}
	c.Query = strings.TrimSpace(q.Get("q"))
	if c.Apps, err = h.linkCards(r, t, &c); err != nil {
		return internalError{err}
	}
	h.render(w, r, http.StatusOK, "connect_link.html", view{Title: "Connect an account", Content: c})
	return nil
}

func (h *Handler) linkApp(r *http.Request, t endusers.ConnectToken, slug string, c *connectLinkContent) error {
	if !t.Offers(slug) {
		return endusers.ErrAppNotOffered
	}
	app, err := h.apps.App(r.Context(), t.WorkspaceID, slug)
	if err != nil {
		return err
	}
	c.App, c.NotHere = app, app.Auth != catalog.AuthKeys
	if len(t.Apps) != 1 {
		c.Back = linkHref(c.Token, c.Origin, url.Values{})
	}
	return nil
}

// linkCards are the apps the token offers that match query: its own
// list (OAuth ones marked not yet available), or every key-based app of
// the token's workspace.
func (h *Handler) linkCards(r *http.Request, t endusers.ConnectToken, c *connectLinkContent) ([]linkCard, error) {
	query := c.Query
	var list []*catalog.App
	if len(t.Apps) > 0 {
		found, err := h.apps.Lookup(r.Context(), t.WorkspaceID, t.Apps)
		if err != nil {
			return nil, err
		}
		needle := strings.ToLower(query)
		for _, a := range found {
			if needle == "" || strings.Contains(strings.ToLower(a.Name), needle) || strings.Contains(a.Slug, needle) {
				list = append(list, a)
			}
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	} else {
		cat, err := h.apps.CatalogFor(r.Context(), identity.Actor{WorkspaceID: t.WorkspaceID})
		if err != nil {
			return nil, err
		}
		list, _ = cat.List(catalog.Filter{Query: query, Auth: catalog.AuthKeys, Limit: 60})
	}
	out := make([]linkCard, 0, len(list))
	for _, a := range list {
		out = append(out, linkCard{Slug: a.Slug, Name: a.Name, Categories: a.Categories, NotHere: a.Auth != catalog.AuthKeys,
			Href: linkHref(c.Token, c.Origin, url.Values{"app": {a.Slug}})})
	}
	return out, nil
}

// linkConnect saves the end user's keys: the form again on a refusal
// (the token unspent), the success redirect (or a done page) with the
// account id, or the error redirect when the flow cannot go on.
func (h *Handler) connectLinkPost(w http.ResponseWriter, r *http.Request) error {
	tok := r.PostFormValue("token")
	t, err := h.lookupLink(w, r, tok)
	if err != nil {
		return err
	}
	setLinkHeaders(w, t)
	c := connectLinkContent{Token: tok, Values: map[string]string{}, Origin: embedOrigin(t, r.PostFormValue("origin"))}
	if err := h.linkApp(r, t, r.PostFormValue("app"), &c); err != nil {
		return err
	}
	if c.NotHere {
		return endusers.ErrAppNotOffered
	}
	fields := map[string]string{}
	for _, f := range c.App.Fields {
		if v := r.PostFormValue("field_" + f.Name); v != "" {
			fields[f.Name] = v
		}
	}
	acc, _, err := h.endUsers.Connect(r.Context(), tok, endusers.ConnectInput{App: c.App.Slug, Fields: fields, Addr: clientIP(r)})
	if err != nil {
		e := classify(err)
		if errors.Is(err, endusers.ErrInvalidToken) {
			// Another post spent it first, or it expired meanwhile.
			return err
		}
		if e.internal() {
			if c.Origin != "" {
				// connect.js reports it; the page says so in general words.
				h.logFailure(r, e.Status, err)
				c.Failed = "server_error"
				h.render(w, r, e.Status, "connect_link.html", view{Title: "Not connected", Error: friendly(e.Status), Content: c})
				return nil
			}
			if t.ErrorRedirectURI != "" {
				h.logFailure(r, e.Status, err)
				http.Redirect(w, r, withQuery(t.ErrorRedirectURI, "error", "server_error"), http.StatusSeeOther)
				return nil
			}
			return err
		}
		for _, f := range c.App.Fields {
			if !f.Secret {
				c.Values[f.Name] = fields[f.Name]
			}
		}
		c.ProviderStatus = e.ProviderStatus
		h.render(w, r, e.Status, "connect_link.html", view{Title: "Connect " + c.App.Name, Error: e.Message, Content: c})
		return nil
	}
	// Embedded by connect.js, the page posts the outcome to its opener
	// instead of leaving for the redirect URI.
	if t.SuccessRedirectURI != "" && c.Origin == "" {
		http.Redirect(w, r, withQuery(t.SuccessRedirectURI, "account_id", acc.ID), http.StatusSeeOther)
		return nil
	}
	c.AccountID = acc.ID
	h.render(w, r, http.StatusOK, "connect_link.html", view{Title: "Connected", Content: c})
	return nil
}

// withQuery adds key=value to a URL minted as valid, keeping its query.
func withQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
