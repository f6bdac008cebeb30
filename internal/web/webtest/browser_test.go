package webtest_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
)

// TestSetupAndSignIn: a fresh server sends the browser to set-up; set-up
// signs the owner in; sign-out, a wrong password and the right one.
func TestSetupAndSignIn(t *testing.T) {
	h := start(t, options{})
	h.open("/")
	h.at("/setup", "Welcome to Latchkey")

	// Two passwords that differ: the form says so and keeps the email.
	h.log.expectStatus("/setup", 422)
	h.do("fill set-up with two different passwords",
		chromedp.SendKeys(chromedp.CSS("#email"), ownerEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), ownerPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), ownerPassword+"!"),
		chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)),
	)
	h.waitFor("the mismatch error", `location.pathname === "/setup" && `+textJS(".form-error")+` === "The two passwords differ."`)
	if got := eval[string](h, `document.querySelector("#email").value`); got != ownerEmail {
		t.Errorf("after the error the email field holds %q", got)
	}

	h.do("fill set-up",
		chromedp.SendKeys(chromedp.CSS("#password"), ownerPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), ownerPassword),
		chromedp.Click(chromedp.CSS(`form[action="/setup"] button[type=submit]`)),
	)
	h.at("/", "Accounts")
	if got := h.text(".me-email"); got != ownerEmail {
		t.Errorf("header shows %q, want the owner's email", got)
	}
	if got := h.text("#account-rows"); !strings.Contains(got, "No accounts yet.") {
		t.Errorf("a new owner's accounts table says %q", got)
	}

	h.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	h.at("/login", "Sign in")
	// Signed out, the accounts page asks to sign in; set-up is over.
	h.open("/")
	h.at("/login?next=%2F", "Sign in")
	h.open("/setup")
	h.at("/login", "Sign in")

	h.log.expectStatus("/login", 401)
	h.do("sign in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), ownerEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	h.waitFor("the sign-in error", `location.pathname === "/login" && `+textJS(".form-error")+` === "The email or the password is wrong."`)
	if got := h.text("h1"); got != "Sign in" {
		t.Errorf("after a wrong password the page is %q", got)
	}
	if got := eval[bool](h, `!document.querySelector(".me-email")`); !got {
		t.Error("a wrong password signed the browser in")
	}

	// The email field kept its value; only the password is typed again.
	h.do("sign in",
		chromedp.SendKeys(chromedp.CSS("#password"), ownerPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	h.at("/", "Accounts")
	if got := h.text(".me-email"); got != ownerEmail {
		t.Errorf("header shows %q after sign-in", got)
	}
}

// TestConnectKeyApp: the picker's type-ahead finds SendGrid, its dialog
// asks for exactly its fields, and "Test and save" saves a tested account.
func TestConnectKeyApp(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("send", "sendgrid", "SendGrid")

	// The type-ahead narrowed the cards to apps matching "send".
	cards := eval[[]string](h, `[...document.querySelectorAll("#app-results a[data-connect]")].map(a => a.dataset.connect + " " + a.textContent.toLowerCase())`)
	for _, c := range cards {
		if !strings.Contains(c, "send") {
			t.Errorf("the search for send shows %q", c)
		}
	}

	type field struct {
		Name     string `json:"name"`
		Type     string `json:"type"`
		Label    string `json:"label"`
		Required bool   `json:"required"`
	}
	inputs := eval[[]field](h, `[...document.querySelectorAll("#connect-dialog form input")].map(i => ({
		name: i.name, type: i.type, required: i.required,
		label: document.querySelector('label[for="' + i.id + '"]')?.textContent.trim() ?? ""}))`)
	want := []field{
		{Name: "nickname", Type: "text", Label: "Nickname (optional)"},
		{Name: "field_api_key", Type: "password", Label: "API key", Required: true},
	}
	if !slices.Equal(inputs, want) {
		t.Errorf("the dialog's inputs are %+v, want %+v", inputs, want)
	}
	docs := eval[[]string](h, `[...document.querySelectorAll("#connect-dialog a[target=_blank]")].map(a => a.href + " " + a.rel + " " + a.textContent)`)
	if len(docs) != 1 || docs[0] != "https://www.twilio.com/docs/sendgrid/for-developers/sending-email/authentication noopener noreferrer SendGrid documentation" {
		t.Errorf("docs links %q", docs)
	}
	// The card drawn by app.js and the dialog drawn by the server agree on
	// the app's monogram and colour.
	mono := eval[[]string](h, `[document.querySelector('#app-results a[data-connect="sendgrid"] .mono'), document.querySelector("#connect-dialog .mono")].map(m => m.className + " " + m.textContent)`)
	if mono[0] != mono[1] {
		t.Errorf("the card's monogram %q differs from the dialog's %q", mono[0], mono[1])
	}
	if got := h.text(`#connect-dialog button[type=submit]`); got != "Test and save" {
		t.Errorf("the dialog's button says %q", got)
	}

	h.do("fill and submit the dialog",
		chromedp.SendKeys(chromedp.CSS("#nickname-sendgrid"), "marketing"),
		chromedp.SendKeys(chromedp.CSS("#f-api_key"), goodKey),
		chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)),
	)
	h.atDone("connected")
	rows := h.waitRows("the new account", func(r []row) bool { return len(r) == 1 })
	if r := rows[0]; r.Nickname != "marketing" || r.Identity != "Ada Lovelace" || r.App != "SendGrid" || r.Status != "Healthy" {
		t.Errorf("row %+v", r)
	}
	if got := h.text(".flash"); got != "SendGrid account “marketing” is connected." {
		t.Errorf("flash %q", got)
	}

	list, err := h.api.ListAccounts(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != rows[0].ID || list.Data[0].Untested || list.Data[0].IdentityLabel != "Ada Lovelace" {
		t.Fatalf("the API lists %+v", list.Data)
	}
	creds, err := h.api.Credentials(context.Background(), rows[0].ID)
	if err != nil || creds["api_key"] != goodKey {
		t.Fatalf("credentials %v, %v", creds, err)
	}
}

// TestConnectKeyAppRefused: a key the provider refuses shows the refusal in
// the dialog, and nothing is saved.
func TestConnectKeyAppRefused(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("sendgrid", "sendgrid", "SendGrid")

	h.log.expectStatus("/connect/sendgrid", 422)
	before := h.provider.Requests.Load()
	h.do("submit a wrong key",
		chromedp.SendKeys(chromedp.CSS("#nickname-sendgrid"), "marketing"),
		chromedp.SendKeys(chromedp.CSS("#f-api_key"), "SG.wrong.key"),
		chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)),
	)
	h.waitFor("the refusal in the dialog", `document.querySelector("#connect-dialog").open && !!document.querySelector("#connect-dialog .form-error")`)
	// Said once, plainly: no "test failed: the provider answered" chain,
	// and "nothing was saved" once.
	msg := h.text("#connect-dialog .form-error")
	if want := "SendGrid refused these credentials (401 Unauthorized, “authorization required”). Nothing was saved; check them and try again."; msg != want {
		t.Errorf("the error says %q, want %q", msg, want)
	}
	// The cursor is in the key, which is marked as the field at fault.
	if got := eval[string](h, `document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid")`); got != "f-api_key true" {
		t.Errorf("after the refusal the focus is on %q, want the key marked invalid", got)
	}
	if !eval[bool](h, `document.querySelector("#connect-dialog .form-error").nextElementSibling.matches("form[data-keys]")`) {
		t.Error("the error is not next to the form")
	}
	if !eval[bool](h, `location.pathname === "/connect"`) {
		t.Error("the page left the picker")
	}
	// The nickname stays; the refused key is not sent back to the browser.
	if got := eval[string](h, `document.querySelector("#nickname-sendgrid").value + "|" + document.querySelector("#f-api_key").value`); got != "marketing|" {
		t.Errorf("after the refusal nickname|key = %q", got)
	}
	if got := eval[string](h, `(b => (b.disabled ? "disabled " : "") + b.textContent)(document.querySelector("#connect-dialog button[type=submit]"))`); got != "Test and save" {
		t.Errorf("after the refusal the button is %q", got)
	}
	if n := h.provider.Requests.Load() - before; n != 1 {
		t.Errorf("the provider got %d requests, want 1 (the test request)", n)
	}

	list, err := h.api.ListAccounts(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 0 {
		t.Fatalf("a refused key saved %+v", list.Data)
	}

	// A retry clears the old refusal the moment it is sent, and the right
	// key connects.
	h.do("type the right key", chromedp.SendKeys(chromedp.CSS("#f-api_key"), goodKey))
	if eval[bool](h, `(() => { document.querySelector("#connect-dialog form[data-keys]").requestSubmit(); return !!document.querySelector("#connect-dialog .form-error"); })()`) {
		t.Error("the old refusal stays up while the retry is tested")
	}
	h.atDone("connected")
	h.waitRows("the account", func(r []row) bool { return len(r) == 1 && r[0].Nickname == "marketing" })
}

// TestConnectOAuthPopup: connecting an OAuth app opens a popup at the IdP,
// which approves and sends it back to Latchkey's callback; the popup tells
// the picker and closes, and the new account is listed.
func TestConnectOAuthPopup(t *testing.T) {
	h := start(t, options{oauth: true})
	h.signUp()
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("idp", "testidp", "Test IdP")
	if got := h.text(`#connect-dialog button[type=submit]`); got != "Connect with Test IdP" {
		t.Errorf("the dialog's button says %q", got)
	}
	if n := eval[int](h, `document.querySelectorAll('#connect-dialog input[name^="field_"]').length`); n != 0 {
		t.Errorf("the Test IdP dialog asks for %d fields", n)
	}
	h.do("name the account", chromedp.SendKeys(chromedp.CSS("#nickname-testidp"), "work"))
	h.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__marker = 1`))
	openerNavs := len(h.log.navigations("page"))

	p := h.throughPopup("connect with Test IdP", "/connect/testidp", chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)), func() {
		// The popup is open and the IdP has not answered: the picker has
		// not moved (no popup-blocked fallback), and the dialog waits.
		if got := eval[string](h, `location.pathname + " " + window.__marker + " " + document.querySelector("#connect-dialog").open`); got != "/connect 1 true" {
			t.Errorf("while the popup is at the IdP, the opener is %q", got)
		}
	})
	checkPopup(t, h, p)

	// The picker stays where it is: the dialog closes, a notice links to
	// the new account, and the page was never reloaded.
	h.waitFor("the connected notice", `(() => { const f = document.querySelector("main .flash"); return !!f && f.textContent.includes("Test IdP account “work” is connected.") })()`)
	if got := eval[string](h, `location.pathname + " " + window.__marker + " " + document.querySelector("#connect-dialog").open`); got != "/connect 1 false" {
		t.Errorf("after the popup, the picker is %q", got)
	}
	if navs := h.log.navigations("page")[openerNavs:]; len(navs) != 0 {
		t.Errorf("the picker navigated to %q", navs)
	}
	list, err := h.api.ListAccounts(context.Background(), client.ListOptions{})
	if err != nil || len(list.Data) != 1 {
		t.Fatalf("accounts after connecting: %+v, %v", list.Data, err)
	}
	acc := list.Data[0]
	if acc.App != "testidp" || acc.Nickname != "work" || acc.IdentityLabel != "alice@example.com" {
		t.Fatalf("the API has %+v", acc)
	}
	if href := eval[string](h, `document.querySelector("main .flash a").getAttribute("href")`); href != "/accounts/"+acc.ID {
		t.Errorf("the notice links to %q", href)
	}
	h.open("/")
	rows := h.waitRows("the new account", func(r []row) bool { return len(r) == 1 })
	if r := rows[0]; r.Nickname != "work" || r.Identity != "alice@example.com" || r.App != "Test IdP" || r.Status != "Healthy" {
		t.Errorf("row %+v", r)
	}
}

// TestConnectOAuth1Popup: Trello connects with OAuth 1.0a from the picker
// as an OAuth 2 app does: a popup to the provider's authorize page, back
// to the callback, and a labelled account.
func TestConnectOAuth1Popup(t *testing.T) {
	h := start(t, options{oauth1: true})
	h.signUp()
	h.open("/connect")
	h.openConnectDialog("trello", "trello", "Trello")
	if got := h.text(`#connect-dialog button[type=submit]`); got != "Connect with Trello" {
		t.Errorf("the dialog's button says %q", got)
	}
	p := h.throughPopup("connect with Trello", "/connect/trello", chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)), nil)
	if len(p.requests) == 0 || !strings.HasPrefix(p.requests[0], "GET "+h.oauth1.URL+"/1/OAuthAuthorizeToken?") {
		t.Errorf("the popup's first request was not to the provider: %q", p.requests)
	}
	h.waitFor("the connected notice", `(() => { const f = document.querySelector("main .flash"); return !!f && f.textContent.includes("Trello account “Trello” is connected.") })()`)
	list, err := h.api.ListAccounts(context.Background(), client.ListOptions{})
	if err != nil || len(list.Data) != 1 || list.Data[0].App != "trello" || list.Data[0].IdentityLabel != "Alice Example (alice)" {
		t.Fatalf("accounts after connecting: %+v, %v", list.Data, err)
	}
	// The popup never saw the request token's secret.
	for _, u := range append(p.requests, p.navs...) {
		if strings.Contains(u, "oauth_token_secret") {
			t.Errorf("the popup saw %s", u)
		}
	}
}

// checkPopup: the popup went to the IdP's authorize endpoint, which sent it
// to Latchkey's callback, which answered 200.
func checkPopup(t *testing.T, h *harness, p popup) {
	t.Helper()
	if len(p.requests) == 0 || !strings.HasPrefix(p.requests[0], "GET "+h.idp.URL+"/authorize?") {
		t.Errorf("the popup's first request was not to the IdP: %q", p.requests)
	}
	var callback []response
	for _, r := range p.responses {
		if strings.HasPrefix(r.url, h.inst.URL+"/oauth/callback?") {
			callback = append(callback, r)
		}
	}
	if len(callback) != 1 || callback[0].status != 200 {
		t.Errorf("the popup's callback responses: %+v", callback)
	}
	if len(p.navs) == 0 || !strings.HasPrefix(p.navs[len(p.navs)-1], h.inst.URL+"/oauth/callback?") {
		t.Errorf("the popup's pages: %q", p.navs)
	}
}

// TestRenameAccount: the row menu's Rename opens a dialog; saving shows the
// new name.
func TestRenameAccount(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	acc := h.createKeyAccount("marketing")
	h.open("/")
	h.waitRows("the account", func(r []row) bool { return len(r) == 1 })

	h.openRowMenu(acc.ID)
	h.do("choose Rename", chromedp.Click(chromedp.CSS(`tr[data-id="`+acc.ID+`"] [data-rename]`)))
	h.waitFor("the rename dialog", `document.querySelector("#rename-dialog").open && document.activeElement === document.querySelector("#rename-input")`)
	if got := eval[string](h, `document.querySelector("#rename-input").value`); got != "marketing" {
		t.Errorf("the rename field starts with %q", got)
	}
	if eval[bool](h, `document.querySelector("tr details.menu").open`) {
		t.Error("the row menu stayed open behind the dialog")
	}
	// The old name is selected, so typing replaces it.
	h.do("type the new name", chromedp.SendKeys(chromedp.CSS("#rename-input"), "marketing (EU)"))
	if got := eval[string](h, `document.querySelector("#rename-input").value`); got != "marketing (EU)" {
		t.Errorf("after typing, the rename field holds %q", got)
	}
	h.do("save", chromedp.Click(chromedp.CSS(`#rename-dialog button[type=submit]`)))
	h.atDone("renamed")
	rows := h.waitRows("the renamed row", func(r []row) bool { return len(r) == 1 })
	if rows[0].ID != acc.ID || rows[0].Nickname != "marketing (EU)" {
		t.Errorf("row %+v", rows[0])
	}
	if got := h.text(".flash"); got != "Renamed to “marketing (EU)”." {
		t.Errorf("flash %q", got)
	}
	got, err := h.api.GetAccount(context.Background(), acc.ID)
	if err != nil || got.Nickname != "marketing (EU)" {
		t.Fatalf("the API has %+v, %v", got, err)
	}
}

// TestReconnectKeepsID: Reconnect from the row menu runs the popup again
// as another IdP user; the row keeps its id, shows the new identity, and
// the accounts page is updated in place, not reloaded.
func TestReconnectKeepsID(t *testing.T) {
	h := start(t, options{oauth: true})
	h.signUp()
	acc := h.connectByAPI("work")
	h.open("/")
	h.waitRows("the OAuth account", func(r []row) bool { return len(r) == 1 && r[0].Identity == "alice@example.com" })

	h.idp.SetUser("bob")
	h.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__marker = 1`))
	openerNavs := len(h.log.navigations("page"))
	h.openRowMenu(acc.ID)
	p := h.throughPopup("reconnect", "/accounts/"+acc.ID+"/reconnect", chromedp.Click(chromedp.CSS(`tr[data-id="`+acc.ID+`"] details.menu form[data-oauth] button`)), nil)
	checkPopup(t, h, p)

	rows := h.waitRows("the reconnected row", func(r []row) bool { return len(r) == 1 && r[0].Identity == "bob@example.com" })
	if r := rows[0]; r.ID != acc.ID || r.Nickname != "work" || !r.Fresh {
		t.Errorf("row %+v, want id %s, nickname work, marked fresh", r, acc.ID)
	}
	h.waitFor("the reconnected notice", textJS("main .flash")+` === "Test IdP account “work” is reconnected."`)
	if got := eval[string](h, `location.pathname + location.search + " " + window.__marker`); got != "/ 1" {
		t.Errorf("the accounts page was reloaded or moved: %q", got)
	}
	if navs := h.log.navigations("page")[openerNavs:]; len(navs) != 0 {
		t.Errorf("the opener navigated to %q", navs)
	}
	if eval[bool](h, `[...document.querySelectorAll("details.menu")].some(d => d.open)`) {
		t.Error("a row menu is still open")
	}

	list, err := h.api.ListAccounts(context.Background(), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 1 || list.Data[0].ID != acc.ID || list.Data[0].IdentityLabel != "bob@example.com" || list.Data[0].Nickname != "work" {
		t.Fatalf("the API lists %+v", list.Data)
	}
}

// TestDeleteAccount: the row menu's Delete asks first, naming the account;
// Cancel keeps it, Delete removes it.
func TestDeleteAccount(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	acc := h.createKeyAccount("marketing")
	other := h.createUntested("openai", "research")
	h.open("/")
	h.waitRows("two accounts", func(r []row) bool { return len(r) == 2 })

	openDialog := func() {
		h.openRowMenu(acc.ID)
		h.do("choose Delete", chromedp.Click(chromedp.CSS(`tr[data-id="`+acc.ID+`"] [data-delete]`)))
		h.waitFor("the delete dialog", `document.querySelector("#delete-dialog").open`)
	}
	openDialog()
	if got := h.text("#delete-title"); got != "Delete marketing?" {
		t.Errorf("the dialog's title is %q", got)
	}
	if got := eval[string](h, `[...document.querySelectorAll("#delete-dialog [data-fill]")].map(n => n.dataset.fill + "=" + n.textContent).join(" ")`); got != "name=marketing app=SendGrid name=marketing app=SendGrid" {
		t.Errorf("the dialog names %q", got)
	}
	if !eval[bool](h, `document.activeElement.matches("#delete-dialog [data-close]")`) {
		t.Error("the delete dialog does not start on Cancel")
	}
	h.do("cancel", chromedp.Click(chromedp.CSS(`#delete-dialog [data-close]`)))
	h.waitFor("the dialog to close", `!document.querySelector("#delete-dialog").open`)
	if _, err := h.api.GetAccount(context.Background(), acc.ID); err != nil {
		t.Fatalf("after Cancel: %v", err)
	}

	openDialog()
	h.do("confirm", chromedp.Click(chromedp.CSS(`#delete-dialog button.danger[type=submit]`)))
	h.at("/?done=deleted", "Accounts")
	rows := h.waitRows("the remaining account", func(r []row) bool { return len(r) == 1 })
	if rows[0].ID != other.ID {
		t.Errorf("left %+v, want only %s", rows, other.ID)
	}
	if got := h.text(".flash"); got != "The account was deleted." {
		t.Errorf("flash %q", got)
	}
	if _, err := h.api.GetAccount(context.Background(), acc.ID); !client.IsProblem(err, "not-found") {
		t.Fatalf("the API after delete: %v", err)
	}
}

// TestLiveSearch: typing in the accounts search narrows the rows as one
// types, by nickname, identity or app, without submitting or reloading.
func TestLiveSearch(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.createKeyAccount("marketing")
	h.createUntested("openai", "research bot")
	h.createUntested("anthropic", "support assistant")
	h.open("/")
	h.waitRows("three accounts", func(r []row) bool { return len(r) == 3 })
	h.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.__marker = 1`))

	search := func(typed string, want ...string) {
		t.Helper()
		h.do("type "+typed, chromedp.SendKeys(chromedp.CSS("#q"), typed))
		h.waitRows("rows "+strings.Join(want, ", "), func(r []row) bool { return slices.Equal(nicknames(r), want) })
	}
	clear := func() {
		t.Helper()
		h.clearField("#q")
	}
	search("mark", "marketing")
	if got := eval[string](h, `location.search`); !strings.Contains(got, "q=mark") {
		t.Errorf("the address does not keep the search: %q", got)
	}
	clear()
	search("lovelace", "marketing") // the identity
	clear()
	search("anthropic", "support assistant") // the app
	clear()
	search("bot", "research bot")
	clear()
	search("zzz")
	if got := h.text("#account-rows .empty-state strong"); got != "No account matches." {
		t.Errorf("with no match the table says %q", got)
	}
	// Backspace the search away: every account again.
	search(kb.Backspace+kb.Backspace+kb.Backspace, "marketing", "research bot", "support assistant")

	// The app filter is live too.
	h.do("choose OpenAI", chromedp.Evaluate[chromedp.Void](`(s => { s.value = "openai"; s.dispatchEvent(new Event("change", {bubbles: true})); })(document.querySelector("#app-filter"))`))
	h.waitRows("the OpenAI account", func(r []row) bool { return slices.Equal(nicknames(r), []string{"research bot"}) })

	if got := eval[string](h, `location.pathname + " " + window.__marker`); got != "/ 1" {
		t.Errorf("the search reloaded the page: %q", got)
	}
}

// TestNicknameIsText: a nickname that is markup shows as text everywhere
// the browser shows it, and runs nothing.
func TestNicknameIsText(t *testing.T) {
	const nick = `<img src=x onerror=alert(1)>`
	h := start(t, options{})
	h.signUp()
	acc := h.createUntested("openai", nick)
	noImage := func(where string) {
		t.Helper()
		if n := eval[int](h, `document.querySelectorAll("img").length`); n != 0 {
			t.Errorf("%s: %d <img> elements in the page", where, n)
		}
		if !eval[bool](h, `document.body.innerText.includes(`+js(nick)+`)`) {
			t.Errorf("%s: the page text lacks the nickname", where)
		}
	}

	h.open("/")
	rows := h.waitRows("the account", func(r []row) bool { return len(r) == 1 })
	if rows[0].Nickname != nick {
		t.Errorf("the row shows %q", rows[0].Nickname)
	}
	noImage("accounts page")

	// The dialogs copy the nickname with script.
	h.openRowMenu(acc.ID)
	h.do("choose Rename", chromedp.Click(chromedp.CSS(`tr[data-id="`+acc.ID+`"] [data-rename]`)))
	h.waitFor("the rename dialog", `document.querySelector("#rename-dialog").open`)
	if got := eval[string](h, `document.querySelector("#rename-input").value`); got != nick {
		t.Errorf("the rename field holds %q", got)
	}
	h.do("cancel", chromedp.Click(chromedp.CSS(`#rename-dialog [data-close]`)))
	h.openRowMenu(acc.ID)
	h.do("choose Delete", chromedp.Click(chromedp.CSS(`tr[data-id="`+acc.ID+`"] [data-delete]`)))
	h.waitFor("the delete dialog", `document.querySelector("#delete-dialog").open`)
	if got := h.text("#delete-title"); got != "Delete "+nick+"?" {
		t.Errorf("the delete dialog's title is %q", got)
	}
	noImage("delete dialog")
	h.do("cancel", chromedp.Click(chromedp.CSS(`#delete-dialog [data-close]`)))

	// The live search puts server HTML into the table.
	h.do("search", chromedp.SendKeys(chromedp.CSS("#q"), "img"))
	h.waitFor("the searched rows", `location.search.includes("q=img") && document.querySelectorAll("#account-rows tr[data-id]").length === 1`)
	time.Sleep(300 * time.Millisecond) // the search's fetch has landed; give a handler time to fire
	noImage("searched accounts page")

	h.open("/accounts/" + acc.ID)
	h.waitFor("the detail page", textJS("h1")+` === `+js(nick))
	if got := eval[string](h, `document.title`); got != nick+" · Latchkey" {
		t.Errorf("title %q", got)
	}
	if got := h.text(".crumbs"); got != "Accounts / "+nick {
		t.Errorf("crumbs %q", got)
	}
	noImage("detail page")

	// The connect dialog lists one's existing accounts of the app.
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("openai", "openai", "OpenAI")
	if got := h.text("#connect-dialog .existing li a"); got != nick {
		t.Errorf("the connect dialog lists %q", got)
	}
	noImage("connect dialog")
	time.Sleep(300 * time.Millisecond)
	// checkConsole fails the test if an alert (or any dialog) opened, or if
	// CSP refused an inline handler.
}

// TestScreenshots saves full-page screenshots of every page, at desktop
// and phone widths, into LATCHKEY_SCREENSHOTS or a temporary folder.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("LATCHKEY_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A fake clock lets one OAuth account lose its grant: its refresh
	// fails with invalid_grant and it needs reconnecting.
	clock := clockwork.NewFakeClockAt(time.Now())
	h := start(t, options{oauth: true, clock: clock})
	t.Logf("screenshots go to %s", dir)

	h.open("/")
	h.at("/setup", "Welcome to Latchkey")
	h.screenshot(dir, "01-setup")

	h.signUp()
	h.log.expectStatus("/login", 401)
	h.open("/login")
	h.do("sign in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#email"), ownerEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), "not the password"),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
	)
	h.waitFor("the sign-in error", `!!document.querySelector(".form-error")`)
	h.screenshot(dir, "02-login-error")

	ctx := context.Background()
	key := h.createKeyAccount("marketing")
	h.createUntested("openai", "research bot")
	work := h.connectByAPI("work")
	h.idp.SetUser("bob")
	support := h.connectByAPI("support")
	h.idp.SetUser("alice")
	h.idp.RevokeUser("bob")
	clock.Advance(56 * time.Minute) // within the refresh margin of the 1 h tokens
	if _, err := h.api.Credentials(ctx, support.ID); !client.IsProblem(err, "needs-reconnect") {
		t.Fatalf("reading the revoked account: %v", err)
	}

	h.open("/")
	h.waitRows("four accounts", func(r []row) bool { return len(r) == 4 })
	if !eval[bool](h, `!!document.querySelector('tr[data-id="`+support.ID+`"] .actions form[data-oauth] .btn.warn')`) {
		t.Error("the needs_reconnect row has no Reconnect button")
	}
	h.screenshot(dir, "03-accounts")
	h.openRowMenu(work.ID)
	h.screenshot(dir, "04-accounts-row-menu")
	h.do("choose Delete", chromedp.Click(chromedp.CSS(`tr[data-id="`+work.ID+`"] [data-delete]`)))
	h.waitFor("the delete dialog", `document.querySelector("#delete-dialog").open`)
	h.screenshot(dir, "05-accounts-delete-dialog")

	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.screenshot(dir, "06-connect-picker")
	h.openConnectDialog("send", "sendgrid", "SendGrid")
	h.screenshot(dir, "07-connect-dialog-keys")
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("idp", "testidp", "Test IdP")
	h.screenshot(dir, "08-connect-dialog-oauth")

	h.open("/accounts/" + key.ID)
	h.waitFor("the detail page", textJS("h1")+` === "marketing"`)
	h.screenshot(dir, "09-account-detail-keys")
	h.open("/accounts/" + support.ID)
	h.waitFor("the detail page", textJS("h1")+` === "support"`)
	h.screenshot(dir, "10-account-detail-needs-reconnect")

	h.open("/oauth-clients")
	h.at("/oauth-clients", "OAuth clients")
	h.screenshot(dir, "11-oauth-clients")
	h.open("/workflows")
	h.at("/workflows", "Workflows")
	h.screenshot(dir, "12-workflows")

	// The callback page, in a tab (no opener, so it stays open).
	nick := "callback demo"
	started, err := h.api.Connect(ctx, client.Connect{App: "testidp", Nickname: &nick})
	if err != nil {
		t.Fatal(err)
	}
	h.do("open the authorize URL", chromedp.Navigate(started.AuthorizeURL))
	// The admin token started it, and cannot sign in here: the page asks
	// for the one-time code the start returned.
	h.waitFor("the one-time code page", `location.pathname.startsWith("/oauth/callback") && !!document.querySelector("#one-time-code")`)
	h.screenshot(dir, "13-callback-one-time-code")
	h.do("enter the one-time code", chromedp.SendKeys(chromedp.CSS("#one-time-code"), started.OneTimeCode), chromedp.Submit(chromedp.CSS("#one-time-code")))
	h.waitFor("the callback page", `location.pathname.startsWith("/oauth/callback") && `+textJS("h1")+` === "Test IdP is connected"`)
	h.screenshot(dir, "13-callback")
	h.log.expectStatus("/oauth/callback", 400)
	h.open("/oauth/callback?state=unknown&code=x")
	h.waitFor("the failed callback page", textJS("h1")+` === "The account was not connected"`)
	h.screenshot(dir, "14-callback-error")

	h.setViewport(phone)
	h.open("/")
	h.waitRows("five accounts", func(r []row) bool { return len(r) == 5 })
	h.screenshot(dir, "phone-01-accounts")
	h.openRowMenu(work.ID)
	h.screenshot(dir, "phone-01-accounts-row-menu")
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.screenshot(dir, "phone-02-connect-picker")
	h.openConnectDialog("send", "sendgrid", "SendGrid")
	h.screenshot(dir, "phone-03-connect-dialog-keys")

	entries, _ := os.ReadDir(dir)
	t.Logf("%d screenshots in %s", len(entries), dir)
}

// TestHarnessCatchesPageErrors checks the checker: an uncaught exception,
// an unhandled rejection, console.error, a failed request and an alert all
// reach the log that every other test asserts empty at its end.
func TestHarnessCatchesPageErrors(t *testing.T) {
	h := start(t, options{})
	h.open("/setup")
	h.at("/setup", "Welcome to Latchkey")
	h.do("misbehave", chromedp.Evaluate[chromedp.Void](`
		console.error("boom");
		setTimeout(() => { throw new Error("thrown later"); });
		Promise.reject(new Error("rejected"));
		fetch("/no-such-page");
		setTimeout(() => alert("hello"), 10);
	`))
	want := []string{`console.error: "boom"`, "Error: thrown later", "Error: rejected", "/no-such-page", `alert dialog opened: "hello"`}
	deadline := time.Now().Add(waitTimeout)
	for {
		problems, _ := h.log.snapshot()
		all := strings.Join(problems, "\n")
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(all, w) })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %q; it has:\n%s", missing, all)
		}
		time.Sleep(40 * time.Millisecond)
	}
	// The alert was dismissed: the page still answers.
	if got := h.text("h1"); got != "Welcome to Latchkey" {
		t.Errorf("after the alert the page shows %q", got)
	}
	h.log.reset()
}

// TestLiveSearchIgnoresStaleAnswers: when the answer to an older search
// arrives after the answer to a newer one, the rows must still be the
// newer search's.
func TestLiveSearchIgnoresStaleAnswers(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.createKeyAccount("marketing")
	h.createUntested("openai", "mailing")
	h.createUntested("anthropic", "ops")
	h.open("/")
	h.waitRows("three accounts", func(r []row) bool { return len(r) == 3 })

	held, stop := h.holdFetches("*/ui/accounts/rows?q=m&*")
	defer stop()
	h.do("type m", chromedp.SendKeys(chromedp.CSS("#q"), "m"))
	older := h.nextHeld(held, "the search for m")
	h.do("type ar", chromedp.SendKeys(chromedp.CSS("#q"), "ar"))
	h.waitRows("the rows for mar", func(r []row) bool { return slices.Equal(nicknames(r), []string{"marketing"}) })
	h.letThrough(older) // the answer for "m" (marketing, mailing) lands last
	time.Sleep(500 * time.Millisecond)
	if got := nicknames(eval[[]row](h, rowsJS)); !slices.Equal(got, []string{"marketing"}) {
		t.Errorf(`the search box says "mar" but the rows are %q, the answer for "m"`, got)
	}
}
