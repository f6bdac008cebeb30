// Package web serves Latchkey's browser pages: first-run set-up and
// sign-in, the accounts page, connecting accounts (OAuth in a popup, keys in
// a form), account detail and OAuth clients. Pages are server-rendered with
// html/template; a little plain JavaScript adds the popup, the type-ahead
// and the dialogs. Templates and static files are embedded.
//
// Browser routes are kept apart from the API: they authenticate with a
// session cookie, refuse cross-origin state changes, and send a strict
// Content-Security-Policy with no inline script or style.
package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"hash/fnv"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CallbackPath is where providers send the user back; the redirect URI is
// the public URL plus this path.
const CallbackPath = "/oauth/callback"

// Options configure the pages.
type Options struct {
	Accounts  *accounts.Service
	Workflows *workflows.Service
	Store     store.Store
	Clock     clockwork.Clock
	Log       *slog.Logger
	// PublicURL decides whether cookies are Secure (under https).
	PublicURL string
	// AppOrigins are http origins apps may be sent to (tests, gateways); a
	// form that starts a connection may redirect to them.
	AppOrigins map[string]string
}

// Handler serves the browser pages.
type Handler struct {
	accounts  *accounts.Service
	workflows *workflows.Service
	store     store.Store
	clock     clockwork.Clock
	log       *slog.Logger
	secure    bool
	csp       string
	pages     map[string]*template.Template
	limiter   *limiter
}

// New returns the web handler.
func New(o Options) *Handler {
	u, _ := url.Parse(o.PublicURL)
	h := &Handler{
		accounts: o.Accounts, workflows: o.Workflows, store: o.Store, clock: o.Clock, log: o.Log,
		secure:  u != nil && u.Scheme == "https",
		limiter: newLimiter(o.Clock),
	}
	// A form that starts an OAuth connection redirects to the provider, and
	// form-action governs such redirects too.
	formAction := []string{"'self'", "https:"}
	var origins []string
	for _, o := range o.AppOrigins {
		if strings.HasPrefix(o, "http://") {
			origins = append(origins, o)
		}
	}
	sort.Strings(origins)
	formAction = append(formAction, origins...)
	h.csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
		"form-action " + strings.Join(formAction, " ") + "; frame-ancestors 'none'; base-uri 'none'"
	h.pages = parsePages()
	return h
}

var funcs = template.FuncMap{
	"monogram": monogram,
	"hue":      hue,
	"date":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"when": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"join":  strings.Join,
	"minus": func(a, b int) int { return a - b },
	// short keeps a table cell to a line or two; the title has it all.
	"short": func(s string) string {
		if r := []rune(s); len(r) > 90 {
			return string(r[:90]) + "…"
		}
		return s
	},
	"pretty": func(b []byte) string {
		var out bytes.Buffer
		if json.Indent(&out, b, "", "  ") != nil {
			return string(b)
		}
		return out.String()
	},
	"appref": func(slug, name string) appRef { return appRef{Slug: slug, Name: name} },
}

// appRef names an app for its monogram.
type appRef struct{ Slug, Name string }

// parsePages parses each page with the shared layout, once.
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		base := strings.TrimPrefix(n, "templates/")
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		out[base] = template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n))
	}
	return out
}

// monogram is the one or two letters that stand for an app, since logos
// cannot be fetched.
func monogram(name string) string {
	var letters []rune
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		letters = append(letters, unicode.ToUpper([]rune(w)[0]))
		if len(letters) == 2 {
			break
		}
	}
	if len(letters) == 0 {
		return "?"
	}
	return string(letters)
}

// hue picks one of twelve colour classes for an app, the same every time.
func hue(slug string) string {
	f := fnv.New32a()
	f.Write([]byte(slug))
	return "h" + string(rune('a'+f.Sum32()%12))
}

// Register adds the pages to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))

	page := func(pattern string, fn func(http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, h.browser(http.HandlerFunc(fn)))
	}
	page("GET "+CallbackPath, h.callback)
	page("GET "+CallbackPath+"/resume/{id}", h.resume)
	page("POST "+CallbackPath+"/resume/{id}", h.resume)
	page("GET /setup", h.setupPage)
	page("POST /setup", h.setup)
	page("GET /login", h.loginPage)
	page("POST /login", h.login)
	page("POST /logout", h.logout)

	signedIn := func(pattern string, fn func(http.ResponseWriter, *http.Request, *session)) {
		page(pattern, h.requireSession(fn))
	}
	signedIn("GET /{$}", h.accountsPage)
	signedIn("GET /ui/accounts/rows", h.accountRows)
	signedIn("GET /accounts/{id}", h.accountPage)
	signedIn("POST /accounts/{id}/rename", h.rename)
	signedIn("POST /accounts/{id}/delete", h.delete)
	signedIn("POST /accounts/{id}/reconnect", h.reconnect)
	signedIn("POST /accounts/{id}/credentials", h.replaceKeys)
	signedIn("GET /connect", h.pickerPage)
	signedIn("GET /ui/apps", h.searchApps)
	signedIn("GET /connect/{slug}", h.connectPage)
	signedIn("POST /connect/{slug}", h.connect)
	signedIn("GET /workflows", h.workflowsPage)
	signedIn("POST /workflows", h.createWorkflow)
	signedIn("GET /workflows/{id}", h.workflowPage)
	signedIn("POST /workflows/{id}/links", h.saveLinks)
	signedIn("POST /workflows/{id}/run", h.runWorkflow)
	signedIn("POST /workflows/{id}/delete", h.deleteWorkflow)
	signedIn("GET /oauth-clients", h.clientsPage)
	signedIn("POST /oauth-clients", h.setClient)
	signedIn("POST /oauth-clients/{id}/delete", h.deleteClient)
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		next.ServeHTTP(w, r)
	})
}

// browser wraps every page: cross-origin state changes are refused, and
// responses carry the Content-Security-Policy and are not cached.
func (h *Handler) browser(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("refused a cross-origin request", "method", r.Method, "path", r.URL.Path, "origin", r.Header.Get("Origin"))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", h.csp)
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	}))
}

// view is what every page template gets.
type view struct {
	Title   string
	User    *store.User
	Owner   bool
	Nav     string
	Flash   string
	Error   string
	Content any
}

// render writes a page. Rendering into a buffer first means a template
// error becomes a clean 500, not half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	t, ok := h.pages[name]
	if !ok {
		h.log.Error("no such page template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	tmpl := "layout"
	if r.Header.Get("X-Fragment") == "1" {
		tmpl = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, tmpl, v); err != nil {
		h.log.ErrorContext(r.Context(), "rendering a page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
