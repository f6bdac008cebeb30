package storetest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// dueAccount returns an account whose next refresh is at next (nil: never).
func dueAccount(workspaceID, id string, next *time.Time) store.Account {
	a := newAccount(workspaceID, id, "usr_alice", "slack")
	a.NextRefreshAt = next
	return a
}

func testRefreshDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	now := t0

	full := fullAccount("wsp_1", "acc_full")
	full.NextRefreshAt = ptr(at(-10))
	accounts := []store.Account{
		dueAccount("wsp_1", "acc_later", ptr(at(30))),
		dueAccount("wsp_1", "acc_next_microsecond", ptr(now.Add(time.Microsecond))),
		dueAccount("wsp_2", "acc_at_now", ptr(now)),
		dueAccount("wsp_1", "acc_never", nil),
		dueAccount("wsp_1", "acc_due_5", ptr(at(-5))),
		full,
		dueAccount("wsp_2", "acc_due_7", ptr(at(-7).In(time.FixedZone("X", 3600)))),
	}
	byID := map[string]store.Account{}
	for _, a := range accounts {
		mustAccount(t, s, a)
		byID[a.ID] = a
	}

	// fn records what it is handed and moves the account on.
	var seen []string
	refresh := func(a *store.Account) error {
		sameAccount(t, "account handed to fn", *a, byID[a.ID])
		seen = append(seen, a.ID)
		a.NextRefreshAt = ptr(at(60))
		a.LastRefreshedAt = ptr(now)
		a.RefreshFailures++
		a.StatusError = "refreshed"
		a.UpdatedAt = now
		return nil
	}
	tests := []struct {
		name  string
		limit int
		want  []string
	}{
		{"limit zero", 0, nil},
		{"earliest first, up to the limit", 2, []string{"acc_full", "acc_due_7"}},
		{"the rest, due at or before now", 10, []string{"acc_due_5", "acc_at_now"}},
		{"none left", 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen = nil
			n, err := s.RefreshDue(ctx, now, tc.limit, refresh)
			must(t, "RefreshDue", err)
			if n != len(tc.want) || !slices.Equal(seen, tc.want) {
				t.Errorf("RefreshDue(limit %d) = %d, handed over %v; want %d, %v", tc.limit, n, seen, len(tc.want), tc.want)
			}
		})
	}

	for _, a := range accounts {
		got, err := s.GetAccount(ctx, a.WorkspaceID, a.ID)
		must(t, "GetAccount "+a.ID, err)
		want := a
		if a.NextRefreshAt != nil && !micro(*a.NextRefreshAt).After(micro(now)) {
			want.NextRefreshAt = ptr(at(60))
			want.LastRefreshedAt = ptr(now)
			want.RefreshFailures++
			want.StatusError = "refreshed"
			want.UpdatedAt = now
		}
		sameAccount(t, "account after RefreshDue", got, want)
	}

	// An hour on, what was moved on is due again, and what was not yet due.
	seen = nil
	n, err := s.RefreshDue(ctx, at(60), 100, func(a *store.Account) error {
		seen = append(seen, a.ID)
		a.NextRefreshAt = nil
		return nil
	})
	must(t, "RefreshDue an hour on", err)
	slices.Sort(seen)
	want := []string{"acc_at_now", "acc_due_5", "acc_due_7", "acc_full", "acc_later", "acc_next_microsecond"}
	if n != len(want) || !slices.Equal(seen, want) {
		t.Errorf("RefreshDue an hour on = %d, handed over %v; want %d, %v", n, seen, len(want), want)
	}
	// Cleared, they are never due again.
	n, err = s.RefreshDue(ctx, at(60*24*365), 100, func(a *store.Account) error {
		t.Errorf("fn called for %s, whose next refresh was cleared", a.ID)
		return nil
	})
	if n != 0 || err != nil {
		t.Errorf("RefreshDue after clearing = %d, %v; want 0, nil", n, err)
	}
}

func testRefreshDueFnError(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	first := dueAccount("wsp_1", "acc_1", ptr(at(-3)))
	failing := fullAccount("wsp_1", "acc_2")
	failing.NextRefreshAt = ptr(at(-2))
	last := dueAccount("wsp_1", "acc_3", ptr(at(-1)))
	for _, a := range []store.Account{first, failing, last} {
		mustAccount(t, s, a)
	}

	var seen []string
	n, err := s.RefreshDue(ctx, t0, 10, func(a *store.Account) error {
		seen = append(seen, a.ID)
		a.NextRefreshAt = ptr(at(60))
		a.RefreshFailures++
		if a.ID == "acc_2" {
			a.Credentials = nil
			return fmt.Errorf("refresh: %w", errAbort)
		}
		return nil
	})
	wantErr(t, "RefreshDue with failing fn", err, errAbort)
	if n != 1 || !slices.Equal(seen, []string{"acc_1", "acc_2"}) {
		t.Errorf("RefreshDue with failing fn = %d, handed over %v; want 1, [acc_1 acc_2]", n, seen)
	}

	wantFirst := first
	wantFirst.NextRefreshAt, wantFirst.RefreshFailures = ptr(at(60)), 1
	for _, want := range []store.Account{wantFirst, failing, last} {
		got, err := s.GetAccount(ctx, "wsp_1", want.ID)
		must(t, "GetAccount", err)
		sameAccount(t, "account after failed run", got, want)
	}

	// The failed transaction let go of its row: the next run takes it.
	seen = nil
	n, err = s.RefreshDue(ctx, t0, 10, func(a *store.Account) error {
		seen = append(seen, a.ID)
		a.NextRefreshAt = ptr(at(60))
		return nil
	})
	must(t, "RefreshDue after failed run", err)
	if n != 2 || !slices.Equal(seen, []string{"acc_2", "acc_3"}) {
		t.Errorf("RefreshDue after failed run = %d, handed over %v; want 2, [acc_2 acc_3]", n, seen)
	}
}

func testRefreshDueMustMoveOn(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	now := t0

	tests := []struct {
		name string
		next *time.Time
		ok   bool
	}{
		{"left as it was", ptr(at(-5)), false},
		{"set to now", ptr(now), false},
		{"set to the past", ptr(at(-60)), false},
		{"set within now's microsecond", ptr(now.Add(100 * time.Nanosecond)), false},
		{"set a microsecond on", ptr(now.Add(time.Microsecond)), true},
		{"cleared", nil, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := fullAccount("wsp_1", fmt.Sprintf("acc_%d", i))
			orig.NextRefreshAt = ptr(at(-5))
			mustAccount(t, s, orig)

			calls := 0
			n, err := s.RefreshDue(ctx, now, 10, func(a *store.Account) error {
				calls++
				a.NextRefreshAt = tc.next
				a.RefreshFailures = 42
				return nil
			})
			if calls != 1 {
				t.Errorf("fn called %d times, want 1", calls)
			}
			got, gerr := s.GetAccount(ctx, "wsp_1", orig.ID)
			must(t, "GetAccount", gerr)
			if !tc.ok {
				if err == nil || n != 0 {
					t.Errorf("RefreshDue = %d, %v; want 0 and an error", n, err)
				}
				sameAccount(t, "account after refused write", got, orig)
				// Leave nothing due for the next case.
				must(t, "DeleteAccount", s.DeleteAccount(ctx, "wsp_1", orig.ID))
				return
			}
			if err != nil || n != 1 {
				t.Errorf("RefreshDue = %d, %v; want 1, nil", n, err)
			}
			want := orig
			want.NextRefreshAt, want.RefreshFailures = tc.next, 42
			sameAccount(t, "account after RefreshDue", got, want)
		})
	}
}

func testCountAccountsByStatus(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.CountAccountsByStatus(ctx)
	must(t, "CountAccountsByStatus on an empty store", err)
	if len(got) != 0 {
		t.Errorf("CountAccountsByStatus on an empty store = %v, want none", got)
	}

	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	for i, p := range []struct {
		ws     string
		status store.AccountStatus
	}{
		{"wsp_1", store.StatusHealthy},
		{"wsp_1", store.StatusHealthy},
		{"wsp_1", store.StatusNeedsReconnect},
		{"wsp_2", store.StatusHealthy},
		{"wsp_2", store.StatusNeedsReconnect},
		{"wsp_2", store.StatusNeedsReconnect},
		{"wsp_2", store.StatusHealthy},
	} {
		a := newAccount(p.ws, fmt.Sprintf("acc_%d", i), "usr_alice", "slack")
		a.Status = p.status
		mustAccount(t, s, a)
	}
	got, err = s.CountAccountsByStatus(ctx)
	must(t, "CountAccountsByStatus", err)
	want := map[store.AccountStatus]int{store.StatusHealthy: 4, store.StatusNeedsReconnect: 3}
	if !maps.Equal(got, want) {
		t.Errorf("CountAccountsByStatus = %v, want %v", got, want)
	}
}

func testRefreshDueConcurrent(t *testing.T, s store.Store) {
	RefreshDueShared(t, s, s, s, s)
}

// RefreshDueShared creates 30 due accounts through stores[0], then runs one
// RefreshDue per store concurrently, as replicas of one installation do:
// every account must be handed over exactly once in total. Pass the same
// store several times for concurrent callers of one store, or stores opened
// on one database for replicas.
func RefreshDueShared(t *testing.T, stores ...store.Store) {
	ctx := t.Context()
	mustWorkspace(t, stores[0], "wsp_1")
	mustWorkspace(t, stores[0], "wsp_2")
	const n = 30
	var ids []string
	for i := range n {
		a := dueAccount([]string{"wsp_1", "wsp_2"}[i%2], fmt.Sprintf("acc_%02d", i), ptr(at(-n+i)))
		mustAccount(t, stores[0], a)
		ids = append(ids, a.ID)
	}

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		handled = map[string]int{}
		total   int
	)
	for _, s := range stores {
		wg.Go(func() {
			done, err := s.RefreshDue(ctx, t0, 100, func(a *store.Account) error {
				mu.Lock()
				handled[a.ID]++
				mu.Unlock()
				time.Sleep(2 * time.Millisecond)
				a.NextRefreshAt = ptr(t0.Add(time.Hour))
				return nil
			})
			if err != nil {
				t.Errorf("RefreshDue: %v", err)
			}
			mu.Lock()
			total += done
			mu.Unlock()
		})
	}
	wg.Wait()

	for _, id := range ids {
		if handled[id] != 1 {
			t.Errorf("%s handed over %d times, want once", id, handled[id])
		}
	}
	if len(handled) != n || total != n {
		t.Errorf("RefreshDue calls reported %d and handed over %d accounts, want %d", total, len(handled), n)
	}
	for i, id := range ids {
		a, err := stores[0].GetAccount(ctx, []string{"wsp_1", "wsp_2"}[i%2], id)
		must(t, "GetAccount", err)
		samePtr(t, id+" NextRefreshAt", a.NextRefreshAt, ptr(t0.Add(time.Hour)))
	}
}

// testNextRefreshAt: the earliest next refresh across every workspace,
// due or not, as a plain scan of the accounts would find it.
func testNextRefreshAt(t *testing.T, s store.Store) {
	ctx := t.Context()
	check := func(label string, want *time.Time) {
		t.Helper()
		got, ok, err := s.NextRefreshAt(ctx)
		must(t, "NextRefreshAt", err)
		switch {
		case want == nil && ok:
			t.Errorf("%s: NextRefreshAt = %v, want none", label, got)
		case want != nil && (!ok || !got.Equal(micro(*want))):
			t.Errorf("%s: NextRefreshAt = %v, %v; want %v", label, got, ok, micro(*want))
		}
	}
	check("no accounts", nil)
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustAccount(t, s, dueAccount("wsp_1", "acc_never", nil))
	check("none scheduled", nil)
	mustAccount(t, s, dueAccount("wsp_1", "acc_later", ptr(at(30))))
	mustAccount(t, s, dueAccount("wsp_2", "acc_sooner", ptr(at(5).Add(time.Microsecond))))
	mustAccount(t, s, dueAccount("wsp_1", "acc_latest", ptr(at(90))))
	check("the sooner of three, in another workspace", ptr(at(5).Add(time.Microsecond)))
	// Overdue counts too: the refresher must not sleep past it.
	mustAccount(t, s, dueAccount("wsp_2", "acc_overdue", ptr(at(-20))))
	check("an overdue one", ptr(at(-20)))
	_, err := s.UpdateAccount(ctx, "wsp_2", "acc_overdue", func(a *store.Account) error { a.NextRefreshAt = nil; return nil })
	must(t, "UpdateAccount", err)
	check("after clearing the overdue one", ptr(at(5).Add(time.Microsecond)))
}
