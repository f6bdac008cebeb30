package server_test

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	"golang.org/x/net/html"

	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// refPage is the reference page, parsed.
type refPage struct {
	root *html.Node
	ids  map[string]*html.Node
}

func parseRefPage(t *testing.T, body string) refPage {
	t.Helper()
	root, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	p := refPage{root: root, ids: map[string]*html.Node{}}
	for n := range root.Descendants() {
		if id := htmlAttr(n, "id"); id != "" {
			if p.ids[id] != nil {
				t.Errorf("the id %q is on two elements", id)
			}
			p.ids[id] = n
		}
	}
	return p
}

func htmlAttr(n *html.Node, key string) string {
	if n.Type != html.ElementNode {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// htmlFind is every element under n that ok accepts.
func htmlFind(n *html.Node, ok func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && ok(d) {
			out = append(out, d)
		}
	}
	return out
}

func htmlText(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// fieldNames are the property names a section shows, as code.
func fieldNames(n *html.Node) []string {
	var out []string
	for _, c := range htmlFind(n, func(d *html.Node) bool { return d.Data == "code" && htmlAttr(d, "class") == "apiref-name" }) {
		out = append(out, htmlText(c))
	}
	return out
}

func getRefPage(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(raw)
}

// Every operation of the document the server serves, read by libopenapi,
// has its section on the page, under its tag, with an anchor the contents
// link to, its summary, its parameters, its request body's fields and its
// answers; and the page has no operation the document lacks.
func TestAPIReferenceShowsEveryOperation(t *testing.T) {
	f := start(t, servertest.Backends[0])
	doc, err := libopenapi.NewDocument(fetchOpenAPI(t, f.URL))
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	resp, body := getRefPage(t, http.DefaultClient, f.URL+"/docs/api")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs/api: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := parseRefPage(t, body)
	contents := page.ids["contents"]
	if contents == nil {
		t.Fatal("the page has no contents")
	}
	var index []string
	for _, a := range htmlFind(contents, func(n *html.Node) bool { return n.Data == "a" }) {
		index = append(index, htmlAttr(a, "href"))
	}
	// Every link within the page leads somewhere on it.
	for _, a := range htmlFind(page.root, func(n *html.Node) bool { return n.Data == "a" && strings.HasPrefix(htmlAttr(n, "href"), "#") }) {
		if page.ids[strings.TrimPrefix(htmlAttr(a, "href"), "#")] == nil {
			t.Errorf("the link %q (%s) leads to no element", htmlAttr(a, "href"), htmlText(a))
		}
	}

	sections := htmlFind(page.root, func(n *html.Node) bool { return n.Data == "article" && htmlAttr(n, "data-method") != "" })
	shown := map[string]*html.Node{}
	for _, s := range sections {
		key := htmlAttr(s, "data-method") + " " + htmlAttr(s, "data-path")
		if shown[key] != nil {
			t.Errorf("%s has two sections", key)
		}
		shown[key] = s
	}
	ops := 0
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			ops++
			key := strings.ToUpper(method) + " " + path
			s := shown[key]
			if s == nil {
				t.Errorf("%s is not on the page", key)
				continue
			}
			id := htmlAttr(s, "id")
			if id == "" || !slices.Contains(index, "#"+id) {
				t.Errorf("%s: the contents do not link to its anchor %q", key, id)
			}
			if len(op.Tags) > 0 && htmlAttr(s.Parent, "data-tag") != op.Tags[0] {
				t.Errorf("%s is under the tag %q, not %q", key, htmlAttr(s.Parent, "data-tag"), op.Tags[0])
			}
			if !strings.Contains(htmlText(s), op.Summary) {
				t.Errorf("%s: the summary %q is not in its section", key, op.Summary)
			}
			for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
				if len(htmlFind(s, func(n *html.Node) bool { return htmlAttr(n, "data-param") == p.Name })) == 0 {
					t.Errorf("%s: the parameter %s is not shown", key, p.Name)
				}
			}
			if op.RequestBody != nil {
				for mt, media := range op.RequestBody.Content.FromOldest() {
					checkSchemaShown(t, page, s, key+" request body "+mt, media.Schema)
				}
			}
			codes := slices.Collect(op.Responses.Codes.KeysFromOldest())
			if op.Responses.Default != nil {
				codes = append(codes, "default")
			}
			for _, c := range codes {
				if len(htmlFind(s, func(n *html.Node) bool { return htmlAttr(n, "data-status") == c })) != 1 {
					t.Errorf("%s: the answer %s is not shown", key, c)
				}
			}
			if op.Responses.Default != nil && op.Responses.Default.Content.GetOrZero("application/problem+json") != nil &&
				!strings.Contains(htmlText(s), "one of the problem types") {
				t.Errorf("%s: its problem answer does not point to the problem types", key)
			}
		}
	}
	if len(sections) != ops {
		t.Errorf("the page has %d operations, the document %d", len(sections), ops)
	}
	if ops < 60 {
		t.Fatalf("only %d operations in the document: this test no longer reads it", ops)
	}
	// The problem types are listed, every one.
	var problems []string
	pt := page.ids["schema-ProblemType"]
	if pt == nil {
		t.Fatal("the page has no ProblemType schema")
	}
	for _, c := range htmlFind(pt, func(n *html.Node) bool { return n.Data == "code" }) {
		problems = append(problems, htmlText(c))
	}
	for _, one := range model.Model.Components.Schemas.GetOrZero("ProblemType").Schema().OneOf {
		if v := one.Schema().Const; v == nil || !slices.Contains(problems, v.Value) {
			t.Errorf("the problem type %v is not listed", v)
		}
	}
}

// checkSchemaShown: a referenced schema is a link to its section, and that
// section (or, for one written inline, the operation's) names each of its
// properties.
func checkSchemaShown(t *testing.T, page refPage, section *html.Node, what string, sp *base.SchemaProxy) {
	t.Helper()
	if sp == nil {
		return
	}
	where := section
	if sp.IsReference() {
		name := strings.TrimPrefix(sp.GetReference(), "#/components/schemas/")
		if len(htmlFind(section, func(n *html.Node) bool { return n.Data == "a" && htmlAttr(n, "href") == "#schema-"+name })) == 0 {
			t.Errorf("%s: no link to the schema %s", what, name)
		}
		if where = page.ids["schema-"+name]; where == nil {
			t.Errorf("%s: the schema %s has no section", what, name)
			return
		}
	}
	shown := fieldNames(where)
	for prop := range sp.Schema().Properties.KeysFromOldest() {
		if !slices.Contains(shown, prop) {
			t.Errorf("%s: the field %s is not shown", what, prop)
		}
	}
}

// The documentation pages, the API reference and the page on connecting
// an agent, load nothing from another origin, run no inline script or
// style, and are sent with the strict policy the other pages have: signed
// out, and signed in (which adds the header and its forms, and the
// agent page's tools with their apps' logos).
func TestDocPagesLoadNothingExternal(t *testing.T) {
	f := start(t, servertest.Backends[0])
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	signedIn := browser(t)
	if status, _ := signIn(t, signedIn, f.Instance, member, "/"); status != http.StatusOK {
		t.Fatalf("sign-in: %d", status)
	}
	for _, path := range []string{"/docs/api", "/docs/mcp"} {
		for who, c := range map[string]*http.Client{"signed out": http.DefaultClient, "signed in": signedIn} {
			checkLoadsNothingExternal(t, path+" "+who, c, f.URL+path)
		}
	}
}

// checkLoadsNothingExternal: the page at u, fetched with c, is sent with
// the strict policy, loads nothing from another origin, runs no inline
// script or style, and what it loads is there.
func checkLoadsNothingExternal(t *testing.T, who string, c *http.Client, u string) {
	t.Helper()
	base, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := getRefPage(t, c, base.String())
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", who, resp.StatusCode)
	}
	checkPolicy(t, who, resp.Header.Get("Content-Security-Policy"))
	page := parseRefPage(t, body)
	loads := 0
	for n := range page.root.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if (n.Data == "script" || n.Data == "style") && n.FirstChild != nil {
			t.Errorf("%s: an inline <%s>", who, n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("%s: <%s %s=%q>, which the policy blocks", who, n.Data, a.Key, a.Val)
			}
			if !slices.Contains([]string{"src", "href", "action", "formaction", "srcset", "poster", "data"}, a.Key) {
				continue
			}
			u, err := base.Parse(a.Val)
			if err != nil {
				t.Errorf("%s: <%s %s=%q> does not parse: %v", who, n.Data, a.Key, a.Val, err)
				continue
			}
			if u.Scheme == "data" {
				continue
			}
			if u.Scheme != base.Scheme || u.Host != base.Host {
				t.Errorf("%s: <%s %s=%q> is on another origin", who, n.Data, a.Key, a.Val)
			}
			// What the page loads (not what it links to) is there.
			if n.Data == "script" || n.Data == "img" || n.Data == "link" && htmlAttr(n, "rel") == "stylesheet" {
				loads++
				if r, _ := getRefPage(t, c, u.String()); r.StatusCode != http.StatusOK {
					t.Errorf("%s: %s answers %d", who, u, r.StatusCode)
				}
			}
		}
	}
	if loads == 0 {
		t.Errorf("%s: the page loads no style sheet or script at all; the check saw nothing", who)
	}
}

// checkPolicy: nothing but this origin (and data: images) may be loaded,
// and no inline script or style.
func checkPolicy(t *testing.T, who, csp string) {
	t.Helper()
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		fields := strings.Fields(d)
		if len(fields) > 0 {
			directives[fields[0]] = fields[1:]
		}
	}
	if got := directives["default-src"]; !slices.Equal(got, []string{"'none'"}) {
		t.Errorf("%s: default-src %v in %q, want 'none'", who, got, csp)
	}
	for name, sources := range directives {
		if strings.HasSuffix(name, "-src") {
			for _, s := range sources {
				if s != "'self'" && s != "'none'" && !(name == "img-src" && s == "data:") {
					t.Errorf("%s: %s allows %s", who, name, s)
				}
			}
		}
	}
	for _, name := range []string{"script-src", "style-src"} {
		if !slices.Equal(directives[name], []string{"'self'"}) {
			t.Errorf("%s: %s is %v, want 'self'", who, name, directives[name])
		}
	}
}

// Anyone may read the reference, as anyone may read /openapi.json: a
// browser signed out, two users of one workspace and the owner of another
// get the same reference; a signed-in one sees its own header, and no one
// else's.
func TestAPIReferenceForEverySession(t *testing.T) {
	f := start(t, servertest.Backends[0])
	users := map[string]webUser{
		"a member":                  addUser(t, f.Instance, "mia@acme.test", store.RoleMember),
		"another user":              addUser(t, f.Instance, "vic@acme.test", store.RoleViewer),
		"another workspace's owner": otherWorkspaceUser(t, f.Instance, "zed@other.test"),
	}
	_, anon := getRefPage(t, http.DefaultClient, f.URL+"/docs/api")
	want := referenceOf(t, anon)
	if strings.Contains(anon, "Sign out") {
		t.Error("the signed-out page has a Sign out button")
	}
	for who, u := range users {
		b := browser(t)
		status, body := signIn(t, b, f.Instance, u, "/docs/api")
		if status != http.StatusOK {
			t.Fatalf("%s: %d", who, status)
		}
		if got := referenceOf(t, body); got != want {
			t.Errorf("%s gets another reference than a signed-out browser", who)
		}
		if !strings.Contains(body, u.Email) || !strings.Contains(body, "Sign out") {
			t.Errorf("%s: the page has not the header of %s", who, u.Email)
		}
		for other, o := range users {
			if other != who && strings.Contains(body, o.Email) {
				t.Errorf("%s: the page shows %s", who, o.Email)
			}
		}
		// The signed-in pages link to it.
		if _, home := get(t, b, f.URL+"/"); !strings.Contains(home, `href="/docs/api"`) {
			t.Errorf("%s: the accounts page has no link to the reference", who)
		}
	}
}

// referenceOf is the page's reference, without the header around it.
func referenceOf(t *testing.T, body string) string {
	t.Helper()
	page := parseRefPage(t, body)
	main := page.ids["main"]
	if main == nil {
		t.Fatal("the page has no main")
	}
	var b strings.Builder
	if err := html.Render(&b, main); err != nil {
		t.Fatal(err)
	}
	if len(htmlFind(main, func(n *html.Node) bool { return n.Data == "article" })) < 60 {
		t.Fatalf("the page has few operations:\n%.500s", b.String())
	}
	return b.String()
}
