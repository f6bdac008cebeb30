package server_test

import (
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/purger"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// The server purges expired sessions in the background, by its clock.
func TestServerPurgesExpiredSessions(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClockAt(time.Now())
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{Clock: clock})
	ws, err := inst.Store().FirstWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	expiring := store.Session{Hash: []byte("expiring-session-0123456789abcde"), WorkspaceID: ws.ID, UserID: "usr_1", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	live := store.Session{Hash: []byte("live-session-0123456789abcdefghi"), WorkspaceID: ws.ID, UserID: "usr_1", CreatedAt: now, ExpiresAt: now.Add(10000 * time.Hour)}
	for _, se := range []store.Session{expiring, live} {
		if err := inst.Store().CreateSession(ctx, se); err != nil {
			t.Fatal(err)
		}
	}
	// Wait for a pass the clock sets off; a purger that never runs fails
	// here. The clock moves on each round, since the purger may not be
	// waiting on it yet when the test first advances it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		clock.Advance(purger.DefaultInterval)
		_, err := inst.Store().GetSession(ctx, expiring.Hash, time.Time{})
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired session is still stored: nothing purges it")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := inst.Store().GetSession(ctx, live.Hash, clock.Now()); err != nil {
		t.Fatalf("the live session was purged: %v", err)
	}
}
