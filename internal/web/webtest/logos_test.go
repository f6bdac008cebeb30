package webtest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// logoJS reads the logo or badge inside the first element sel matches: a
// logo as "logo <naturalWidth>" once its image has loaded, a badge as
// "badge <letters>".
func logoJS(sel string) string {
	return `(() => {
		const m = document.querySelector(` + js(sel) + `)?.querySelector(".mono");
		if (!m) return "none";
		const img = m.querySelector("img");
		if (!img) return "badge " + m.textContent.trim();
		return img.complete ? "logo " + img.naturalWidth : "loading";
	})()`
}

// waitLogo waits until sel shows a loaded logo of some width, or fails.
func (h *harness) waitLogo(what, sel string) {
	h.t.Helper()
	waitEval(h, what+"'s logo", logoJS(sel), func(s string) bool {
		return strings.HasPrefix(s, "logo ") && s != "logo 0"
	})
}

// TestLogosAndPicker: the picker shows the workspace's apps and then the
// popular ones first, with real logos where simple-icons has one and the
// lettered badge where it has none; categories filter it, with or without
// the script; the accounts list and the account page show the same logos.
func TestLogosAndPicker(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.createKeyAccount("marketing")                   // SendGrid: no logo
	claude := h.createUntested("anthropic", "claude") // Anthropic: a logo

	h.open("/connect")
	h.at("/connect", "Connect an account")
	first := eval[[]string](h, `[...document.querySelectorAll("#app-results a[data-connect]")].slice(0, 4).map(a => a.dataset.connect)`)
	if want := []string{"sendgrid", "anthropic", "slack", "gmail"}; !slices.Equal(first, want) {
		t.Errorf("the picker starts with %v, want the workspace's apps, then the most popular: %v", first, want)
	}
	h.waitLogo("Gmail's card", `#app-results a[data-connect="gmail"]`)
	h.waitLogo("Anthropic's card", `#app-results a[data-connect="anthropic"]`)
	for slug, want := range map[string]string{"slack": "badge S", "sendgrid": "badge S"} {
		if got := eval[string](h, logoJS(`#app-results a[data-connect="`+slug+`"]`)); got != want {
			t.Errorf("%s's card shows %q, want %q: simple-icons has no %s", slug, got, want, slug)
		}
	}

	// A category chip filters the cards without a page load; the search
	// then stays within it and ranks SendGrid first for "send".
	h.do("click the email category", chromedp.Click(chromedp.CSS(`.cat-filter a[data-category="email"]`)))
	h.waitFor("the email apps", `location.search === "?category=email" && [...document.querySelectorAll("#app-results a[data-connect]")].every(a => a.textContent.includes("email"))`)
	if got := h.text(`.cat-filter a[aria-current]`); !strings.HasPrefix(got, "email") {
		t.Errorf("the current category chip says %q", got)
	}
	h.do("type send", chromedp.SendKeys(chromedp.CSS("#app-search"), "send"))
	cards := waitEval(h, "the email apps matching send", `[...document.querySelectorAll("#app-results a[data-connect]")].map(a => a.dataset.connect + " " + a.textContent.toLowerCase())`,
		func(c []string) bool {
			return len(c) > 1 && strings.HasPrefix(c[0], "sendgrid ") && !slices.ContainsFunc(c, func(s string) bool { return !strings.Contains(s, "send") })
		})
	for _, c := range cards {
		if !strings.Contains(c, "email") {
			t.Errorf("the email filter lets through %q", c)
		}
	}

	// A card drawn by app.js for a search shows a logo too.
	h.clearField("#app-search")
	h.do("search stripe", chromedp.Click(chromedp.CSS(`.cat-filter a[data-category=""]`)), chromedp.SendKeys(chromedp.CSS("#app-search"), "stripe"))
	h.waitFor("the Stripe card from the type-ahead", `document.querySelector("#picker-status").textContent.endsWith(" apps") && !!document.querySelector('#app-results a[data-connect="stripe"]')`)
	h.waitLogo("Stripe's card", `#app-results a[data-connect="stripe"]`)

	// Without the script, the chips are links and the page is filtered.
	h.open("/connect?category=crm")
	h.at("/connect?category=crm", "Connect an account")
	if !eval[bool](h, `[...document.querySelectorAll("#app-results a[data-connect]")].every(a => a.textContent.includes("crm")) && document.querySelectorAll("#app-results a[data-connect]").length > 5`) {
		t.Error("/connect?category=crm shows apps of other categories")
	}
	if got := h.text(`.cat-filter a[aria-current]`); !strings.HasPrefix(got, "crm") {
		t.Errorf("on /connect?category=crm the current chip says %q", got)
	}
	h.waitLogo("HubSpot's card", `#app-results a[data-connect="hubspot"]`)

	// The accounts list and the account page.
	h.open("/")
	h.at("/", "Accounts")
	h.waitRows("both accounts", func(r []row) bool { return len(r) == 2 })
	h.waitLogo("the Anthropic row", `tr[data-id="`+claude.ID+`"] [data-label="App"]`)
	if got := eval[string](h, logoJS(`tr:not([data-id="`+claude.ID+`"])[data-id] [data-label="App"]`)); got != "badge S" {
		t.Errorf("the SendGrid row shows %q, want its badge", got)
	}
	h.open("/accounts/" + claude.ID)
	h.at("/accounts/"+claude.ID, "claude")
	h.waitLogo("the account page", ".title-with-mono")
}
