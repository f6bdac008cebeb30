package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/mcpauth"
	"github.com/latchkeyhq/latchkey/internal/mcpserver"
)

// MCPDocsPath is where the page on connecting an agent is served: the
// MCP server's resource_documentation (RFC 9728) and the authorization
// server's service_documentation (RFC 8414) name it.
const MCPDocsPath = "/docs/mcp"

// mcpDocs is the page on connecting an agent to the MCP server.
type mcpDocs struct {
	// URL is the MCP URL; ResourceMetadata its RFC 9728 metadata.
	URL, ResourceMetadata string
	// Config and TokenConfig are example client configurations: the URL
	// alone, for OAuth, and with an API token.
	Config, TokenConfig string
	// OAuth is the authorization server; nil when there is none.
	OAuth *mcpDocsOAuth
	// ToolScopes are what a token needs for the tools; EndUserScopes what
	// acting for an end user needs besides.
	ToolScopes    []string
	EndUserScopes []string

	// Signed in: the workspace's tools, by app. Signed out: Shipped, the
	// number of the catalog's actions.
	SignedIn  bool
	Workspace string
	Apps      []mcpDocsApp
	Tools     int
	Shipped   int
	// CannotRun is the member's role when it runs no action.
	CannotRun string
}

// mcpDocsOAuth is the authorization server's metadata, and where it is.
type mcpDocsOAuth struct {
	MetadataURL string
	mcpauth.Metadata
	// Scopes are what its tokens may carry, as far as a role allows.
	Scopes []string
}

type mcpDocsApp struct {
	Slug, Name, Anchor string
	Tools              []mcpDocsTool
}

type mcpDocsTool struct{ Name, Description string }

// newMCPDocs is what the page says of this server, the same for everyone.
func newMCPDocs(publicURL string, oauth *mcpauth.Service) *mcpDocs {
	base := strings.TrimSuffix(publicURL, "/")
	d := &mcpDocs{
		URL:              base + mcpserver.Path,
		ResourceMetadata: base + mcpserver.MetadataPath,
		ToolScopes:       []string{identity.ScopeActionsRun, identity.ScopeAccountsRead},
		EndUserScopes:    []string{identity.ScopeConnectWrite},
	}
	d.Config = clientConfig(d.URL, nil)
	d.TokenConfig = clientConfig(d.URL, map[string]string{"Authorization": "Bearer lk_..."})
	if oauth != nil {
		d.OAuth = &mcpDocsOAuth{MetadataURL: base + mcpauth.MetadataPath, Metadata: oauth.Metadata(), Scopes: mcpauth.Scopes}
	}
	return d
}

// clientConfig is the mcpServers file many MCP clients read, with one
// server: Latchkey.
func clientConfig(url string, headers map[string]string) string {
	type server struct {
		URL     string            `json:"url"`
		Headers map[string]string `json:"headers,omitempty"`
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(map[string]map[string]server{"mcpServers": {"latchkey": {URL: url, Headers: headers}}})
	return strings.TrimSpace(b.String())
}

// mcpDocsPage serves the page to anyone, as the metadata that names it
// is served. A signed-in member also gets the workspace's tools, listed
// as the MCP server lists them, so the page cannot say other than the
// server; signed out it gives a count alone, since the catalog (with an
// operator's own apps) is otherwise shown only to a session or a token.
func (h *Handler) mcpDocsPage(w http.ResponseWriter, r *http.Request) error {
	const title = "Connect an agent (MCP)"
	c := *h.mcpDocs
	s := h.current(r)
	if s == nil {
		for _, a := range h.apps.Catalog().All() {
			c.Shipped += len(a.Actions)
		}
		h.render(w, r, http.StatusOK, "mcpdocs.html", view{Title: title, Content: c})
		return nil
	}
	list, err := h.actions.List(r.Context(), s.actor, "")
	if err != nil {
		return internalError{err}
	}
	c.SignedIn, c.Tools = true, len(list)
	// List gives each app's actions together, as the MCP server adds them.
	for _, a := range list {
		if n := len(c.Apps); n == 0 || c.Apps[n-1].Slug != a.App {
			c.Apps = append(c.Apps, mcpDocsApp{Slug: a.App, Name: a.AppName, Anchor: "tools-" + slug(a.App)})
		}
		app := &c.Apps[len(c.Apps)-1]
		app.Tools = append(app.Tools, mcpDocsTool{Name: mcpserver.ToolName(a.App, a.Action.Name), Description: a.Action.Description})
	}
	for _, m := range s.workspaces {
		if m.Current {
			c.Workspace = m.Workspace.Name
		}
	}
	if !s.actor.Role.Grants(identity.ScopeActionsRun) {
		c.CannotRun = string(s.actor.Role)
	}
	h.render(w, r, http.StatusOK, "mcpdocs.html", h.view(s, title, "", c))
	return nil
}
