package webtest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"testing"

	"github.com/chromedp/chromedp"
)

// jwtApp is the test IdP as a JWT bearer app with a Google-style key file.
const jwtApp = `slug: testjwt
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

// TestConnectJWTApp: a JWT bearer app's dialog asks for its key file in a
// text area (a pasted key keeps its line breaks) and "Test and save" mints
// a token with it; the account is labelled by the delegated subject.
func TestConnectJWTApp(t *testing.T) {
	h := start(t, options{jwt: true})
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	const email = "robot@project.iam.example.com"
	keyFile, _ := json.MarshalIndent(map[string]string{"type": "service_account", "client_email": email, "private_key_id": "k1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}, "", "  ")
	h.idp.TrustKey(email, "bob@acme.example", "k1", &k.PublicKey, []string{"read"})

	h.signUp()
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("test jwt", "testjwt", "Test JWT")
	if tag := eval[string](h, `document.querySelector("#f-service_account_json").tagName`); tag != "TEXTAREA" {
		t.Fatalf("the key file field is a %s, want a text area", tag)
	}
	h.do("paste the key file and submit",
		chromedp.SetValue(chromedp.CSS("#f-service_account_json"), string(keyFile)),
		chromedp.SendKeys(chromedp.CSS("#f-sub"), "bob@acme.example"),
		chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)),
	)
	h.at("/?done=connected", "Accounts")
	rows := h.waitRows("the new account", func(r []row) bool { return len(r) == 1 })
	if r := rows[0]; r.Identity != "bob@acme.example" || r.App != "Test JWT" || r.Status != "Healthy" {
		t.Errorf("row %+v", r)
	}
	creds, err := h.api.Credentials(context.Background(), rows[0].ID)
	if err != nil || creds["oauth_access_token"] == "" || creds["service_account_json"] != "" {
		t.Fatalf("credentials %v, %v: want a token and never the key", len(creds), err)
	}
	if h.idp.Mints() != 1 {
		t.Fatalf("%d mints, want the one at connect", h.idp.Mints())
	}
}
