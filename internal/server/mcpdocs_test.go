package server_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// crmWithAction is the workspace's own app, with one action: its tool is
// the workspace's alone.
const crmWithAction = customApp + `actions:
  - name: find_contact
    description: Find a contact of Acme CRM by email.
    docs_url: https://acme.example/docs/contacts
    input: {type: object, properties: {email: {type: string, description: The contact's email.}}}
    request: {method: GET, path: /v3/contacts, query: {email: '{email}'}}
`

// mcpDocsPage is the page as one browser sees it: its tools (name to
// description), the MCP URL it names and its example config.
type mcpDocsPage struct {
	body   string
	page   refPage
	tools  map[string]string
	url    string
	config string
}

func getMCPDocs(t *testing.T, c *http.Client, base string) mcpDocsPage {
	t.Helper()
	resp, body := getRefPage(t, c, base+"/docs/mcp")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs/mcp: %d %s\n%.500s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	p := mcpDocsPage{body: body, page: parseRefPage(t, body), tools: map[string]string{}}
	for _, n := range htmlFind(p.page.root, func(n *html.Node) bool { return htmlAttr(n, "data-tool") != "" }) {
		name := htmlAttr(n, "data-tool")
		if _, dup := p.tools[name]; dup {
			t.Errorf("the tool %s is listed twice", name)
		}
		// The description is the <dd> after the tool's <dt>.
		dd := n.Parent.NextSibling
		for dd != nil && dd.Type != html.ElementNode {
			dd = dd.NextSibling
		}
		if dd == nil || dd.Data != "dd" {
			t.Errorf("the tool %s has no description", name)
			continue
		}
		p.tools[name] = htmlText(dd)
	}
	for _, n := range htmlFind(p.page.root, func(n *html.Node) bool { return n.Data == "code" && hasAttr(n, "data-mcp-url") }) {
		p.url = htmlText(n)
	}
	if n := p.page.ids["mcp-config"]; n != nil {
		for d := range n.Descendants() {
			if d.Type == html.TextNode {
				p.config += d.Data
			}
		}
	}
	// Every link within the page leads somewhere on it.
	for _, a := range htmlFind(p.page.root, func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(htmlAttr(n, "href"), "#") }) {
		if p.page.ids[strings.TrimPrefix(htmlAttr(a, "href"), "#")] == nil {
			t.Errorf("the link %q (%s) leads to no element", htmlAttr(a, "href"), htmlText(a))
		}
	}
	return p
}

func hasAttr(n *html.Node, key string) bool {
	return slices.ContainsFunc(n.Attr, func(a html.Attribute) bool { return a.Key == key })
}

// TestMCPDocs: the page the metadata names as documentation is there for
// anyone; it names this instance's MCP URL and metadata, whose documents
// answer and name the page back; a signed-in member sees the workspace's
// tools exactly as an MCP client of theirs lists them (the workspace's
// own app's among them), with their descriptions; another workspace's
// owner and a browser signed out do not see that workspace's tool.
func TestMCPDocs(t *testing.T) {
	f := start(t, servertest.Backends[0])
	ctx := context.Background()
	if _, err := f.api.SetCustomApp(ctx, "acme_crm", []byte(crmWithAction)); err != nil {
		t.Fatal(err)
	}
	const own = "acme_crm_find_contact"

	anon := getMCPDocs(t, http.DefaultClient, f.URL)
	if anon.url != f.URL+"/mcp" {
		t.Errorf("the page names the MCP URL %q, want %q", anon.url, f.URL+"/mcp")
	}
	var config struct {
		MCPServers map[string]struct {
			URL string `json:"url"`
		} `json:"mcpServers"`
	}
	if err := json.Unmarshal([]byte(anon.config), &config); err != nil || config.MCPServers["latchkey"].URL != f.URL+"/mcp" {
		t.Errorf("the example config %q: %+v, %v", anon.config, config, err)
	}

	// The metadata the page links to is this instance's, answers, and
	// names the page as its documentation, which answers too.
	links := map[string]string{}
	for _, a := range htmlFind(anon.page.root, func(n *html.Node) bool { return n.Data == "a" && htmlAttr(n, "data-metadata") != "" }) {
		links[htmlAttr(a, "data-metadata")] = htmlAttr(a, "href")
	}
	var resource struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Documentation        string   `json:"resource_documentation"`
	}
	if links["resource"] != f.URL+"/.well-known/oauth-protected-resource" {
		t.Errorf("the page links to the resource metadata %q", links["resource"])
	}
	getJSON(t, links["resource"], &resource)
	if resource.Resource != anon.url || len(resource.AuthorizationServers) != 1 {
		t.Errorf("the resource metadata: %+v", resource)
	}
	var server struct {
		Issuer        string `json:"issuer"`
		Documentation string `json:"service_documentation"`
	}
	if want := f.URL + "/.well-known/oauth-authorization-server"; links["authorization-server"] != want {
		t.Errorf("the page links to the authorization server metadata %q, want %q", links["authorization-server"], want)
	}
	getJSON(t, links["authorization-server"], &server)
	if len(resource.AuthorizationServers) == 1 && server.Issuer != resource.AuthorizationServers[0] || !strings.Contains(anon.body, "<code>"+server.Issuer+"</code>") {
		t.Errorf("the authorization server %q is not the one the resource metadata names, %v, or not on the page", server.Issuer, resource.AuthorizationServers)
	}
	for which, doc := range map[string]string{"resource_documentation": resource.Documentation, "service_documentation": server.Documentation} {
		if doc != f.URL+"/docs/mcp" {
			t.Errorf("%s is %q, want this page", which, doc)
			continue
		}
		if status, _ := get(t, http.DefaultClient, doc); status != http.StatusOK {
			t.Errorf("%s %s answers %d", which, doc, status)
		}
	}

	// Signed out: a count, and no workspace's tool.
	shipped, err := f.api.ListActions(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(anon.tools) != 0 || strings.Contains(anon.body, own) {
		t.Errorf("a browser signed out sees tools: %v", slices.Collect(maps.Keys(anon.tools)))
	}
	if !strings.Contains(anon.body, `data-tool-count="`+strconv.Itoa(len(shipped)-1)+`"`) || !strings.Contains(anon.body, `href="/login?next=/docs/mcp"`) {
		t.Errorf("signed out, the page does not count the catalog's %d actions and offer to sign in", len(shipped)-1)
	}

	slackPost, err := f.api.GetAction(ctx, "slack.post_message")
	if err != nil {
		t.Fatal(err)
	}
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	viewer := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
	outsider := otherWorkspaceUser(t, f.Instance, "zed@other.test")
	outsiderToken, _, err := f.Identity().IssueToken(ctx, outsider.WorkspaceID, outsider.ID, "agent", []string{identity.ScopeAll})
	if err != nil {
		t.Fatal(err)
	}
	memberToken, _, err := f.Identity().IssueToken(ctx, member.WorkspaceID, member.ID, "agent", []string{identity.ScopeActionsRun, identity.ScopeAccountsRead})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who     string
		u       webUser
		token   string
		ownTool bool
	}{
		{"a member", member, memberToken.Reveal(), true},
		{"another workspace's owner", outsider, outsiderToken.Reveal(), false},
	} {
		b := browser(t)
		if status, _ := signIn(t, b, f.Instance, tc.u, "/"); status != http.StatusOK {
			t.Fatalf("%s: sign-in %d", tc.who, status)
		}
		p := getMCPDocs(t, b, f.URL)
		if !strings.Contains(p.body, tc.u.Email) || !strings.Contains(p.body, "Sign out") {
			t.Errorf("%s: the page has not their header", tc.who)
		}
		// What an MCP client of theirs lists, through the Go SDK.
		res, err := mcpSession(t, f.URL, "/mcp", tc.token, nil).ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]string{}
		for _, tool := range res.Tools {
			listed[tool.Name] = strings.Join(strings.Fields(tool.Description), " ")
		}
		if len(listed) < 100 {
			t.Fatalf("%s: the MCP server lists only %d tools", tc.who, len(listed))
		}
		if !maps.Equal(p.tools, listed) {
			for name, d := range p.tools {
				if listed[name] != d {
					t.Errorf("%s: the page lists %s (%q), the MCP server %q", tc.who, name, d, listed[name])
				}
			}
			for name := range listed {
				if _, ok := p.tools[name]; !ok {
					t.Errorf("%s: the MCP server lists %s, the page does not", tc.who, name)
				}
			}
		}
		if !strings.Contains(p.body, `data-tool-count="`+strconv.Itoa(len(listed))+`"`) {
			t.Errorf("%s: the page does not count %d tools", tc.who, len(listed))
		}
		if _, ok := p.tools[own]; ok != tc.ownTool {
			t.Errorf("%s: the workspace's own tool %s listed: %v, want %v", tc.who, own, ok, tc.ownTool)
		}
		if d := p.tools["slack_post_message"]; d == "" || d != strings.Join(strings.Fields(slackPost.Description), " ") {
			t.Errorf("%s: slack_post_message is described as %q, the catalog says %q", tc.who, d, slackPost.Description)
		}
		if strings.Contains(p.body, "you run no action") {
			t.Errorf("%s: told their role runs no action", tc.who)
		}
		// The signed-in pages and the API reference link to the page.
		for _, from := range []string{"/", "/docs/api"} {
			if _, body := get(t, b, f.URL+from); !strings.Contains(body, `href="/docs/mcp"`) {
				t.Errorf("%s: %s has no link to the page", tc.who, from)
			}
		}
	}

	b := browser(t)
	if status, _ := signIn(t, b, f.Instance, viewer, "/"); status != http.StatusOK {
		t.Fatalf("viewer: sign-in %d", status)
	}
	if p := getMCPDocs(t, b, f.URL); len(p.tools) < 100 || !strings.Contains(p.body, "As a viewer you run no action") {
		t.Errorf("a viewer sees %d tools, or is not told a viewer runs none", len(p.tools))
	}
}
