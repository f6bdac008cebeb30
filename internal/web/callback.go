// Package web serves Latchkey's browser-facing pages: for now, the OAuth
// callback that completes a connection.
package web

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/api"
)

//go:embed templates/*.html
var templates embed.FS

var pages = template.Must(template.ParseFS(templates, "templates/*.html"))

// CallbackPath is where providers send the user back; the redirect URI is
// the public URL plus this path.
const CallbackPath = "/oauth/callback"

// Handler serves the browser pages.
type Handler struct {
	accounts *accounts.Service
	log      *slog.Logger
}

// New returns the web handler.
func New(svc *accounts.Service, log *slog.Logger) *Handler {
	return &Handler{accounts: svc, log: log}
}

// Register adds the pages to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+CallbackPath, h.callback)
}

type callbackPage struct {
	OK, Reconnected                      bool
	AppName, Nickname, Identity, Message string
	AccountID                            string
}

// callback completes a connection. The page never shows the code, the
// state or a token; a client asking for JSON gets JSON.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	conn, acc, err := h.accounts.Callback(r.Context(), accounts.CallbackInput{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if wantsJSON(r) {
		if err != nil {
			api.WriteProblem(w, api.ToProblem(err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"completed","account_id":"` + acc.ID + `"}`))
		return
	}
	page := callbackPage{OK: err == nil}
	status := http.StatusOK
	if err != nil {
		p := api.ToProblem(err)
		status, page.Message = p.Status, p.Detail
		if p.Status >= 500 && !errors.Is(err, accounts.ErrBadState) {
			page.Message = "The provider did not issue a token. " + p.Detail
		}
	} else {
		page.AccountID, page.Nickname, page.Identity = acc.ID, acc.Nickname, acc.IdentityLabel
		// A reconnected account is older than the connection that renewed it.
		page.Reconnected = acc.CreatedAt.Before(conn.CreatedAt)
		page.AppName = acc.App
		if app, aerr := h.accounts.App(r.Context(), acc.WorkspaceID, acc.App); aerr == nil {
			page.AppName = app.Name
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, "callback.html", page); err != nil {
		h.log.ErrorContext(r.Context(), "rendering the callback page", "err", err)
	}
}

func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}
