package catalog_test

import (
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

const goodOAuth1 = `slug: acme1
name: Acme One
categories: [productivity]
docs_url: https://docs.acme.example/oauth1
auth: oauth1
base_url: https://api.acme.example/1
oauth1:
  request_token_url: https://acme.example/oauth/request_token
  authorize_url: https://acme.example/oauth/authorize
  access_token_url: https://acme.example/oauth/access_token
  signature_method: HMAC-SHA1
  authorize_params:
    expiration: never
identity:
  url: /me
  label: '{name}'
`

const goodBasic = `slug: acmeb
name: Acme Basic
categories: [support]
docs_url: https://docs.acme.example/basic
auth: basic
base_url: https://api.acme.example
test:
  url: /me
`

// TestParseOAuth1AndBasic: the two modes' rules, each refusal naming its
// field, and a basic app's username and password going without saying.
func TestParseOAuth1AndBasic(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		edit    func(string) string
		wantErr string
	}{
		{"oauth1 valid", goodOAuth1, nil, ""},
		{"oauth1 missing block", goodOAuth1, func(s string) string { return s[:strings.Index(s, "oauth1:\n")] + s[strings.Index(s, "identity:"):] }, "oauth1: is required when auth is oauth1"},
		{"oauth1 http url", goodOAuth1, func(s string) string {
			return strings.Replace(s, "https://acme.example/oauth/access_token", "http://acme.example/oauth/access_token", 1)
		}, "oauth1.access_token_url"},
		{"oauth1 missing url", goodOAuth1, func(s string) string {
			return strings.Replace(s, "  request_token_url: https://acme.example/oauth/request_token\n", "", 1)
		}, "oauth1.request_token_url: is required"},
		{"oauth1 rsa", goodOAuth1, func(s string) string { return strings.Replace(s, "HMAC-SHA1", "RSA-SHA1", 1) }, "only HMAC-SHA1"},
		{"oauth1 sets oauth_callback", goodOAuth1, func(s string) string {
			return strings.Replace(s, "    expiration: never\n", "    oauth_callback: https://evil.example\n", 1)
		}, "authorize_params.oauth_callback: is set by the flow"},
		{"oauth1 authorize param names a token", goodOAuth1, func(s string) string {
			return strings.Replace(s, "expiration: never", "expiration: '{oauth_token_secret}'", 1)
		}, "authorize_params.expiration: template names {oauth_token_secret}"},
		{"oauth1 with request_auth", goodOAuth1, func(s string) string { return s + "request_auth:\n  header: X-Key\n  value: '{oauth_token}'\n" }, "sets no request_auth"},
		{"oauth1 field shadows a credential", goodOAuth1, func(s string) string { return s + "fields:\n  - name: consumer_key\n    label: Key\n" }, `"consumer_key" is the name of an OAuth 1.0a credential`},
		{"oauth1 block on a keys app", goodKeys, func(s string) string {
			return s + "oauth1:\n  request_token_url: https://a.example/r\n  authorize_url: https://a.example/a\n  access_token_url: https://a.example/t\n"
		}, "oauth1: is only for auth oauth1"},
		{"basic valid", goodBasic, nil, ""},
		{"basic without test", goodBasic, func(s string) string { return strings.Replace(s, "test:\n  url: /me\n", "", 1) }, "test: a basic app needs a test request"},
		{"basic with a header", goodBasic, func(s string) string {
			return s + "fields:\n  - name: key\n    label: Key\nrequest_auth:\n  header: X-Key\n  value: '{key}'\n"
		}, "request_auth.basic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc
			if tt.edit != nil {
				doc = tt.edit(doc)
			}
			checkParse(t, doc, tt.wantErr)
		})
	}

	app, err := catalog.Parse([]byte(goodBasic))
	if err != nil {
		t.Fatal(err)
	}
	if len(app.Fields) != 2 || app.Fields[0].Name != "username" || app.Fields[1].Name != "password" || !app.Fields[1].Secret || app.Fields[0].Secret {
		t.Fatalf("a basic app's fields: %+v", app.Fields)
	}
	if b := app.RequestAuth.Basic; b == nil || b.Username != "{username}" || b.Password != "{password}" {
		t.Fatalf("a basic app's request auth: %+v", app.RequestAuth)
	}
	if !app.EntersKeys() || app.UsesOAuth() {
		t.Fatal("a basic app is entered as keys are")
	}
	one, _ := catalog.Parse([]byte(goodOAuth1))
	moved := one.WithOrigin("http://127.0.0.1:9")
	if moved.OAuth1.RequestTokenURL != "http://127.0.0.1:9/oauth/request_token" || one.OAuth1.RequestTokenURL != "https://acme.example/oauth/request_token" {
		t.Fatalf("WithOrigin: %+v, original %+v", moved.OAuth1, one.OAuth1)
	}
}
