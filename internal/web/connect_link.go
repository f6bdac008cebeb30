package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

// The hosted connect page: a product's end user, who has no Latchkey
// sign-in, connects an account with a connect token: the keys form of a
// key-based app, or the OAuth flow of an OAuth app, bound to the page's
// own cookie (linkCookie) so that only the browser that started it can
// finish it.

// linkCookie binds an OAuth flow started on the hosted page to the
// browser: set when the flow starts, sent back only to the callback.
// One browser runs one hosted flow at a time: a second start replaces
// the cookie, and the first flow then fails at its callback.
const linkCookie = "latchkey_link"

// linkOriginCookie carries, beside linkCookie, the origin of the page
// that embeds the flow through connect.js, to the callback that posts it
// the outcome; checked again there against the token's allowed origins.
const linkOriginCookie = "latchkey_link_origin"

// linkRelayCookie marks a flow that connect.js's modal started in a popup
// of its own (providers refuse to be framed): the callback in that popup
// tells the modal's page, its opener on Latchkey's origin, which tells the
// embedding page. Without it the callback's opener is the embedding page
// itself (connect.js's popup mode).
const linkRelayCookie = "latchkey_link_relay"

// linkCard is an app the connect link offers.
type linkCard struct {
	Slug, Name, Href string
	Categories       []string
	OAuth            bool
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
	Values map[string]string
	// Fault is the field a refusal is about, marked and focused.
	Fault string
	// OAuth: the app connects through its provider; Scopes are what the
	// flow asks for, shown before the end user goes there.
	OAuth  bool
	Scopes []string
	// Reconnect: the token renews one account of the end user's.
	Reconnect bool
	// Back is the app list, when the token offers more than one app.
	Back      string
	AccountID string
	// Origin is the page that embeds this one through connect.js, one
	// of the token's allowed origins; the outcome is posted to it alone.
	// Empty: nothing is posted.
	Origin string
	// Relay: the outcome goes to the page's opener, the modal's page on
	// Latchkey's own origin, which posts it on to Origin.
	Relay bool
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
		w.Header().Set("Content-Security-Policy", h.linkPolicy(endusers.ConnectToken{AllowedOrigins: []string{"*"}}, nil))
		w.Header().Del("X-Frame-Options")
	}
	return t, err
}

// linkPolicy is the page's Content-Security-Policy: the strict one, but
// framed by the token's allowed origins, and its form may end in a
// redirect to the token's redirect URIs (form-action governs that).
// For an OAuth app the form ends in a redirect to its provider, which
// form-action governs too.
func (h *Handler) linkPolicy(t endusers.ConnectToken, app *catalog.App) string {
	formAction := []string{"'self'"}
	for _, u := range []string{t.SuccessRedirectURI, t.ErrorRedirectURI} {
		if p, err := url.Parse(u); err == nil && u != "" {
			if o := p.Scheme + "://" + p.Host; !slices.Contains(formAction, o) {
				formAction = append(formAction, o)
			}
		}
	}
	if app != nil && app.UsesOAuth() {
		for _, o := range slices.Concat(authorizeSources(app), h.httpOrigins) {
			if !slices.Contains(formAction, o) {
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

func (h *Handler) setLinkHeaders(w http.ResponseWriter, t endusers.ConnectToken, app *catalog.App) {
	w.Header().Set("Content-Security-Policy", h.linkPolicy(t, app))
	if len(t.AllowedOrigins) > 0 {
		// frame-ancestors says who may frame the page; the blanket
		// DENY would override it in older browsers.
		w.Header().Del("X-Frame-Options")
	}
}

// linkPage shows the token's apps, or with app= (or when it offers one
// app) that app: its keys form, or the scopes its OAuth flow asks for.
func (h *Handler) connectLinkPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	tok := q.Get("token")
	t, err := h.lookupLink(w, r, tok)
	if err != nil {
		return err
	}
	c := connectLinkContent{Token: tok, Values: map[string]string{}, Origin: embedOrigin(t, q.Get("origin"))}
	slug := q.Get("app")
	if slug == "" && len(t.Apps) == 1 {
		slug = t.Apps[0]
	}
	if slug != "" {
		if err := h.linkApp(r, t, slug, &c); err != nil {
			return err
		}
		h.setLinkHeaders(w, t, c.App)
		h.render(w, r, http.StatusOK, "connect_link.html", view{Title: linkTitle(c), Content: c})
		return nil
	}
	h.setLinkHeaders(w, t, nil)
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
	if !app.EntersKeys() && !app.UsesOAuth() {
		return endusers.ErrAppNotOffered
	}
	c.App, c.OAuth, c.Reconnect = app, app.UsesOAuth(), t.AccountID != ""
	if c.OAuth {
		c.Scopes = endusers.Scopes(app)
	}
	if len(t.Apps) != 1 {
		c.Back = linkHref(c.Token, c.Origin, url.Values{})
	}
	return nil
}

func linkTitle(c connectLinkContent) string {
	if c.Reconnect {
		return "Reconnect " + c.App.Name
	}
	return "Connect " + c.App.Name
}

// linkCards are the apps the token offers that match query: its own
// list, or every app of the token's workspace that connects with keys or
// OAuth.
func (h *Handler) linkCards(r *http.Request, t endusers.ConnectToken, c *connectLinkContent) ([]linkCard, error) {
	query := c.Query
	var list []*catalog.App
	if len(t.Apps) > 0 {
		found, err := h.apps.Lookup(r.Context(), t.WorkspaceID, t.Apps)
		if err != nil {
			return nil, err
		}
		apps := make([]*catalog.App, 0, len(found))
		for _, a := range found {
			apps = append(apps, a)
		}
		// Ranked as the picker ranks: the best match, then the popular.
		list, _ = catalog.Of(apps...).List(catalog.Filter{Query: query, Order: catalog.ByUse})
	} else {
		cat, err := h.apps.CatalogFor(r.Context(), identity.Actor{WorkspaceID: t.WorkspaceID})
		if err != nil {
			return nil, err
		}
		list, _ = cat.List(catalog.Filter{Query: query, Order: catalog.ByUse, Limit: 60})
	}
	out := make([]linkCard, 0, len(list))
	for _, a := range list {
		if !a.EntersKeys() && !a.UsesOAuth() {
			continue
		}
		out = append(out, linkCard{Slug: a.Slug, Name: a.Name, Categories: a.Categories, OAuth: a.UsesOAuth(),
			Href: linkHref(c.Token, c.Origin, url.Values{"app": {a.Slug}})})
	}
	return out, nil
}

// connectLinkPost saves the end user's keys, or starts an OAuth app's
// flow: the form again on a refusal (the token unspent), else the flow's
// outcome (linkOutcome), or for OAuth the provider.
func (h *Handler) connectLinkPost(w http.ResponseWriter, r *http.Request) error {
	tok := r.PostFormValue("token")
	t, err := h.lookupLink(w, r, tok)
	if err != nil {
		return err
	}
	c := connectLinkContent{Token: tok, Values: map[string]string{}, Origin: embedOrigin(t, r.PostFormValue("origin"))}
	if err := h.linkApp(r, t, r.PostFormValue("app"), &c); err != nil {
		return err
	}
	h.setLinkHeaders(w, t, c.App)
	fields := map[string]string{}
	for _, f := range c.App.Fields {
		if v := r.PostFormValue("field_" + f.Name); v != "" {
			fields[f.Name] = v
		}
	}
	if c.OAuth {
		return h.linkStartOAuth(w, r, tok, c, fields)
	}
	acc, _, err := h.endUsers.Connect(r.Context(), tok, endusers.ConnectInput{App: c.App.Slug, Fields: fields, Addr: clientIP(r)})
	if err != nil {
		e := classify(err)
		if errors.Is(err, endusers.ErrInvalidToken) {
			// Another post spent it first, or it expired meanwhile.
			return err
		}
		if e.internal() {
			h.logFailure(r, e.Status, err)
			return h.linkOutcome(w, r, t, c.App, linkEmbed{Origin: c.Origin}, "", err)
		}
		h.linkForm(w, r, c, fields, err)
		return nil
	}
	return h.linkOutcome(w, r, t, c.App, linkEmbed{Origin: c.Origin}, acc.ID, nil)
}

// linkForm shows the app's form again with the error beside it; secrets
// are not sent back to the browser.
func (h *Handler) linkForm(w http.ResponseWriter, r *http.Request, c connectLinkContent, fields map[string]string, err error) {
	e := classify(err)
	for _, f := range c.App.Fields {
		if !f.Secret {
			c.Values[f.Name] = fields[f.Name]
		}
	}
	fe := keyFormError(err, e, c.App)
	c.Fault = fe.Field
	h.render(w, r, e.Status, "connect_link.html", view{Title: linkTitle(c), Error: fe.Message, Content: c})
}

// linkStartOAuth sets the page's cookie and sends the browser to the
// provider; the callback must bring the cookie back.
func (h *Handler) linkStartOAuth(w http.ResponseWriter, r *http.Request, tok string, c connectLinkContent, fields map[string]string) error {
	value, err := randomValue()
	if err != nil {
		return internalError{err}
	}
	started, _, err := h.endUsers.StartOAuth(r.Context(), tok, endusers.OAuthInput{
		App: c.App.Slug, Fields: fields, LinkHash: hashCookie(value), Addr: clientIP(r),
	})
	if err != nil {
		if e := classify(err); !e.internal() && !errors.Is(err, endusers.ErrInvalidToken) {
			h.linkForm(w, r, c, fields, err)
			return nil
		}
		return err
	}
	relay := ""
	if c.Origin != "" && r.PostFormValue("relay") == "1" {
		relay = "1"
	}
	for name, v := range map[string]string{linkCookie: value, linkOriginCookie: c.Origin, linkRelayCookie: relay} {
		if v != "" {
			http.SetCookie(w, &http.Cookie{
				Name: name, Value: v, Path: CallbackPath, HttpOnly: true, Secure: h.secure,
				SameSite: http.SameSiteLaxMode, MaxAge: int(connecting.StateTTL / time.Second),
			})
		}
	}
	http.Redirect(w, r, started.AuthorizeURL, http.StatusSeeOther)
	return nil
}

// linkCallback ends a hosted page's OAuth flow at the callback: the
// cookie is spent, and the outcome shown.
func (h *Handler) linkCallback(w http.ResponseWriter, r *http.Request, conn connecting.Connection, acc accounts.Account, err error) error {
	if errors.Is(err, connecting.ErrOtherBrowser) {
		// Not this browser's flow: nothing of the product's, and its own
		// cookie (of a flow of its own, maybe) is left alone.
		return err
	}
	var embed linkEmbed
	if c, err := r.Cookie(linkOriginCookie); err == nil {
		embed.Origin = c.Value
	}
	if c, err := r.Cookie(linkRelayCookie); err == nil {
		embed.Relay = c.Value == "1"
	}
	for _, name := range []string{linkCookie, linkOriginCookie, linkRelayCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Path: CallbackPath, HttpOnly: true, Secure: h.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	}
	t, terr := h.endUsers.Outcome(r.Context(), conn.WorkspaceID, conn.ConnectTokenID)
	if terr != nil {
		return internalError{terr}
	}
	// The page that embedded the flow's start, if the token still allows
	// it: the popup posts the outcome to it, or to the modal's page that
	// opened it (Relay).
	if embed.Origin = embedOrigin(t, embed.Origin); embed.Origin == "" {
		embed.Relay = false
	}
	app, aerr := h.apps.App(r.Context(), conn.WorkspaceID, conn.App)
	if aerr != nil {
		return aerr
	}
	if err != nil {
		if e := classify(err); e.internal() {
			h.logFailure(r, e.Status, err)
		}
	}
	h.setLinkHeaders(w, t, nil)
	return h.linkOutcome(w, r, t, app, embed, acc.ID, err)
}

// linkEmbed is how a flow's page was embedded by connect.js: Origin, one
// of the token's allowed origins, or "" for not at all; Relay, through the
// modal's page (linkRelayCookie).
type linkEmbed struct {
	Origin string
	Relay  bool
}

// linkOutcome is how a hosted flow ends, whatever the app: success goes
// to success_redirect_uri with the account id (or a done page), failure
// to error_redirect_uri with its code (or the error page).
//
// Embedded by connect.js, the page shows the outcome and posts it to
// embed.Origin instead (through the modal's page, with embed.Relay).
func (h *Handler) linkOutcome(w http.ResponseWriter, r *http.Request, t endusers.ConnectToken, app *catalog.App, embed linkEmbed, accountID string, err error) error {
	origin := embed.Origin
	if err != nil {
		if origin != "" {
			e := classify(err)
			msg := e.Message
			if e.internal() {
				msg = friendly(e)
			}
			c := connectLinkContent{App: app, Origin: origin, Relay: embed.Relay, Failed: endusers.ErrorCode(err)}
			h.render(w, r, e.Status, "connect_link.html", view{Title: "Not connected", Error: msg, Content: c})
			return nil
		}
		if t.ErrorRedirectURI == "" {
			return err
		}
		http.Redirect(w, r, withQuery(t.ErrorRedirectURI, "error", endusers.ErrorCode(err)), http.StatusSeeOther)
		return nil
	}
	// Embedded by connect.js, the page posts the outcome to its opener
	// instead of leaving for the redirect URI.
	if t.SuccessRedirectURI != "" && origin == "" {
		http.Redirect(w, r, withQuery(t.SuccessRedirectURI, "account_id", accountID), http.StatusSeeOther)
		return nil
	}
	c := connectLinkContent{App: app, AccountID: accountID, Reconnect: t.AccountID != "", Origin: origin, Relay: embed.Relay}
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
