package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var workflowTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"WorkflowsCreateGet", testWorkflowsCreateGet},
	{"WorkflowsWorkspaceIsolation", testWorkflowsWorkspaceIsolation},
	{"UpdateWorkflowRoundTrip", testUpdateWorkflowRoundTrip},
	{"UpdateWorkflowFnError", testUpdateWorkflowFnError},
	{"UpdateWorkflowMissing", testUpdateWorkflowMissing},
	{"UpdateWorkflowConcurrent", testUpdateWorkflowConcurrent},
	{"WorkflowsUsingAccounts", testWorkflowsUsingAccounts},
}

func newWorkflow(workspaceID, id string, links ...store.Link) store.Workflow {
	return store.Workflow{ID: id, WorkspaceID: workspaceID, OwnerID: "usr_alice", Name: "Daily digest",
		Steps: []byte(`[{"key":"a"}]`), Links: links, CreatedAt: t0, UpdatedAt: t0}
}

// canonWorkflow renders w as a backend returns it, so two workflows
// compare as strings and a mismatch prints readably.
func canonWorkflow(w store.Workflow) string {
	w.CreatedAt, w.UpdatedAt = micro(w.CreatedAt), micro(w.UpdatedAt)
	if len(w.Links) == 0 {
		w.Links = nil
	}
	b, err := json.Marshal(struct {
		store.Workflow
		Steps string
	}{w, string(w.Steps)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sameWorkflow(t *testing.T, what string, got, want store.Workflow) {
	t.Helper()
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("%s: times %v, %v are not in UTC", what, got.CreatedAt, got.UpdatedAt)
	}
	if g, w := canonWorkflow(got), canonWorkflow(want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testWorkflowsCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	// Links come back ordered by step, then app, whatever order they went in.
	w := newWorkflow("wsp_1", "wfl_1",
		store.Link{Step: "b", App: "slack", AccountID: "acc_2"},
		store.Link{Step: "a_x", App: "slack", AccountID: "acc_1"},
		store.Link{Step: "a", App: "github", AccountID: "acc_1"},
		store.Link{Step: "a", App: "asana", AccountID: "acc_3"})
	must(t, "CreateWorkflow", s.CreateWorkflow(ctx, w))
	wantErr(t, "CreateWorkflow again", s.CreateWorkflow(ctx, newWorkflow("wsp_1", "wfl_1")), store.ErrConflict)

	got, err := s.GetWorkflow(ctx, "wsp_1", "wfl_1")
	must(t, "GetWorkflow", err)
	want := w
	want.Links = []store.Link{{Step: "a", App: "asana", AccountID: "acc_3"}, {Step: "a", App: "github", AccountID: "acc_1"},
		{Step: "a_x", App: "slack", AccountID: "acc_1"}, {Step: "b", App: "slack", AccountID: "acc_2"}}
	sameWorkflow(t, "GetWorkflow", got, want)

	must(t, "CreateWorkflow 2", s.CreateWorkflow(ctx, newWorkflow("wsp_1", "wfl_2", store.Link{Step: "a", App: "slack", AccountID: "acc_2"})))
	list, err := s.ListWorkflows(ctx, "wsp_1")
	must(t, "ListWorkflows", err)
	if len(list) != 2 || list[0].ID != "wfl_1" || list[1].ID != "wfl_2" {
		t.Errorf("ListWorkflows = %+v, want wfl_1, wfl_2", list)
	}
	using := func(account string) []string {
		t.Helper()
		list, err := s.WorkflowsUsing(ctx, "wsp_1", account)
		must(t, "WorkflowsUsing "+account, err)
		ids := []string{}
		for _, w := range list {
			ids = append(ids, w.ID)
		}
		return ids
	}
	if got := using("acc_1"); !slices.Equal(got, []string{"wfl_1"}) {
		t.Errorf("WorkflowsUsing acc_1 = %v, want [wfl_1]", got)
	}
	if got := using("acc_2"); !slices.Equal(got, []string{"wfl_1", "wfl_2"}) {
		t.Errorf("WorkflowsUsing acc_2 = %v, want [wfl_1 wfl_2]", got)
	}

	must(t, "DeleteWorkflow", s.DeleteWorkflow(ctx, "wsp_1", "wfl_1"))
	_, err = s.GetWorkflow(ctx, "wsp_1", "wfl_1")
	wantErr(t, "GetWorkflow deleted", err, store.ErrNotFound)
	if got := using("acc_1"); len(got) != 0 {
		t.Errorf("WorkflowsUsing acc_1 after delete = %v, want none", got)
	}
	wantErr(t, "DeleteWorkflow again", s.DeleteWorkflow(ctx, "wsp_1", "wfl_1"), store.ErrNotFound)
}

func testWorkflowsWorkspaceIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	must(t, "CreateWorkflow", s.CreateWorkflow(ctx, newWorkflow("wsp_1", "wfl_1", store.Link{Step: "a", App: "slack", AccountID: "acc_1"})))

	_, err := s.GetWorkflow(ctx, "wsp_2", "wfl_1")
	wantErr(t, "GetWorkflow from another workspace", err, store.ErrNotFound)
	if list, err := s.ListWorkflows(ctx, "wsp_2"); err != nil || len(list) != 0 {
		t.Errorf("ListWorkflows wsp_2 = %+v, %v; want none", list, err)
	}
	if list, err := s.WorkflowsUsing(ctx, "wsp_2", "acc_1"); err != nil || len(list) != 0 {
		t.Errorf("WorkflowsUsing from wsp_2 = %+v, %v; want none", list, err)
	}
	wantErr(t, "DeleteWorkflow from another workspace", s.DeleteWorkflow(ctx, "wsp_2", "wfl_1"), store.ErrNotFound)
	if _, err := s.GetWorkflow(ctx, "wsp_1", "wfl_1"); err != nil {
		t.Errorf("the workflow is gone after another workspace's delete: %v", err)
	}
}

func testUpdateWorkflowRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	orig := newWorkflow("wsp_1", "wfl_1", store.Link{Step: "a", App: "slack", AccountID: "acc_1"})
	must(t, "CreateWorkflow", s.CreateWorkflow(ctx, orig))

	var seen store.Workflow
	got, err := s.UpdateWorkflow(ctx, "wsp_1", "wfl_1", func(old store.Workflow) (store.Workflow, error) {
		seen = old
		w := old
		w.Name = "Weekly digest"
		w.OwnerID = "usr_bob"
		w.Steps = []byte(`[{"key":"a"},{"key":"b"}]`)
		w.Links = []store.Link{{Step: "b", App: "github", AccountID: "acc_2"}, {Step: "a", App: "slack", AccountID: "acc_3"}}
		w.UpdatedAt = at(5)
		// These cannot change.
		w.ID, w.WorkspaceID, w.CreatedAt = "wfl_other", "wsp_other", at(-5)
		return w, nil
	})
	must(t, "UpdateWorkflow", err)
	sameWorkflow(t, "what fn was given", seen, orig)

	want := orig
	want.Name, want.OwnerID, want.UpdatedAt = "Weekly digest", "usr_bob", at(5)
	want.Steps = []byte(`[{"key":"a"},{"key":"b"}]`)
	want.Links = []store.Link{{Step: "a", App: "slack", AccountID: "acc_3"}, {Step: "b", App: "github", AccountID: "acc_2"}}
	sameWorkflow(t, "UpdateWorkflow's answer", got, want)
	read, err := s.GetWorkflow(ctx, "wsp_1", "wfl_1")
	must(t, "GetWorkflow", err)
	sameWorkflow(t, "GetWorkflow after update", read, want)
	if list, _ := s.WorkflowsUsing(ctx, "wsp_1", "acc_1"); len(list) != 0 {
		t.Errorf("the dropped link still counts: %+v", list)
	}

	// Dropping every link leaves none.
	_, err = s.UpdateWorkflow(ctx, "wsp_1", "wfl_1", func(old store.Workflow) (store.Workflow, error) {
		old.Links = nil
		return old, nil
	})
	must(t, "UpdateWorkflow without links", err)
	if read, _ := s.GetWorkflow(ctx, "wsp_1", "wfl_1"); len(read.Links) != 0 {
		t.Errorf("links after dropping them all: %+v", read.Links)
	}
}

func testUpdateWorkflowFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	orig := newWorkflow("wsp_1", "wfl_1", store.Link{Step: "a", App: "slack", AccountID: "acc_1"})
	must(t, "CreateWorkflow", s.CreateWorkflow(ctx, orig))

	_, err := s.UpdateWorkflow(ctx, "wsp_1", "wfl_1", func(w store.Workflow) (store.Workflow, error) {
		w.Name = "half-done"
		w.Links = append(w.Links, store.Link{Step: "b", App: "github", AccountID: "acc_2"})
		return w, fmt.Errorf("validate: %w", errAbort)
	})
	wantErr(t, "UpdateWorkflow with failing fn", err, errAbort)
	read, err := s.GetWorkflow(ctx, "wsp_1", "wfl_1")
	must(t, "GetWorkflow", err)
	sameWorkflow(t, "workflow after aborted update", read, orig)

	// A write that fails halfway (the same link twice) writes nothing either.
	_, err = s.UpdateWorkflow(ctx, "wsp_1", "wfl_1", func(w store.Workflow) (store.Workflow, error) {
		w.Name = "half-done"
		w.Links = []store.Link{{Step: "b", App: "github", AccountID: "acc_2"}, {Step: "b", App: "github", AccountID: "acc_3"}}
		return w, nil
	})
	wantErr(t, "UpdateWorkflow with a link twice", err, store.ErrConflict)
	read, err = s.GetWorkflow(ctx, "wsp_1", "wfl_1")
	must(t, "GetWorkflow", err)
	sameWorkflow(t, "workflow after failed write", read, orig)

	// The aborted transactions let go of the lock: the next update goes through.
	_, err = s.UpdateWorkflow(ctx, "wsp_1", "wfl_1", func(w store.Workflow) (store.Workflow, error) {
		w.Name = "after"
		return w, nil
	})
	must(t, "UpdateWorkflow after abort", err)
}

func testUpdateWorkflowMissing(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	must(t, "CreateWorkflow", s.CreateWorkflow(ctx, newWorkflow("wsp_1", "wfl_1")))
	called := false
	fn := func(w store.Workflow) (store.Workflow, error) {
		called = true
		w.Name = "taken over"
		return w, nil
	}
	_, err := s.UpdateWorkflow(ctx, "wsp_1", "wfl_missing", fn)
	wantErr(t, "UpdateWorkflow missing", err, store.ErrNotFound)
	_, err = s.UpdateWorkflow(ctx, "wsp_2", "wfl_1", fn)
	wantErr(t, "UpdateWorkflow from another workspace", err, store.ErrNotFound)
	if called {
		t.Error("fn was called for a workflow not in the workspace")
	}
	if read, _ := s.GetWorkflow(ctx, "wsp_1", "wfl_1"); read.Name != "Daily digest" {
		t.Errorf("name = %q after another workspace's update", read.Name)
	}
}

func testUpdateWorkflowConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	w := newWorkflow("wsp_1", "wfl_1")
	w.Steps = []byte(`[]`)
	must(t, "CreateWorkflow", s.CreateWorkflow(ctx, w))

	// Each update adds one step and one link to what it read: without the
	// row lock (or SQLite's write lock) updates are lost, or fail as busy.
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.UpdateWorkflow(ctx, "wsp_1", "wfl_1", func(w store.Workflow) (store.Workflow, error) {
				var steps []int
				if err := json.Unmarshal(w.Steps, &steps); err != nil {
					return w, err
				}
				b, err := json.Marshal(append(steps, i))
				if err != nil {
					return w, err
				}
				w.Steps = b
				w.Links = append(w.Links, store.Link{Step: fmt.Sprintf("s%02d", i), App: "slack", AccountID: "acc_1"})
				return w, nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateWorkflow: %v", err)
		}
	}
	got, err := s.GetWorkflow(ctx, "wsp_1", "wfl_1")
	must(t, "GetWorkflow", err)
	var steps []int
	must(t, "steps", json.Unmarshal(got.Steps, &steps))
	slices.Sort(steps)
	if len(steps) != n || steps[0] != 0 || steps[n-1] != n-1 {
		t.Errorf("steps = %v after %d concurrent additions, want 0..%d", steps, n, n-1)
	}
	if len(got.Links) != n {
		t.Errorf("%d links after %d concurrent additions, want %d: %+v", len(got.Links), n, n, got.Links)
	}
	for i, l := range got.Links {
		if want := fmt.Sprintf("s%02d", i); l.Step != want {
			t.Errorf("link %d is for step %s, want %s", i, l.Step, want)
		}
	}
}

// testWorkflowsUsingAccounts: one query answers "used by" for a whole page
// of accounts, as WorkflowsUsing would one account at a time.
func testWorkflowsUsingAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	w1 := newWorkflow("wsp_1", "wfl_1", store.Link{Step: "a", App: "slack", AccountID: "acc_1"}, store.Link{Step: "b", App: "slack", AccountID: "acc_1"}, store.Link{Step: "b", App: "github", AccountID: "acc_2"})
	w1.Name = "Digest"
	w2 := newWorkflow("wsp_1", "wfl_2", store.Link{Step: "a", App: "github", AccountID: "acc_2"})
	w2.Name, w2.OwnerID = "Triage", "usr_bob"
	// Another workspace's workflow naming the same account id is not
	// among the answers.
	w3 := newWorkflow("wsp_2", "wfl_3", store.Link{Step: "a", App: "slack", AccountID: "acc_1"})
	for _, w := range []store.Workflow{w2, w1, w3} {
		must(t, "CreateWorkflow "+w.ID, s.CreateWorkflow(ctx, w))
	}

	got, err := s.WorkflowsUsingAccounts(ctx, "wsp_1", []string{"acc_1", "acc_2", "acc_3"})
	must(t, "WorkflowsUsingAccounts", err)
	want := map[string][]store.WorkflowRef{
		// Two steps link acc_1 to wfl_1: it is named once.
		"acc_1": {{ID: "wfl_1", WorkspaceID: "wsp_1", OwnerID: "usr_alice", Name: "Digest"}},
		"acc_2": {{ID: "wfl_1", WorkspaceID: "wsp_1", OwnerID: "usr_alice", Name: "Digest"}, {ID: "wfl_2", WorkspaceID: "wsp_1", OwnerID: "usr_bob", Name: "Triage"}},
	}
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Errorf("WorkflowsUsingAccounts =\n %s\nwant\n %s", g, w)
	}
	// It agrees with WorkflowsUsing, account by account.
	for _, id := range []string{"acc_1", "acc_2", "acc_3"} {
		one, err := s.WorkflowsUsing(ctx, "wsp_1", id)
		must(t, "WorkflowsUsing "+id, err)
		if len(one) != len(got[id]) {
			t.Errorf("%s: WorkflowsUsing has %d workflows, WorkflowsUsingAccounts %d", id, len(one), len(got[id]))
		}
	}
	if got, err := s.WorkflowsUsingAccounts(ctx, "wsp_1", nil); err != nil || len(got) != 0 {
		t.Errorf("WorkflowsUsingAccounts of no accounts = %v, %v; want none", got, err)
	}
	if got, err := s.WorkflowsUsingAccounts(ctx, "wsp_2", []string{"acc_2"}); err != nil || len(got) != 0 {
		t.Errorf("WorkflowsUsingAccounts from wsp_2 = %v, %v; want none", got, err)
	}
	must(t, "DeleteWorkflow", s.DeleteWorkflow(ctx, "wsp_1", "wfl_1"))
	got, err = s.WorkflowsUsingAccounts(ctx, "wsp_1", []string{"acc_1", "acc_2"})
	must(t, "WorkflowsUsingAccounts after delete", err)
	if _, ok := got["acc_1"]; ok || len(got["acc_2"]) != 1 || got["acc_2"][0].ID != "wfl_2" {
		t.Errorf("after deleting wfl_1: %v, want only acc_2 by wfl_2", got)
	}
}
