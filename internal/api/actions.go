package api

import (
	"encoding/json"
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/actions"
)

// SetActions sets the service behind the /v1/actions routes.
func (h *Handler) SetActions(svc *actions.Service) { h.actions = svc }

func (h *Handler) actionService() (*actions.Service, error) {
	if h.actions == nil {
		return nil, problem(http.StatusNotFound, "no-such-route", "No such API route", "actions are not served here")
	}
	return h.actions, nil
}

func actionOf(v actions.View) client.Action {
	input, _ := json.Marshal(v.Action.Input)
	return client.Action{Ref: v.Ref(), App: v.App, AppName: v.AppName, Name: v.Action.Name, Description: v.Action.Description,
		DocsURL: v.Action.DocsURL, Input: input, Method: v.Action.Request.Method, Path: v.Action.Request.Path, Output: v.Action.Output}
}

func (h *Handler) listActions(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.actionService()
	if err != nil {
		return err
	}
	list, err := svc.List(r.Context(), actor(r), r.URL.Query().Get("app"))
	if err != nil {
		return err
	}
	out := struct {
		Data []client.Action `json:"data"`
	}{Data: make([]client.Action, 0, len(list))}
	for _, v := range list {
		out.Data = append(out.Data, actionOf(v))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) getAction(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.actionService()
	if err != nil {
		return err
	}
	v, err := svc.Get(r.Context(), actor(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, actionOf(v))
}

func (h *Handler) runAction(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.actionService()
	if err != nil {
		return err
	}
	var in client.RunAction
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := svc.Run(r.Context(), actor(r), r.PathValue("ref"), in.AccountID, in.Input)
	if err != nil {
		return err
	}
	out := client.ActionResult{Action: res.Action, AccountID: res.AccountID, Status: res.Status, Body: res.Body, Output: res.Output,
		CredentialsRefused: res.CredentialsRefused, AccountStatus: res.AccountStatus, Failed: res.Failed, ProviderError: res.ProviderError,
		DurationMS: res.DurationMS}
	if res.CredentialsRefused {
		out.ReconnectPath = "/v1/accounts/" + res.AccountID + "/reconnect"
	}
	return reply(w, http.StatusOK, out)
}
