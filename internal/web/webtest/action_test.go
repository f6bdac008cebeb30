package webtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestActionStepEditor builds an action step in the browser: the editor
// asks for an account of the action's app and offers to connect one, draws
// a form from the action's input schema, says what is wrong with a bad
// input, and the workflow it makes runs the action.
func TestActionStepEditor(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	h.open("/workflows")
	h.do("start an action step", chromedp.Click(chromedp.CSS("#new-action")))
	h.waitFor("the action picker", `document.querySelector("#action-pick") !== null`)
	h.do("pick sendgrid.send_email", chromedp.Evaluate[chromedp.Void](`document.querySelector("#action-pick").value = "sendgrid.send_email"`))
	h.do("next", chromedp.Click(chromedp.CSS("#pick-action")))
	h.waitFor("the step editor", `document.querySelector("#action-form") !== null`)

	// No SendGrid account yet: the editor says so and links to connecting one.
	if !strings.Contains(h.text("#no-account"), "no SendGrid account") {
		t.Fatalf("no offer to connect: %q", h.text("#no-account"))
	}
	if got := eval[string](h, `document.querySelector("#connect-app").getAttribute("href")`); got != "/connect/sendgrid" {
		t.Fatalf("the connect link goes to %q", got)
	}
	// The form is the input schema's: every property, required first.
	if got := eval[string](h, `[...document.querySelectorAll("#action-form .input-field")].map(e => e.dataset.input).join(",")`); got != "from,subject,text,to" {
		t.Fatalf("the form's inputs: %q", got)
	}

	acc := h.createKeyAccount("marketing")
	h.open("/workflows/new-action?action=sendgrid.send_email")
	h.waitFor("the account choice", `document.querySelector("#action-account") !== null`)
	fill := func(id, value string) {
		h.do("fill "+id, chromedp.Evaluate[chromedp.Void](`document.getElementById(`+js(id)+`).value = `+js(value)))
	}
	fill("action-account", acc.ID)
	fill("f-input.to", `[{"email": "ann@example.com"}]`)
	fill("f-input.from", `{"email": "bob@example.com"}`)
	fill("f-input.text", "Hello from a step")
	h.log.expectStatus("/workflows/new-action", 422)
	h.do("create without a subject", chromedp.Click(chromedp.CSS("#create-action")))
	h.waitFor("the input error", `(document.querySelector("#action-error")?.textContent ?? "").includes("subject: is required")`)
	if got := eval[string](h, `document.getElementById("f-input.text").value`); got != "Hello from a step" {
		t.Fatalf("the form lost what was typed: %q", got)
	}
	if list, _ := h.api.ListWorkflows(context.Background()); len(list) != 0 {
		t.Fatalf("a bad input made a workflow: %+v", list)
	}
	fill("f-input.subject", "Hi")
	h.do("create the workflow", chromedp.Click(chromedp.CSS("#create-action")))
	h.waitFor("the workflow page", `document.querySelector("#run-now") !== null`)
	if got := eval[string](h, `document.getElementById("f-input.send_email.subject").value`); got != "Hi" {
		t.Fatalf("the workflow page's form shows subject %q", got)
	}
	if got := eval[string](h, `document.querySelector("#link-send_email-sendgrid").value`); got != acc.ID {
		t.Fatalf("the step is linked to %q", got)
	}

	// The workflow page edits the input with the same form.
	fill("f-input.send_email.subject", "Changed")
	h.do("save the inputs", chromedp.Click(chromedp.CSS("#save-links")))
	h.waitFor("the saved notice", `(document.querySelector("main .flash")?.textContent ?? "").includes("linked")`)
	if list, _ := h.api.ListWorkflows(context.Background()); len(list) != 1 || !strings.Contains(string(list[0].Steps[0].Input), `"subject":"Changed"`) {
		t.Fatalf("the edited input was not saved: %+v", list)
	}

	before := h.provider.Requests.Load()
	h.do("run the workflow", chromedp.Click(chromedp.CSS("#run-now")))
	h.waitFor("the run's result", `(document.querySelector('details.run[open] .result[data-step="send_email"]')?.textContent ?? "").includes("status")`)
	result := h.text(`details.run[open] .result[data-step="send_email"]`)
	if !strings.Contains(result, "succeeded") || !strings.Contains(result, `"status": 202`) {
		t.Fatalf("the run shows %q", result)
	}
	if h.provider.Requests.Load() == before {
		t.Fatal("the run sent nothing to SendGrid")
	}
}
