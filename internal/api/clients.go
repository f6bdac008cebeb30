package api

import (
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/secret"
)

func (h *Handler) clientView(c clients.Client) client.OAuthClient {
	return client.OAuthClient{
		ID: c.ID, App: c.App, ClientID: c.ClientID, Managed: c.Managed, RedirectURI: h.redirectURI, RedirectName: c.RedirectName,
		CreatedAt: *timestamp(&c.CreatedAt), UpdatedAt: *timestamp(&c.UpdatedAt),
	}
}

func (h *Handler) listClients(w http.ResponseWriter, r *http.Request) error {
	list, err := h.clients.Clients(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := struct {
		Data []client.OAuthClient `json:"data"`
	}{Data: []client.OAuthClient{}}
	for _, c := range list {
		out.Data = append(out.Data, h.clientView(c))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) getClient(w http.ResponseWriter, r *http.Request) error {
	c, err := h.clients.Client(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, h.clientView(c))
}

func (h *Handler) setClient(w http.ResponseWriter, r *http.Request) error {
	var req client.SetOAuthClient
	if err := decode(w, r, &req); err != nil {
		return err
	}
	c, err := h.clients.SetClient(r.Context(), actor(r), clients.ClientInput{
		App: r.PathValue("slug"), ClientID: req.ClientID, Secret: secret.New(req.ClientSecret), Managed: req.Managed,
		RedirectName: req.RedirectName,
	})
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, h.clientView(c))
}

func (h *Handler) deleteClient(w http.ResponseWriter, r *http.Request) error {
	if err := h.clients.DeleteClient(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
