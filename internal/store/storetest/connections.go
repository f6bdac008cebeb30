package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// fullConnection has every field set, with times in a zone other than UTC
// and finer than a microsecond.
func fullConnection(workspaceID, id string, stateHash []byte) store.Connection {
	zone := time.FixedZone("UTC+2", 2*3600)
	return store.Connection{
		ID:            id,
		WorkspaceID:   workspaceID,
		UserID:        "usr_alice",
		App:           "slack",
		StateHash:     stateHash,
		Nickname:      "Work Slack",
		Scopes:        []string{"chat:write", "users:read"},
		Shared:        true,
		AccountID:     "acc_reconnect",
		OAuthClientID: "oac_1",
		Sealed:        []byte{0x00, 0xff, 0x10, 0x00, 'v'},
		Status:        store.ConnectionPending,
		ExpiresAt:     at(10).In(zone),
		CreatedAt:     at(0).In(zone),
	}
}

// hash returns a 32-byte stand-in for a state hash, with a zero byte in it.
func hash(b byte) []byte {
	h := bytes.Repeat([]byte{b, 0x00}, 16)
	h[31] = 0xff
	return h
}

func mustConnection(t *testing.T, s store.Store, c store.Connection) {
	t.Helper()
	must(t, "CreateConnection "+c.ID, s.CreateConnection(t.Context(), c))
}

// canonConnection renders c as a backend returns it, as canonAccount does.
func canonConnection(c store.Connection) string {
	c.ExpiresAt = micro(c.ExpiresAt)
	c.CreatedAt = micro(c.CreatedAt)
	if len(c.Sealed) == 0 {
		c.Sealed = nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func sameConnection(t *testing.T, what string, got, want store.Connection) {
	t.Helper()
	for _, tm := range []time.Time{got.ExpiresAt, got.CreatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v is not in UTC", what, tm)
		}
	}
	if g, w := canonConnection(got), canonConnection(want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testConnectionsCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")

	tests := []struct {
		name string
		c    store.Connection
	}{
		{"every field", fullConnection("wsp_1", "con_full", hash(1))},
		{"only required fields", store.Connection{
			ID: "con_bare", WorkspaceID: "wsp_1", UserID: "usr_bob", App: "github", StateHash: hash(2),
			Status: store.ConnectionPending, ExpiresAt: at(5), CreatedAt: at(1),
		}},
		{"of the hosted connect page", func() store.Connection {
			c := fullConnection("wsp_1", "con_hosted", hash(4))
			c.ConnectTokenID, c.LinkHash = "ctk_1", hash(5)
			return c
		}()},
		{"empty scopes, failed", func() store.Connection {
			c := fullConnection("wsp_1", "con_failed", hash(3))
			c.Scopes = []string{}
			c.Shared = false
			c.Status = store.ConnectionFailed
			c.Error = "access_denied: the user said no"
			return c
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustConnection(t, s, tc.c)
			got, err := s.GetConnection(ctx, "wsp_1", tc.c.ID)
			must(t, "GetConnection", err)
			sameConnection(t, "GetConnection", got, tc.c)

			_, err = s.GetConnection(ctx, "wsp_2", tc.c.ID)
			wantErr(t, "GetConnection from wsp_2", err, store.ErrNotFound)

			dup := tc.c
			dup.StateHash = append([]byte{0xee}, tc.c.StateHash...)
			wantErr(t, "CreateConnection duplicate id", s.CreateConnection(ctx, dup), store.ErrConflict)
		})
	}

	dup := fullConnection("wsp_2", "con_other", hash(1))
	wantErr(t, "CreateConnection duplicate state hash", s.CreateConnection(ctx, dup), store.ErrConflict)
	_, err := s.GetConnection(ctx, "wsp_1", "con_missing")
	wantErr(t, "GetConnection missing", err, store.ErrNotFound)
	if err := s.CreateConnection(ctx, fullConnection("wsp_missing", "con_orphan", hash(9))); err == nil {
		t.Error("CreateConnection in a missing workspace succeeded")
	}
}

func testClaimConnection(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	now := t0

	expiring := func(id string, h byte, expires time.Time) store.Connection {
		c := fullConnection("wsp_1", id, hash(h))
		c.ExpiresAt = expires
		return c
	}
	tests := []struct {
		name string
		c    store.Connection
		ok   bool
	}{
		{"unexpired", expiring("con_ok", 1, at(10)), true},
		{"expires a microsecond after now", expiring("con_just", 2, now.Add(time.Microsecond)), true},
		{"expires at now", expiring("con_edge", 3, now), false},
		{"expired", expiring("con_expired", 4, at(-1)), false},
		{"completed", func() store.Connection {
			c := expiring("con_done", 5, at(10))
			c.Status = store.ConnectionCompleted
			return c
		}(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustConnection(t, s, tc.c)
			got, err := s.ClaimConnection(ctx, tc.c.StateHash, now)
			if !tc.ok {
				wantErr(t, "ClaimConnection", err, store.ErrNotFound)
				read, err := s.GetConnection(ctx, "wsp_1", tc.c.ID)
				must(t, "GetConnection", err)
				sameConnection(t, "connection after refused claim", read, tc.c)
				return
			}
			must(t, "ClaimConnection", err)
			want := tc.c
			want.Status = store.ConnectionClaimed
			sameConnection(t, "ClaimConnection", got, want)
			read, err := s.GetConnection(ctx, "wsp_1", tc.c.ID)
			must(t, "GetConnection", err)
			sameConnection(t, "GetConnection after claim", read, want)

			// A state works once.
			_, err = s.ClaimConnection(ctx, tc.c.StateHash, now)
			wantErr(t, "ClaimConnection again", err, store.ErrNotFound)
		})
	}

	_, err := s.ClaimConnection(ctx, hash(99), now)
	wantErr(t, "ClaimConnection unknown hash", err, store.ErrNotFound)
	mustConnection(t, s, expiring("con_prefix", 6, at(10)))
	_, err = s.ClaimConnection(ctx, hash(6)[:16], now)
	wantErr(t, "ClaimConnection with a prefix of the hash", err, store.ErrNotFound)
}

func testClaimConnectionConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	c := fullConnection("wsp_1", "con_1", hash(1))
	mustConnection(t, s, c)

	const n = 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			got, err := s.ClaimConnection(ctx, c.StateHash, t0)
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
				if got.ID != c.ID || got.Status != store.ConnectionClaimed {
					t.Errorf("ClaimConnection = %s %s, want %s claimed", got.ID, got.Status, c.ID)
				}
			default:
				wantErr(t, "losing ClaimConnection", err, store.ErrNotFound)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d racing ClaimConnection won, want exactly 1", wins, n)
	}
}

func testFinishConnection(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	pending := fullConnection("wsp_1", "con_pending", hash(1))
	mustConnection(t, s, pending)

	// Only a claimed connection is finished.
	err := s.FinishConnection(ctx, "con_pending", store.ConnectionCompleted, "acc_new", "")
	wantErr(t, "FinishConnection on a pending connection", err, store.ErrNotFound)
	read, err := s.GetConnection(ctx, "wsp_1", "con_pending")
	must(t, "GetConnection", err)
	sameConnection(t, "pending connection after refused finish", read, pending)
	wantErr(t, "FinishConnection unknown", s.FinishConnection(ctx, "con_missing", store.ConnectionFailed, "", "x"), store.ErrNotFound)

	tests := []struct {
		name      string
		status    store.ConnectionStatus
		accountID string
		errMsg    string
	}{
		{"completed", store.ConnectionCompleted, "acc_new", ""},
		{"failed", store.ConnectionFailed, "", "invalid_grant: code expired"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := fullConnection("wsp_1", "con_"+tc.name, hash(byte(10+i)))
			mustConnection(t, s, c)
			_, err := s.ClaimConnection(ctx, c.StateHash, t0)
			must(t, "ClaimConnection", err)
			must(t, "FinishConnection", s.FinishConnection(ctx, c.ID, tc.status, tc.accountID, tc.errMsg))

			want := c
			want.Status, want.AccountID, want.Error = tc.status, tc.accountID, tc.errMsg
			read, err := s.GetConnection(ctx, "wsp_1", c.ID)
			must(t, "GetConnection", err)
			sameConnection(t, "finished connection", read, want)

			// Finished is final.
			err = s.FinishConnection(ctx, c.ID, store.ConnectionCompleted, "acc_other", "")
			wantErr(t, "FinishConnection twice", err, store.ErrNotFound)
			_, err = s.ClaimConnection(ctx, c.StateHash, t0)
			wantErr(t, "ClaimConnection after finish", err, store.ErrNotFound)
			read, err = s.GetConnection(ctx, "wsp_1", c.ID)
			must(t, "GetConnection", err)
			sameConnection(t, "connection after second finish", read, want)
		})
	}
}

// testConnectionsUpdate: UpdateConnection writes what fn changes, writes
// nothing when fn fails, and knows no unknown id.
func testConnectionsUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	c := fullConnection("wsp_1", "con_up", hash(7))
	c.CodeHash = []byte{1, 2, 3}
	mustConnection(t, s, c)
	got, err := s.GetConnection(ctx, "wsp_1", c.ID)
	if err != nil || !bytes.Equal(got.CodeHash, c.CodeHash) || got.CodeAttempts != 0 || got.Held != nil {
		t.Fatalf("GetConnection = %+v, %v", got, err)
	}
	up, err := s.UpdateConnection(ctx, c.ID, func(x *store.Connection) error {
		x.Status, x.CodeAttempts, x.Held, x.HoldHash = store.ConnectionWaiting, 2, []byte{0, 9}, hash(8)
		return nil
	})
	if err != nil || up.Status != store.ConnectionWaiting {
		t.Fatalf("UpdateConnection = %+v, %v", up, err)
	}
	got, _ = s.GetConnection(ctx, "wsp_1", c.ID)
	if got.Status != store.ConnectionWaiting || got.CodeAttempts != 2 || !bytes.Equal(got.Held, []byte{0, 9}) || !bytes.Equal(got.HoldHash, hash(8)) {
		t.Fatalf("after update: %+v", got)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateConnection(ctx, c.ID, func(x *store.Connection) error { x.Status = store.ConnectionFailed; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing fn: %v", err)
	}
	if got, _ := s.GetConnection(ctx, "wsp_1", c.ID); got.Status != store.ConnectionWaiting {
		t.Fatalf("a failing fn wrote: %+v", got)
	}
	if _, err := s.UpdateConnection(ctx, "con_nope", func(*store.Connection) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}
