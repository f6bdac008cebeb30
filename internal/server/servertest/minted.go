package servertest

import (
	"encoding/json"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
)

// JWTApp is a JWT bearer entry, slug testjwt, on the in-test authorization
// server: a Google-style service-account key file and an optional sub.
const JWTApp = `slug: testjwt
name: Test JWT
categories: [developer-tools]
docs_url: https://idp.example/docs
auth: jwt_bearer
base_url: https://idp.example
fields:
  - {name: service_account_json, label: Service-account key file, secret: true, multiline: true}
  - {name: sub, label: User to act as, optional: true}
jwt_bearer:
  token_url: https://idp.example/token
  key: google_service_account
  subject: '{sub}'
  scopes: [read]
identity:
  url: /userinfo
  label: '{sub}'
`

// NewJWTIdP starts an in-test authorization server that takes JWT
// assertions whose audience is JWTApp's token URL.
func NewJWTIdP(t testing.TB) *oauthtest.Server {
	return oauthtest.New(t, oauthtest.Options{RedirectURIs: []string{"http://127.0.0.1/oauth/callback"}, JWTAudience: "https://idp.example/token"})
}

// UseJWTIdP makes cfg know idp as the app testjwt.
func UseJWTIdP(t testing.TB, cfg *config.Config, idp *oauthtest.Server) {
	t.Helper()
	WriteApp(t, cfg, "testjwt", JWTApp)
	if cfg.AppOrigins == nil {
		cfg.AppOrigins = map[string]string{}
	}
	cfg.AppOrigins["testjwt"] = idp.URL
}

// ServiceAccountKey makes a service-account key file for email and has
// idp trust it for the subject sub; it returns the file's JSON.
func ServiceAccountKey(t testing.TB, idp *oauthtest.Server, email, sub string) string {
	t.Helper()
	k, keyPEM := oauthtest.RSAKey(t)
	b, err := json.MarshalIndent(map[string]string{"type": "service_account", "client_email": email, "private_key_id": "k1",
		"private_key": keyPEM}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	idp.TrustKey(email, sub, "k1", &k.PublicKey, []string{"read"})
	return string(b)
}
