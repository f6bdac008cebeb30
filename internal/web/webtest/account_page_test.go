package webtest_test

import (
	"context"
	"strings"
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

// revokeJS is whether the delete dialog offers to revoke at the
// provider, and whether its box is ticked.
const revokeJS = `(l => (l.checkVisibility() ? "offered" : "hidden") + (l.querySelector("input").checked ? " ticked" : ""))(document.querySelector("#delete-dialog [data-revoke]"))`

// TestDeleteDialog: the delete dialog offers "revoke at the provider" for
// an OAuth account only, and the account page's Delete opens the same
// dialog as the list (never the browser's confirm(), which the harness
// counts as a failure), carrying over the page's own revoke box.
func TestDeleteDialog(t *testing.T) {
	h := start(t, options{oauth: true})
	h.signUp()
	key := h.createKeyAccount("marketing")
	work := h.connectByAPI("work")
	h.open("/")
	h.waitRows("two accounts", func(r []row) bool { return len(r) == 2 })

	for _, tc := range []struct{ id, want string }{{key.ID, "hidden"}, {work.ID, "offered"}} {
		h.openRowMenu(tc.id)
		h.do("choose Delete", chromedp.Click(chromedp.CSS(`tr[data-id="`+tc.id+`"] [data-delete]`)))
		h.waitFor("the delete dialog", `document.querySelector("#delete-dialog").open`)
		if got := eval[string](h, revokeJS); got != tc.want {
			t.Errorf("for %s the revoke option is %q, want %q", tc.id, got, tc.want)
		}
		h.do("cancel", chromedp.Click(chromedp.CSS(`#delete-dialog [data-close]`)))
		h.waitFor("the dialog to close", `!document.querySelector("#delete-dialog").open`)
	}
	if got := h.text("#delete-dialog [data-revoke]"); got != "Also revoke access at Test IdP, where it supports that" {
		t.Errorf("the revoke option says %q", got)
	}

	// The OAuth account's page: its revoke box, ticked, is ticked in the
	// dialog; Cancel keeps the account.
	h.open("/accounts/" + work.ID)
	h.waitFor("the account page", textJS("h1")+` === "work"`)
	h.do("tick revoke", chromedp.Click(chromedp.CSS(`#delete input[name=revoke]`)))
	h.do("delete", chromedp.Click(chromedp.CSS(`#delete button[data-delete]`)))
	h.waitFor("the delete dialog", `document.querySelector("#delete-dialog").open`)
	if got := h.text("#delete-title"); got != "Delete work?" {
		t.Errorf("the dialog's title is %q", got)
	}
	if got := eval[string](h, revokeJS); got != "offered ticked" {
		t.Errorf("on the OAuth account's page the revoke option is %q", got)
	}
	h.do("cancel", chromedp.Click(chromedp.CSS(`#delete-dialog [data-close]`)))
	h.waitFor("the dialog to close", `!document.querySelector("#delete-dialog").open`)
	if !eval[bool](h, `location.pathname === "/accounts/`+work.ID+`"`) {
		t.Error("Cancel left the account page")
	}

	// The key account's page: no revoke anywhere; Delete deletes.
	h.open("/accounts/" + key.ID)
	h.waitFor("the account page", textJS("h1")+` === "marketing"`)
	h.do("delete", chromedp.Click(chromedp.CSS(`#delete button[data-delete]`)))
	h.waitFor("the delete dialog", `document.querySelector("#delete-dialog").open`)
	if got := eval[string](h, revokeJS); got != "hidden" {
		t.Errorf("on the key account's page the revoke option is %q", got)
	}
	h.do("confirm", chromedp.Click(chromedp.CSS(`#delete-dialog button.danger[type=submit]`)))
	h.at("/?done=deleted", "Accounts")
	rows := h.waitRows("the remaining account", func(r []row) bool { return len(r) == 1 })
	if rows[0].ID != work.ID {
		t.Errorf("left %+v", rows)
	}
	if _, err := h.api.GetAccount(context.Background(), key.ID); err == nil {
		t.Error("the key account is still there")
	}
}

// submitJS presses the submit button sel and reports, before the answer
// comes, what the button then says and whether it is marked busy.
func submitJS(sel string) string {
	return `(b => { b.form.requestSubmit(b); return b.textContent + " " + b.getAttribute("aria-busy"); })(document.querySelector(` + js(sel) + `))`
}

// TestAccountPageConfirms: renaming on the account's page says what the
// account is now called, and "Test and save" shows it is busy until the
// app has answered.
func TestAccountPageConfirms(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	acc := h.createKeyAccount("marketing")
	h.open("/accounts/" + acc.ID)
	h.waitFor("the account page", textJS("h1")+` === "marketing"`)

	h.clearField("#nickname")
	h.do("rename", chromedp.SendKeys(chromedp.CSS("#nickname"), "newsletters"), chromedp.Click(chromedp.CSS(`#rename button[type=submit]`)))
	h.at("/accounts/"+acc.ID+"?done=renamed", "newsletters")
	if got := h.text("main .flash"); got != "Renamed to “newsletters”." {
		t.Errorf("after renaming, the page says %q", got)
	}

	h.do("type the key", chromedp.SendKeys(chromedp.CSS("#rk-api_key"), goodKey))
	// Pressed, then come back to from the browser's cache: idle again.
	if got := eval[string](h, `(b => {
		b.form.addEventListener("submit", (e) => e.preventDefault(), { once: true });
		b.form.requestSubmit(b);
		const busy = b.textContent;
		window.dispatchEvent(new PageTransitionEvent("pageshow", { persisted: true }));
		return busy + " | " + b.textContent + " " + b.getAttribute("aria-busy");
	})(document.querySelector("#credentials button[type=submit]"))`); got != "Testing… | Test and save null" {
		t.Errorf("pressed, then shown from the cache, the button went %q", got)
	}

	if got := eval[string](h, submitJS(`#credentials button[type=submit]`)); got != "Testing… true" {
		t.Errorf("while the key is tested, the button shows %q", got)
	}
	h.at("/accounts/"+acc.ID+"?done=replaced", "newsletters")
	if got := h.text(`#credentials button[type=submit]`); got != "Test and save" {
		t.Errorf("after the test, the button says %q", got)
	}
}

// TestAccountActivityInWords: the account page's activity says what
// happened in words, and who did it and through what, never a raw event
// name such as credentials.read.
func TestAccountActivityInWords(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	acc := h.createKeyAccount("marketing")
	if _, err := h.api.Credentials(context.Background(), acc.ID); err != nil {
		t.Fatal(err)
	}
	h.open("/accounts/" + acc.ID)
	h.waitFor("the account page", textJS("h1")+` === "marketing"`)
	h.clearField("#nickname")
	h.do("rename", chromedp.SendKeys(chromedp.CSS("#nickname"), "newsletters"), chromedp.Click(chromedp.CSS(`#rename button[type=submit]`)))
	h.at("/accounts/"+acc.ID+"?done=renamed", "newsletters")

	type item struct {
		Event string `json:"event"`
		What  string `json:"what"`
		Who   string `json:"who"`
	}
	items := eval[[]item](h, `[...document.querySelectorAll("#events-h + .events li[data-event]")].map(li => ({
		event: li.dataset.event, what: li.querySelector(".event").textContent, who: li.querySelector(".who").textContent }))`)
	seen := map[string]item{}
	for _, it := range items {
		seen[it.Event] = it
		if it.What == it.Event || strings.Contains(it.What, ".") {
			t.Errorf("the event %s is shown as %q", it.Event, it.What)
		}
		if !strings.HasPrefix(it.Who, "by ") || strings.Contains(it.Who, "usr_") {
			t.Errorf("the event %s says who as %q", it.Event, it.Who)
		}
	}
	if got := seen["account.renamed"]; got.What != "Account renamed" || got.Who != "by "+ownerEmail+" through the web" {
		t.Errorf("the rename is shown as %+v", got)
	}
	if got := seen["credentials.read"]; got.What != "Credentials read" || !strings.HasSuffix(got.Who, " through the API") {
		t.Errorf("the credentials read is shown as %+v", got)
	}
}
