package webtest_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestReplaceKeysRefused: a key the app refuses on "Replace the
// credentials" is said inside that form, on the account's own page, with
// the cursor back in the key; the old key stays. The right key then
// replaces it.
func TestReplaceKeysRefused(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	acc := h.createKeyAccount("marketing")
	h.open("/accounts/" + acc.ID)
	h.waitFor("the account page", textJS("h1")+` === "marketing"`)

	h.log.expectStatus("/accounts/"+acc.ID+"/credentials", 422)
	h.do("submit a wrong key",
		chromedp.SendKeys(chromedp.CSS("#rk-api_key"), "SG.wrong.key"),
		chromedp.Click(chromedp.CSS(`#credentials button[type=submit]`)),
	)
	h.waitFor("the refusal in the form", `document.readyState === "complete" && !!document.querySelector("#credentials .form-error")`)
	if got := h.text("h1"); got != "marketing" {
		t.Errorf("after the refusal the page's heading is %q, want the account's page", got)
	}
	if got := h.text("#credentials .form-error"); got != "SendGrid refused these credentials (401 Unauthorized, “authorization required”). Nothing was saved; check them and try again." {
		t.Errorf("the refusal says %q", got)
	}
	if eval[bool](h, `[...document.querySelectorAll("a")].some(a => a.textContent.trim() === "Back to accounts")`) {
		t.Error("the refusal is a dead-end error page")
	}
	if got := eval[string](h, `document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid") + " [" + document.activeElement.value + "]"`); got != "rk-api_key true []" {
		t.Errorf("after the refusal the focus is on %q, want the emptied key, marked invalid", got)
	}
	if creds, err := h.api.Credentials(context.Background(), acc.ID); err != nil || creds["api_key"] != goodKey {
		t.Fatalf("after the refusal the credentials are %v, %v; want the old key", creds, err)
	}

	h.do("submit the right key",
		chromedp.SendKeys(chromedp.CSS("#rk-api_key"), goodKey),
		chromedp.Click(chromedp.CSS(`#credentials button[type=submit]`)),
	)
	h.at("/accounts/"+acc.ID+"?done=replaced", "marketing")
	if eval[bool](h, `!!document.querySelector(".form-error")`) {
		t.Error("the old refusal is still shown")
	}
}
