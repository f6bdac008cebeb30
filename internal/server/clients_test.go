package server_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/clients"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/secret"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestConcurrentSetClient: many callers (replicas starting together with
// a managed client in their config, say) setting one app's OAuth client at once
// leave one client whose secret opens, so connecting still works. Before
// the compare-and-swap, a call that saw no client sealed the secret with an
// id the row did not get, and every account of the app then turned
// needs_reconnect.
func TestConcurrentSetClient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := &oauthFixture{idp: newIdP(t), clock: clockwork.NewFakeClockAt(time.Now())}
		f.cfg = oauthConfig(t, b.DatabaseURL(t), f.idp)
		f.inst = servertest.Start(t, f.cfg, server.Options{Clock: f.clock})
		f.api = f.inst.Client()
		ctx := context.Background()
		ws, err := f.inst.Store().FirstWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The operator, as a replica applying its config file at start.
		operator := identity.Actor{WorkspaceID: ws.ID, UserID: "system", Role: identity.RoleOwner, Operator: true}

		ring := ringOf(t, f.cfg)

		// Each round races the creation of the client, where the window
		// was; the last round's client stays for the connect below.
		const rounds, n = 20, 50
		for round := range rounds {
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				ids   = map[string]int{}
				start = make(chan struct{})
			)
			for range n {
				wg.Go(func() {
					<-start
					c, err := f.inst.Clients().SetClient(ctx, operator, clients.ClientInput{
						App: "testidp", ClientID: f.idp.ClientID(), Secret: secret.New(f.idp.ClientSecret()), Managed: true,
					})
					if err != nil {
						t.Errorf("SetClient: %v", err)
						return
					}
					mu.Lock()
					ids[c.ID]++
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			if len(ids) != 1 {
				t.Errorf("round %d: %d concurrent sets answered with clients %v, want one id", round, n, ids)
			}
			all, err := f.api.ListOAuthClients(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var clients []client.OAuthClient
			for _, c := range all {
				if c.App == "testidp" {
					clients = append(clients, c)
				}
			}
			if len(clients) != 1 {
				t.Fatalf("round %d: after %d concurrent sets the clients are %+v, want one", round, n, clients)
			}
			stored, err := f.inst.Store().GetOAuthClient(ctx, "", clients[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ring.Open(stored.Secret, []byte(stored.ID)); err != nil {
				t.Fatalf("round %d: the secret of %s does not open with its id: %v", round, stored.ID, err)
			}
			if round < rounds-1 {
				if err := f.api.DeleteOAuthClient(ctx, stored.ID); err != nil {
					t.Fatal(err)
				}
			}
		}

		acc := f.connect(t, client.Connect{App: "testidp", Nickname: ptr("after the race")})
		if acc.Status != "healthy" || acc.IdentityLabel != "alice@example.com" {
			t.Fatalf("account connected after the race: %+v", acc)
		}
		creds, err := f.api.Credentials(ctx, acc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if code, body := userinfo(t, f.idp, creds["oauth_access_token"]); code != 200 {
			t.Fatalf("the token connected after the race does not work: %d %s", code, body)
		}
	})
}

// ringOf is the key ring of a test server's configuration.
func ringOf(t *testing.T, cfg config.Config) *seal.Ring {
	t.Helper()
	keys, err := seal.ParseKeys(cfg.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := seal.NewRing(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return ring
}
