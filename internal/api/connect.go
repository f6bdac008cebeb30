package api

import (
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/connecting"
)

func connectionView(c connecting.Connection, authorizeURL string) client.Connection {
	return client.Connection{
		ID: c.ID, App: c.App, Status: c.Status, AuthorizeURL: authorizeURL,
		AccountID: c.AccountID, Error: c.Error, ExpiresAt: *timestamp(&c.ExpiresAt),
	}
}

func (h *Handler) connect(w http.ResponseWriter, r *http.Request) error {
	var req client.Connect
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if req.AccountID != "" {
		if err := h.mayUseAccount(r, req.AccountID); err != nil {
			return err
		}
	} else if err := mayUseApp(actor(r), req.App); err != nil {
		return err
	}
	return h.startConnection(w, r, connecting.ConnectInput{
		App: req.App, Nickname: req.Nickname, Scopes: req.Scopes, AccountID: req.AccountID, Fields: req.Fields, Shared: req.Shared,
	})
}

func (h *Handler) reconnect(w http.ResponseWriter, r *http.Request) error {
	var req struct{}
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	return h.startConnection(w, r, connecting.ConnectInput{AccountID: r.PathValue("id")})
}

func (h *Handler) startConnection(w http.ResponseWriter, r *http.Request, in connecting.ConnectInput) error {
	started, err := h.connecting.Connect(r.Context(), actor(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/connect/"+started.Connection.ID)
	w.Header().Set("Cache-Control", "no-store")
	v := connectionView(started.Connection, started.AuthorizeURL)
	v.OneTimeCode = started.OneTimeCode
	return reply(w, http.StatusCreated, v)
}

func (h *Handler) getConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := h.connecting.Connection(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, connectionView(c, ""))
}
