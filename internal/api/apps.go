package api

import (
	"fmt"
	"net/http"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// summarize is an app as lists show it: enough to pick one and, for a
// keys app, to draw its form.
func summarize(a *catalog.App) client.App {
	s := client.App{Slug: a.Slug, Name: a.Name, Description: a.Description, Categories: a.Categories, Auth: string(a.Auth), DocsURL: a.DocsURL}
	for _, f := range a.Fields {
		s.Fields = append(s.Fields, client.Field(f))
	}
	if a.OAuth2 != nil {
		s.DefaultScopes = a.OAuth2.DefaultScopes
	}
	return s
}

func (h *Handler) listApps(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	auth := catalog.AuthType(q.Get("auth"))
	switch auth {
	case "", catalog.AuthOAuth2, catalog.AuthKeys, catalog.AuthNone:
	default:
		p := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid", fmt.Sprintf("auth: %q must be oauth2, keys or none", auth))
		p.Field = "auth"
		return p
	}
	limit, err := limitParam(r, 50, 500)
	if err != nil {
		return err
	}
	after, err := decodeCursor(r)
	if err != nil {
		return err
	}
	page, more := h.accounts.Catalog().List(catalog.Filter{Query: q.Get("q"), Auth: auth, Category: q.Get("category"), After: after, Limit: limit})
	out := client.Page[client.App]{Data: make([]client.App, 0, len(page))}
	for _, a := range page {
		out.Data = append(out.Data, summarize(a))
	}
	if more {
		out.NextCursor = encodeCursor(page[len(page)-1].Slug)
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) getApp(w http.ResponseWriter, r *http.Request) error {
	a, ok := h.accounts.Catalog().Get(r.PathValue("slug"))
	if !ok {
		return problem(http.StatusNotFound, "unknown-app", "No such app", fmt.Sprintf("the catalog has no app %q", r.PathValue("slug")))
	}
	return reply(w, http.StatusOK, a)
}

func (h *Handler) listCategories(w http.ResponseWriter, r *http.Request) error {
	return reply(w, http.StatusOK, map[string]any{"data": h.accounts.Catalog().CategoryCounts()})
}
