package oauth_test

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/oauth"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
)

func parseApp(t *testing.T, doc string) *catalog.App {
	t.Helper()
	app, err := catalog.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func minter(app *catalog.App, origin string, fields map[string]string) *oauth.Minter {
	return &oauth.Minter{App: app.WithOrigin(origin), Fields: fields, HTTP: &http.Client{Timeout: 5 * time.Second},
		Now: func() time.Time { return now }}
}

const ccApp = `
slug: m2m
name: M2M
categories: [developer-tools]
docs_url: https://docs.example.com/m2m
auth: client_credentials
fields:
  - {name: client_id, label: Client ID}
  - {name: client_secret, label: Client secret, secret: true}
client_credentials:
  token_url: https://auth.example.com/token
  client_auth: CLIENT_AUTH
  scopes: [read]
  token_params:
    audience: https://api.example.com/
`

// TestClientCredentialsMint mints against the fosite authorization
// server with both client authentication styles, and a rotated secret
// fails for good with invalid_client, the secret nowhere in the error.
func TestClientCredentialsMint(t *testing.T) {
	as := oauthtest.New(t, oauthtest.Options{RedirectURIs: []string{"http://127.0.0.1/cb"}, Audiences: []string{"https://api.example.com/"},
		AccessTokenLifespan: 30 * time.Minute})
	for _, style := range []string{"basic", "body"} {
		t.Run(style, func(t *testing.T) {
			app := parseApp(t, strings.Replace(ccApp, "CLIENT_AUTH", style, 1))
			m := minter(app, as.URL, map[string]string{"client_id": as.ClientID(), "client_secret": as.ClientSecret()})
			before := as.Mints()
			tok, err := m.Mint(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken.IsZero() || !tok.RefreshToken.IsZero() {
				t.Fatalf("token = %+v, want an access token and no refresh token", tok)
			}
			if got := tok.Expiry.Sub(now); got < 29*time.Minute || got > 31*time.Minute {
				t.Errorf("expiry %v after now, want about 30m", got)
			}
			if as.Mints() != before+1 {
				t.Errorf("mints = %d, want one more than %d", as.Mints(), before)
			}
		})
	}
	old := as.ClientSecret()
	as.SetClientSecret(t, "rotated-secret-value")
	_, err := minter(parseApp(t, strings.Replace(ccApp, "CLIENT_AUTH", "basic", 1)), as.URL,
		map[string]string{"client_id": as.ClientID(), "client_secret": old}).Mint(context.Background())
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Kind != oauth.Permanent || oe.Code != "invalid_client" {
		t.Fatalf("err = %v, want a permanent invalid_client", err)
	}
	if strings.Contains(err.Error(), old) {
		t.Fatalf("the error quotes the client secret: %v", err)
	}
}

func rsaPEM(t *testing.T) (*rsa.PrivateKey, string) { return oauthtest.RSAKey(t) }

const jwtApp = `
slug: sa
name: Service account
categories: [productivity]
docs_url: https://docs.example.com/sa
auth: jwt_bearer
fields:
  - {name: service_account_json, label: Key file, secret: true}
  - {name: sub, label: User to act as, optional: true}
jwt_bearer:
  token_url: https://auth.example.com/token
  key: google_service_account
  subject: '{sub}'
  scopes: [read]
`

// TestJWTBearerMint signs assertions the fosite server checks against the
// public key it trusts for that issuer and subject (domain-wide
// delegation names the subject); an unknown subject or a distrusted key
// is refused for good.
func TestJWTBearerMint(t *testing.T) {
	as := oauthtest.New(t, oauthtest.Options{RedirectURIs: []string{"http://127.0.0.1/cb"}})
	key, keyPEM := rsaPEM(t)
	const email = "robot@project.iam.example.com"
	as.TrustKey(email, "bob@acme.example", "key-1", &key.PublicKey, []string{"read"})
	saJSON, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": email, "private_key": keyPEM,
		"private_key_id": "key-1", "token_uri": "https://evil.example/token"})
	app := parseApp(t, jwtApp)
	// The test server's token URL is the audience fosite expects.
	app = app.WithOrigin(as.URL)
	app.JWTBearer.Audience = as.TokenURL()

	m := &oauth.Minter{App: app, Fields: map[string]string{"service_account_json": string(saJSON), "sub": "bob@acme.example"},
		HTTP: &http.Client{Timeout: 5 * time.Second}, Now: func() time.Time { return now }}
	if err := m.Check(); err != nil {
		t.Fatalf("a good key refused: %v", err)
	}
	tok, err := m.Mint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expiry.Sub(now); tok.AccessToken.IsZero() || d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("token = %+v, want an access token that lasts fosite's hour", tok)
	}
	// A second mint works too: each assertion has its own jti.
	if _, err := m.Mint(context.Background()); err != nil {
		t.Fatalf("second mint: %v", err)
	}

	m.Fields["sub"] = "mallory@acme.example"
	if _, err := m.Mint(context.Background()); !oauth.IsPermanent(err) {
		t.Fatalf("an untrusted subject: err = %v, want permanent", err)
	}
	m.Fields["sub"] = "bob@acme.example"
	as.DistrustIssuer(email)
	_, err = m.Mint(context.Background())
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Kind != oauth.Permanent || oe.Code == "" {
		t.Fatalf("a distrusted key: err = %v, want permanent with its code", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Fatalf("the error quotes the key: %v", err)
	}
}

// TestJWTKeyCheck refuses keys that cannot sign, naming the field and
// never quoting what was pasted.
func TestJWTKeyCheck(t *testing.T) {
	_, good := rsaPEM(t)
	pemApp := parseApp(t, `
slug: docs
name: Docs
categories: [documents]
docs_url: https://docs.example.com/jwt
auth: jwt_bearer
fields:
  - {name: integration_key, label: Integration key}
  - {name: private_key, label: Private key, secret: true}
jwt_bearer:
  token_url: https://auth.example.com/token
  key: pem
  issuer: '{integration_key}'
`)
	sa := func(m map[string]string) string { b, _ := json.Marshal(m); return string(b) }
	tests := []struct {
		name  string
		app   *catalog.App
		field string
		value string
		want  string
	}{
		{"pem ok", pemApp, "private_key", good, ""},
		{"pem garbage", pemApp, "private_key", "not-a-key-AAAA", "private_key: is not a PEM private key"},
		{"pem encrypted", pemApp, "private_key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "is encrypted"},
		{"pem broken body", pemApp, "private_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "cannot be read"},
		{"json not json", parseApp(t, jwtApp), "service_account_json", "{nope", "is not a service-account JSON key file"},
		{"json wrong type", parseApp(t, jwtApp), "service_account_json", sa(map[string]string{"type": "authorized_user", "client_email": "a@b", "private_key": good}), "is not a service-account key"},
		{"json bad key", parseApp(t, jwtApp), "service_account_json", sa(map[string]string{"type": "service_account", "client_email": "a@b", "private_key": "xyzzy-secret"}), "its private_key is not a PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &oauth.Minter{App: tt.app, Fields: map[string]string{tt.field: tt.value, "integration_key": "ik"}}
			err := m.Check()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ke *oauth.KeyError
			if !errors.As(err, &ke) || ke.Field != tt.field || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a KeyError on %s saying %q", err, tt.field, tt.want)
			}
			if strings.Contains(err.Error(), "xyzzy") || strings.Contains(err.Error(), "AAAA") {
				t.Fatalf("the error quotes the key: %v", err)
			}
		})
	}
}

// TestJWTWithoutSubject: an optional subject left empty leaves sub out of
// the assertion, so the service account acts as itself.
func TestJWTWithoutSubject(t *testing.T) {
	_, keyPEM := rsaPEM(t)
	saJSON, _ := json.Marshal(map[string]string{"type": "service_account", "client_email": "robot@p.example", "private_key": keyPEM})
	origin := standIn(t, func(r *http.Request, body string) error {
		form, err := url.ParseQuery(body)
		if err != nil {
			return err
		}
		parts := strings.Split(form.Get("assertion"), ".")
		if len(parts) != 3 {
			return errf("no assertion in " + body)
		}
		claims, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return err
		}
		var c map[string]any
		if err := json.Unmarshal(claims, &c); err != nil {
			return err
		}
		if _, has := c["sub"]; has || c["iss"] != "robot@p.example" || c["scope"] != "read" || c["jti"] == "" {
			return errf("claims " + string(claims))
		}
		return nil
	}, 200, "application/json", `{"access_token": "at-1", "expires_in": 3600, "token_type": "Bearer"}`)
	tok, err := minter(parseApp(t, jwtApp), origin, map[string]string{"service_account_json": string(saJSON)}).Mint(context.Background())
	if err != nil || tok.AccessToken.Reveal() != "at-1" || tok.Expiry != now.Add(time.Hour) {
		t.Fatalf("mint without sub: %v, %v", tok, err)
	}
}
