package webtest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An owner invites a viewer on the Members page, the link is shown once,
// and the invitee opens it, sets a name and password, and is signed in as
// a viewer; the link then works no more.
func TestInviteAndAccept(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.open("/members")
	h.at("/members", "Members")
	h.do("invite a viewer",
		chromedp.SendKeys(chromedp.CSS("#invite-email"), "vi@example.com"),
		chromedp.SetValue(chromedp.CSS("#invite-role"), "viewer"),
		chromedp.Click(chromedp.CSS(`form[action="/members"] button[type=submit]`)),
	)
	h.waitFor("the new link", `document.querySelector("#link") !== null`)
	link := h.text("#link")
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/invite/") || u.Host != strings.TrimPrefix(h.inst.URL, "http://") {
		t.Fatalf("the invitation link is %q", link)
	}
	if got := h.text(`tr[data-invitation="vi@example.com"]`); !strings.Contains(got, "viewer") {
		t.Errorf("the open invitations list %q", got)
	}
	// Shown once: the page again has no link.
	h.open("/members")
	h.at("/members", "Members")
	if eval[bool](h, `document.querySelector("#link") !== null || document.body.innerText.includes(`+js(u.Path)+`)`) {
		t.Error("the link is shown again")
	}

	h.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	h.at("/login", "Sign in")
	h.open(u.Path)
	h.at(u.Path, "Join Default")
	h.log.expectStatus(u.Path, 422)
	h.do("passwords that differ",
		chromedp.SendKeys(chromedp.CSS("#name"), "Vi"),
		chromedp.SendKeys(chromedp.CSS("#password"), "vi's long password"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "something else entirely"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	h.waitFor("the mismatch error", textJS(".form-error")+` === "The two passwords differ."`)
	h.do("accept",
		chromedp.SendKeys(chromedp.CSS("#password"), "vi's long password"),
		chromedp.SendKeys(chromedp.CSS("#confirm"), "vi's long password"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	h.at("/", "Accounts")
	if got := h.text(".me-email"); got != "vi@example.com" {
		t.Errorf("signed in as %q", got)
	}
	h.open("/members")
	h.at("/members", "Members")
	if got := h.text(`tr[data-member="vi@example.com"]`); !strings.Contains(got, "viewer") || !strings.Contains(got, "(you)") {
		t.Errorf("the invitee's row: %q", got)
	}
	if eval[bool](h, `document.querySelector("#invite-email") !== null || document.querySelector('form[action$="/remove"]') !== null`) {
		t.Error("a viewer is offered the invite form or a Remove button")
	}
	// Single use.
	h.log.expectStatus(u.Path, 404)
	h.open(u.Path)
	h.at(u.Path, "This link does not work")
}
