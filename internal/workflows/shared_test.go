package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// TestSharedWorkflows: workflows have no sharing of their own. One whose
// steps link only accounts a caller may see (at least one) is shared with
// that caller, to list and read, not to change, run or read the runs of.
// A viewer changes nothing; a member links an account shared with them.
func TestSharedWorkflows(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	alice := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_alice", Role: identity.RoleMember}
	bob := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_bob", Role: identity.RoleMember}
	vic := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_vic", Role: identity.RoleViewer}
	for _, u := range []identity.Actor{alice, bob, vic} {
		if err := f.st.CreateUser(ctx, store.User{ID: u.UserID, WorkspaceID: u.WorkspaceID, Email: u.UserID + "@x", Role: store.Role(u.Role), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	key := func(shared bool) accounts.Account {
		acc, err := f.accounts.Create(ctx, alice, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-alice"}, SkipTest: true, Shared: shared})
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	step := func(ids ...string) []workflows.Step {
		var out []workflows.Step
		for i, id := range ids {
			st := workflows.Step{Key: string(rune('a' + i)), Kind: "command", Command: []string{"true"}, Apps: []string{"openai"}}
			if id != "" {
				st.Accounts = map[string]string{"openai": id}
			}
			out = append(out, st)
		}
		return out
	}
	svc := f.service(t, "")
	team, private := key(true), key(false)
	onShared, err := svc.Save(ctx, alice, "", "on shared", step(team.ID))
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := svc.Save(ctx, alice, "", "mixed", step(team.ID, private.ID))
	if err != nil {
		t.Fatal(err)
	}
	unlinked, err := svc.Save(ctx, alice, "", "unlinked", step(""))
	if err != nil {
		t.Fatal(err)
	}
	run, err := svc.Run(ctx, alice, onShared.ID)
	if err != nil {
		t.Fatal(err)
	}

	for _, who := range []identity.Actor{bob, vic} {
		list, err := svc.List(ctx, who)
		if err != nil || len(list) != 1 || list[0].ID != onShared.ID {
			t.Errorf("%s lists %+v %v, want only the workflow on a shared account", who.Role, list, err)
		}
		if _, err := svc.Get(ctx, who, onShared.ID); err != nil {
			t.Errorf("%s reads the shared workflow: %v", who.Role, err)
		}
		for _, id := range []string{mixed.ID, unlinked.ID} {
			if _, err := svc.Get(ctx, who, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s reads %s: %v, want not found", who.Role, id, err)
			}
		}
		// Reading is all.
		if _, err := svc.Run(ctx, who, onShared.ID); err == nil {
			t.Errorf("%s runs alice's workflow", who.Role)
		}
		if _, err := svc.Runs(ctx, who, onShared.ID, 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s reads the runs: %v", who.Role, err)
		}
		if _, err := svc.GetRun(ctx, who, run.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s reads a run: %v", who.Role, err)
		}
		if _, err := svc.Link(ctx, who, onShared.ID, "a", "openai", ""); err == nil {
			t.Errorf("%s changes alice's workflow", who.Role)
		}
		if err := svc.Delete(ctx, who, onShared.ID); err == nil {
			t.Errorf("%s deletes alice's workflow", who.Role)
		}
	}

	// bob links alice's shared account into a workflow of his; a viewer
	// makes none.
	if _, err := svc.Save(ctx, bob, "", "bob's", step(team.ID)); err != nil {
		t.Errorf("bob links an account shared with the workspace: %v", err)
	}
	if _, err := svc.Save(ctx, bob, "", "bob's too", step(private.ID)); err == nil {
		t.Errorf("bob links alice's private account")
	}
	if _, err := svc.Save(ctx, vic, "", "vic's", step("")); !errors.Is(err, identity.ErrForbidden) {
		t.Errorf("a viewer saves a workflow: %v, want forbidden", err)
	}
}
