package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// accountRow is an account as the pages show it.
type accountRow struct {
	accounts.Account
	AppName string
	OAuth   bool
	Mine    bool
	// CanChange says the viewer may reconnect, rename, give new keys to
	// or delete it, so its row offers those.
	CanChange bool
	UsedBy    []workflows.Ref
	// app is the account's app, when it is known.
	app *catalog.App
}

type accountsContent struct {
	Rows  []accountRow
	Query string
	App   string
	Apps  []appOption
	More  bool
}

type appOption struct {
	Slug, Name string
	Selected   bool
}

// row is one account as the pages show it, looking its app up.
func (h *Handler) row(r *http.Request, s *session, a accounts.Account) accountRow {
	app, _ := h.apps.App(r.Context(), a.WorkspaceID, a.App)
	return rowOf(s, a, app)
}

// rowOf is row with the app at hand (nil when unknown).
func rowOf(s *session, a accounts.Account, app *catalog.App) accountRow {
	row := accountRow{Account: a, AppName: a.App, Mine: a.OwnerID == s.user.ID, CanChange: accounts.CanChange(s.actor, a)}
	if app != nil {
		row.AppName, row.OAuth, row.app = app.Name, app.UsesOAuth(), app
	}
	return row
}

// listRows is the accounts page's content in a fixed number of queries,
// whatever the number of rows: the page, the apps of all the person's
// accounts (for the filter), the workspace's own apps once, and the
// workflows using the page's accounts.
func (h *Handler) listRows(r *http.Request, s *session) (accountsContent, error) {
	ctx := r.Context()
	q := r.URL.Query()
	c := accountsContent{Query: strings.TrimSpace(q.Get("q")), App: q.Get("app")}
	list, more, err := h.accounts.List(ctx, s.actor, accounts.ListInput{App: c.App, Text: c.Query, Limit: accounts.MaxPage})
	if err != nil {
		return c, err
	}
	c.More = more
	// The app filter offers the apps the person has accounts of, on this
	// page or not.
	slugs, err := h.accounts.Apps(ctx, s.actor)
	if err != nil {
		return c, err
	}
	wanted := slices.Clone(slugs)
	for _, a := range list {
		wanted = append(wanted, a.App)
	}
	known, err := h.apps.Lookup(ctx, s.actor.WorkspaceID, wanted)
	if err != nil {
		return c, err
	}
	used, err := h.workflows.UsedByAccounts(ctx, s.actor, list)
	if err != nil {
		// The page is still of use without it.
		h.log.WarnContext(ctx, "used-by lookup failed", "err", err)
	}
	for _, a := range list {
		row := rowOf(s, a, known[a.App])
		row.UsedBy = used[a.ID].Workflows
		c.Rows = append(c.Rows, row)
	}
	for _, slug := range slugs {
		name := slug
		if app := known[slug]; app != nil {
			name = app.Name
		}
		c.Apps = append(c.Apps, appOption{Slug: slug, Name: name, Selected: slug == c.App})
	}
	slices.SortStableFunc(c.Apps, func(a, b appOption) int { return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) })
	return c, nil
}

func (h *Handler) accountsPage(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.listRows(r, s)
	if err != nil {
		return internalError{err}
	}
	// Each row has a Reconnect form.
	apps := make([]*catalog.App, 0, len(c.Rows))
	for _, row := range c.Rows {
		apps = append(apps, row.app)
	}
	h.allowFormsTo(w, apps...)
	v := h.view(s, "Accounts", "accounts", c)
	v.Flash = doneFlash(r.URL.Query().Get("done"), c.row(r.URL.Query().Get("account")))
	h.render(w, r, http.StatusOK, "accounts.html", v)
	return nil
}

// doneFlash confirms what was just done to the account, naming it when
// the list shows it (row nil: it does not, or none was named).
func doneFlash(done string, row *accountRow) string {
	named := func(verb, general string) string {
		if row == nil {
			return general
		}
		// An account without a nickname goes by who it belongs to.
		name := row.Nickname
		if name == "" {
			name = row.IdentityLabel
		}
		if name == "" {
			return row.AppName + " account " + verb + "."
		}
		return row.AppName + " account “" + name + "” " + verb + "."
	}
	switch done {
	case "connected":
		return named("is connected", "The account is connected.")
	case "reconnected":
		return named("is reconnected", "The account is reconnected.")
	case "renamed":
		if row == nil {
			return "The account was renamed."
		}
		return "Renamed to “" + row.Nickname + "”."
	case "replaced":
		return "The new credentials passed the app's test and are saved."
	case "shared":
		return "Sharing saved."
	case "deleted":
		return "The account was deleted."
	}
	return ""
}

// row is the listed account with that id, or nil.
func (c accountsContent) row(id string) *accountRow {
	for i := range c.Rows {
		if id != "" && c.Rows[i].ID == id {
			return &c.Rows[i]
		}
	}
	return nil
}

// accountRows is the table body alone, for the live search and for
// showing a new account without a reload.
func (h *Handler) accountRows(w http.ResponseWriter, r *http.Request, s *session) error {
	c, err := h.listRows(r, s)
	if err != nil {
		return internalError{err}
	}
	r.Header.Set("X-Fragment", "1")
	h.render(w, r, http.StatusOK, "rows.html", h.view(s, "", "", c))
	return nil
}

func (h *Handler) view(s *session, title, nav string, content any) view {
	v := view{Title: title, User: &s.user, Owner: s.actor.CanManageWorkspace(), Activity: s.actor.CanReadAudit(), Nav: nav, Content: content}
	if len(s.workspaces) > 1 {
		v.Workspaces = s.workspaces
	}
	return v
}

type accountContent struct {
	Row    accountRow
	Events []activityEvent
	Scopes []string
	// Fields are a key-based app's fields, for replacing its credentials;
	// KeysError is why the last replacement was refused.
	Fields    []catalog.Field
	KeysError fieldError
	// CanChange says the viewer may rename, share, reconnect, give new
	// keys to or delete the account: its owner or a workspace owner.
	CanChange bool
	// SharedWith names the members it is shared with; Members are the
	// others it could be, for the sharing form.
	SharedWith []string
	Members    []shareOption
}

// shareOption is a member in the sharing form.
type shareOption struct {
	ID, Label string
	Checked   bool
}

func (h *Handler) accountPage(w http.ResponseWriter, r *http.Request, s *session) error {
	acc, err := h.accounts.Get(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	c, err := h.accountContent(r, s, acc)
	if err != nil {
		return err
	}
	h.allowFormsTo(w, c.Row.app)
	v := h.view(s, acc.Nickname, "accounts", c)
	v.Flash = doneFlash(r.URL.Query().Get("done"), &c.Row)
	h.render(w, r, http.StatusOK, "account.html", v)
	return nil
}

// accountContent is what the account page shows of acc.
func (h *Handler) accountContent(r *http.Request, s *session, acc accounts.Account) (accountContent, error) {
	events, err := h.accounts.Events(r.Context(), s.actor, acc.ID, "", 50)
	if err != nil {
		return accountContent{}, internalError{err}
	}
	row := h.row(r, s, acc)
	row.UsedBy = h.usedBy(r, s, acc.ID)
	// The members name who did what in the account's activity, and who
	// it is or could be shared with.
	members, err := h.identity.Members(r.Context(), s.actor)
	if err != nil {
		return accountContent{}, internalError{err}
	}
	c := accountContent{Row: row, Events: describe(s, members, events), Scopes: acc.Scopes, CanChange: accounts.CanChange(s.actor, acc)}
	if len(acc.SharedWith) > 0 || c.CanChange {
		for _, m := range members {
			label := m.Name + " (" + m.Email + ")"
			shared := slices.Contains(acc.SharedWith, m.ID)
			if shared {
				c.SharedWith = append(c.SharedWith, label)
			}
			if c.CanChange && m.ID != acc.OwnerID {
				c.Members = append(c.Members, shareOption{ID: m.ID, Label: label + " · " + string(m.Role), Checked: shared})
			}
		}
	}
	if app, err := h.apps.App(r.Context(), acc.WorkspaceID, acc.App); err == nil && app.EntersKeys() {
		c.Fields = app.Fields
	}
	return c, nil
}

func (h *Handler) rename(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if _, err := h.accounts.Rename(r.Context(), s.actor, id, r.PostFormValue("nickname")); err != nil {
		return err
	}
	http.Redirect(w, r, withDone(back(r, "/"), "renamed", id), http.StatusSeeOther)
	return nil
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, s *session) error {
	// An account that workflows use is deleted only when asked again.
	// Workflows the member may not see are counted, never named.
	revoke := r.PostFormValue("revoke") == "on"
	_, _, err := h.workflows.DeleteAccount(r.Context(), s.actor, r.PathValue("id"), revoke, r.PostFormValue("confirm_in_use") == "yes")
	var inUse *workflows.InUseError
	if errors.As(err, &inUse) {
		row, acc, err := h.inUse(r, s, inUse)
		if err != nil {
			return err
		}
		h.render(w, r, http.StatusConflict, "delete_confirm.html", h.view(s, "Delete "+acc.Nickname+"?", "accounts", deleteContent{Row: row, Hidden: inUse.Hidden, Revoke: revoke}))
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/?done=deleted", http.StatusSeeOther)
	return nil
}

// inUse is the account of the page's path, as a confirmation that it is
// in use shows it: with the workflows the viewer may see.
func (h *Handler) inUse(r *http.Request, s *session, e *workflows.InUseError) (accountRow, accounts.Account, error) {
	acc, err := h.accounts.Get(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return accountRow{}, acc, err
	}
	row := h.row(r, s, acc)
	row.UsedBy = e.Workflows
	return row, acc, nil
}

// share sets who the account is shared with. Taking it from members
// whose workflows use it is done only when asked again, as deleting is.
func (h *Handler) share(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	sh := accounts.Sharing{Workspace: r.PostForm.Get("workspace") == "on", Members: r.PostForm["member"]}
	_, err := h.workflows.ShareAccount(r.Context(), s.actor, r.PathValue("id"), sh, r.PostForm.Get("confirm_in_use") == "yes")
	var inUse *workflows.InUseError
	if errors.As(err, &inUse) {
		row, acc, err := h.inUse(r, s, inUse)
		if err != nil {
			return err
		}
		h.render(w, r, http.StatusConflict, "share_confirm.html", h.view(s, "Unshare "+acc.Nickname+"?", "accounts", shareContent{Row: row, Hidden: inUse.Hidden, Sharing: sh}))
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/accounts/"+url.PathEscape(r.PathValue("id"))+"?done=shared", http.StatusSeeOther)
	return nil
}

type shareContent struct {
	Row     accountRow
	Hidden  int
	Sharing accounts.Sharing
}

// withDone adds what was done, and to which account, to a local path's
// query, for the page's confirmation.
func withDone(path, done, id string) string {
	u, err := url.Parse(path)
	if err != nil {
		return path
	}
	q := u.Query()
	q.Set("done", done)
	if strings.HasPrefix(u.Path, "/accounts/") {
		q.Del("account") // the page is the account's own
	} else {
		q.Set("account", id)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// back is where a form returns to: the page it names, if on this site,
// else def.
func back(r *http.Request, def string) string {
	if p, ok := localPath(r.PostFormValue("back")); ok {
		return p
	}
	return def
}

// reconnect starts a new grant for an account, in a popup (JSON answer)
// or by redirecting the whole page.
func (h *Handler) reconnect(w http.ResponseWriter, r *http.Request, s *session) error {
	started, err := h.connecting.Connect(r.Context(), s.actor, connecting.ConnectInput{AccountID: r.PathValue("id"), SessionHash: s.hash})
	if err != nil {
		return err
	}
	h.sendToProvider(w, r, started)
	return nil
}

// sendToProvider answers a started connection: JSON for the popup script,
// else a redirect of the whole page. (An error that stopped the start is
// the adapter's: JSON for the script too.)
func (h *Handler) sendToProvider(w http.ResponseWriter, r *http.Request, started connecting.Started) {
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		writeJSON(w, map[string]string{"authorize_url": started.AuthorizeURL, "connection": started.Connection.ID})
		return
	}
	http.Redirect(w, r, started.AuthorizeURL, http.StatusSeeOther)
}

type deleteContent struct {
	Row accountRow
	// Hidden counts the workflows using the account that the user may not
	// see.
	Hidden int
	Revoke bool
}

// replaceKeys gives a key-based account new credentials from the form.
func (h *Handler) replaceKeys(w http.ResponseWriter, r *http.Request, s *session) error {
	acc, err := h.accounts.Get(r.Context(), s.actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	app, err := h.apps.App(r.Context(), acc.WorkspaceID, acc.App)
	if err != nil {
		return err
	}
	fields := map[string]string{}
	for _, f := range app.Fields {
		if v := r.PostFormValue("field_" + f.Name); v != "" {
			fields[f.Name] = v
		}
	}
	if _, err := h.accounts.ReplaceKeys(r.Context(), s.actor, acc.ID, fields, false); err != nil {
		e := classify(err)
		if e.internal() {
			return err
		}
		// The account page again, the refusal inside the form that caused
		// it, as the connect dialog shows one; the old keys stay.
		c, cerr := h.accountContent(r, s, acc)
		if cerr != nil {
			return cerr
		}
		c.KeysError = keyFormError(err, e, app)
		h.allowFormsTo(w, app)
		h.render(w, r, e.Status, "account.html", h.view(s, acc.Nickname, "accounts", c))
		return nil
	}
	http.Redirect(w, r, "/accounts/"+acc.ID+"?done=replaced", http.StatusSeeOther)
	return nil
}
