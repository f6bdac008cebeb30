package webtest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkeyhq/latchkey/client"
)

// TestWorkflowFromUI links an account to a workflow's step in the browser
// and runs the workflow from there; the run shows each step's outcome with
// the secret masked.
func TestWorkflowFromUI(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	acc := h.createKeyAccount("marketing")
	wf, err := h.api.CreateWorkflow(context.Background(), client.SaveWorkflow{Name: "Check the key", Steps: []client.WorkflowStep{{
		Key: "check", Kind: "command", Apps: []string{"sendgrid"},
		Command: []string{"sh", "-c", `input=$(cat); echo "$input" >&2; echo "$input" | grep -q '"api_key":"SG[.]' && echo '{"has_key": true}'`},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	h.open("/workflows/" + wf.ID)
	h.at("/workflows/"+wf.ID, "Check the key")
	sel := "#link-check-sendgrid"
	if got := eval[string](h, `[...document.querySelector(`+js(sel)+`).options].map(o => o.textContent.trim()).join("|")`); got != "Not linked|marketing (Ada Lovelace)" {
		t.Fatalf("the step offers %q", got)
	}
	h.do("choose the account", chromedp.Evaluate[chromedp.Void](`document.querySelector(`+js(sel)+`).value = `+js(acc.ID)))
	h.do("save the links", chromedp.Click(chromedp.CSS("#save-links")))
	h.waitFor("the linked notice", `(document.querySelector("main .flash")?.textContent ?? "").includes("The accounts are linked.")`)
	if got := eval[string](h, `document.querySelector(`+js(sel)+`).value`); got != acc.ID {
		t.Fatalf("after saving, the step is linked to %q", got)
	}
	if used, _ := h.api.UsedBy(context.Background(), acc.ID); len(used) != 1 || used[0].ID != wf.ID {
		t.Fatalf("used by: %+v", used)
	}

	// The button says it is busy from the moment it is pressed.
	if got := eval[string](h, submitJS("#run-now")); got != "Running… true" {
		t.Errorf("while the run is sent, Run now shows %q", got)
	}
	h.waitFor("the run's result", `(document.querySelector('details.run[open] .result[data-step="check"]')?.textContent ?? "").includes("has_key")`)
	result := h.text(`details.run[open] .result[data-step="check"]`)
	if !strings.Contains(result, "succeeded") || !strings.Contains(result, `"has_key": true`) {
		t.Fatalf("the run shows %q", result)
	}
	if !strings.Contains(result, "[redacted]") || strings.Contains(eval[string](h, `document.body.innerHTML`), goodKey) {
		t.Fatal("the run page shows the key, or did not mask the logs")
	}
}
