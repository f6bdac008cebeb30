package storetest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var tokenTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"APITokenLimits", testAPITokenLimits},
	{"ListAPITokens", testListAPITokens},
	{"UpdateAPIToken", testUpdateAPIToken},
	{"UpdateAPITokenConcurrent", testUpdateAPITokenConcurrent},
	{"TouchAPIToken", testTouchAPIToken},
}

// Limits and rotation's fields read back as written, by hash and by id.
func testAPITokenLimits(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	lim := store.APIToken{ID: "tok_lim", WorkspaceID: "wsp_1", UserID: "usr_alice", Name: "mail", Hash: []byte{7, 7},
		Scopes: []string{"credentials:read"}, AccountIDs: []string{"acc_1", "acc_2"}, Apps: []string{"sendgrid"},
		ReplacedBy: "tok_next", ValidUntil: ptr(at(90)), CreatedAt: at(1)}
	must(t, "CreateAPIToken", s.CreateAPIToken(ctx, lim))
	plain := store.APIToken{ID: "tok_plain", WorkspaceID: "wsp_1", UserID: "usr_alice", Hash: []byte{8, 8}, CreatedAt: at(2)}
	must(t, "CreateAPIToken plain", s.CreateAPIToken(ctx, plain))
	for _, want := range []store.APIToken{lim, plain} {
		byHash, err := s.APITokenByHash(ctx, want.Hash)
		must(t, "APITokenByHash", err)
		byID, err := s.GetAPIToken(ctx, "wsp_1", want.ID)
		must(t, "GetAPIToken", err)
		for _, got := range []store.APIToken{byHash, byID} {
			if !slices.Equal(got.AccountIDs, want.AccountIDs) || !slices.Equal(got.Apps, want.Apps) || got.ReplacedBy != want.ReplacedBy {
				t.Errorf("%s read back %+v, want %+v", want.ID, got, want)
			}
			if (got.AccountIDs == nil) != (want.AccountIDs == nil) || (got.Apps == nil) != (want.Apps == nil) {
				t.Errorf("%s: no limit must read back as nil: %#v %#v", want.ID, got.AccountIDs, got.Apps)
			}
			samePtr(t, want.ID+" ValidUntil", got.ValidUntil, want.ValidUntil)
		}
	}
	_, err := s.GetAPIToken(ctx, "wsp_2", "tok_lim")
	wantErr(t, "GetAPIToken from another workspace", err, store.ErrNotFound)
	_, err = s.GetAPIToken(ctx, "wsp_1", "tok_missing")
	wantErr(t, "GetAPIToken missing", err, store.ErrNotFound)
}

func testListAPITokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	for i, tk := range []struct{ id, ws, user string }{
		{"tok_a", "wsp_1", "usr_alice"}, {"tok_b", "wsp_1", "usr_bob"}, {"tok_c", "wsp_1", "usr_alice"}, {"tok_d", "wsp_2", "usr_alice"},
	} {
		must(t, "CreateAPIToken", s.CreateAPIToken(ctx, store.APIToken{ID: tk.id, WorkspaceID: tk.ws, UserID: tk.user,
			Hash: []byte(tk.id), CreatedAt: at(i)}))
	}
	ids := func(list []store.APIToken, err error) string {
		must(t, "ListAPITokens", err)
		var out []string
		for _, tk := range list {
			out = append(out, tk.ID)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct{ ws, user, want string }{
		{"wsp_1", "", "tok_a,tok_b,tok_c"},
		{"wsp_1", "usr_alice", "tok_a,tok_c"},
		{"wsp_2", "", "tok_d"},
		{"wsp_2", "usr_bob", ""},
		{"wsp_3", "", ""},
	} {
		if got := ids(s.ListAPITokens(ctx, tc.ws, tc.user)); got != tc.want {
			t.Errorf("ListAPITokens(%s, %q) = %s, want %s", tc.ws, tc.user, got, tc.want)
		}
	}
}

func testUpdateAPIToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	orig := store.APIToken{ID: "tok_1", WorkspaceID: "wsp_1", UserID: "usr_alice", Name: "ci", Hash: []byte{1},
		Scopes: []string{"accounts:read"}, CreatedAt: at(1)}
	must(t, "CreateAPIToken", s.CreateAPIToken(ctx, orig))
	got, err := s.UpdateAPIToken(ctx, "wsp_1", "tok_1", func(tk *store.APIToken) error {
		tk.ReplacedBy, tk.ValidUntil = "tok_2", ptr(at(61))
		tk.Apps = []string{"github"}
		// These cannot change.
		tk.UserID, tk.Hash, tk.WorkspaceID = "usr_mallory", []byte{9}, "wsp_2"
		return nil
	})
	must(t, "UpdateAPIToken", err)
	read, err := s.GetAPIToken(ctx, "wsp_1", "tok_1")
	must(t, "GetAPIToken", err)
	for _, tk := range []store.APIToken{got, read} {
		if tk.ReplacedBy != "tok_2" || !slices.Equal(tk.Apps, []string{"github"}) || tk.UserID != "usr_alice" || string(tk.Hash) != "\x01" {
			t.Errorf("after update: %+v", tk)
		}
		samePtr(t, "ValidUntil", tk.ValidUntil, ptr(at(61)))
	}
	boom := errors.New("boom")
	_, err = s.UpdateAPIToken(ctx, "wsp_1", "tok_1", func(tk *store.APIToken) error {
		tk.ReplacedBy = "tok_3"
		return boom
	})
	wantErr(t, "UpdateAPIToken fn error", err, boom)
	if read, _ := s.GetAPIToken(ctx, "wsp_1", "tok_1"); read.ReplacedBy != "tok_2" {
		t.Errorf("a failed update wrote: %+v", read)
	}
	_, err = s.UpdateAPIToken(ctx, "wsp_2", "tok_1", func(*store.APIToken) error { return nil })
	wantErr(t, "UpdateAPIToken from another workspace", err, store.ErrNotFound)
}

// Concurrent rotations of one token: exactly one finds it unreplaced.
func testUpdateAPITokenConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	must(t, "CreateAPIToken", s.CreateAPIToken(ctx, store.APIToken{ID: "tok_1", WorkspaceID: "wsp_1", UserID: "usr_alice",
		Hash: []byte{1}, CreatedAt: at(1)}))
	errTaken := errors.New("already replaced")
	const n = 20
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		won []string
	)
	for i := range n {
		wg.Go(func() {
			id := "tok_new" + string(rune('a'+i))
			_, err := s.UpdateAPIToken(ctx, "wsp_1", "tok_1", func(tk *store.APIToken) error {
				if tk.ReplacedBy != "" {
					return errTaken
				}
				tk.ReplacedBy = id
				return nil
			})
			switch {
			case err == nil:
				mu.Lock()
				won = append(won, id)
				mu.Unlock()
			case !errors.Is(err, errTaken):
				t.Errorf("UpdateAPIToken: %v", err)
			}
		})
	}
	wg.Wait()
	read, err := s.GetAPIToken(ctx, "wsp_1", "tok_1")
	must(t, "GetAPIToken", err)
	if len(won) != 1 || read.ReplacedBy != won[0] {
		t.Errorf("%d rotations won (%v), stored %q; want exactly one", len(won), won, read.ReplacedBy)
	}
}

// A use is written when none was in the last interval, and not otherwise.
func testTouchAPIToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	must(t, "CreateAPIToken", s.CreateAPIToken(ctx, store.APIToken{ID: "tok_1", WorkspaceID: "wsp_1", UserID: "usr_alice",
		Hash: []byte{1}, CreatedAt: at(1)}))
	steps := []struct {
		at    time.Time
		wrote bool
		want  time.Time
	}{
		{at(10), true, at(10)},
		{at(10).Add(59 * time.Second), false, at(10)},
		{at(11), true, at(11)},
		// An older use, from a replica that is behind, never moves it back.
		{at(5), false, at(11)},
	}
	for i, st := range steps {
		wrote, err := s.TouchAPIToken(ctx, "tok_1", st.at, time.Minute)
		must(t, "TouchAPIToken", err)
		got, err := s.GetAPIToken(ctx, "wsp_1", "tok_1")
		must(t, "GetAPIToken", err)
		if wrote != st.wrote || got.LastUsedAt == nil || !got.LastUsedAt.Equal(st.want.Truncate(time.Microsecond)) {
			t.Errorf("step %d: wrote %v, last used %v; want %v, %v", i, wrote, got.LastUsedAt, st.wrote, st.want)
		}
	}
	if wrote, err := s.TouchAPIToken(ctx, "tok_missing", at(20), time.Minute); err != nil || wrote {
		t.Errorf("TouchAPIToken of a missing token: %v, %v", wrote, err)
	}
}
