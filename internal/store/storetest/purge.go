package storetest

import (
	"fmt"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
)

func newSession(i int, expires int) store.Session {
	h := hash(byte(i))
	h[1], h[3] = byte(i>>8), byte(i>>16)
	return store.Session{Hash: h, WorkspaceID: "wsp_1", UserID: "usr_alice", CreatedAt: at(expires - 720), ExpiresAt: at(expires)}
}

func testDeleteExpiredSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	// More expired sessions than one batch deletes.
	const expired = 1005
	for i := range expired {
		must(t, "CreateSession", s.CreateSession(ctx, newSession(i, -i%3)))
	}
	live := []store.Session{newSession(5000, 1), newSession(5001, 720)}
	for _, se := range live {
		must(t, "CreateSession live", s.CreateSession(ctx, se))
	}
	n, err := s.DeleteExpiredSessions(ctx, t0)
	must(t, "DeleteExpiredSessions", err)
	if n != expired {
		t.Fatalf("DeleteExpiredSessions deleted %d, want %d", n, expired)
	}
	for _, i := range []int{0, 1, 2, expired - 1} {
		_, err := s.GetSession(ctx, newSession(i, 0).Hash, at(-10))
		wantErr(t, fmt.Sprintf("GetSession of purged session %d", i), err, store.ErrNotFound)
	}
	for _, se := range live {
		got, err := s.GetSession(ctx, se.Hash, t0)
		must(t, "GetSession of a live session", err)
		sameTime(t, "live session ExpiresAt", got.ExpiresAt, se.ExpiresAt)
	}
	if n, err := s.DeleteExpiredSessions(ctx, t0); err != nil || n != 0 {
		t.Fatalf("second DeleteExpiredSessions = %d, %v; want 0", n, err)
	}
}

// testDeleteUserSessions: a user's sessions end in their workspace only,
// all but the one kept; other users' sessions stay.
func testDeleteUserSessions(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	alice := []store.Session{newSession(1, 720), newSession(2, 720), newSession(3, 720)}
	bob := newSession(4, 720)
	bob.UserID = "usr_bob"
	elsewhere := newSession(5, 720)
	elsewhere.WorkspaceID = "wsp_2"
	for _, se := range append(alice, bob, elsewhere) {
		must(t, "CreateSession", s.CreateSession(ctx, se))
	}
	n, err := s.DeleteUserSessions(ctx, "wsp_1", "usr_alice", alice[1].Hash)
	if err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions keeping one = %d, %v; want 2", n, err)
	}
	for _, se := range []store.Session{alice[0], alice[2]} {
		_, err := s.GetSession(ctx, se.Hash, t0)
		wantErr(t, "GetSession of an ended session", err, store.ErrNotFound)
	}
	for _, se := range []store.Session{alice[1], bob, elsewhere} {
		_, err := s.GetSession(ctx, se.Hash, t0)
		must(t, "GetSession of a session that stays", err)
	}
	n, err = s.DeleteUserSessions(ctx, "wsp_1", "usr_alice", nil)
	if err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions keeping none = %d, %v; want 1", n, err)
	}
	_, err = s.GetSession(ctx, alice[1].Hash, t0)
	wantErr(t, "GetSession of the last ended session", err, store.ErrNotFound)
	for _, se := range []store.Session{bob, elsewhere} {
		_, err := s.GetSession(ctx, se.Hash, t0)
		must(t, "GetSession of another user's or workspace's session", err)
	}
}

func testDeleteExpiredConnections(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	conn := func(id string, b byte, expires int, status store.ConnectionStatus) store.Connection {
		c := fullConnection("wsp_1", id, hash(b))
		c.ExpiresAt, c.CreatedAt, c.Status = at(expires), at(expires-10), status
		return c
	}
	gone := []store.Connection{
		conn("con_pending_old", 1, -60, store.ConnectionPending),
		conn("con_claimed_old", 2, -30, store.ConnectionClaimed),
		conn("con_done_old", 3, -1, store.ConnectionCompleted),
		conn("con_failed_now", 4, 0, store.ConnectionFailed),
	}
	kept := []store.Connection{
		conn("con_pending_live", 5, 1, store.ConnectionPending),
		conn("con_done_live", 6, 10, store.ConnectionCompleted),
	}
	for _, c := range append(append([]store.Connection{}, gone...), kept...) {
		mustConnection(t, s, c)
	}
	n, err := s.DeleteExpiredConnections(ctx, t0)
	must(t, "DeleteExpiredConnections", err)
	if n != len(gone) {
		t.Fatalf("DeleteExpiredConnections deleted %d, want %d", n, len(gone))
	}
	for _, c := range gone {
		_, err := s.GetConnection(ctx, "wsp_1", c.ID)
		wantErr(t, "GetConnection "+c.ID, err, store.ErrNotFound)
	}
	for _, c := range kept {
		got, err := s.GetConnection(ctx, "wsp_1", c.ID)
		must(t, "GetConnection "+c.ID, err)
		sameConnection(t, c.ID, got, c)
	}
	// The live pending one still works once.
	_, err = s.ClaimConnection(ctx, kept[0].StateHash, t0)
	must(t, "ClaimConnection of the live connection", err)
}
