package api

import (
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
)

// SetMCPAuth sets the service behind the /v1/mcp-grants routes.
func (h *Handler) SetMCPAuth(svc *mcpauth.Service) { h.mcpAuth = svc }

func (h *Handler) listMCPGrants(w http.ResponseWriter, r *http.Request) error {
	out := client.Page[client.MCPGrant]{Data: []client.MCPGrant{}}
	if h.mcpAuth == nil {
		return reply(w, http.StatusOK, out)
	}
	list, err := h.mcpAuth.Grants(r.Context(), actor(r))
	if err != nil {
		return err
	}
	for _, g := range list {
		scopes := g.Scopes
		if scopes == nil {
			scopes = []string{}
		}
		out.Data = append(out.Data, client.MCPGrant{ID: g.ID, ClientID: g.ClientID, ClientName: g.ClientName, RedirectHost: g.RedirectHost,
			Scopes: scopes, Resource: g.Resource, CreatedAt: g.CreatedAt})
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) revokeMCPGrant(w http.ResponseWriter, r *http.Request) error {
	if h.mcpAuth == nil {
		return mcpauth.ErrNoGrant
	}
	if err := h.mcpAuth.Revoke(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
