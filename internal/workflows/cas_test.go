package workflows_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// TestConcurrentLinksAllSurvive: links made at the same time on different
// steps of one workflow all stay. Each Link used to read the workflow and
// write back the whole of what it read, so the last writer undid the
// others.
func TestConcurrentLinksAllSurvive(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc, err := f.accounts.Create(ctx, f.a, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-a-secret"}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := f.service(t, "")
	const n = 20
	var steps []workflows.Step
	for i := range n {
		steps = append(steps, workflows.Step{Key: fmt.Sprintf("s%02d", i), Kind: "command", Command: []string{"true"}, Apps: []string{"openai"}})
	}
	wf, err := svc.Save(ctx, f.a, "", "fan out", steps)
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := svc.Link(ctx, f.a, wf.ID, fmt.Sprintf("s%02d", i), "openai", acc.ID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Link: %v", err)
		}
	}

	got, err := svc.Get(ctx, f.a, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	linked := 0
	for _, st := range got.Steps {
		if st.Accounts["openai"] == acc.ID {
			linked++
		} else {
			t.Errorf("step %s lost its link", st.Key)
		}
	}
	if linked != n {
		t.Errorf("%d of %d steps linked after %d concurrent links", linked, n, n)
	}
	// The links table ("used by") agrees with the steps.
	stored, err := f.st.GetWorkflow(ctx, f.a.WorkspaceID, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Links) != n {
		t.Errorf("%d stored links, want %d", len(stored.Links), n)
	}
}

// TestLinkStepsRefusesBadChoices: a choice for a step the workflow lacks,
// or an app the step does not use, is refused and changes nothing.
func TestLinkStepsRefusesBadChoices(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc, err := f.accounts.Create(ctx, f.a, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-a-secret"}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := f.service(t, "")
	wf, err := svc.Save(ctx, f.a, "", "one", []workflows.Step{{Key: "s", Kind: "command", Command: []string{"true"}, Apps: []string{"openai"}}})
	if err != nil {
		t.Fatal(err)
	}
	before, err := svc.Get(ctx, f.a, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	for name, choices := range map[string][]workflows.LinkChoice{
		"no such step":      {{Step: "s", App: "openai", AccountID: acc.ID}, {Step: "t", App: "openai", AccountID: acc.ID}},
		"app not used":      {{Step: "s", App: "openai", AccountID: acc.ID}, {Step: "s", App: "slack", AccountID: acc.ID}},
		"no such account":   {{Step: "s", App: "openai", AccountID: "acc_missing"}},
		"account elsewhere": {{Step: "s", App: "openai", AccountID: acc.ID + "x"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := svc.LinkSteps(ctx, f.a, wf.ID, choices)
			var ve *accounts.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("LinkSteps: %v, want a validation error", err)
			}
			got, _ := svc.Get(ctx, f.a, wf.ID)
			if len(got.Steps[0].Accounts) != 0 || !got.UpdatedAt.Equal(before.UpdatedAt) {
				t.Fatalf("the refused choices changed the workflow: %+v", got)
			}
		})
	}
}

// TestLinkAfterDelete: linking a workflow deleted since leaves it deleted.
func TestLinkAfterDelete(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := f.service(t, "")
	wf, err := svc.Save(ctx, f.a, "", "gone", []workflows.Step{{Key: "s", Kind: "command", Command: []string{"true"}, Apps: []string{"openai"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Delete(ctx, f.a, wf.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Link(ctx, f.a, wf.ID, "s", "openai", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Link: %v, want not found", err)
	}
	if _, err := svc.Save(ctx, f.a, wf.ID, "back", []workflows.Step{{Key: "s", Kind: "command", Command: []string{"true"}}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Save: %v, want not found", err)
	}
	if list, _ := svc.List(ctx, f.a); len(list) != 0 {
		t.Fatalf("the deleted workflow is back: %+v", list)
	}
}

// TestStoredFormat: the database keeps steps and results in the
// workflows package's own JSON. Rows written before, in the public
// client's JSON of the time (with reconnect_path in results), still read.
func TestStoredFormat(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	svc := f.service(t, "")
	body := json.RawMessage(`{"text":"hi"}`)
	wf, err := svc.Save(ctx, f.a, "", "shape", []workflows.Step{
		{Key: "c", Name: "Command", Kind: "command", Command: []string{"true"}, Env: map[string]string{"A": "b"}, TimeoutSeconds: 5},
		{Key: "h", Kind: "http", HTTP: &workflows.HTTPStep{App: "openai", Method: "POST", Path: "/v1/x", Headers: map[string]string{"X-A": "1"}, Body: body}},
	})
	if err != nil {
		t.Fatal(err)
	}
	row, err := f.st.GetWorkflow(ctx, f.a.WorkspaceID, wf.ID)
	if err != nil {
		t.Fatal(err)
	}
	const want = `[{"key":"c","name":"Command","kind":"command","command":["true"],"env":{"A":"b"},"timeout_seconds":5},` +
		`{"key":"h","kind":"http","apps":["openai"],"http":{"app":"openai","method":"POST","path":"/v1/x","headers":{"X-A":"1"},"body":{"text":"hi"}}}]`
	if string(row.Steps) != want {
		t.Errorf("stored steps:\n got %s\nwant %s", row.Steps, want)
	}

	// A row as the code before wrote it.
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	old := store.Workflow{ID: "wfl_old", WorkspaceID: f.a.WorkspaceID, OwnerID: f.a.UserID, Name: "old", CreatedAt: now, UpdatedAt: now,
		Steps: []byte(`[{"key":"s","kind":"command","apps":["openai"],"accounts":{"openai":"acc_1"},"command":["cat"],"timeout_seconds":7}]`)}
	if err := f.st.CreateWorkflow(ctx, old); err != nil {
		t.Fatal(err)
	}
	got, err := svc.Get(ctx, f.a, "wfl_old")
	if err != nil {
		t.Fatal(err)
	}
	if st := got.Steps[0]; st.Key != "s" || st.Accounts["openai"] != "acc_1" || st.Command[0] != "cat" || st.TimeoutSeconds != 7 || st.Apps[0] != "openai" {
		t.Errorf("old step read as %+v", st)
	}
	if err := f.st.PutRun(ctx, store.Run{ID: "run_old", WorkspaceID: f.a.WorkspaceID, WorkflowID: "wfl_old", ActorID: f.a.UserID, Status: "failed", StartedAt: now,
		Steps: []byte(`[{"key":"s","kind":"command","status":"failed","error":"refused","error_kind":"credentials","account_id":"acc_1","reconnect_path":"/v1/accounts/acc_1/reconnect","account_status":"needs_reconnect","duration_ms":12}]`)}); err != nil {
		t.Fatal(err)
	}
	run, err := svc.GetRun(ctx, f.a, "run_old")
	if err != nil {
		t.Fatal(err)
	}
	if r := run.Steps[0]; r.AccountID != "acc_1" || r.AccountStatus != "needs_reconnect" || r.ErrorKind != "credentials" || r.DurationMS != 12 || r.Error != "refused" {
		t.Errorf("old step result read as %+v", r)
	}
}

// TestDeleteAccountInUse: an account a workflow uses is deleted only when
// the caller goes ahead anyway.
func TestDeleteAccountInUse(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acc, err := f.accounts.Create(ctx, f.a, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-a-secret"}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	svc := f.service(t, "")
	wf, err := svc.Save(ctx, f.a, "", "user", []workflows.Step{{Key: "s", Kind: "command", Command: []string{"true"}, Apps: []string{"openai"}, Accounts: map[string]string{"openai": acc.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.DeleteAccount(ctx, f.a, acc.ID, false, false)
	var inUse *workflows.InUseError
	if !errors.As(err, &inUse) || len(inUse.Workflows) != 1 || inUse.Workflows[0] != (workflows.Ref{ID: wf.ID, Name: "user"}) {
		t.Fatalf("DeleteAccount of an account in use: %v", err)
	}
	if _, err := f.accounts.Get(ctx, f.a, acc.ID); err != nil {
		t.Fatalf("the refused delete deleted it: %v", err)
	}
	if _, _, err := svc.DeleteAccount(ctx, f.a, acc.ID, false, true); err != nil {
		t.Fatalf("DeleteAccount, going ahead: %v", err)
	}
	if _, err := f.accounts.Get(ctx, f.a, acc.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the forced delete: %v", err)
	}
}
