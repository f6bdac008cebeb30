package webtest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/sandbox/sandboxtest"
)

// readmeDemoSteps is the quick start's demo-steps.json, the workflow a new
// user pastes into the form: one code step that posts a message to the
// demo with the token Latchkey hands it. Reading it here keeps the README's
// example the one that runs.
func readmeDemoSteps(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- file: demo-steps.json -->\n```json\n")
	block, _, closed := strings.Cut(rest, "\n```\n")
	if !ok || !closed || !strings.Contains(block, "auths.demo.oauth_access_token") {
		t.Fatal("README.md has no demo-steps.json block whose code uses auths.demo.oauth_access_token")
	}
	return block
}

// TestDemoWalkthrough is issue 17's walk-through of --demo in a browser,
// with steps in the real sandbox: connect the demo app, see its scopes;
// write the README's workflow, whose code step posts a message with
// auths.demo.oauth_access_token, in the form; link it, run it and see the message at the
// demo; a minute on, run it again on a refreshed token; revoke the grant at
// the demo's page, see the next run fail and the account need reconnecting;
// reconnect from the failed run and run it once more.
func TestDemoWalkthrough(t *testing.T) {
	sandboxtest.Require(t)
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("Node.js is not installed; code steps need node on PATH")
	}
	steps := readmeDemoSteps(t)
	clock := clockwork.NewFakeClockAt(time.Now())
	h := start(t, options{demo: true, sandboxed: true, clock: clock})
	h.signUp()
	acc := h.connectDemo()
	h.open("/")
	h.waitRows("the demo account", func(r []row) bool { return len(r) == 1 && r[0].Status == "Healthy" })
	scopes := h.text(`tr[data-id="` + acc.ID + `"] [data-label="Scopes"]`)
	if !strings.Contains(scopes, "profile") || !strings.Contains(scopes, "messages.write") {
		t.Errorf("the row shows the scopes %q", scopes)
	}

	// The workflow, written in the form of the workflows page.
	h.open("/workflows")
	h.do("write the workflow",
		chromedp.SendKeys(chromedp.CSS("#wf-name"), "Post to the demo"),
		chromedp.SetValue(chromedp.CSS("#wf-steps"), steps),
		chromedp.Click(chromedp.CSS("#new-workflow button[type=submit]")),
	)
	h.waitFor("the new workflow's page", `location.pathname.startsWith("/workflows/wfl_") && `+textJS("h1")+` === "Post to the demo"`)
	wfID := strings.TrimPrefix(eval[string](h, "location.pathname"), "/workflows/")
	h.do("link the demo account", chromedp.Evaluate[chromedp.Void](`document.querySelector("#link-post-demo").value = `+js(acc.ID)))
	h.do("save the links", chromedp.Click(chromedp.CSS("#save-links")))
	h.waitFor("the linked notice", `(document.querySelector("main .flash")?.textContent ?? "").includes("The accounts are linked.")`)

	result := h.runNow(1, "succeeded")
	if !strings.Contains(result, `"from": "ada"`) {
		t.Fatalf("the first run shows %q", result)
	}
	creds, err := h.api.Credentials(context.Background(), acc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(eval[string](h, `document.body.innerHTML`), creds["oauth_access_token"]) {
		t.Fatal("the run page shows the access token")
	}
	h.demoMessages(1, "not yet")

	// A minute on, the token has expired: the run gets a refreshed one.
	clock.Advance(2 * time.Minute)
	h.open("/workflows/" + wfID)
	h.runNow(2, "succeeded")
	h.demoMessages(2, "once, last at")

	h.revokeAtDemo()
	clock.Advance(2 * time.Minute)
	h.open("/workflows/" + wfID)
	result = h.runNow(3, "failed")
	if !strings.Contains(result, "Account needs reconnect") {
		t.Fatalf("the run after the revocation shows %q", result)
	}
	failedRun := strings.TrimPrefix(eval[string](h, "location.href"), h.inst.URL)
	h.open("/")
	h.waitRows("the account needing reconnect", func(r []row) bool {
		return len(r) == 1 && strings.Contains(strings.ToLower(r[0].Status), "reconnect")
	})

	// Reconnect from the failed run; the page reloads with the account
	// healthy, and the next run posts again.
	h.open(failedRun)
	h.waitFor("the failed run", `!!document.querySelector('details.run[open] .reconnect-row form[data-oauth] button')`)
	h.throughPopupActing("reconnect from the run", "/accounts/"+acc.ID+"/reconnect",
		chromedp.Click(chromedp.CSS(`details.run[open] .reconnect-row form[data-oauth] button`)), nil, h.allowAtDemo)
	h.waitFor("the workflow page again", `location.pathname === `+js("/workflows/"+wfID)+` && document.readyState === "complete"`)
	h.runNow(4, "succeeded")
	h.demoMessages(3, "not yet")
	h.open("/")
	rows := h.waitRows("the reconnected row", func(r []row) bool { return len(r) == 1 && r[0].Status == "Healthy" })
	if rows[0].ID != acc.ID {
		t.Errorf("reconnected row %+v, want id %s", rows[0], acc.ID)
	}
}

// runNow presses Run now on a workflow's page and waits for its n-th run,
// shown open, to end with status; it returns what the run shows of the
// post step.
func (h *harness) runNow(n int, status string) string {
	h.t.Helper()
	h.do("press Run now", chromedp.Click(chromedp.CSS("#run-now")))
	h.waitFor("run "+strconv.Itoa(n)+" "+status,
		`document.querySelectorAll("details.run").length === `+strconv.Itoa(n)+
			` && (document.querySelector("details.run[open] summary .badge")?.textContent ?? "") === `+js(status))
	return h.text(`details.run[open] .result[data-step="post"]`)
}

// demoMessages opens the demo's page and checks it lists n messages from
// the workflow, and what it says of the grant's refreshes.
func (h *harness) demoMessages(n int, refreshed string) {
	h.t.Helper()
	h.open("/demo")
	h.waitFor("the demo's page", `!!document.querySelector("#demo-user")`)
	got := eval[[]string](h, `[...document.querySelectorAll("#demo-messages li")].map(li => li.textContent)`)
	if len(got) != n {
		h.t.Fatalf("the demo shows %d messages, want %d: %q", len(got), n, got)
	}
	for _, m := range got {
		if !strings.HasSuffix(m, "Hello from a workflow") {
			h.t.Errorf("a message on the demo's page: %q", m)
		}
	}
	if grants := h.text("#demo-grants"); !strings.Contains(grants, refreshed) {
		h.t.Errorf("the demo's grant says %q, want %q", grants, refreshed)
	}
}
