package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

func testRefreshLease(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	orig := newAccount("wsp_1", "acc_1", "usr_alice", "slack")
	orig.Credentials = []byte("sealed")
	mustAccount(t, s, orig)

	// lease reads the lease as stored, and checks nothing else changed.
	lease := func(what, holder string, until *time.Time) {
		t.Helper()
		got, err := s.GetAccount(ctx, "wsp_1", "acc_1")
		must(t, "GetAccount", err)
		want := orig
		want.RefreshLeaseHolder, want.RefreshLeaseUntil = holder, until
		sameAccount(t, what, got, want)
	}
	take := func(what, holder string, now, until time.Time, want bool) {
		t.Helper()
		won, err := s.TakeRefreshLease(ctx, "wsp_1", "acc_1", holder, now, until)
		must(t, what, err)
		if won != want {
			t.Errorf("%s: won = %v, want %v", what, won, want)
		}
	}

	take("a free lease", "h1", t0, at(1), true)
	lease("after taking it", "h1", ptr(at(1)))
	take("a held lease", "h2", t0, at(1), false)
	take("a held lease, by its holder again", "h1", at(0).Add(time.Second), at(2), false)
	take("a lease a microsecond before it lapses", "h2", at(1).Add(-time.Microsecond), at(2), false)
	lease("after the refusals", "h1", ptr(at(1)))

	// Releasing needs the holder.
	must(t, "release by another", s.ReleaseRefreshLease(ctx, "wsp_1", "acc_1", "h2"))
	must(t, "release with no holder", s.ReleaseRefreshLease(ctx, "wsp_1", "acc_1", ""))
	lease("after releases by others", "h1", ptr(at(1)))

	// A holder that died: its lease lapses at its time.
	take("a lapsed lease", "h2", at(1), at(3), true)
	lease("after taking over a lapsed lease", "h2", ptr(at(3)))
	must(t, "release by the dead holder", s.ReleaseRefreshLease(ctx, "wsp_1", "acc_1", "h1"))
	lease("after the dead holder's release", "h2", ptr(at(3)))
	must(t, "release by the holder", s.ReleaseRefreshLease(ctx, "wsp_1", "acc_1", "h2"))
	lease("after release", "", nil)
	take("a released lease", "h3", at(2), at(4), true)

	// UpdateAccount sees the lease and may clear it.
	_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		if a.RefreshLeaseHolder != "h3" || a.RefreshLeaseUntil == nil || !a.RefreshLeaseUntil.Equal(micro(at(4))) {
			t.Errorf("UpdateAccount sees lease %q until %v, want h3 until %v", a.RefreshLeaseHolder, a.RefreshLeaseUntil, micro(at(4)))
		}
		a.RefreshLeaseHolder, a.RefreshLeaseUntil = "", nil
		return nil
	})
	must(t, "UpdateAccount clearing the lease", err)
	lease("after UpdateAccount cleared it", "", nil)

	// Bad input changes nothing.
	if _, err := s.TakeRefreshLease(ctx, "wsp_1", "acc_1", "", at(5), at(6)); err == nil {
		t.Error("TakeRefreshLease with an empty holder succeeded")
	}
	lease("after an empty holder", "", nil)
	_, err = s.TakeRefreshLease(ctx, "wsp_2", "acc_1", "h4", at(5), at(6))
	wantErr(t, "TakeRefreshLease in another workspace", err, store.ErrNotFound)
	_, err = s.TakeRefreshLease(ctx, "wsp_1", "acc_none", "h4", at(5), at(6))
	wantErr(t, "TakeRefreshLease of no account", err, store.ErrNotFound)
	lease("after the misses", "", nil)
}

// Many takers at once, as goroutines and replicas reading one expiring
// account: exactly one wins.
func testRefreshLeaseConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustAccount(t, s, newAccount("wsp_1", "acc_1", "usr_alice", "slack"))
	const n = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins []string
	)
	for i := range n {
		wg.Go(func() {
			holder := fmt.Sprintf("h%d", i)
			won, err := s.TakeRefreshLease(ctx, "wsp_1", "acc_1", holder, t0, at(1))
			if err != nil {
				t.Errorf("TakeRefreshLease: %v", err)
			}
			if won {
				mu.Lock()
				wins = append(wins, holder)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d takers won the lease (%v), want exactly 1", len(wins), wins)
	}
	got, err := s.GetAccount(ctx, "wsp_1", "acc_1")
	must(t, "GetAccount", err)
	if got.RefreshLeaseHolder != wins[0] {
		t.Errorf("lease holder %q, want the winner %q", got.RefreshLeaseHolder, wins[0])
	}
}
