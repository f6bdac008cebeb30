package accounts_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/identity"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

// newService returns a service on a fresh SQLite store with one workspace,
// an owner, and two members.
func newService(t *testing.T) (*accounts.Service, map[string]accounts.Actor) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k, _ := seal.GenerateKey()
	ring, _ := seal.NewRing(k)
	cat, err := catalog.Load(catalog.Embedded())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, ws := range []string{"wsp_a", "wsp_b"} {
		if err := st.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: ws, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	actors := map[string]accounts.Actor{
		"owner":    {WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner},
		"alice":    {WorkspaceID: "wsp_a", UserID: "usr_alice", Role: identity.RoleMember},
		"bob":      {WorkspaceID: "wsp_a", UserID: "usr_bob", Role: identity.RoleMember},
		"outsider": {WorkspaceID: "wsp_b", UserID: "usr_out", Role: identity.RoleOwner},
	}
	for _, a := range actors {
		if err := st.CreateUser(ctx, store.User{ID: a.UserID, WorkspaceID: a.WorkspaceID, Email: a.UserID + "@x", Role: store.Role(a.Role), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	clock, log := clockwork.NewFakeClockAt(now), slog.New(slog.NewTextHandler(io.Discard, nil))
	auditLog := audit.New(st, log)
	appSvc := apps.New(apps.Options{Store: st, Catalog: cat, Audit: auditLog, Clock: clock, Log: log})
	clientSvc := clients.New(clients.Options{Store: st, Apps: appSvc, Operators: identity.New(identity.Options{Store: st}), Ring: ring, Audit: auditLog, Clock: clock, Log: log})
	svc := accounts.New(accounts.Options{Store: st, Apps: appSvc, Clients: clientSvc, Audit: auditLog, Ring: ring, Clock: clock, Log: log})
	t.Cleanup(auditLog.Close)
	return svc, actors
}

func TestVisibilityAndPermissions(t *testing.T) {
	svc, who := newService(t)
	ctx := context.Background()
	create := func(actor accounts.Actor, nick string, shared bool) string {
		acc, err := svc.Create(ctx, actor, accounts.CreateInput{App: "openai", Nickname: &nick, Fields: map[string]string{"api_key": "sk-test"}, SkipTest: true, Shared: shared})
		if err != nil {
			t.Fatal(err)
		}
		return acc.ID
	}
	private := create(who["alice"], "alice private", false)
	shared := create(who["alice"], "alice shared", true)

	tests := []struct {
		actor            string
		see, read, write bool
		id               string
	}{
		{"alice", true, true, true, private},
		{"owner", true, true, true, private},
		{"bob", false, false, false, private},
		{"outsider", false, false, false, private},
		{"bob", true, true, false, shared},
		{"outsider", false, false, false, shared},
	}
	for _, tt := range tests {
		a := who[tt.actor]
		_, err := svc.Get(ctx, a, tt.id)
		if (err == nil) != tt.see {
			t.Errorf("%s get %s: %v", tt.actor, tt.id, err)
		}
		if !tt.see && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: an invisible account must look absent, got %v", tt.actor, err)
		}
		_, _, err = svc.Credentials(ctx, a, tt.id)
		if (err == nil) != tt.read {
			t.Errorf("%s credentials %s: %v", tt.actor, tt.id, err)
		}
		_, err = svc.Rename(ctx, a, tt.id, "renamed by "+tt.actor)
		if (err == nil) != tt.write {
			t.Errorf("%s rename %s: %v", tt.actor, tt.id, err)
		}
	}

	list, _, err := svc.List(ctx, who["bob"], accounts.ListInput{})
	if err != nil || len(list) != 1 || list[0].ID != shared {
		t.Fatalf("bob lists %d accounts (%v), want only the shared one", len(list), err)
	}
	list, _, _ = svc.List(ctx, who["owner"], accounts.ListInput{})
	if len(list) != 2 {
		t.Fatalf("owner lists %d accounts, want 2", len(list))
	}
	if _, _, err := svc.Delete(ctx, who["bob"], shared, false); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("bob deleting alice's shared account: %v", err)
	}
}

func TestTokenScopes(t *testing.T) {
	svc, who := newService(t)
	ctx := context.Background()
	readOnly := who["alice"]
	readOnly.Scopes = []string{identity.ScopeAccountsRead}
	nick := "x"
	if _, err := svc.Create(ctx, readOnly, accounts.CreateInput{App: "openai", Nickname: &nick, Fields: map[string]string{"api_key": "k"}, SkipTest: true}); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("create with a read-only token: %v", err)
	}
	acc, err := svc.Create(ctx, who["alice"], accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "k"}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(ctx, readOnly, acc.ID); err != nil {
		t.Fatalf("get with accounts:read: %v", err)
	}
	if _, _, err := svc.Credentials(ctx, readOnly, acc.ID); !errors.Is(err, accounts.ErrForbidden) {
		t.Fatalf("credentials without credentials:read: %v", err)
	}
}
