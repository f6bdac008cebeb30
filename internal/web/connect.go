package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/logos"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

func writeJSON(w http.ResponseWriter, v any) {
	_ = json.NewEncoder(w).Encode(v)
}

// appCard is an app in the picker; app.js draws the same from its JSON.
type appCard struct {
	Slug, Name, Description, Auth string
	Categories                    []string
	Existing                      int
	// Logo is the app's logo URL, "" for a lettered badge.
	Logo      string
	LogoLight bool
}

type pickerContent struct {
	Query, Category string
	Categories      []catalog.CategoryCount
	Apps            []appCard
	Total           int
}

// Page sizes of the picker: its first screen, a search, a category.
const (
	pickerFirst    = 60
	pickerSearch   = 40
	pickerCategory = 500
)

// cards lists apps for the picker, most used first: the apps the
// workspace has accounts of, then the catalog's curated ranking.
func (h *Handler) cards(r *http.Request, s *session, query, category string) ([]appCard, error) {
	cat, err := h.apps.CatalogFor(r.Context(), s.actor)
	if err != nil {
		return nil, err
	}
	mine, _, err := h.accounts.List(r.Context(), s.actor, accounts.ListInput{Limit: accounts.MaxPage})
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, a := range mine {
		count[a.App]++
	}
	limit := pickerFirst
	switch {
	case category != "":
		limit = pickerCategory
	case query != "":
		limit = pickerSearch
	}
	page, _ := cat.List(catalog.Filter{Query: query, Category: category, Order: catalog.ByUse, Used: count, Limit: limit})
	out := make([]appCard, 0, len(page))
	for _, a := range page {
		c := appCard{Slug: a.Slug, Name: a.Name, Description: a.Description, Auth: string(a.Auth), Categories: a.Categories, Existing: count[a.Slug]}
		if l, ok := logos.For(a.Slug); ok {
			c.Logo, c.LogoLight = l.URL, l.Light
		}
		out = append(out, c)
	}
	return out, nil
}

func (h *Handler) pickerPage(w http.ResponseWriter, r *http.Request, s *session) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	category := strings.TrimSpace(r.URL.Query().Get("category"))
	apps, err := h.cards(r, s, q, category)
	if err != nil {
		return internalError{err}
	}
	cat, err := h.apps.CatalogFor(r.Context(), s.actor)
	if err != nil {
		return internalError{err}
	}
	h.render(w, r, http.StatusOK, "connect.html", h.view(s, "Connect an account", "connect", pickerContent{
		Query: q, Category: category, Categories: cat.CategoryCounts(), Apps: apps, Total: cat.Len(),
	}))
	return nil
}

// searchApps is the picker's type-ahead: the whole catalog, searched by
// name, slug and category.
func (h *Handler) searchApps(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	apps, err := h.cards(r, s, strings.TrimSpace(q.Get("q")), strings.TrimSpace(q.Get("category")))
	if err != nil {
		return internalError{err}
	}
	w.Header().Set("Content-Type", "application/json")
	writeJSON(w, apps)
	return nil
}

type connectContent struct {
	App      *catalog.App
	Existing []accountRow
	Values   map[string]string
	Nickname string
	// Fault is the field a refusal is about, marked and focused.
	Fault string
}

func (h *Handler) connectPage(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.connectContent(r, s)
	if err != nil {
		return err
	}
	h.allowFormsTo(w, c.App)
	h.render(w, r, http.StatusOK, "connect_app.html", h.view(s, "Connect "+c.App.Name, "connect", c))
	return nil
}

func (h *Handler) connectContent(r *http.Request, s *session) (connectContent, error) {
	app, err := h.apps.App(r.Context(), s.actor.WorkspaceID, r.PathValue("slug"))
	if err != nil {
		return connectContent{}, err
	}
	mine, _, err := h.accounts.List(r.Context(), s.actor, accounts.ListInput{App: app.Slug, Limit: accounts.MaxPage})
	if err != nil {
		return connectContent{}, err
	}
	c := connectContent{App: app, Values: map[string]string{}}
	for _, a := range mine {
		c.Existing = append(c.Existing, rowOf(s, a, app))
	}
	return c, nil
}

// connect saves a key-based account (after its test request) or starts
// an OAuth connection.
func (h *Handler) connect(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.connectContent(r, s)
	if err != nil {
		return err
	}
	nickname := strings.TrimSpace(r.PostFormValue("nickname"))
	var nick *string
	if nickname != "" {
		nick = &nickname
	}
	fields := map[string]string{}
	for _, f := range c.App.Fields {
		if v := r.PostFormValue("field_" + f.Name); v != "" {
			fields[f.Name] = v
		}
	}
	if c.App.UsesOAuth() {
		started, err := h.connecting.Connect(r.Context(), s.actor, connecting.ConnectInput{
			App: c.App.Slug, Nickname: nick, Fields: fields, SessionHash: s.hash,
		})
		if err != nil {
			return err
		}
		h.sendToProvider(w, r, started)
		return nil
	}
	acc, err := h.accounts.Create(r.Context(), s.actor, accounts.CreateInput{App: c.App.Slug, Nickname: nick, Fields: fields})
	if err != nil {
		e := classify(err)
		if e.internal() {
			return err
		}
		// Show the form again with the error beside it; secrets are not
		// sent back to the browser.
		c.Nickname = nickname
		for _, f := range c.App.Fields {
			if !f.Secret {
				c.Values[f.Name] = fields[f.Name]
			}
		}
		fe := keyFormError(err, e, c.App)
		c.Fault = fe.Field
		h.allowFormsTo(w, c.App)
		v := h.view(s, "Connect "+c.App.Name, "connect", c)
		v.Error = fe.Message
		h.render(w, r, e.Status, "connect_app.html", v)
		return nil
	}
	if r.Header.Get("X-Fragment") == "1" {
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, map[string]string{"account": acc.ID})
		return nil
	}
	http.Redirect(w, r, withDone("/", "connected", acc.ID), http.StatusSeeOther)
	return nil
}

type callbackContent struct {
	OK, Reconnected                      bool
	AppName, Nickname, Identity, Message string
	AccountID                            string
}

// holdCookie marks the browser a waiting connection came back to, so only
// that browser can finish it.
const holdCookie = "latchkey_connect"

// callback completes a connection. It never shows the code, the state or a
// token. In a popup, its script tells the page that opened it and closes
// it; a client asking for JSON gets JSON.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	in := connecting.CallbackInput{State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
		Query: callbackQuery(q)}
	if q.Has("oauth_token") || q.Has("oauth_verifier") || q.Has("denied") {
		// OAuth 1.0a: the verifier stands for the code; a refusal says
		// denied (Twitter, Tumblr) or sends no verifier.
		in.Code, in.RequestToken = q.Get("oauth_verifier"), q.Get("oauth_token")
		if q.Has("denied") && in.Error == "" {
			in.Error = "access_denied"
		}
	}
	if s := h.current(r); s != nil {
		in.SessionHash, in.UserID = s.hash, s.user.ID
	}
	if c, err := r.Cookie(linkCookie); err == nil && c.Value != "" && len(c.Value) <= 100 {
		in.LinkHash = hashCookie(c.Value)
	}
	hold, err := randomValue()
	if err != nil {
		return internalError{err}
	}
	in.HoldHash = hashCookie(hold)
	conn, acc, err := h.connecting.Callback(r.Context(), in)
	if conn.ConnectTokenID != "" && h.endUsers != nil {
		w.Header().Set("Referrer-Policy", "no-referrer")
		return h.linkCallback(w, r, conn, acc, err)
	}
	var wait *connecting.WaitingError
	if errors.As(err, &wait) {
		http.SetCookie(w, &http.Cookie{
			Name: holdCookie, Value: hold, Path: CallbackPath, HttpOnly: true, Secure: h.secure,
			SameSite: http.SameSiteLaxMode, MaxAge: int(connecting.StateTTL / time.Second),
		})
	}
	h.finished(w, r, conn, acc, err)
	return nil
}

// resume continues a waiting connection: after the sign-in it asked for
// (GET), or with the one-time code (POST).
func (h *Handler) resume(w http.ResponseWriter, r *http.Request) error {
	in := connecting.ResumeInput{ConnectionID: r.PathValue("id")}
	if c, err := r.Cookie(holdCookie); err == nil && c.Value != "" && len(c.Value) <= 100 {
		in.HoldHash = hashCookie(c.Value)
	}
	if s := h.current(r); s != nil {
		in.UserID = s.user.ID
	}
	if r.Method == http.MethodPost {
		in.Code = r.PostFormValue("code")
	}
	conn, acc, err := h.connecting.Resume(r.Context(), in)
	h.finished(w, r, conn, acc, err)
	return nil
}

type finishContent struct {
	ConnectionID, Starter, Next string
	NeedCode                    bool
}

// finished shows a connection's outcome, or what it still waits for.
func (h *Handler) finished(w http.ResponseWriter, r *http.Request, conn connecting.Connection, acc accounts.Account, err error) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	var e webError
	ref := ""
	if err != nil {
		if e = classify(err); e.internal() {
			ref = h.logFailure(r, e.Status, err)
		}
	}
	if wantsJSON(r) {
		if err != nil {
			writeProblem(w, e)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, map[string]string{"status": "completed", "account_id": acc.ID})
		return
	}
	var wait *connecting.WaitingError
	if errors.As(err, &wait) {
		status, title := http.StatusOK, "Sign in to finish"
		v := view{Content: finishContent{ConnectionID: wait.ConnectionID, Starter: wait.Starter, NeedCode: wait.NeedCode,
			Next: CallbackPath + "/resume/" + wait.ConnectionID}}
		if wait.NeedCode {
			title = "Enter the one-time code"
		}
		if wait.Wrong {
			status, v.Error = http.StatusUnprocessableEntity, "That code is wrong. Attempts left: "+strconv.Itoa(wait.AttemptsLeft)+"."
		}
		v.Title = title
		h.render(w, r, status, "finish.html", v)
		return
	}
	c := callbackContent{OK: err == nil}
	status := http.StatusOK
	if err != nil {
		status, c.Message = e.Status, e.Message
		if e.internal() {
			// This page, not the error page: its script tells the
			// window that opened it.
			c.Message = e.Title + ". " + friendly(e) + " Reference: " + ref + "."
		}
	} else {
		c.AccountID, c.Nickname, c.Identity = acc.ID, acc.Nickname, acc.IdentityLabel
		// A reconnected account is older than the connection that renewed it.
		c.Reconnected = acc.CreatedAt.Before(conn.CreatedAt)
		c.AppName = acc.App
		if app, aerr := h.apps.App(r.Context(), acc.WorkspaceID, acc.App); aerr == nil {
			c.AppName = app.Name
		}
	}
	title := "Connected"
	if err != nil {
		title = "Not connected"
	}
	h.render(w, r, status, "callback.html", view{Title: title, Content: c})
}

type clientsContent struct {
	Clients     []clientRow
	Apps        []appOption
	RedirectURI string
	Selected    string
}

// clientRow is a client as its table shows it: by its app's name.
type clientRow struct {
	clients.Client
	AppName string
}

func (h *Handler) clientsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.renderClients(w, r, s, http.StatusOK, "", r.URL.Query().Get("done"))
}

func (h *Handler) renderClients(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg, done string) error {
	if !s.actor.CanManageWorkspace() {
		return identity.ErrForbidden
	}
	list, err := h.clients.Clients(r.Context(), s.actor)
	if err != nil {
		return internalError{err}
	}
	cat, err := h.apps.CatalogFor(r.Context(), s.actor)
	if err != nil {
		return internalError{err}
	}
	c := clientsContent{RedirectURI: h.clients.RedirectURI(), Selected: r.URL.Query().Get("app")}
	oauthApps, _ := cat.List(catalog.Filter{Auth: catalog.AuthOAuth2})
	oauth1Apps, _ := cat.List(catalog.Filter{Auth: catalog.AuthOAuth1})
	names := map[string]string{}
	for _, a := range append(oauthApps, oauth1Apps...) {
		names[a.Slug] = a.Name
		name := a.Name
		if a.Auth == catalog.AuthOAuth1 {
			name += " (OAuth 1.0a)"
		}
		c.Apps = append(c.Apps, appOption{Slug: a.Slug, Name: name, Selected: a.Slug == c.Selected})
	}
	for _, cl := range list {
		// An app gone from the catalog keeps its slug as its name.
		name := names[cl.App]
		if name == "" {
			name = cl.App
		}
		c.Clients = append(c.Clients, clientRow{Client: cl, AppName: name})
	}
	slices.SortFunc(c.Apps, func(a, b appOption) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	v := h.view(s, "OAuth clients", "clients", c)
	v.Error = errMsg
	if done == "saved" {
		v.Flash = "The client was saved. Its secret is sealed and will not be shown again."
	} else if done == "deleted" {
		v.Flash = "The client was deleted."
	}
	h.render(w, r, status, "clients.html", v)
	return nil
}

func (h *Handler) setClient(w http.ResponseWriter, r *http.Request, s *session) error {
	_, err := h.clients.SetClient(r.Context(), s.actor, clients.ClientInput{
		App: r.PostFormValue("app"), ClientID: r.PostFormValue("client_id"),
		// Always this workspace's own: the managed client is the operator's,
		// and nobody who signs in on the web is.
		Secret:       secretValue(r.PostFormValue("client_secret")),
		RedirectName: r.PostFormValue("redirect_name"),
	})
	if err != nil {
		if e := classify(err); !e.internal() {
			// The form again, with the error above it.
			return h.renderClients(w, r, s, e.Status, e.Message, "")
		}
		return err
	}
	http.Redirect(w, r, "/oauth-clients?done=saved", http.StatusSeeOther)
	return nil
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.clients.DeleteClient(r.Context(), s.actor, r.PathValue("id")); err != nil {
		return err
	}
	http.Redirect(w, r, "/oauth-clients?done=deleted", http.StatusSeeOther)
	return nil
}

func secretValue(v string) secret.String { return secret.New(v) }
