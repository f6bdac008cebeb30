package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestSeedAccounts: latchkey-load seed's accounts are what it promises,
// each filter selects its share, and their credentials open like any
// account's.
func TestSeedAccounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		ctx := context.Background()
		cfg := servertest.Config(t, b.DatabaseURL(t))
		if _, err := server.SeedAccounts(ctx, cfg, servertest.DiscardLogger(), 10, time.Now()); err == nil || !strings.Contains(err.Error(), "start the server once first") {
			t.Fatalf("seeding a fresh store: %v, want to be told to start the server first", err)
		}
		first := servertest.Start(t, cfg, server.Options{})
		first.Stop()
		if _, err := server.SeedAccounts(ctx, cfg, servertest.DiscardLogger(), 120, time.Now()); err != nil {
			t.Fatal(err)
		}
		api := servertest.Start(t, cfg, server.Options{}).Client()
		count := func(o client.ListOptions) int {
			t.Helper()
			o.Limit = 200
			p, err := api.ListAccounts(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			return len(p.Data)
		}
		for _, tc := range []struct {
			name string
			o    client.ListOptions
			want int
		}{
			{"all", client.ListOptions{}, 120},
			{"status", client.ListOptions{Status: "needs_reconnect"}, 2},
			{"app", client.ListOptions{App: "brevo"}, 6},
			{"end user", client.ListOptions{ExternalUserID: "end-3"}, 4},
			{"tag", client.ListOptions{Tags: []string{"team=t7"}}, 1},
			{"text", client.ListOptions{Query: "user11@org11.example"}, 1},
		} {
			if got := count(tc.o); got != tc.want {
				t.Errorf("%s: %d accounts, want %d", tc.name, got, tc.want)
			}
		}
		p, err := api.ListAccounts(ctx, client.ListOptions{Query: "user11@"})
		if err != nil || len(p.Data) != 1 {
			t.Fatalf("user11@: %v, %v", p.Data, err)
		}
		creds, err := api.Credentials(ctx, p.Data[0].ID)
		if err != nil || creds["api_key"] != "seed-key-11" {
			t.Fatalf("a seeded account's credentials: %v, %v", creds, err)
		}
	})
}
