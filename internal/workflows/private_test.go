package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/workflows"
)

// TestWorkflowsArePrivate: a workflow belongs to its creator. The creator
// and the workspace's owners see, change and run it; other members and
// other workspaces get not-found, for the workflow and its runs.
func TestWorkflowsArePrivate(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	owner := f.a
	alice := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_alice", Role: identity.RoleMember}
	bob := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_bob", Role: identity.RoleMember}
	for _, u := range []identity.Actor{alice, bob} {
		if err := f.st.CreateUser(ctx, store.User{ID: u.UserID, WorkspaceID: u.WorkspaceID, Email: u.UserID + "@x", Role: store.Role(u.Role), CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	key := func(who identity.Actor, shared bool) accounts.Account {
		acc, err := f.accounts.Create(ctx, who, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-" + who.UserID}, SkipTest: true, Shared: shared})
		if err != nil {
			t.Fatal(err)
		}
		return acc
	}
	step := func(accountID string) []workflows.Step {
		return []workflows.Step{{Key: "s", Kind: "command", Command: []string{"true"}, Apps: []string{"openai"}, Accounts: map[string]string{"openai": accountID}}}
	}
	svc := f.service(t, "")
	mine := key(alice, false)
	wf, err := svc.Save(ctx, alice, "", "alice's secret plan", step(mine.ID))
	if err != nil {
		t.Fatal(err)
	}
	if wf.OwnerID != alice.UserID {
		t.Fatalf("owner %q, want the creator", wf.OwnerID)
	}
	run, err := svc.Run(ctx, alice, wf.ID)
	if err != nil || run.Status != workflows.StatusSucceeded {
		t.Fatalf("alice runs her workflow: %+v %v", run, err)
	}

	outsider := f.b
	for name, who := range map[string]identity.Actor{"another member": bob, "another workspace": outsider} {
		t.Run(name, func(t *testing.T) {
			notFound := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: %v, want not found", what, err)
				}
			}
			_, err := svc.Get(ctx, who, wf.ID)
			notFound("get", err)
			_, err = svc.Save(ctx, who, wf.ID, "taken over", step(mine.ID))
			notFound("save", err)
			_, err = svc.Link(ctx, who, wf.ID, "s", "openai", "")
			notFound("link", err)
			_, err = svc.Run(ctx, who, wf.ID)
			notFound("run", err)
			_, err = svc.Runs(ctx, who, wf.ID, 10)
			notFound("runs", err)
			_, err = svc.GetRun(ctx, who, run.ID)
			notFound("get run", err)
			notFound("delete", svc.Delete(ctx, who, wf.ID))
			list, err := svc.List(ctx, who)
			if err != nil || len(list) != 0 {
				t.Errorf("list: %d workflows, %v", len(list), err)
			}
		})
	}
	if got, err := svc.Get(ctx, alice, wf.ID); err != nil || got.Name != "alice's secret plan" {
		t.Fatalf("the refused calls changed it: %+v %v", got, err)
	}

	t.Run("workspace owner", func(t *testing.T) {
		if list, err := svc.List(ctx, owner); err != nil || len(list) != 1 {
			t.Fatalf("list: %d %v", len(list), err)
		}
		if r, err := svc.Run(ctx, owner, wf.ID); err != nil || r.Status != workflows.StatusSucceeded {
			t.Fatalf("run: %+v %v", r, err)
		}
		if _, err := svc.GetRun(ctx, owner, run.ID); err != nil {
			t.Fatalf("get run: %v", err)
		}
		// The owner may not give alice's workflow an account alice may not use.
		theirs := key(owner, false)
		_, err := svc.Save(ctx, owner, wf.ID, "alice's secret plan", step(theirs.ID))
		var ve *accounts.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("linking an account the workflow's owner may not use: %v", err)
		}
		if got, _ := svc.Get(ctx, owner, wf.ID); got.OwnerID != alice.UserID || got.Steps[0].Accounts["openai"] != mine.ID {
			t.Fatalf("after the refused link: %+v", got)
		}
	})

	t.Run("an account made private after linking", func(t *testing.T) {
		bobs := key(bob, true)
		if _, err := svc.Link(ctx, alice, wf.ID, "s", "openai", bobs.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.UpdateAccount(ctx, "wsp_a", bobs.ID, func(a *store.Account) error { a.Shared = false; return nil }); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute) // past the accounts service's cache

		// Even the workspace owner, who may read bob's account, runs the
		// workflow only with what alice may use.
		r, err := svc.Run(ctx, owner, wf.ID)
		if err != nil || r.Status != workflows.StatusFailed || !strings.Contains(r.Steps[0].Error, "owner may not use") {
			t.Fatalf("run: %+v %v", r, err)
		}
		// Deleting bob's account: the check does not name alice's workflow.
		err = svc.CheckDelete(ctx, bob, bobs.ID)
		var inUse *workflows.InUseError
		if !errors.As(err, &inUse) || inUse.Hidden != 1 || len(inUse.Workflows) != 0 {
			t.Fatalf("check delete: %v", err)
		}
		if strings.Contains(err.Error(), "secret plan") || strings.Contains(err.Error(), wf.ID) || !strings.Contains(err.Error(), "1 workflow you cannot see") {
			t.Fatalf("the in-use message: %v", err)
		}
		if used, err := svc.UsedBy(ctx, bob, bobs.ID); err != nil || len(used) != 0 {
			t.Fatalf("used by, as bob: %+v %v", used, err)
		}

		// The batched form, as a list page asks it, keeps the same rules:
		// it names what the viewer may see, counts the rest, and says
		// nothing of an account the viewer may not see. (The link moved
		// the step from alice's account to bob's.)
		bobsNow, err := f.accounts.Get(ctx, owner, bobs.ID)
		if err != nil {
			t.Fatal(err)
		}
		page := []accounts.Account{mine, bobsNow}
		for _, tc := range []struct {
			name      string
			who       identity.Actor
			mine, bob workflows.Usage
		}{
			{"bob", bob, workflows.Usage{}, workflows.Usage{Hidden: 1}},
			{"alice", alice, workflows.Usage{}, workflows.Usage{}},
			{"the workspace owner", owner, workflows.Usage{}, workflows.Usage{Workflows: []workflows.Ref{{ID: wf.ID, Name: "alice's secret plan"}}}},
			{"another workspace", outsider, workflows.Usage{}, workflows.Usage{}},
		} {
			used, err := svc.UsedByAccounts(ctx, tc.who, page)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if g, w := fmt.Sprint(used[mine.ID], used[bobs.ID]), fmt.Sprint(tc.mine, tc.bob); g != w {
				t.Errorf("used by, as %s: %s, want %s", tc.name, g, w)
			}
		}
	})

	if err := svc.Delete(ctx, alice, wf.ID); err != nil {
		t.Fatalf("alice deletes her workflow: %v", err)
	}
}
