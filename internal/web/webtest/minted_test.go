package webtest_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestConnectJWTApp: a JWT bearer app's dialog asks for its key file in a
// text area (a pasted key keeps its line breaks) and "Test and save" mints
// a token with it; the account is labelled by the delegated subject.
func TestConnectJWTApp(t *testing.T) {
	h := start(t, options{jwt: true})
	keyFile := servertest.ServiceAccountKey(t, h.idp, "robot@project.iam.example.com", "bob@acme.example")

	h.signUp()
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("test jwt", "testjwt", "Test JWT")
	if tag := eval[string](h, `document.querySelector("#f-service_account_json").tagName`); tag != "TEXTAREA" {
		t.Fatalf("the key file field is a %s, want a text area", tag)
	}
	h.do("paste the key file and submit",
		chromedp.SetValue(chromedp.CSS("#f-service_account_json"), keyFile),
		chromedp.SendKeys(chromedp.CSS("#f-sub"), "bob@acme.example"),
		chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)),
	)
	h.atDone("connected")
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
