package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// fullAccount has every field set, with times in a zone other than UTC and
// finer than a microsecond.
func fullAccount(workspaceID, id string) store.Account {
	zone := time.FixedZone("UTC+2", 2*3600)
	return store.Account{
		ID:              id,
		WorkspaceID:     workspaceID,
		OwnerID:         "usr_alice",
		App:             "slack",
		Nickname:        "Work Slack",
		IdentityLabel:   "alice@acme.com on acme",
		Scopes:          []string{"chat:write", "users:read"},
		Status:          store.StatusNeedsReconnect,
		StatusError:     "invalid_grant: token revoked",
		Shared:          true,
		Untested:        true,
		OAuthClientID:   "managed",
		Credentials:     []byte{0x00, 0xff, 0x10, 0x00, 'k'},
		ExpiresAt:       ptr(at(60).In(zone)),
		LastRefreshedAt: ptr(at(5)),
		NextRefreshAt:   ptr(at(55).Add(999)),
		FailingSince:    ptr(at(4)),
		RefreshFailures: 3,
		// A lease in another zone, to check it comes back in UTC.
		RefreshLeaseHolder: "lease_1",
		RefreshLeaseUntil:  ptr(at(3).In(zone)),
		CreatedAt:          at(1).In(zone),
		UpdatedAt:          at(2),
	}
}

func testAccountsCreateGetDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")

	tests := []struct {
		name string
		a    store.Account
	}{
		{"every field", fullAccount("wsp_1", "acc_full")},
		{"only required fields", newAccount("wsp_1", "acc_bare", "usr_bob", "sendgrid")},
		{"empty scopes and credentials", func() store.Account {
			a := newAccount("wsp_1", "acc_empty", "usr_bob", "github")
			a.Scopes = []string{}
			a.Credentials = []byte{}
			return a
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			must(t, "CreateAccount", s.CreateAccount(ctx, tc.a))
			got, err := s.GetAccount(ctx, "wsp_1", tc.a.ID)
			must(t, "GetAccount", err)
			sameAccount(t, "GetAccount", got, tc.a)

			wantErr(t, "CreateAccount again", s.CreateAccount(ctx, tc.a), store.ErrConflict)

			must(t, "DeleteAccount", s.DeleteAccount(ctx, "wsp_1", tc.a.ID))
			_, err = s.GetAccount(ctx, "wsp_1", tc.a.ID)
			wantErr(t, "GetAccount after delete", err, store.ErrNotFound)
			wantErr(t, "DeleteAccount twice", s.DeleteAccount(ctx, "wsp_1", tc.a.ID), store.ErrNotFound)
		})
	}

	_, err := s.GetAccount(ctx, "wsp_1", "acc_missing")
	wantErr(t, "GetAccount missing", err, store.ErrNotFound)
	if err != nil && !strings.Contains(err.Error(), "acc_missing") {
		t.Errorf("GetAccount error %q does not name the account", err)
	}
}

func testAccountsWorkspaceIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	a := fullAccount("wsp_1", "acc_1")
	mustAccount(t, s, a)

	_, err := s.GetAccount(ctx, "wsp_2", "acc_1")
	wantErr(t, "GetAccount from wsp_2", err, store.ErrNotFound)

	called := false
	_, err = s.UpdateAccount(ctx, "wsp_2", "acc_1", func(a *store.Account) error {
		called = true
		a.Nickname = "stolen"
		return nil
	})
	wantErr(t, "UpdateAccount from wsp_2", err, store.ErrNotFound)
	if called {
		t.Error("UpdateAccount from wsp_2 called fn")
	}

	wantErr(t, "DeleteAccount from wsp_2", s.DeleteAccount(ctx, "wsp_2", "acc_1"), store.ErrNotFound)

	list, err := s.ListAccounts(ctx, store.AccountFilter{WorkspaceID: "wsp_2"})
	must(t, "ListAccounts wsp_2", err)
	if len(list) != 0 {
		t.Errorf("ListAccounts wsp_2 = %v, want none", accountIDs(list))
	}

	got, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	must(t, "GetAccount from wsp_1", err)
	sameAccount(t, "account after wsp_2's attempts", got, a)

	// An id is unique across workspaces, not only within one.
	wantErr(t, "CreateAccount same id in wsp_2", s.CreateAccount(ctx, fullAccount("wsp_2", "acc_1")), store.ErrConflict)
}

func testListAccountsFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")

	mk := func(ws, id, owner, app, nickname, identity string, edit func(*store.Account)) {
		a := newAccount(ws, id, owner, app)
		a.Nickname, a.IdentityLabel = nickname, identity
		if edit != nil {
			edit(&a)
		}
		mustAccount(t, s, a)
	}
	// Created out of id order: lists go by id.
	mk("wsp_1", "acc_03", "usr_bob", "slack", "Team", "bob@acme.com", func(a *store.Account) { a.Shared = true })
	mk("wsp_1", "acc_01", "usr_alice", "slack", "Work Slack", "alice@acme.com", nil)
	mk("wsp_1", "acc_02", "usr_alice", "github", "", "Alice-GH", func(a *store.Account) { a.Status = store.StatusNeedsReconnect })
	mk("wsp_1", "acc_04", "usr_bob", "sendgrid", "Mail 100%", "", nil)
	mk("wsp_1", "acc_05", "usr_bob", "github", "under_score", "Bob's Örg", nil)
	mk("wsp_2", "acc_06", "usr_carol", "slack", "Carol", "carol@acme.com", func(a *store.Account) { a.Shared = true })

	all := []string{"acc_01", "acc_02", "acc_03", "acc_04", "acc_05"}
	tests := []struct {
		name string
		f    store.AccountFilter
		want []string
	}{
		{"workspace", store.AccountFilter{}, all},
		{"other workspace", store.AccountFilter{WorkspaceID: "wsp_2"}, []string{"acc_06"}},
		{"unknown workspace", store.AccountFilter{WorkspaceID: "wsp_none"}, nil},
		{"visible to alice", store.AccountFilter{VisibleTo: "usr_alice"}, []string{"acc_01", "acc_02", "acc_03"}},
		{"visible to bob", store.AccountFilter{VisibleTo: "usr_bob"}, []string{"acc_03", "acc_04", "acc_05"}},
		{"visible to a user with none", store.AccountFilter{VisibleTo: "usr_carol"}, []string{"acc_03"}},
		{"app", store.AccountFilter{App: "slack"}, []string{"acc_01", "acc_03"}},
		{"app is exact", store.AccountFilter{App: "slac"}, nil},
		{"status", store.AccountFilter{Status: store.StatusNeedsReconnect}, []string{"acc_02"}},
		{"text in nickname or app, any case", store.AccountFilter{Text: "SLACK"}, []string{"acc_01", "acc_03"}},
		{"text in identity", store.AccountFilter{Text: "acme.COM"}, []string{"acc_01", "acc_03"}},
		{"text in identity and nickname", store.AccountFilter{Text: "alice"}, []string{"acc_01", "acc_02"}},
		{"text with non-ASCII", store.AccountFilter{Text: "Örg"}, []string{"acc_05"}},
		{"text % is literal", store.AccountFilter{Text: "%"}, []string{"acc_04"}},
		{"text _ is literal", store.AccountFilter{Text: "_"}, []string{"acc_05"}},
		{"text matches nothing", store.AccountFilter{Text: "zzz"}, nil},
		{"visible and app", store.AccountFilter{VisibleTo: "usr_alice", App: "slack"}, []string{"acc_01", "acc_03"}},
		{"visible and text", store.AccountFilter{VisibleTo: "usr_bob", Text: "git"}, []string{"acc_05"}},
		{"after", store.AccountFilter{After: "acc_02"}, []string{"acc_03", "acc_04", "acc_05"}},
		{"after the last", store.AccountFilter{After: "acc_05"}, nil},
		{"after and app", store.AccountFilter{After: "acc_01", App: "slack"}, []string{"acc_03"}},
		{"limit", store.AccountFilter{Limit: 2}, []string{"acc_01", "acc_02"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.WorkspaceID == "" {
				tc.f.WorkspaceID = "wsp_1"
			}
			got, err := s.ListAccounts(ctx, tc.f)
			must(t, "ListAccounts", err)
			if ids := accountIDs(got); !slices.Equal(ids, tc.want) && !(len(ids) == 0 && len(tc.want) == 0) {
				t.Errorf("ListAccounts(%+v) = %v, want %v", tc.f, ids, tc.want)
			}
		})
	}

	// Listed accounts carry every field, not only ids.
	full := fullAccount("wsp_2", "acc_07")
	mustAccount(t, s, full)
	got, err := s.ListAccounts(ctx, store.AccountFilter{WorkspaceID: "wsp_2", After: "acc_06"})
	must(t, "ListAccounts full", err)
	if len(got) != 1 {
		t.Fatalf("ListAccounts full = %v, want [acc_07]", accountIDs(got))
	}
	sameAccount(t, "listed account", got[0], full)
}

func testListAccountsPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("acc_%02d", i)
		want = append(want, id)
		mustAccount(t, s, newAccount("wsp_1", id, "usr_alice", "slack"))
	}

	var got []string
	var sizes []int
	f := store.AccountFilter{WorkspaceID: "wsp_1", Limit: 3}
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatalf("paging did not end; got %v", got)
		}
		list, err := s.ListAccounts(ctx, f)
		must(t, "ListAccounts", err)
		if len(list) == 0 {
			break
		}
		sizes = append(sizes, len(list))
		got = append(got, accountIDs(list)...)
		f.After = list[len(list)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	if !slices.Equal(sizes, []int{3, 3, 1}) {
		t.Errorf("page sizes %v, want [3 3 1]", sizes)
	}
}

func testListAccountsDefaultLimit(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	for i := range 55 {
		mustAccount(t, s, newAccount("wsp_1", fmt.Sprintf("acc_%02d", i), "usr_alice", "slack"))
	}
	for _, tc := range []struct {
		limit, want int
	}{{0, 50}, {-1, 50}, {10, 10}, {100000, 55}} {
		got, err := s.ListAccounts(ctx, store.AccountFilter{WorkspaceID: "wsp_1", Limit: tc.limit})
		must(t, "ListAccounts", err)
		if len(got) != tc.want {
			t.Errorf("ListAccounts with Limit %d gave %d accounts, want %d", tc.limit, len(got), tc.want)
		}
	}
}

func testUpdateAccountRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	bare := newAccount("wsp_1", "acc_1", "usr_bob", "sendgrid")
	mustAccount(t, s, bare)

	// From nothing set to everything set, then back: every field is written
	// both ways, nil times and nil bytes included.
	full := fullAccount("wsp_1", "acc_1")
	full.CreatedAt = bare.CreatedAt
	cleared := bare
	cleared.UpdatedAt = at(100)

	for _, step := range []struct {
		name string
		want store.Account
	}{
		{"set every field", full},
		{"clear every field", cleared},
		{"set again", full},
	} {
		t.Run(step.name, func(t *testing.T) {
			var seen store.Account
			got, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
				seen = *a
				*a = step.want
				return nil
			})
			must(t, "UpdateAccount", err)
			if seen.ID != "acc_1" || seen.WorkspaceID != "wsp_1" {
				t.Errorf("fn saw account %s in %s", seen.ID, seen.WorkspaceID)
			}
			sameAccount(t, "UpdateAccount result", got, step.want)
			read, err := s.GetAccount(ctx, "wsp_1", "acc_1")
			must(t, "GetAccount", err)
			sameAccount(t, "GetAccount after update", read, step.want)
		})
	}
}

func testUpdateAccountKeepsIdentity(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	orig := fullAccount("wsp_1", "acc_1")
	mustAccount(t, s, orig)

	got, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.ID = "acc_other"
		a.WorkspaceID = "wsp_2"
		a.CreatedAt = at(500)
		a.Nickname = "renamed"
		return nil
	})
	must(t, "UpdateAccount", err)
	want := orig
	want.Nickname = "renamed"
	sameAccount(t, "UpdateAccount result", got, want)

	read, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	must(t, "GetAccount", err)
	sameAccount(t, "GetAccount", read, want)
	for _, ws := range []string{"wsp_1", "wsp_2"} {
		_, err := s.GetAccount(ctx, ws, "acc_other")
		wantErr(t, "GetAccount of the changed id in "+ws, err, store.ErrNotFound)
	}
	_, err = s.GetAccount(ctx, "wsp_2", "acc_1")
	wantErr(t, "GetAccount in the changed workspace", err, store.ErrNotFound)

	_, err = s.UpdateAccount(ctx, "wsp_1", "acc_missing", func(*store.Account) error {
		t.Error("fn called for a missing account")
		return nil
	})
	wantErr(t, "UpdateAccount missing", err, store.ErrNotFound)
}

var errAbort = errors.New("abort")

func testUpdateAccountFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	orig := fullAccount("wsp_1", "acc_1")
	mustAccount(t, s, orig)

	_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.Nickname = "half-done"
		a.RefreshFailures = 99
		a.Credentials = nil
		return fmt.Errorf("refresh: %w", errAbort)
	})
	wantErr(t, "UpdateAccount with failing fn", err, errAbort)

	read, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	must(t, "GetAccount", err)
	sameAccount(t, "account after aborted update", read, orig)

	// The aborted transaction let go of its lock: the next update goes through.
	_, err = s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.Nickname = "after"
		return nil
	})
	must(t, "UpdateAccount after abort", err)
}

func testUpdateAccountConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustAccount(t, s, newAccount("wsp_1", "acc_1", "usr_alice", "slack"))

	// Each update writes back what it read plus one: without the row lock
	// (or SQLite's write lock) updates are lost, or fail as busy.
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
				a.RefreshFailures++
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
	got, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	must(t, "GetAccount", err)
	if got.RefreshFailures != n {
		t.Errorf("RefreshFailures = %d after %d concurrent increments, want %d", got.RefreshFailures, n, n)
	}
}

func testAllAccountIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.AllAccountIDs(ctx)
	must(t, "AllAccountIDs on an empty store", err)
	if len(got) != 0 {
		t.Errorf("AllAccountIDs on an empty store = %v", got)
	}

	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	want := [][2]string{{"wsp_1", "acc_1"}, {"wsp_1", "acc_3"}, {"wsp_2", "acc_2"}}
	for _, p := range want {
		mustAccount(t, s, newAccount(p[0], p[1], "usr_alice", "slack"))
	}
	got, err = s.AllAccountIDs(ctx)
	must(t, "AllAccountIDs", err)
	slices.SortFunc(got, func(a, b [2]string) int { return strings.Compare(a[0]+" "+a[1], b[0]+" "+b[1]) })
	if !slices.Equal(got, want) {
		t.Errorf("AllAccountIDs = %v, want %v", got, want)
	}
}

// testAccountApps: the app filter of a list page comes from one query over
// every account the filter selects, not from the page.
func testAccountApps(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mk := func(ws, id, owner, app string, edit func(*store.Account)) {
		a := newAccount(ws, id, owner, app)
		if edit != nil {
			edit(&a)
		}
		mustAccount(t, s, a)
	}
	mk("wsp_1", "acc_01", "usr_alice", "slack", nil)
	mk("wsp_1", "acc_02", "usr_alice", "slack", nil)
	mk("wsp_1", "acc_03", "usr_bob", "github", func(a *store.Account) { a.Shared = true })
	mk("wsp_1", "acc_04", "usr_bob", "sendgrid", func(a *store.Account) { a.Status = store.StatusNeedsReconnect })
	mk("wsp_1", "acc_05", "usr_alice", "airtable", nil)
	mk("wsp_2", "acc_06", "usr_carol", "zendesk", func(a *store.Account) { a.Shared = true })

	tests := []struct {
		name string
		f    store.AccountFilter
		want []string
	}{
		{"workspace, sorted, once each", store.AccountFilter{}, []string{"airtable", "github", "sendgrid", "slack"}},
		{"other workspace", store.AccountFilter{WorkspaceID: "wsp_2"}, []string{"zendesk"}},
		{"unknown workspace", store.AccountFilter{WorkspaceID: "wsp_none"}, nil},
		{"visible to alice", store.AccountFilter{VisibleTo: "usr_alice"}, []string{"airtable", "github", "slack"}},
		{"visible to bob", store.AccountFilter{VisibleTo: "usr_bob"}, []string{"github", "sendgrid"}},
		{"visible to a user with none", store.AccountFilter{VisibleTo: "usr_carol"}, []string{"github"}},
		{"status", store.AccountFilter{Status: store.StatusNeedsReconnect}, []string{"sendgrid"}},
		{"text", store.AccountFilter{Text: "HUB"}, []string{"github"}},
		{"the page is ignored", store.AccountFilter{After: "acc_04", Limit: 1}, []string{"airtable", "github", "sendgrid", "slack"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.f.WorkspaceID == "" {
				tc.f.WorkspaceID = "wsp_1"
			}
			got, err := s.AccountApps(ctx, tc.f)
			must(t, "AccountApps", err)
			if !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Errorf("AccountApps(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
}
