package catalog_test

import (
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/catalog"
)

const goodClientCredentials = `
slug: acme_m2m
name: Acme M2M
categories: [developer-tools]
docs_url: https://docs.acme.example/m2m
auth: client_credentials
base_url: https://{domain}/api
fields:
  - name: domain
    label: Domain
    pattern: '^[a-z0-9-]+\.acme\.example$'
  - name: client_id
    label: Client ID
  - name: client_secret
    label: Client secret
    secret: true
client_credentials:
  token_url: https://{domain}/oauth/token
  client_auth: basic
  scopes: [read:users]
  token_params:
    audience: https://{domain}/api/
identity:
  url: /me
  label: '{client_id} at {domain}'
`

const goodJWT = `
slug: acme_jwt
name: Acme JWT
categories: [documents]
docs_url: https://docs.acme.example/jwt
auth: jwt_bearer
base_url: https://api.acme.example
fields:
  - name: integration_key
    label: Integration key
  - name: user_id
    label: User ID
    optional: true
  - name: private_key
    label: RSA private key
    secret: true
jwt_bearer:
  token_url: https://auth.acme.example/oauth/token
  key: pem
  issuer: '{integration_key}'
  subject: '{user_id}'
  audience: auth.acme.example
  scopes: [signature, impersonation]
identity:
  url: /userinfo
  label: '{email}'
`

const goodTwoStep = `
slug: acme_session
name: Acme Session
categories: [developer-tools]
docs_url: https://docs.acme.example/session
auth: two_step
base_url: https://api.acme.example
fields:
  - name: token_name
    label: Token name
  - name: token_secret
    label: Token secret
    secret: true
two_step:
  token_url: https://api.acme.example/auth/signin
  headers:
    Accept: application/json
  body: '{"credentials": {"name": "{token_name}", "secret": "{token_secret}"}}'
  token_path: credentials.token
  expires_in_path: credentials.expires_in
  default_expires_in: 4h
  keep:
    site_id: credentials.site.id
request_auth:
  header: X-Acme-Auth
  value: '{oauth_access_token}'
identity:
  url: /sites/{site_id}/me
  label: '{user.name}'
`

// TestMintedRules holds each minted mode's block to its rules: the valid
// entries load, and each broken one is refused naming what is wrong.
func TestMintedRules(t *testing.T) {
	for name, doc := range map[string]string{"client credentials": goodClientCredentials, "jwt": goodJWT, "two step": goodTwoStep} {
		app, err := catalog.Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s: valid entry refused: %v", name, err)
		}
		if !app.Minted() || !app.EntersKeys() || !app.HasAccessToken() {
			t.Errorf("%s: Minted, EntersKeys, HasAccessToken = %v, %v, %v", name, app.Minted(), app.EntersKeys(), app.HasAccessToken())
		}
	}
	tests := []struct {
		name, doc, from, to, want string
	}{
		{"cc block missing", goodClientCredentials, "client_credentials:\n  token_url", "oauth9:\n  token_url", "field oauth9 not found"},
		{"cc no token url", goodClientCredentials, "  token_url: https://{domain}/oauth/token\n", "", "client_credentials.token_url: is required"},
		{"cc no secret field", goodClientCredentials, "  - name: client_secret\n    label: Client secret\n    secret: true\n", "", "needs a field named client_secret"},
		{"cc secret not secret", goodClientCredentials, "    label: Client secret\n    secret: true\n", "    label: Client secret\n", "field client_secret must be secret"},
		{"cc bad client auth", goodClientCredentials, "client_auth: basic", "client_auth: header", `client_credentials.client_auth: "header" must be basic or body`},
		{"cc sets client id", goodClientCredentials, "    audience:", "    client_id: x\n    audience:", "client_credentials.token_params.client_id: is set by Latchkey"},
		{"cc secret in scope", goodClientCredentials, "scopes: [read:users]", "scopes: ['{client_secret}']", "client_credentials.scopes: template names {client_secret}"},
		{"cc undeclared param", goodClientCredentials, "audience: https://{domain}/api/", "audience: '{tenant}'", "client_credentials.token_params.audience: template names {tenant}"},
		{"cc secret in url", goodClientCredentials, "https://{domain}/oauth/token", "https://{domain}/oauth/token?s={client_secret}", "client_credentials.token_url: template names {client_secret}"},
		{"cc secret on requests", goodClientCredentials, "identity:\n", "request_auth:\n  header: X-Secret\n  value: '{client_secret}'\nidentity:\n", "request_auth.value: template names {client_secret}"},
		{"cc with oauth2 block", goodClientCredentials, "identity:\n", "oauth2:\n  authorize_url: https://a.example/a\n  token_url: https://a.example/t\nidentity:\n", "oauth2: is only for auth oauth2"},
		{"block without its auth", goodKeys, "test:\n", "two_step:\n  token_url: https://a.example/t\n  token_path: t\n  default_expires_in: 1h\ntest:\n", "go with the auth of that name"},
		{"jwt bad key format", goodJWT, "key: pem", "key: p12", `jwt_bearer.key: "p12" must be google_service_account or pem`},
		{"jwt no issuer", goodJWT, "  issuer: '{integration_key}'\n", "", "jwt_bearer.issuer: is required with a pem key"},
		{"jwt no key field", goodJWT, "  - name: private_key\n    label: RSA private key\n    secret: true\n", "", "needs a field named private_key"},
		{"jwt google with issuer", goodJWT, "key: pem", "key: google_service_account", "needs a field named service_account_json"},
		{"jwt key in claim", goodJWT, "  subject: '{user_id}'\n", "  subject: '{private_key}'\n", "jwt_bearer.subject: must not name the private key"},
		{"jwt sets exp", goodJWT, "  scopes:", "  claims:\n    exp: '1'\n  scopes:", "jwt_bearer.claims.exp: is set by Latchkey"},
		{"two step no path", goodTwoStep, "  token_path: credentials.token\n", "", `two_step.token_path: "" must be a dot path`},
		{"two step no lifetime", goodTwoStep, "  default_expires_in: 4h\n", "", "two_step.default_expires_in: is required"},
		{"two step both expiries", goodTwoStep, "  default_expires_in: 4h\n", "  expires_at_path: credentials.expires\n  default_expires_in: 4h\n", "not both"},
		{"two step bad method", goodTwoStep, "  token_url:", "  method: DELETE\n  token_url:", `two_step.method: "DELETE" must be POST, GET or PUT`},
		{"two step undeclared in body", goodTwoStep, `"{token_secret}"`, `"{password}"`, "two_step.body: template names {password}"},
		{"two step keep shadows field", goodTwoStep, "    site_id: credentials.site.id", "    token_name: credentials.site.id", `"token_name" is already a field's name`},
		{"two step kept not declared", goodTwoStep, "/sites/{site_id}/me", "/sites/{site}/me", "identity.url: template names {site}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(tt.doc, tt.from, tt.to, 1)
			if doc == tt.doc {
				t.Fatalf("the edit %q matched nothing", tt.from)
			}
			_, err := catalog.Parse([]byte(doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestWithheld: a minted app's secret fields stay on the server; a keys
// app's secret fields are what code reads.
func TestWithheld(t *testing.T) {
	cc, err := catalog.Parse([]byte(goodClientCredentials))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := catalog.Parse([]byte(goodKeys))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		app   *catalog.App
		field string
		want  bool
	}{{cc, "client_secret", true}, {cc, "client_id", false}, {cc, "domain", false}, {keys, "api_key", false}} {
		if got := tt.app.Withheld(tt.field); got != tt.want {
			t.Errorf("%s.Withheld(%s) = %v, want %v", tt.app.Slug, tt.field, got, tt.want)
		}
	}
}
