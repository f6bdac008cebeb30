package catalog_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

// TestShippedCatalog loads every embedded entry through the strict loader:
// a schema error, a duplicate or a bad URL in any shipped file fails here.
func TestShippedCatalog(t *testing.T) {
	c, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	var oauth, keys int
	for _, a := range c.All() {
		switch a.Auth {
		case catalog.AuthOAuth2:
			oauth++
		case catalog.AuthKeys:
			keys++
		}
	}
	t.Logf("%d apps: %d oauth2, %d keys", c.Len(), oauth, keys)
	for _, slug := range []string{"sendgrid", "slack"} {
		if _, ok := c.Get(slug); !ok {
			t.Errorf("%s is missing", slug)
		}
	}
}

const goodKeys = `
slug: acme
name: Acme
categories: [email]
docs_url: https://docs.acme.example/auth
auth: keys
base_url: https://{region}.acme.example/api
fields:
  - name: region
    label: Region
    pattern: '^(us|eu)$'
  - name: api_key
    label: API key
    secret: true
request_auth:
  header: Authorization
  value: Bearer {api_key}
test:
  url: /me
identity:
  url: /me
  label: '{email}'
`

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr string
	}{
		{"valid", func(s string) string { return s }, ""},
		{"unknown field", func(s string) string { return s + "colour: red\n" }, "field colour not found"},
		{"missing name", func(s string) string { return strings.Replace(s, "name: Acme\n", "", 1) }, "name: is required"},
		{"missing docs_url", func(s string) string { return strings.Replace(s, "docs_url: https://docs.acme.example/auth\n", "", 1) }, "docs_url: is required"},
		{"http url", func(s string) string { return strings.Replace(s, "https://{region}", "http://{region}", 1) }, "base_url: \"http://{region}.acme.example/api\" must be an absolute https URL"},
		{"host that would end a CSP directive", func(s string) string {
			return strings.Replace(s, "https://{region}.acme.example/api", "https://{region}.acme.example;frame-ancestors/api", 1)
		}, "the host may hold only letters, digits, dots, hyphens and a port"},
		{"undeclared template field", func(s string) string { return strings.Replace(s, "Bearer {api_key}", "Bearer {token}", 1) }, "request_auth.value: template names {token}"},
		{"url field without pattern", func(s string) string { return strings.Replace(s, "    pattern: '^(us|eu)$'\n", "", 1) }, "base_url: template names {region}"},
		{"bad category", func(s string) string { return strings.Replace(s, "[email]", "[gossip]", 1) }, `categories: "gossip" is not one of`},
		{"bad slug", func(s string) string { return strings.Replace(s, "slug: acme", "slug: Acme-Co", 1) }, "slug:"},
		{"bad auth", func(s string) string { return strings.Replace(s, "auth: keys", "auth: magic", 1) }, `auth: "magic" must be oauth2, oauth1, keys, basic, none, client_credentials, jwt_bearer or two_step`},
		{"keys without request_auth", func(s string) string {
			return strings.Replace(s, "request_auth:\n  header: Authorization\n  value: Bearer {api_key}\n", "", 1)
		}, "request_auth: a keys app must say"},
		{"identity without label", func(s string) string { return strings.Replace(s, "  label: '{email}'\n", "", 1) }, "identity.label: is required"},
		{"bad pattern", func(s string) string { return strings.Replace(s, "'^(us|eu)$'", "'^(us'", 1) }, "fields[0].pattern"},
		{"rate limit", func(s string) string {
			return s + "rate_limit:\n  reset_header: X-RateLimit-Reset\n  reset_format: unix_ms\n"
		}, ""},
		{"rate limit without header", func(s string) string { return s + "rate_limit:\n  reset_format: unix\n" }, `rate_limit.reset_header: "" is not a header name`},
		{"rate limit bad header", func(s string) string { return s + "rate_limit:\n  reset_header: 'X Reset:'\n" }, `rate_limit.reset_header: "X Reset:" is not a header name`},
		{"rate limit bad format", func(s string) string {
			return s + "rate_limit:\n  reset_header: X-RateLimit-Reset\n  reset_format: iso\n"
		}, `rate_limit.reset_format: "iso" must be unix, unix_ms or seconds`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkParse(t, tt.edit(goodKeys), tt.wantErr) })
	}
}

func TestOAuth2Rules(t *testing.T) {
	base := `
slug: acme
name: Acme
categories: [crm]
docs_url: https://docs.acme.example/oauth
auth: oauth2
base_url: '{instance_url}/api'
fields:
  - name: subdomain
    label: Subdomain
    pattern: '^[a-z0-9-]+$'
oauth2:
  authorize_url: https://{subdomain}.acme.example/authorize
  token_url: https://{subdomain}.acme.example/token
  keep_fields: [instance_url]
  client_auth: basic
identity:
  url: /me
  label: '{name}'
`
	if _, err := catalog.Parse([]byte(base)); err != nil {
		t.Fatalf("valid oauth2 app refused: %v", err)
	}
	for name, tt := range map[string]struct{ from, to, want string }{
		"missing token url":   {"  token_url: https://{subdomain}.acme.example/token\n", "", "oauth2.token_url: is required"},
		"bad client auth":     {"client_auth: basic", "client_auth: header", `oauth2.client_auth: "header" must be basic or body`},
		"undeclared in token": {"{subdomain}.acme.example/token", "{tenant}.acme.example/token", "oauth2.token_url: template names {tenant}"},
		"oauth2 block absent": {"oauth2:\n", "oauth3:\n", "field oauth3 not found"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := catalog.Parse([]byte(strings.Replace(base, tt.from, tt.to, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadOverridesAndNamesFiles(t *testing.T) {
	shipped := fstest.MapFS{"acme.yaml": {Data: []byte(goodKeys)}}
	custom := fstest.MapFS{"acme.yaml": {Data: []byte(strings.Replace(goodKeys, "name: Acme", "name: Acme (EU gateway)", 1))}}
	c, err := catalog.Load(shipped, custom)
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := c.Get("acme"); a.Name != "Acme (EU gateway)" {
		t.Fatalf("override not applied: %q", a.Name)
	}

	broken := fstest.MapFS{
		"acme.yaml":  {Data: []byte(goodKeys)},
		"wrong.yaml": {Data: []byte(goodKeys)},
		"bad.yaml":   {Data: []byte("slug: bad\nname: [\n")},
	}
	_, err = catalog.Load(broken)
	if err == nil {
		t.Fatal("broken catalog loaded")
	}
	for _, want := range []string{`wrong.yaml: slug "acme" must match the file name "wrong"`, "bad.yaml:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestList(t *testing.T) {
	c, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	after := ""
	for {
		page, more := c.List(catalog.Filter{Limit: 7, After: after})
		for _, a := range page {
			all = append(all, a.Slug)
		}
		if !more {
			break
		}
		after = page[len(page)-1].Slug
	}
	if len(all) != c.Len() {
		t.Fatalf("paging saw %d apps, catalog has %d", len(all), c.Len())
	}
	keys, _ := c.List(catalog.Filter{Auth: catalog.AuthKeys})
	for _, a := range keys {
		if a.Auth != catalog.AuthKeys {
			t.Errorf("auth filter let %s (%s) through", a.Slug, a.Auth)
		}
	}
	found, _ := c.List(catalog.Filter{Query: "SEND"})
	if len(found) == 0 || found[0].Slug != "sendgrid" && !strings.Contains(strings.ToLower(found[0].Name), "send") {
		t.Errorf("query SEND found %v", found)
	}
}

func TestWithOrigin(t *testing.T) {
	a, err := catalog.Parse([]byte(goodKeys))
	if err != nil {
		t.Fatal(err)
	}
	b := a.WithOrigin("http://127.0.0.1:9999")
	if b.BaseURL != "http://127.0.0.1:9999/api" || a.BaseURL == b.BaseURL {
		t.Fatalf("base = %q (original %q)", b.BaseURL, a.BaseURL)
	}
}

func TestExpand(t *testing.T) {
	got, err := catalog.Expand("Bearer {a}-{b}", catalog.MapLookup(map[string]string{"a": "1", "b": "2"}))
	if err != nil || got != "Bearer 1-2" {
		t.Fatalf("Expand = %q, %v", got, err)
	}
	if _, err := catalog.Expand("{missing}", catalog.MapLookup(nil)); err == nil || !strings.Contains(err.Error(), "{missing}") {
		t.Fatalf("missing name: %v", err)
	}
}

// An address written into any URL of an entry, in any spelling, must be a
// public one; names and templates pass (the dial-time check judges them).
func TestURLAddresses(t *testing.T) {
	oauthApp := func(authorize, token, revoke string) string {
		return `
slug: acme
name: Acme
categories: [crm]
docs_url: https://docs.acme.example/oauth
auth: oauth2
base_url: https://api.acme.example
oauth2:
  authorize_url: ` + authorize + `
  token_url: ` + token + `
  revoke_url: ` + revoke + `
identity:
  url: /me
  label: '{name}'
`
	}
	good := "https://acme.example/x"
	positions := map[string]func(host string) string{
		"base_url": func(h string) string {
			return strings.Replace(goodKeys, "https://{region}.acme.example/api", "https://"+h+"/api", 1)
		},
		"test.url": func(h string) string {
			return strings.Replace(goodKeys, "test:\n  url: /me", "test:\n  url: https://"+h+"/me", 1)
		},
		"identity.url": func(h string) string {
			return strings.Replace(goodKeys, "identity:\n  url: /me", "identity:\n  url: https://"+h+"/me", 1)
		},
		"oauth2.authorize_url": func(h string) string { return oauthApp("https://"+h+"/authorize", good, good) },
		"oauth2.token_url":     func(h string) string { return oauthApp(good, "https://"+h+"/token", good) },
		"oauth2.revoke_url":    func(h string) string { return oauthApp(good, good, "https://"+h+"/revoke") },
	}
	hosts := []struct {
		host    string
		refused bool
	}{
		{"api.acme.example", false},
		{"{region}.acme.example", false},
		{"8.8.8.8", false},
		{"[2606:4700:4700::1111]", false},
		{"127.0.0.1", true},
		{"127.1", true},
		{"0x7f000001", true},
		{"2130706433", true},
		{"0177.0.0.1", true},
		{"169.254.169.254", true},
		{"10.0.0.5:8443", true},
		{"100.64.0.1", true},
		{"0.0.0.0", true},
		{"[::1]", true},
		{"[::ffff:7f00:1]", true},
		{"[::ffff:169.254.169.254]", true},
		{"[fd00::1]", true},
		{"[fe80::1%25eth0]", true},
	}
	for where, def := range positions {
		for _, h := range hosts {
			if strings.Contains(h.host, "{") && where != "base_url" {
				continue // only base_url names {region} in these entries
			}
			t.Run(where+"/"+h.host, func(t *testing.T) {
				_, err := catalog.Parse([]byte(def(h.host)))
				switch {
				case !h.refused && err != nil:
					t.Fatalf("refused: %v", err)
				case h.refused && err == nil:
					t.Fatal("accepted")
				case h.refused && (!strings.Contains(err.Error(), where+":") || !strings.Contains(err.Error(), "public internet")):
					t.Fatalf("error %q does not name %s and say why", err, where)
				}
			})
		}
	}
}

// checkParse parses doc and checks that it fails with an error containing
// wantErr, or, when wantErr is "", that it parses.
func checkParse(t *testing.T, doc, wantErr string) {
	t.Helper()
	_, err := catalog.Parse([]byte(doc))
	if wantErr == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("error = %v, want it to contain %q", err, wantErr)
	}
}
