package webtest_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEmptyStates: every empty list says what it is for and what to do
// next, with the button that does it; the button leads there (a page, or
// the form below with the cursor in its first field).
func TestEmptyStates(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	for _, tc := range []struct {
		path, heading, button string
		// then: the path the button leads to, or "#id": the field it focuses.
		then string
	}{
		{"/", "Accounts", "Connect an account", "/connect"},
		{"/?q=nothing-like-this", "Accounts", "Show all accounts", "/"},
		{"/workflows", "Workflows", "Create a workflow", "#wf-name"},
		{"/tokens", "API tokens", "Create a token", "#token-name"},
		{"/webhooks", "Webhooks", "Add an endpoint", "#webhook-url"},
		{"/oauth-clients", "OAuth clients", "Add a client", "#client-app"},
		{"/activity?action=nothing.like.this", "Activity", "Clear the filters", "/activity"},
	} {
		h.open(tc.path)
		h.waitFor(tc.path+" to load", `document.readyState === "complete" && !!document.querySelector("h1")`)
		if got := h.text("h1"); got != tc.heading {
			t.Errorf("%s: heading %q, want %q", tc.path, got, tc.heading)
			continue
		}
		state := eval[[]string](h, `(s => s ? [s.querySelector("strong").textContent, s.querySelector("p").textContent, s.querySelector("a.btn").textContent] : [])(document.querySelector("tr.empty .empty-state"))`)
		if len(state) != 3 {
			t.Errorf("%s: no empty state with a title, a sentence and a button", tc.path)
			continue
		}
		if said := strings.TrimSpace(strings.TrimPrefix(state[1], state[0])); len(said) < 30 {
			t.Errorf("%s: the empty state says only %q; it should say what to do next", tc.path, state[1])
		}
		if state[2] != tc.button {
			t.Errorf("%s: the button says %q, want %q", tc.path, state[2], tc.button)
		}
		h.do(tc.path+": press "+tc.button, chromedp.Click(chromedp.CSS("tr.empty .empty-state a.btn")))
		if id, ok := strings.CutPrefix(tc.then, "#"); ok {
			h.waitFor(tc.path+": the cursor in #"+id, `document.activeElement && document.activeElement.id === `+js(id))
		} else {
			h.waitFor(tc.path+": "+tc.then, `location.pathname + location.search === `+js(tc.then)+` && document.readyState === "complete"`)
		}
	}
}
