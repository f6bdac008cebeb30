package connecting_test

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/accounts"
	"github.com/latchkeyhq/latchkey/internal/apps"
	"github.com/latchkeyhq/latchkey/internal/audit"
	"github.com/latchkeyhq/latchkey/internal/catalog"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/connecting"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/store"
	"github.com/latchkeyhq/latchkey/internal/store/sqlite"
)

// TestConnectRefusals: each refusal of a start says what is wrong by its
// type, and starts nothing.
func TestConnectRefusals(t *testing.T) {
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
	clock, log := clockwork.NewFakeClockAt(now), slog.New(slog.DiscardHandler)
	owner := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_owner", Role: identity.RoleOwner}
	member := identity.Actor{WorkspaceID: "wsp_a", UserID: "usr_member", Role: identity.RoleMember}
	if err := st.CreateWorkspace(ctx, store.Workspace{ID: "wsp_a", Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []identity.Actor{owner, member} {
		if err := st.CreateUser(ctx, store.User{ID: a.UserID, WorkspaceID: a.WorkspaceID, Email: a.UserID + "@x", Role: store.Role(a.Role), CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	auditLog := audit.New(st, log)
	t.Cleanup(auditLog.Close)
	who := identity.New(identity.Options{Store: st, Clock: clock, Log: log})
	appSvc := apps.New(apps.Options{Store: st, Catalog: cat, Audit: auditLog, Clock: clock, Log: log})
	clientSvc := clients.New(clients.Options{Store: st, Apps: appSvc, Operators: who, Ring: ring, RedirectURI: "http://127.0.0.1/oauth/callback", Audit: auditLog, Clock: clock, Log: log})
	accSvc := accounts.New(accounts.Options{Store: st, Apps: appSvc, Clients: clientSvc, Audit: auditLog, Ring: ring, Clock: clock, Log: log})
	svc := connecting.New(connecting.Options{Store: st, Accounts: accSvc, Apps: appSvc, Clients: clientSvc, Users: who, Ring: ring, Clock: clock, Log: log})

	keyAcc, err := accSvc.Create(ctx, owner, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-x"}, SkipTest: true})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := accSvc.Create(ctx, owner, accounts.CreateInput{App: "openai", Fields: map[string]string{"api_key": "sk-y"}, SkipTest: true, Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := clientSvc.SetClient(ctx, owner, clients.ClientInput{App: "slack", ClientID: "id", Secret: secret.New("s")}); err != nil {
		t.Fatal(err)
	}
	started, err := svc.Connect(ctx, owner, connecting.ConnectInput{App: "slack"})
	if err != nil || started.AuthorizeURL == "" {
		t.Fatalf("a start that should work: %+v %v", started, err)
	}

	tests := []struct {
		name  string
		actor identity.Actor
		in    connecting.ConnectInput
		check func(error) bool
	}{
		{"no OAuth client", owner, connecting.ConnectInput{App: "github"}, func(err error) bool {
			nc, ok := errors.AsType[*connecting.NoClientError](err)
			return ok && nc.App == "github" && nc.AppName == "GitHub" && errors.Is(err, clients.ErrNoClient)
		}},
		{"a key app reconnected", owner, connecting.ConnectInput{AccountID: keyAcc.ID}, func(err error) bool {
			ka, ok := errors.AsType[*accounts.KeyAppError](err)
			return ok && ka.AccountID == keyAcc.ID && ka.Auth == catalog.AuthKeys
		}},
		{"a key app connected", owner, connecting.ConnectInput{App: "openai"}, func(err error) bool {
			ve, ok := errors.AsType[*accounts.ValidationError](err)
			return ok && ve.Field == "app"
		}},
		{"another's account reconnected", member, connecting.ConnectInput{AccountID: keyAcc.ID}, func(err error) bool {
			return errors.Is(err, store.ErrNotFound) // not shared: to the member, not there
		}},
		{"a shared account reconnected by a member", member, connecting.ConnectInput{AccountID: shared.ID}, func(err error) bool {
			return errors.Is(err, identity.ErrForbidden)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Connect(ctx, tt.actor, tt.in)
			if !tt.check(err) {
				t.Fatalf("got %v (%T)", err, err)
			}
		})
	}

	// Only its starter (or an owner) follows a connection.
	if _, err := svc.Connection(ctx, member, started.Connection.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a member reads another's connection: %v", err)
	}
	if c, err := svc.Connection(ctx, owner, started.Connection.ID); err != nil || c.Status != string(store.ConnectionPending) {
		t.Fatalf("the starter's connection: %+v %v", c, err)
	}
}
