package catalog_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

func quirkEntry(slug, oauth2 string) string {
	return `slug: ` + slug + `
name: ` + strings.ToUpper(slug[:1]) + slug[1:] + `
categories: [crm]
docs_url: https://docs.example.com/oauth
auth: oauth2
base_url: https://{dc}.api.example.com
fields:
  - name: ru_name
    label: RuName
    pattern: '^[A-Za-z0-9_-]+$'
oauth2:
  authorize_url: https://example.com/authorize
  token_url: https://example.com/token
` + oauth2
}

// TestQuirkRules shows each quirk block's rules: a good block loads, and
// each mistake is refused with the field it is about.
func TestQuirkRules(t *testing.T) {
	tests := []struct {
		name, oauth2, wantErr string
	}{
		{"metadata names the base URL's dc", "  metadata:\n    url: https://login.example.com/metadata\n    keep: {dc: dc}\n", ""},
		{"a base URL naming an unknown value", "", "base_url: template names {dc}"},
		{"metadata keeps nothing", "  metadata:\n    url: https://login.example.com/metadata\n    keep: {}\n", "oauth2.metadata.keep: name at least one"},
		{"metadata with a bad path", "  metadata:\n    url: https://login.example.com/m\n    keep: {dc: 'a..b'}\n", "oauth2.metadata.keep.dc"},
		{"metadata naming its own value", "  metadata:\n    url: https://{dc}.example.com/m\n    keep: {dc: dc}\n", "oauth2.metadata.url: template names {dc}"},
		{"callback field keeps dc", "  callback_fields: {dc: dc}\n", ""},
		{"callback field that is the code", "  callback_fields: {dc: code}\n", "oauth2.callback_fields.dc"},
		{"kept twice", "  callback_fields: {dc: dc}\n  metadata:\n    url: https://example.com/m\n    keep: {dc: dc}\n", "is kept twice"},
		{"nested keep field", "  keep_fields: [installation.apiEndPoint, dc]\n", ""},
		{"bad keep field", "  keep_fields: [dc, 'a.']\n", "oauth2.keep_fields"},
		{"the client's redirect name", "  keep_fields: [dc]\n  redirect_name: true\n", ""},
		{"refresh_url over http", "  keep_fields: [dc]\n  refresh_url: http://example.com/refresh\n", "oauth2.refresh_url"},
		{"redirect_uri in the refresh", "  keep_fields: [dc]\n  refresh_params: {redirect_uri: '{redirect_uri}'}\n", ""},
		{"redirect_uri in the authorize URL", "  keep_fields: [dc]\n  authorize_params: {x: '{redirect_uri}'}\n", "oauth2.authorize_params.x"},
		{"bad client_id_param", "  keep_fields: [dc]\n  client_id_param: 'client key'\n", "oauth2.client_id_param"},
		{"revocation template", "  keep_fields: [dc]\n  revoke:\n    method: DELETE\n    url: https://example.com/apps/{oauth_client_id}/grant\n    auth: basic\n    body: '{\"access_token\": \"{token}\"}'\n", ""},
		{"revocation and revoke_url", "  keep_fields: [dc]\n  revoke_url: https://example.com/revoke\n  revoke:\n    url: https://example.com/r\n", "give revoke_url (RFC 7009) or revoke"},
		{"token in the host", "  keep_fields: [dc]\n  revoke:\n    url: https://{token}.example.com/r\n", "the host may not name"},
		{"secret in the URL", "  keep_fields: [dc]\n  revoke:\n    url: https://example.com/r/{oauth_client_secret}\n", "oauth2.revoke.url"},
		{"revocation method", "  keep_fields: [dc]\n  revoke:\n    method: PUT\n    url: https://example.com/r\n", "oauth2.revoke.method"},
		{"revocation auth", "  keep_fields: [dc]\n  revoke:\n    url: https://example.com/r\n    auth: digest\n", "oauth2.revoke.auth"},
		{"revocation tokens", "  keep_fields: [dc]\n  revoke:\n    url: https://example.com/r\n    tokens: [id_token]\n", "oauth2.revoke.tokens"},
		{"secret in a revocation header", "  keep_fields: [dc]\n  revoke:\n    url: https://example.com/r\n    headers: {Authorization: 'Client {oauth_client_secret}'}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Parse([]byte(quirkEntry("acme", tt.oauth2)))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

// TestCopiedClientSetup shows the catalog refuses two entries with one
// authorize URL and client setup unless both name the same provider.
func TestCopiedClientSetup(t *testing.T) {
	same := "  keep_fields: [dc]\n"
	tests := []struct {
		name    string
		a, b    string
		wantErr string
	}{
		{"a copy", same, same, "the same authorize URL, token URL, client auth and parameters as beta"},
		{"one family", same + "  provider: example\n", same + "  provider: example\n", ""},
		{"only one says so", same + "  provider: example\n", same, "as beta"},
		{"two families", same + "  provider: example\n", same + "  provider: other\n", "as beta"},
		{"other parameters", same, same + "  authorize_params: {prompt: consent}\n", ""},
		{"other client auth", same, same + "  client_auth: basic\n", ""},
		{"other scopes alone are still a copy", same + "  default_scopes: [a]\n", same + "  default_scopes: [b]\n", "as beta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Load(fstest.MapFS{
				"alpha.yaml": {Data: []byte(quirkEntry("alpha", tt.a))},
				"beta.yaml":  {Data: []byte(quirkEntry("beta", tt.b))},
			})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
			}
		})
	}
}

// TestReservedFieldNames refuses an OAuth 2 field named as a value
// Latchkey gives the account itself.
func TestReservedFieldNames(t *testing.T) {
	for _, name := range []string{"oauth_access_token", "oauth_client_id", "redirect_uri"} {
		entry := strings.Replace(quirkEntry("acme", "  keep_fields: [dc]\n"), "  - name: ru_name", "  - name: "+name, 1)
		if _, err := catalog.Parse([]byte(entry)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("a field named %s: %v", name, err)
		}
	}
}
