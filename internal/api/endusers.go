package api

import (
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/endusers"
)

// SetEndUsers gives the API the service of end users and connect tokens.
func (h *Handler) SetEndUsers(svc *endusers.Service) { h.endUsers = svc }

func (h *Handler) endUserService() (*endusers.Service, error) {
	if h.endUsers == nil {
		return nil, problem(http.StatusNotFound, "no-such-route", "No such API route", "end users are not served here")
	}
	return h.endUsers, nil
}

func (h *Handler) createConnectToken(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.endUserService()
	if err != nil {
		return err
	}
	var req client.CreateConnectToken
	if err := decode(w, r, &req); err != nil {
		return err
	}
	m, err := svc.Mint(r.Context(), actor(r), endusers.MintInput{
		AccountID: req.AccountID, ExternalUserID: req.ExternalUserID, Apps: req.Apps, Tags: req.Tags,
		SuccessRedirectURI: req.SuccessRedirectURI, ErrorRedirectURI: req.ErrorRedirectURI,
		AllowedOrigins: req.AllowedOrigins, WebhookURL: req.WebhookURL,
	})
	if err != nil {
		return err
	}
	t := m.Token
	out := client.ConnectToken{
		ID: t.ID, Token: m.Secret.Reveal(), ConnectLinkURL: m.LinkURL.Reveal(), ExternalUserID: t.ExternalUserID,
		Apps: orEmpty(t.Apps), Tags: t.Tags, SuccessRedirectURI: t.SuccessRedirectURI, ErrorRedirectURI: t.ErrorRedirectURI,
		AllowedOrigins: orEmpty(t.AllowedOrigins), WebhookURL: t.WebhookURL, AccountID: t.AccountID,
		WebhookEndpointID: m.WebhookEndpointID, WebhookSecret: m.WebhookSecret.Reveal(),
		ExpiresAt: *timestamp(&t.ExpiresAt), CreatedAt: *timestamp(&t.CreatedAt),
	}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusCreated, out)
}

func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

func (h *Handler) getEndUser(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.endUserService()
	if err != nil {
		return err
	}
	u, err := svc.Get(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	slugs := make([]string, 0, len(u.Accounts))
	for _, a := range u.Accounts {
		slugs = append(slugs, a.App)
	}
	known, err := h.apps.Lookup(r.Context(), actor(r).WorkspaceID, slugs)
	if err != nil {
		return err
	}
	out := client.EndUser{ExternalUserID: u.ExternalUserID, Accounts: make([]client.Account, 0, len(u.Accounts))}
	for _, a := range u.Accounts {
		name := a.App
		if app := known[a.App]; app != nil {
			name = app.Name
		}
		out.Accounts = append(out.Accounts, viewNamed(a, name))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) deleteEndUser(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.endUserService()
	if err != nil {
		return err
	}
	deleted, err := svc.Delete(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := client.EndUserDeleted{ExternalUserID: r.PathValue("id"), Deleted: make([]client.Deleted, 0, len(deleted))}
	for _, d := range deleted {
		out.Deleted = append(out.Deleted, client.Deleted{ID: d.AccountID, Revocation: d.Revocation, RevocationDetail: d.RevocationDetail})
	}
	return reply(w, http.StatusOK, out)
}
