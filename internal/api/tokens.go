package api

import (
	"net/http"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
)

func tokenView(t identity.Token) client.Token {
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return client.Token{ID: t.ID, Name: t.Name, Scopes: orEmpty(t.Scopes), AccountIDs: orEmpty(t.AccountIDs), Apps: orEmpty(t.Apps),
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, ReplacedBy: t.ReplacedBy, ValidUntil: t.ValidUntil}
}

func (h *Handler) createToken(w http.ResponseWriter, r *http.Request) error {
	var req client.CreateToken
	if err := decode(w, r, &req); err != nil {
		return err
	}
	plain, t, err := h.identity.CreateToken(r.Context(), actor(r), identity.NewToken{
		Name: req.Name, Scopes: req.Scopes, AccountIDs: req.AccountIDs, Apps: req.Apps, ExpiresAt: req.ExpiresAt,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/tokens/"+t.ID)
	return reply(w, http.StatusCreated, client.NewToken{Token: tokenView(t), Secret: plain.Reveal()})
}

func (h *Handler) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := h.identity.Tokens(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := client.Page[client.Token]{Data: make([]client.Token, 0, len(list))}
	for _, t := range list {
		out.Data = append(out.Data, tokenView(t))
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := h.identity.RevokeToken(r.Context(), actor(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) rotateToken(w http.ResponseWriter, r *http.Request) error {
	var req client.RotateToken
	if r.ContentLength != 0 {
		if err := decode(w, r, &req); err != nil {
			return err
		}
	}
	overlap := identity.DefaultOverlap
	if req.Overlap != "" {
		d, err := time.ParseDuration(req.Overlap)
		if err != nil {
			return &identity.InputError{Message: "The overlap must be a duration such as 1h or 0s."}
		}
		overlap = d
	}
	plain, t, err := h.identity.RotateToken(r.Context(), actor(r), r.PathValue("id"), overlap)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return reply(w, http.StatusOK, client.NewToken{Token: tokenView(t), Secret: plain.Reveal()})
}
