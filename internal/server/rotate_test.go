package server_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestRotateKeys: after "keys rotate" with NEW,OLD, the server starts and
// reads everything with NEW alone.
func TestRotateKeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		ctx := context.Background()
		idp := newIdP(t)
		cfg := oauthConfig(t, b.DatabaseURL(t), idp)
		old := servertest.Start(t, cfg, server.Options{})
		acc, err := old.Client().CreateAccount(ctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-rotate-me"}, Test: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Client().SetOAuthClient(ctx, "testidp", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
			t.Fatal(err)
		}
		old.Stop()

		k2, _ := seal.GenerateKey()
		both := cfg
		both.MasterKey = seal.EncodeKey(k2) + "," + cfg.MasterKey
		got, err := server.RotateKeys(ctx, both, servertest.DiscardLogger(), false)
		if err != nil || got.Accounts != 1 || got.Clients != 1 {
			t.Fatalf("rotate: %+v, %v", got, err)
		}
		if again, err := server.RotateKeys(ctx, both, servertest.DiscardLogger(), false); err != nil || again.Accounts != 0 || again.Clients != 0 {
			t.Fatalf("a second rotation re-sealed %+v, %v", again, err)
		}

		only := cfg
		only.MasterKey = seal.EncodeKey(k2)
		inst := servertest.Start(t, only, server.Options{})
		if creds, err := inst.Client().Credentials(ctx, acc.ID); err != nil || creds["api_key"] != "sk-rotate-me" {
			t.Fatalf("credentials with the new key alone: %v, %v", creds, err)
		}
		// The OAuth client's secret opens too: a full connection works.
		f := &oauthFixture{idp: idp, inst: inst, api: inst.Client()}
		f.connect(t, client.Connect{App: "testidp"})
	})
}

// TestRotateKeyFile: --new-key adds a primary key to the key file and
// re-seals; the new key alone then opens everything.
func TestRotateKeyFile(t *testing.T) {
	ctx := context.Background()
	cfg := servertest.Config(t, "")
	cfg.MasterKey = "" // the key file
	first := servertest.Start(t, cfg, server.Options{})
	acc, err := first.Client().CreateAccount(ctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-in-file"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	first.Stop()
	if _, err := server.RotateKeys(ctx, withKey(cfg, "x"), servertest.DiscardLogger(), true); err == nil {
		t.Fatal("--new-key with LATCHKEY_MASTER_KEY set was accepted")
	}
	got, err := server.RotateKeys(ctx, first.Config, servertest.DiscardLogger(), true)
	if err != nil || got.Accounts != 1 {
		t.Fatalf("rotate: %+v, %v", got, err)
	}
	keyFile := filepath.Join(cfg.DataDir, "master.key")
	keys, _, err := seal.LoadOrCreateKeyFile(keyFile)
	if err != nil || len(keys) != 2 {
		t.Fatalf("key file holds %d keys, %v", len(keys), err)
	}
	if err := seal.WriteKeyFile(keyFile, keys[:1]); err != nil {
		t.Fatal(err)
	}
	inst := servertest.Start(t, cfg, server.Options{})
	if creds, err := inst.Client().Credentials(ctx, acc.ID); err != nil || creds["api_key"] != "sk-in-file" {
		t.Fatalf("after dropping the old key: %v, %v", creds, err)
	}
}

func withKey(cfg config.Config, key string) config.Config {
	cfg.MasterKey = key
	return cfg
}
