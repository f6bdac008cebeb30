package storetest

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var endUserTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"AccountEndUserFields", testAccountEndUserFields},
	{"ListAccountsByEndUserAndTags", testListAccountsByEndUserAndTags},
	{"ConnectTokens", testConnectTokens},
	{"ConnectTokenUseOnceConcurrent", testConnectTokenUseOnceConcurrent},
	{"DeleteExpiredConnectTokens", testDeleteExpiredConnectTokens},
}

func testAccountEndUserFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	a := newAccount("wsp_1", "acc_1", "usr_1", "slack")
	a.ExternalUserID = "customer-42"
	a.Tags = map[string]string{"org": "acme", "plan": "pro"}
	a.Metadata = []byte(`{"seat":7}`)
	mustAccount(t, s, a)
	sameAccount(t, "created", ok(s.GetAccount(ctx, "wsp_1", "acc_1")), a)

	// A member's own account has none of it.
	plain := newAccount("wsp_1", "acc_2", "usr_1", "slack")
	mustAccount(t, s, plain)
	sameAccount(t, "plain", ok(s.GetAccount(ctx, "wsp_1", "acc_2")), plain)

	got := ok(s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.Tags = map[string]string{"org": "globex"}
		a.Metadata = nil
		return nil
	}))
	want := a
	want.Tags, want.Metadata = map[string]string{"org": "globex"}, nil
	sameAccount(t, "updated", got, want)
	sameAccount(t, "read back", ok(s.GetAccount(ctx, "wsp_1", "acc_1")), want)
	// The tag index follows the row.
	if ids := listIDs(t, s, store.AccountFilter{WorkspaceID: "wsp_1", Tags: []store.Tag{{Key: "org", Value: "acme"}}}); len(ids) != 0 {
		t.Errorf("org=acme after retagging lists %v, want none", ids)
	}
	if ids := listIDs(t, s, store.AccountFilter{WorkspaceID: "wsp_1", Tags: []store.Tag{{Key: "org", Value: "globex"}}}); !slices.Equal(ids, []string{"acc_1"}) {
		t.Errorf("org=globex lists %v, want acc_1", ids)
	}
	// An update that fails leaves the tags as they were.
	boom := errors.New("boom")
	_, err := s.UpdateAccount(ctx, "wsp_1", "acc_1", func(a *store.Account) error {
		a.Tags = map[string]string{"org": "initech"}
		return boom
	})
	wantErr(t, "failed update", err, boom)
	if got := ok(s.GetAccount(ctx, "wsp_1", "acc_1")); !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("tags after a failed update = %v, want %v", got.Tags, want.Tags)
	}
	must(t, "DeleteAccount", s.DeleteAccount(ctx, "wsp_1", "acc_1"))
	if ids := listIDs(t, s, store.AccountFilter{WorkspaceID: "wsp_1", Tags: []store.Tag{{Key: "org", Value: "globex"}}}); len(ids) != 0 {
		t.Errorf("a deleted account's tags still list %v", ids)
	}
}

func testListAccountsByEndUserAndTags(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	add := func(ws, id, user string, tags map[string]string) {
		a := newAccount(ws, id, "usr_1", "slack")
		a.ExternalUserID, a.Tags = user, tags
		mustAccount(t, s, a)
	}
	add("wsp_1", "acc_1", "u1", map[string]string{"org": "acme", "env": "prod"})
	add("wsp_1", "acc_2", "u1", map[string]string{"org": "acme", "env": "dev"})
	add("wsp_1", "acc_3", "u2", map[string]string{"org": "globex", "env": "prod"})
	add("wsp_1", "acc_4", "", nil)
	add("wsp_2", "acc_5", "u1", map[string]string{"org": "acme", "env": "prod"})

	for _, tc := range []struct {
		name string
		f    store.AccountFilter
		want []string
	}{
		{"end user", store.AccountFilter{ExternalUserID: "u1"}, []string{"acc_1", "acc_2"}},
		{"other end user", store.AccountFilter{ExternalUserID: "u2"}, []string{"acc_3"}},
		{"unknown end user", store.AccountFilter{ExternalUserID: "u9"}, nil},
		{"one tag", store.AccountFilter{Tags: []store.Tag{{Key: "org", Value: "acme"}}}, []string{"acc_1", "acc_2"}},
		{"two tags, AND", store.AccountFilter{Tags: []store.Tag{{Key: "org", Value: "acme"}, {Key: "env", Value: "prod"}}}, []string{"acc_1"}},
		{"same key twice", store.AccountFilter{Tags: []store.Tag{{Key: "org", Value: "acme"}, {Key: "org", Value: "globex"}}}, nil},
		{"value of another key", store.AccountFilter{Tags: []store.Tag{{Key: "env", Value: "acme"}}}, nil},
		{"end user and tag", store.AccountFilter{ExternalUserID: "u1", Tags: []store.Tag{{Key: "env", Value: "dev"}}}, []string{"acc_2"}},
		{"tag with app", store.AccountFilter{App: "github", Tags: []store.Tag{{Key: "org", Value: "acme"}}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.WorkspaceID = "wsp_1"
			if ids := listIDs(t, s, tc.f); !slices.Equal(ids, tc.want) {
				t.Errorf("listed %v, want %v", ids, tc.want)
			}
		})
	}
	if ids := listIDs(t, s, store.AccountFilter{WorkspaceID: "wsp_2", Tags: []store.Tag{{Key: "org", Value: "acme"}}}); !slices.Equal(ids, []string{"acc_5"}) {
		t.Errorf("wsp_2 org=acme lists %v, want only its own acc_5", ids)
	}
	if apps := ok(s.AccountApps(ctx, store.AccountFilter{WorkspaceID: "wsp_1", ExternalUserID: "u2"})); !slices.Equal(apps, []string{"slack"}) {
		t.Errorf("apps of u2 = %v", apps)
	}
}

func newConnectToken(ws, id string, hash byte) store.ConnectToken {
	return store.ConnectToken{
		ID: id, WorkspaceID: ws, TokenHash: []byte{hash, 1, 2, 3}, ExternalUserID: "customer-42",
		Apps: []string{"slack", "github"}, Tags: map[string]string{"org": "acme"},
		SuccessRedirectURI: "https://app.example/ok", ErrorRedirectURI: "https://app.example/err",
		AllowedOrigins: []string{"https://app.example"}, WebhookURL: "https://app.example/hook",
		CreatedBy: "usr_1", CreatedAt: t0, ExpiresAt: at(240),
	}
}

func sameConnectToken(t *testing.T, what string, got, want store.ConnectToken) {
	t.Helper()
	want.CreatedAt, want.ExpiresAt, want.UsedAt = micro(want.CreatedAt), micro(want.ExpiresAt), microPtr(want.UsedAt)
	if got.ID != want.ID || got.WorkspaceID != want.WorkspaceID || !slices.Equal(got.TokenHash, want.TokenHash) ||
		got.ExternalUserID != want.ExternalUserID || got.AccountID != want.AccountID ||
		!slices.Equal(got.Apps, want.Apps) || !maps.Equal(got.Tags, want.Tags) ||
		got.SuccessRedirectURI != want.SuccessRedirectURI || got.ErrorRedirectURI != want.ErrorRedirectURI ||
		!slices.Equal(got.AllowedOrigins, want.AllowedOrigins) || got.WebhookURL != want.WebhookURL ||
		got.CreatedBy != want.CreatedBy || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
		(got.UsedAt == nil) != (want.UsedAt == nil) || got.UsedAt != nil && !got.UsedAt.Equal(*want.UsedAt) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testConnectTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	ct := newConnectToken("wsp_1", "ctk_1", 1)
	must(t, "CreateConnectToken", s.CreateConnectToken(ctx, ct))
	wantErr(t, "same id", s.CreateConnectToken(ctx, newConnectToken("wsp_1", "ctk_1", 2)), store.ErrConflict)
	wantErr(t, "same hash", s.CreateConnectToken(ctx, newConnectToken("wsp_1", "ctk_2", 1)), store.ErrConflict)
	bare := store.ConnectToken{ID: "ctk_3", WorkspaceID: "wsp_1", TokenHash: []byte{3}, ExternalUserID: "u", CreatedAt: t0, ExpiresAt: at(1)}
	must(t, "CreateConnectToken bare", s.CreateConnectToken(ctx, bare))
	sameConnectToken(t, "bare", ok(s.GetConnectToken(ctx, "wsp_1", "ctk_3")), bare)

	sameConnectToken(t, "get", ok(s.GetConnectToken(ctx, "wsp_1", "ctk_1")), ct)
	sameConnectToken(t, "by hash", ok(s.ConnectTokenByHash(ctx, []byte{1, 1, 2, 3})), ct)
	_, err := s.ConnectTokenByHash(ctx, []byte{9})
	wantErr(t, "unknown hash", err, store.ErrNotFound)
	_, err = s.GetConnectToken(ctx, "wsp_2", "ctk_1")
	wantErr(t, "another workspace's token", err, store.ErrNotFound)
	_, err = s.UpdateConnectToken(ctx, "wsp_2", "ctk_1", func(old store.ConnectToken) (store.ConnectToken, error) { return old, nil })
	wantErr(t, "update from another workspace", err, store.ErrNotFound)

	boom := errors.New("boom")
	_, err = s.UpdateConnectToken(ctx, "wsp_1", "ctk_1", func(old store.ConnectToken) (store.ConnectToken, error) {
		old.UsedAt = ptr(at(1))
		return old, boom
	})
	wantErr(t, "fn error", err, boom)
	sameConnectToken(t, "after fn error", ok(s.GetConnectToken(ctx, "wsp_1", "ctk_1")), ct)

	// Only the used time changes, whatever fn returns.
	got := ok(s.UpdateConnectToken(ctx, "wsp_1", "ctk_1", func(old store.ConnectToken) (store.ConnectToken, error) {
		old.UsedAt = ptr(at(5))
		old.ExternalUserID, old.Apps, old.ExpiresAt = "someone-else", nil, at(9999)
		return old, nil
	}))
	want := ct
	want.UsedAt = ptr(at(5))
	sameConnectToken(t, "used", got, want)
	sameConnectToken(t, "used, read back", ok(s.GetConnectToken(ctx, "wsp_1", "ctk_1")), want)
}

// errUsed is what the use-once fn returns for a token already used.
var errUsed = errors.New("used")

func testConnectTokenUseOnceConcurrent(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "wsp_1")
	must(t, "CreateConnectToken", s.CreateConnectToken(t.Context(), newConnectToken("wsp_1", "ctk_1", 1)))
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateConnectToken(t.Context(), "wsp_1", "ctk_1", func(old store.ConnectToken) (store.ConnectToken, error) {
				if old.UsedAt != nil {
					return old, errUsed
				}
				old.UsedAt = ptr(at(i + 1))
				return old, nil
			})
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, errUsed):
				t.Errorf("use: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d concurrent uses won, want exactly 1", wins, n)
	}
}

func testDeleteExpiredConnectTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	for i, exp := range []time.Time{at(10), at(20), at(30)} {
		ct := newConnectToken("wsp_1", "ctk_"+string(rune('a'+i)), byte(i))
		ct.ExpiresAt = exp
		must(t, "CreateConnectToken", s.CreateConnectToken(ctx, ct))
	}
	if n := ok(s.DeleteExpiredConnectTokens(ctx, at(20))); n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	_, err := s.GetConnectToken(ctx, "wsp_1", "ctk_b")
	wantErr(t, "expired token", err, store.ErrNotFound)
	ok(s.GetConnectToken(ctx, "wsp_1", "ctk_c"))
}
