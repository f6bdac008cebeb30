package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/logos"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

func (h *Handler) view(ctx context.Context, a accounts.Account) client.Account {
	name := a.App
	if app, err := h.apps.App(ctx, a.WorkspaceID, a.App); err == nil {
		name = app.Name
	}
	return viewNamed(a, name)
}

// viewNamed is view with the app's name at hand.
func viewNamed(a accounts.Account, appName string) client.Account {
	scopes := a.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	sharedWith := a.SharedWith
	if sharedWith == nil {
		sharedWith = []string{}
	}
	tags := a.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return client.Account{
		ExternalUserID: a.ExternalUserID, Tags: tags, Metadata: a.Metadata,
		ID: a.ID, App: a.App, AppName: appName, AppLogoURL: logos.URL(a.App), Nickname: a.Nickname, IdentityLabel: a.IdentityLabel,
		OwnerID: a.OwnerID, Shared: a.Shared, SharedWith: sharedWith, Status: string(a.Status), StatusError: a.StatusError, Untested: a.Untested,
		Scopes: scopes, ExpiresAt: timestamp(a.ExpiresAt), LastRefreshedAt: timestamp(a.LastRefreshedAt),
		NextRefreshAt: timestamp(a.NextRefreshAt), CreatedAt: *timestamp(&a.CreatedAt), UpdatedAt: *timestamp(&a.UpdatedAt),
	}
}

func (h *Handler) listAccounts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, err := limitParam(r, 50, accounts.MaxPage)
	if err != nil {
		return err
	}
	after, err := decodeCursor(r)
	if err != nil {
		return err
	}
	in := accounts.ListInput{App: q.Get("app"), Status: accounts.Status(q.Get("status")), Text: q.Get("q"), After: after, Limit: limit,
		ExternalUserID: q.Get("external_user_id"), Tags: q["tags"], Owner: q.Get("owner")}
	// The service keeps to what the caller may see, a token's limits
	// included, in the one query that reads the page.
	page, more, err := h.accounts.List(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	var next *string
	if more {
		next = encodeCursor(page[len(page)-1].ID)
	}
	a := actor(r)
	// The page's apps are looked up together: the workspace's own apps
	// are read once, not once a row.
	slugs := make([]string, 0, len(page))
	for _, acc := range page {
		slugs = append(slugs, acc.App)
	}
	known, err := h.apps.Lookup(r.Context(), a.WorkspaceID, slugs)
	if err != nil {
		return err
	}
	out := client.Page[client.Account]{Data: make([]client.Account, 0, len(page)), NextCursor: next}
	for _, acc := range page {
		name := acc.App
		if app := known[acc.App]; app != nil {
			name = app.Name
		}
		out.Data = append(out.Data, viewNamed(acc, name))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) createAccount(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateAccount
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := mayUseApp(actor(r), req.App); err != nil {
		return err
	}
	acc, err := h.accounts.Create(r.Context(), actor(r), accounts.CreateInput{
		App: req.App, Nickname: req.Nickname, Fields: req.Fields, SkipTest: req.Test != nil && !*req.Test,
		SkipIdentify: req.Identify != nil && !*req.Identify, Shared: req.Shared,
		ExternalUserID: req.ExternalUserID, Tags: req.Tags, Metadata: req.Metadata,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/accounts/"+acc.ID)
	return reply(w, http.StatusCreated, h.view(r.Context(), acc))
}

func (h *Handler) getAccount(w http.ResponseWriter, r *http.Request) error {
	acc, err := h.accounts.Get(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, h.view(r.Context(), acc))
}

func (h *Handler) renameAccount(w http.ResponseWriter, r *http.Request) error {
	var req client.RenameAccount
	if err := decode(w, r, &req); err != nil {
		return err
	}
	label := accounts.LabelInput{Tags: req.Tags, Metadata: req.Metadata}
	relabel := req.Tags != nil || req.Metadata != nil
	if req.Nickname == nil && !relabel {
		return &accounts.ValidationError{Field: "nickname", Message: "give a nickname, tags or metadata to change"}
	}
	// Checked first, so that a bad label changes no nickname either.
	if err := accounts.CheckLabel(label); err != nil {
		return err
	}
	var acc accounts.Account
	var err error
	if req.Nickname != nil {
		if acc, err = h.accounts.Rename(r.Context(), actor(r), r.PathValue("id"), *req.Nickname); err != nil {
			return err
		}
	}
	if relabel {
		if acc, err = h.accounts.Label(r.Context(), actor(r), r.PathValue("id"), label); err != nil {
			return err
		}
	}
	return reply(w, http.StatusOK, h.view(r.Context(), acc))
}

func (h *Handler) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	revoke, err := boolParam(r, "revoke")
	if err != nil {
		return err
	}
	force, err := boolParam(r, "force")
	if err != nil {
		return err
	}
	outcome, detail, err := h.workflows.DeleteAccount(r.Context(), actor(r), r.PathValue("id"), revoke, force)
	if _, ok := errors.AsType[*workflows.InUseError](err); ok {
		p := toProblem(err)
		p.AccountID = r.PathValue("id")
		return p
	}
	if err != nil {
		return err
	}
	if !revoke {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return reply(w, http.StatusOK, client.Deleted{ID: r.PathValue("id"), Revocation: outcome, RevocationDetail: detail})
}

// credentials returns the auths.<app> object: what a workflow step reads.
func (h *Handler) credentials(w http.ResponseWriter, r *http.Request) error {
	_, values, err := h.accounts.Credentials(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, values)
}

func (h *Handler) accountEvents(w http.ResponseWriter, r *http.Request) error {
	limit, err := limitParam(r, 50, accounts.MaxPage)
	if err != nil {
		return err
	}
	before, err := decodeCursor(r)
	if err != nil {
		return err
	}
	events, err := h.accounts.Events(r.Context(), actor(r), r.PathValue("id"), before, limit+1)
	if err != nil {
		return err
	}
	out := client.Page[client.Event]{Data: []client.Event{}}
	more := len(events) > limit
	if more {
		events = events[:limit]
	}
	for _, e := range events {
		out.Data = append(out.Data, client.Event{ID: e.ID, Action: e.Action, ActorID: e.ActorID, AccountID: e.AccountID, Detail: e.Detail, CreatedAt: *timestamp(&e.CreatedAt)})
	}
	if more {
		out.NextCursor = encodeCursor(events[len(events)-1].ID)
	}
	return reply(w, http.StatusOK, out)
}

func boolParam(r *http.Request, name string) (bool, error) {
	switch r.URL.Query().Get(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, &accounts.ValidationError{Field: name, Message: "must be true or false"}
	}
}

// replaceKeys gives a key-based account new credentials, keeping its id.
func (h *Handler) replaceKeys(w http.ResponseWriter, r *http.Request) error {
	var req client.ReplaceKeys
	if err := decode(w, r, &req); err != nil {
		return err
	}
	acc, err := h.accounts.ReplaceKeys(r.Context(), actor(r), r.PathValue("id"), req.Fields, req.Test != nil && !*req.Test)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, h.view(r.Context(), acc))
}

// share sets who the account is shared with; unsharing it from members
// whose workflows use it answers 409 unless ?force=true, as deleting does.
func (h *Handler) share(w http.ResponseWriter, r *http.Request) error {
	var req client.Sharing
	if err := decode(w, r, &req); err != nil {
		return err
	}
	force, err := boolParam(r, "force")
	if err != nil {
		return err
	}
	acc, err := h.workflows.ShareAccount(r.Context(), actor(r), r.PathValue("id"), accounts.Sharing{Workspace: req.Workspace, Members: req.Members}, force)
	if _, ok := errors.AsType[*workflows.InUseError](err); ok {
		p := toProblem(err)
		p.AccountID = r.PathValue("id")
		return p
	}
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, h.view(r.Context(), acc))
}
