package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var shareTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AccountShares", testAccountShares},
	{"AccountSharesConcurrent", testAccountSharesConcurrent},
	{"AccountsWithin", testAccountsWithin},
}

func listIDs(t *testing.T, s store.Store, f store.AccountFilter) []string {
	t.Helper()
	list, err := s.ListAccounts(t.Context(), f)
	must(t, "ListAccounts", err)
	return accountIDs(list)
}

func testAccountShares(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	for i, id := range []string{"usr_alice", "usr_bob", "usr_carol", "usr_dan"} {
		mustUser(t, s, "wsp_1", id, id+"@x.io", store.RoleMember, "h", i)
	}
	a := newAccount("wsp_1", "acc_1", "usr_alice", "slack")
	a.SharedWith = []string{"usr_carol", "usr_bob", "usr_bob"}
	mustAccount(t, s, a)
	mustAccount(t, s, newAccount("wsp_1", "acc_2", "usr_alice", "github"))

	got := ok(s.GetAccount(ctx, "wsp_1", "acc_1"))
	if !slices.Equal(got.SharedWith, []string{"usr_bob", "usr_carol"}) {
		t.Errorf("SharedWith = %v, want usr_bob, usr_carol (sorted, once each)", got.SharedWith)
	}
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_2")); len(got.SharedWith) != 0 {
		t.Errorf("a private account is shared with %v", got.SharedWith)
	}
	vis := func(user string) store.AccountFilter {
		return store.AccountFilter{WorkspaceID: "wsp_1", VisibleTo: user}
	}
	for user, want := range map[string][]string{"usr_alice": {"acc_1", "acc_2"}, "usr_bob": {"acc_1"}, "usr_dan": nil} {
		if ids := listIDs(t, s, vis(user)); !slices.Equal(ids, want) {
			t.Errorf("visible to %s: %v, want %v", user, ids, want)
		}
	}
	if apps := ok(s.AccountApps(ctx, vis("usr_bob"))); !slices.Equal(apps, []string{"slack"}) {
		t.Errorf("apps visible to usr_bob: %v, want slack", apps)
	}
	// The list carries the shares too.
	if list := ok(s.ListAccounts(ctx, vis("usr_bob"))); len(list) != 1 || !slices.Equal(list[0].SharedWith, []string{"usr_bob", "usr_carol"}) {
		t.Errorf("listed %+v, want acc_1 shared with usr_bob, usr_carol", list)
	}

	// An update that leaves the shares alone keeps them; one that changes
	// them replaces them.
	ok(s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error { a.Nickname = "renamed"; return nil }))
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); !slices.Equal(got.SharedWith, []string{"usr_bob", "usr_carol"}) {
		t.Errorf("after a rename SharedWith = %v", got.SharedWith)
	}
	upd := ok(s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error { a.SharedWith = []string{"usr_dan"}; return nil }))
	if !slices.Equal(upd.SharedWith, []string{"usr_dan"}) {
		t.Errorf("UpdateAccount returned SharedWith %v", upd.SharedWith)
	}
	if ids := listIDs(t, s, vis("usr_bob")); len(ids) != 0 {
		t.Errorf("after unsharing usr_bob still sees %v", ids)
	}
	if ids := listIDs(t, s, vis("usr_dan")); !slices.Equal(ids, []string{"acc_1"}) {
		t.Errorf("usr_dan sees %v, want acc_1", ids)
	}
	// An update that fails changes no share.
	wantErr(t, "failing update", get(s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.SharedWith = nil
		return store.ErrConflict
	})), store.ErrConflict)
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); !slices.Equal(got.SharedWith, []string{"usr_dan"}) {
		t.Errorf("after a failed update SharedWith = %v", got.SharedWith)
	}

	// A removed member's shares go with them.
	must(t, "DeleteUser", s.DeleteUser(ctx, "wsp_1", "usr_dan"))
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); len(got.SharedWith) != 0 {
		t.Errorf("after removing usr_dan SharedWith = %v", got.SharedWith)
	}
	// Accounts passed to a member need no share with them.
	ok(s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error { a.SharedWith = []string{"usr_bob", "usr_carol"}; return nil }))
	ok(s.ReassignAccounts(ctx, "wsp_1", "usr_alice", "usr_bob"))
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); got.OwnerID != "usr_bob" || !slices.Equal(got.SharedWith, []string{"usr_carol"}) {
		t.Errorf("after reassigning to usr_bob: owner %s, SharedWith %v, want usr_bob and usr_carol", got.OwnerID, got.SharedWith)
	}
	// A deleted account's shares go with it: the same id comes back unshared.
	must(t, "DeleteAccount", s.DeleteAccount(ctx, "wsp_1", "acc_1"))
	mustAccount(t, s, newAccount("wsp_1", "acc_1", "usr_alice", "slack"))
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); len(got.SharedWith) != 0 {
		t.Errorf("a new account with a deleted one's id is shared with %v", got.SharedWith)
	}
}

// testAccountSharesConcurrent: members added one each by concurrent
// compare-and-swap updates are all kept.
func testAccountSharesConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	const n = 20
	var want []string
	for i := range n {
		id := fmt.Sprintf("usr_%02d", i)
		mustUser(t, s, "wsp_1", id, id+"@x.io", store.RoleMember, "h", i)
		want = append(want, id)
	}
	mustAccount(t, s, newAccount("wsp_1", "acc_1", "usr_00", "slack"))
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range want {
		wg.Go(func() {
			_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
				a.SharedWith = append(a.SharedWith, id)
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("UpdateAccount: %v", err)
		}
	}
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); !slices.Equal(got.SharedWith, want) {
		t.Errorf("SharedWith after %d concurrent shares = %v, want all of them", n, got.SharedWith)
	}
}

// testAccountsWithin: a token's limits select accounts by id or by app.
func testAccountsWithin(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustAccount(t, s, newAccount("wsp_1", "acc_1", "usr_alice", "slack"))
	mustAccount(t, s, newAccount("wsp_1", "acc_2", "usr_alice", "github"))
	mustAccount(t, s, newAccount("wsp_1", "acc_3", "usr_alice", "slack"))
	mustAccount(t, s, newAccount("wsp_1", "acc_4", "usr_alice", "sendgrid"))
	for _, tc := range []struct {
		ids, apps, want []string
	}{
		{nil, nil, []string{"acc_1", "acc_2", "acc_3", "acc_4"}},
		{[]string{"acc_2"}, nil, []string{"acc_2"}},
		{nil, []string{"slack"}, []string{"acc_1", "acc_3"}},
		{[]string{"acc_4"}, []string{"github"}, []string{"acc_2", "acc_4"}},
		{[]string{"acc_9"}, nil, nil},
	} {
		f := store.AccountFilter{WorkspaceID: "wsp_1", WithinIDs: tc.ids, WithinApps: tc.apps}
		if ids := listIDs(t, s, f); !slices.Equal(ids, tc.want) {
			t.Errorf("within %v %v: %v, want %v", tc.ids, tc.apps, ids, tc.want)
		}
	}
	f := store.AccountFilter{WorkspaceID: "wsp_1", WithinIDs: []string{"acc_2", "acc_4"}}
	if apps := ok(s.AccountApps(ctx, f)); !slices.Equal(apps, []string{"github", "sendgrid"}) {
		t.Errorf("apps within acc_2, acc_4: %v", apps)
	}
}
