package api

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/logos"
)

// summarize is an app as lists show it: enough to pick one and, for a
// keys app, to draw its form.
func summarize(a *catalog.App) client.App {
	s := client.App{Slug: a.Slug, Name: a.Name, Description: a.Description, Categories: a.Categories, Auth: string(a.Auth), DocsURL: a.DocsURL, LogoURL: logos.URL(a.Slug)}
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
	case "", catalog.AuthOAuth2, catalog.AuthOAuth1, catalog.AuthKeys, catalog.AuthBasic, catalog.AuthNone, catalog.AuthClientCredentials, catalog.AuthJWTBearer, catalog.AuthTwoStep:
	default:
		p := problem(http.StatusUnprocessableEntity, "validation", "The input is not valid",
			fmt.Sprintf("auth: %q must be oauth2, oauth1, keys, basic, none, client_credentials, jwt_bearer or two_step", auth))
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
	cat, err := h.apps.CatalogFor(r.Context(), actor(r))
	if err != nil {
		return err
	}
	page, more := cat.List(catalog.Filter{Query: q.Get("q"), Auth: auth, Category: q.Get("category"), After: after, Limit: limit})
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
	a, err := h.apps.App(r.Context(), actor(r).WorkspaceID, r.PathValue("slug"))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, appView{App: a, LogoURL: logos.URL(a.Slug)})
}

// appView is an app's whole catalog entry with its logo.
type appView struct {
	*catalog.App
	LogoURL string `json:"logo_url,omitempty"`
}

func (h *Handler) listCategories(w http.ResponseWriter, r *http.Request) error {
	cat, err := h.apps.CatalogFor(r.Context(), actor(r))
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, map[string]any{"data": cat.CategoryCounts()})
}

// setCustomApp takes an app definition in the catalog's schema, as YAML or
// JSON.
func (h *Handler) setCustomApp(w http.ResponseWriter, r *http.Request) error {
	switch ct := strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]); ct {
	case "application/json", "application/yaml", "application/x-yaml", "text/yaml", "":
	default:
		return problem(http.StatusUnsupportedMediaType, "unsupported-media-type", "The body must be YAML or JSON", "send Content-Type: application/yaml or application/json")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		return problem(http.StatusRequestEntityTooLarge, "body-too-large", "The body is too large", fmt.Sprintf("the limit is %d bytes", MaxBody))
	}
	app, err := h.apps.SetCustomApp(r.Context(), actor(r), r.PathValue("slug"), body)
	if err != nil {
		return err
	}
	return reply(w, http.StatusOK, app)
}

func (h *Handler) listCustomApps(w http.ResponseWriter, r *http.Request) error {
	cat, err := h.apps.CatalogFor(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := client.Page[client.App]{Data: []client.App{}}
	for _, a := range cat.All() {
		if _, shipped := h.apps.Catalog().Get(a.Slug); !shipped {
			out.Data = append(out.Data, summarize(a))
		}
	}
	return reply(w, http.StatusOK, out)
}

func (h *Handler) deleteCustomApp(w http.ResponseWriter, r *http.Request) error {
	if err := h.apps.DeleteCustomApp(r.Context(), actor(r), r.PathValue("slug")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) requestApp(w http.ResponseWriter, r *http.Request) error {
	var req client.AppRequest
	if err := decode(w, r, &req); err != nil {
		return err
	}
	got, err := h.apps.RequestApp(r.Context(), actor(r), apps.RequestInput{Name: req.Name, Reason: req.Reason, URL: req.URL})
	if err != nil {
		return err
	}
	return reply(w, http.StatusCreated, requestView(got))
}

func (h *Handler) listAppRequests(w http.ResponseWriter, r *http.Request) error {
	list, err := h.apps.AppRequests(r.Context(), actor(r))
	if err != nil {
		return err
	}
	out := client.Page[client.AppRequest]{Data: []client.AppRequest{}}
	for _, x := range list {
		out.Data = append(out.Data, requestView(x))
	}
	return reply(w, http.StatusOK, out)
}

func requestView(x apps.Request) client.AppRequest {
	return client.AppRequest{ID: x.ID, Name: x.Name, Reason: x.Reason, URL: x.URL, UserID: x.UserID, CreatedAt: *timestamp(&x.CreatedAt)}
}
