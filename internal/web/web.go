// Package web serves Latchkey's browser pages: first-run set-up and
// sign-in, the accounts page, connecting accounts (OAuth in a popup, keys
// in a form), account detail, OAuth clients, workflows, members, tokens,
// the API reference and the page on connecting an agent over MCP. Pages
// are server-rendered with html/template; a little plain JavaScript adds
// the popup, the type-ahead and the dialogs. Templates and static files
// are embedded.
//
// Browser routes are kept apart from the API: they authenticate with a
// session cookie, refuse cross-origin state changes, and send a strict
// Content-Security-Policy with no inline script or style.
package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/actions"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/endusers"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/logos"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/webhooks"
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
	Accounts *accounts.Service
	// Connecting runs the OAuth connect flow and its callback.
	Connecting *connecting.Service
	Apps       *apps.Service
	Clients    *clients.Service
	Workflows  *workflows.Service
	// Identity says who is signed in, and signs people in and out.
	Identity *identity.Service
	Clock    clockwork.Clock
	Log      *slog.Logger
	// PublicURL decides whether cookies are Secure (under https).
	PublicURL string
	// AppOrigins are http origins apps may be sent to (tests, gateways); a
	// form that starts a connection may redirect to them.
	AppOrigins map[string]string
	// Audit reads the workspace's audit log for the Activity page.
	Audit *audit.Service
	// EndUsers serves the hosted connect page.
	EndUsers *endusers.Service
	// Actions finds the catalog actions whose steps the workflow pages edit.
	Actions *actions.Service
	// Webhooks manages the workspace's webhook endpoints.
	Webhooks *webhooks.Service
	// MCPAuth is the authorization server for MCP clients: its consent
	// page and the members' grants. Nil serves neither.
	MCPAuth *mcpauth.Service
	// APIReference is the API's document, for the reference page.
	APIReference *APIReference
}

// Handler serves the browser pages.
type Handler struct {
	accounts   *accounts.Service
	connecting *connecting.Service
	apps       *apps.Service
	clients    *clients.Service
	workflows  *workflows.Service
	identity   *identity.Service
	clock      clockwork.Clock
	log        *slog.Logger
	secure     bool
	// csp is the policy of a page that starts no OAuth connection.
	csp string
	// httpOrigins are the http AppOrigins, which "https:" does not cover.
	httpOrigins []string
	pages       map[string]*template.Template
	audit       *audit.Service
	endUsers    *endusers.Service
	actions     *actions.Service
	webhooks    *webhooks.Service
	mcpAuth     *mcpauth.Service
	reference   *APIReference
	mcpDocs     *mcpDocs
}

// New returns the web handler.
func New(o Options) *Handler {
	u, _ := url.Parse(o.PublicURL)
	h := &Handler{
		accounts: o.Accounts, connecting: o.Connecting, apps: o.Apps, clients: o.Clients, workflows: o.Workflows, identity: o.Identity, clock: o.Clock, log: o.Log,
		secure: u != nil && u.Scheme == "https", audit: o.Audit, endUsers: o.EndUsers, actions: o.Actions, webhooks: o.Webhooks,
		mcpAuth:   o.MCPAuth,
		reference: o.APIReference,
		mcpDocs:   newMCPDocs(o.PublicURL, o.MCPAuth),
	}
	for _, o := range o.AppOrigins {
		if strings.HasPrefix(o, "http://") {
			h.httpOrigins = append(h.httpOrigins, o)
		}
	}
	sort.Strings(h.httpOrigins)
	h.csp = h.policy(nil)
	h.pages = parsePages()
	return h
}

// Register adds the pages to mux.
func (h *Handler) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	// Logos are the same for everyone and need no session, like /static/.
	mux.Handle("GET "+logos.Prefix+"{file}", logos.Handler())

	page := func(pattern string, fn func(http.ResponseWriter, *http.Request)) {
		mux.Handle(pattern, h.browser(http.HandlerFunc(fn)))
	}
	// Handlers return their errors; these adapters render them, the one
	// place that does (see renderError).
	public := func(pattern string, fn publicFunc) {
		page(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				h.renderError(w, r, nil, err)
			}
		})
	}
	public("GET "+CallbackPath, h.callback)
	public("POST "+CallbackPath, h.callbackPost)
	public("GET "+CallbackPath+"/resume/{id}", h.resume)
	public("POST "+CallbackPath+"/resume/{id}", h.resume)
	if h.endUsers != nil {
		mux.HandleFunc("GET "+ConnectScriptPath, connectJS)
		public("GET "+endusers.LinkPath, h.connectLinkPage)
		public("POST "+endusers.LinkPath, h.connectLinkPost)
	}
	if h.reference != nil {
		public("GET "+APIReferencePath, h.apiReference)
	}
	// The tools it lists are the actions'; without them there are none.
	if h.actions != nil && h.apps != nil {
		public("GET "+MCPDocsPath, h.mcpDocsPage)
	}
	page("GET /setup", h.setupPage)
	page("POST /setup", h.setup)
	page("GET /login", h.loginPage)
	page("POST /login", h.login)
	page("POST /logout", h.logout)
	public("GET "+invitePath+"{token}", h.linkPage(false))
	public("POST "+invitePath+"{token}", h.linkPage(false))
	public("GET "+resetPath+"{token}", h.linkPage(true))
	public("POST "+resetPath+"{token}", h.linkPage(true))

	signedIn := func(pattern string, fn pageFunc) {
		page(pattern, h.requireSession(h.adapt(fn)))
	}
	signedIn("GET /{$}", h.accountsPage)
	signedIn("GET /ui/accounts/rows", h.accountRows)
	signedIn("GET /accounts/{id}", h.accountPage)
	signedIn("POST /accounts/{id}/rename", h.rename)
	signedIn("POST /accounts/{id}/delete", h.delete)
	signedIn("POST /accounts/{id}/reconnect", h.reconnect)
	signedIn("POST /accounts/{id}/credentials", h.replaceKeys)
	signedIn("POST /accounts/{id}/sharing", h.share)
	signedIn("GET /connect", h.pickerPage)
	signedIn("GET /ui/apps", h.searchApps)
	signedIn("GET /connect/{slug}", h.connectPage)
	signedIn("POST /connect/{slug}", h.connect)
	signedIn("GET /workflows", h.workflowsPage)
	signedIn("POST /workflows", h.createWorkflow)
	signedIn("GET /workflows/new-action", h.newActionPage)
	signedIn("POST /workflows/new-action", h.createActionWorkflow)
	signedIn("GET /workflows/{id}", h.workflowPage)
	signedIn("POST /workflows/{id}/links", h.saveLinks)
	signedIn("POST /workflows/{id}/run", h.runWorkflow)
	signedIn("POST /workflows/{id}/delete", h.deleteWorkflow)
	signedIn("GET /oauth-clients", h.clientsPage)
	signedIn("POST /oauth-clients", h.setClient)
	signedIn("POST /oauth-clients/{id}/delete", h.deleteClient)
	signedIn("GET /members", h.membersPage)
	signedIn("POST /members", h.invite)
	signedIn("POST /members/{id}/role", h.changeRole)
	signedIn("POST /members/{id}/remove", h.removeMember)
	signedIn("POST /members/{id}/password-reset", h.resetLink)
	signedIn("POST /invitations/{id}/resend", h.resendInvitation)
	signedIn("POST /invitations/{id}/revoke", h.revokeInvitation)
	signedIn("GET /password", h.passwordPage)
	signedIn("POST /password", h.changePassword)
	signedIn("POST /workspace", h.switchWorkspace)
	signedIn("GET /tokens", h.tokensPage)
	signedIn("POST /tokens", h.createToken)
	signedIn("POST /tokens/{id}/revoke", h.revokeToken)
	signedIn("POST /tokens/{id}/rotate", h.rotateToken)
	if h.mcpAuth != nil {
		signedIn("GET "+mcpauth.AuthorizePath, h.mcpAuthorize)
		signedIn("POST "+mcpauth.AuthorizePath, h.mcpConsent)
		signedIn("POST /tokens/mcp/{id}/revoke", h.revokeMCPGrant)
	}
	signedIn("GET /activity", h.activityPage)
	signedIn("GET /webhooks", h.webhooksPage)
	signedIn("POST /webhooks", h.createWebhook)
	signedIn("GET /webhooks/{id}", h.deliveriesPage)
	signedIn("POST /webhooks/{id}/enable", h.turnWebhook(true))
	signedIn("POST /webhooks/{id}/disable", h.turnWebhook(false))
	signedIn("POST /webhooks/{id}/rotate", h.rotateWebhook)
	signedIn("POST /webhooks/{id}/delete", h.deleteWebhook)
	signedIn("POST /webhooks/{id}/deliveries/{delivery}/redeliver", h.redeliverWebhook)
}

// adapt renders the error a signed-in page returns.
func (h *Handler) adapt(fn pageFunc) func(http.ResponseWriter, *http.Request, *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		if err := fn(w, r, s); err != nil {
			h.renderError(w, r, s, err)
		}
	}
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
	// A provider may post its callback (Copper); that handler only turns
	// the post into the GET callback, which checks the state.
	cop.AddInsecureBypassPattern("POST " + CallbackPath)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.log.Warn("refused a cross-origin request", "method", r.Method, "path", logPath(r), "origin", r.Header.Get("Origin"))
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", h.csp)
		w.Header().Set("Cache-Control", "no-store")
		if h.secure {
			// Browsers that have seen the site over https never again
			// try it over http, where a network could read the cookie.
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		if err := readForm(w, r); err != nil {
			h.refuseForm(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// hsts is the Strict-Transport-Security value under https: a year, for
// this host only (subdomains may be other services).
const hsts = "max-age=31536000"

// maxFormBytes bounds a browser form, multipart or not. The largest real
// one (a workflow's steps) is a few KiB.
const maxFormBytes = 64 << 10

// readForm reads and parses a form post, at most maxFormBytes of it,
// before any handler looks at a value. Parsing it here, with its error
// checked, means no handler's PostFormValue parses it again with the
// standard library's 32 MiB allowance.
func readForm(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// A body of at most maxFormBytes fits in memory whole; no part
		// goes to a temporary file.
		return r.ParseMultipartForm(maxFormBytes)
	}
	return r.ParseForm()
}

// refuseForm answers a form that is too large or does not parse; nothing
// was changed.
func (h *Handler) refuseForm(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusBadRequest, "The form could not be read; nothing was changed."
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		status, msg = http.StatusRequestEntityTooLarge, fmt.Sprintf("The form is larger than %d KiB; nothing was changed.", maxFormBytes>>10)
	}
	h.log.WarnContext(r.Context(), "refused a form", "path", logPath(r), "status", status, "err", err)
	if wantsJSON(r) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		writeJSON(w, map[string]string{"error": msg})
		return
	}
	h.render(w, r, status, "error.html", view{Title: http.StatusText(status), Error: msg})
}

// view is what every page template gets.
type view struct {
	Title string
	User  *identity.User
	// Owner shows the workspace settings (OAuth clients): owners and admins.
	Owner bool
	// Workspaces are the person's workspaces, for the switcher.
	Workspaces []identity.Membership
	Nav        string
	// Activity shows the Activity page in the menu: owners and admins.
	Activity bool
	Flash    string
	Error    string
	// ErrorLink is the page that fixes Error, if any.
	ErrorLink *errorLink
	Content   any
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
