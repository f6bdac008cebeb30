package webtest_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

const (
	memberEmail    = "mo@example.com"
	memberName     = "Mo"
	memberPassword = "mo's long password here"
)

// An owner shares a key-based account with a new member on its page; the
// member, in a browser of their own, sees it in their list and opens it
// but is offered none of the owner's controls; once the owner unshares
// it, the member no longer sees it.
func TestShareWithMember(t *testing.T) {
	owner := start(t, options{})
	owner.signUp()
	// The owner connects the account in the browser, so that it is hers
	// (an account made with the server's admin token is not).
	owner.open("/connect")
	owner.at("/connect", "Connect an account")
	owner.openConnectDialog("send", "sendgrid", "SendGrid")
	owner.do("connect SendGrid",
		chromedp.SendKeys(chromedp.CSS("#nickname-sendgrid"), "Team mail"),
		chromedp.SendKeys(chromedp.CSS("#f-api_key"), goodKey),
		chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)),
	)
	owner.atDone("connected")
	id := owner.waitRows("the new account", func(r []row) bool { return len(r) == 1 })[0].ID
	page := "/accounts/" + id

	// The owner invites a member; the member accepts in their own
	// browser context (their own cookies).
	owner.open("/members")
	owner.at("/members", "Members")
	owner.do("invite a member",
		chromedp.SendKeys(chromedp.CSS("#invite-email"), memberEmail),
		chromedp.SetValue(chromedp.CSS("#invite-role"), "member"),
		chromedp.Click(chromedp.CSS(`form[action="/members"] button[type=submit]`)),
	)
	owner.waitFor("the new link", `document.querySelector("#link") !== null`)
	link, err := url.Parse(owner.text("#link"))
	if err != nil || !strings.HasPrefix(link.Path, "/invite/") {
		t.Fatalf("the invitation link is %q", owner.text("#link"))
	}

	member := &harness{t: t, inst: owner.inst, provider: owner.provider, log: newConsoleLog()}
	member.openTab(browser(t))
	member.open(link.Path)
	member.at(link.Path, "Join Default")
	member.do("accept",
		chromedp.SendKeys(chromedp.CSS("#name"), memberName),
		chromedp.SendKeys(chromedp.CSS("#password"), memberPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), memberPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	member.at("/", "Accounts")
	if got := member.text(".me-email"); got != memberEmail {
		t.Fatalf("the member's tab is signed in as %q", got)
	}
	if rows := member.waitRows("the member's accounts", func([]row) bool { return true }); len(rows) != 0 {
		t.Fatalf("before sharing, the member sees %q", nicknames(rows))
	}

	// The owner shares it with the member on the account page.
	box := `#sharing label.check`
	memberBox := `[...document.querySelectorAll(` + js(box) + `)].find(l => l.textContent.includes(` + js(memberEmail) + `))?.querySelector("input")`
	saveSharing := func(what string, checked bool) {
		t.Helper()
		owner.open(page)
		owner.at(page, "Team mail")
		owner.waitFor("the member in the sharing form", memberBox+` != null`)
		if got := eval[bool](owner, memberBox+`.checked`); got == checked {
			t.Fatalf("%s: the member's box is already checked=%v", what, got)
		}
		owner.do(what,
			chromedp.Evaluate[chromedp.Void](memberBox+`.click()`),
			chromedp.Click(chromedp.CSS(`#sharing button[type=submit]`)),
		)
		owner.at(page+"?done=shared", "Team mail")
		if got := owner.text(".flash"); got != "Sharing saved." {
			t.Errorf("%s: the flash says %q", what, got)
		}
	}
	shared := func() string {
		return eval[string](owner, `[...document.querySelectorAll("dl.facts dt")].find(d => d.textContent === "Shared").nextElementSibling.textContent.trim()`)
	}
	saveSharing("share with the member", true)
	if got, want := shared(), "With "+memberName+" ("+memberEmail+")"; got != want {
		t.Errorf("after sharing, the page says Shared: %q, want %q", got, want)
	}

	// The member sees it and opens it, without the owner's controls.
	member.open("/")
	member.at("/", "Accounts")
	rows := member.waitRows("the shared account in the member's list", func(rs []row) bool { return len(rs) == 1 })
	if rows[0].Nickname != "Team mail" || rows[0].ID != id || rows[0].Identity != "Ada Lovelace" {
		t.Errorf("the member's list shows %+v", rows[0])
	}
	// Its row in the list offers none of the owner's controls either.
	menu := eval[[]string](member, `[...document.querySelectorAll("#account-rows tr[data-id] td.actions a, #account-rows tr[data-id] td.actions button")].map(e => e.textContent.trim())`)
	for _, b := range []string{"Rename", "Delete", "Replace keys", "Reconnect"} {
		if slices.Contains(menu, b) {
			t.Errorf("the member's row of the shared account offers %q (it offers %q)", b, menu)
		}
	}
	member.do("open the shared account", chromedp.Click(chromedp.CSS(`#account-rows a.nick`)))
	member.at(page, "Team mail")
	if got := member.text("#manage-h + p"); !strings.Contains(got, "This account is shared with you.") {
		t.Errorf("the member's Manage card says %q", got)
	}
	for _, sel := range []string{"#rename", "#nickname", "#credentials", "#delete", "#sharing", `form[action$="/delete"]`, `form[action$="/rename"]`, `form[action$="/credentials"]`, `form[action$="/sharing"]`} {
		if eval[bool](member, `document.querySelector(`+js(sel)+`) !== null`) {
			t.Errorf("the member is offered %s on the shared account's page", sel)
		}
	}
	buttons := eval[[]string](member, `[...document.querySelectorAll("main button, main a.btn")].map(b => b.textContent.trim())`)
	for _, b := range []string{"Rename", "Delete account", "Test and save", "Save sharing"} {
		if slices.Contains(buttons, b) {
			t.Errorf("the member's page has a %q button (buttons: %q)", b, buttons)
		}
	}

	// The owner unshares it; the member no longer sees it.
	saveSharing("unshare", false)
	if got := shared(); got != "Private to its owner" {
		t.Errorf("after unsharing, the page says Shared: %q", got)
	}
	member.open("/")
	member.at("/", "Accounts")
	if rows := member.waitRows("the member's list after unsharing", func([]row) bool { return true }); len(rows) != 0 {
		t.Errorf("after unsharing, the member sees %q", nicknames(rows))
	}
	member.log.expectStatus(page, 404)
	member.open(page)
	member.at(page, "Not found")
}
