package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/seal"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

const seedApp = `slug: seedapp
name: Seed app
categories: [developer-tools]
docs_url: https://seed.example/docs
auth: oauth2
base_url: https://seed.example
oauth2:
  authorize_url: https://seed.example/authorize
  token_url: https://seed.example/oauth/token
  client_auth: basic
`

// TestSeedOAuth makes a few accounts on SQLite: healthy, scheduled for
// refresh, and refused bad flags and apps without making any.
func TestSeedOAuth(t *testing.T) {
	dir := t.TempDir()
	catalogDir := filepath.Join(dir, "catalog")
	if err := os.Mkdir(catalogDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(catalogDir, "seedapp.yaml"), []byte(seedApp), 0o600); err != nil {
		t.Fatal(err)
	}
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LATCHKEY_DATA_DIR": filepath.Join(dir, "data"), "LATCHKEY_CATALOG_DIR": catalogDir, "LATCHKEY_MASTER_KEY": seal.EncodeKey(key)}
	getenv := func(k string) string { return env[k] }

	for _, args := range [][]string{{"-n", "3"}, {"-app", "seedapp", "-n", "0"}, {"-app", "seedapp", "extra"}} {
		if code := seed(context.Background(), args, getenv, io.Discard, io.Discard); code != 2 {
			t.Errorf("seed-oauth %q: exit %d, want 2", args, code)
		}
	}
	var errOut bytes.Buffer
	if code := seed(context.Background(), []string{"-app", "sendgrid", "-n", "3"}, getenv, io.Discard, &errOut); code != 1 {
		t.Errorf("seed-oauth of a key app: exit %d, want 1 (%s)", code, &errOut)
	}
	var out bytes.Buffer
	errOut.Reset()
	if code := seed(context.Background(), []string{"-app", "seedapp", "-n", "3", "-workers", "2"}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("seed-oauth: exit %d\n%s", code, &errOut)
	}
	t.Log(out.String())

	cfg, err := config.Load("", getenv)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(context.Background(), cfg, servertest.DiscardLogger(), server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	counts, err := srv.Store().CountAccountsByStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.StatusHealthy] != 3 || len(counts) != 1 {
		t.Fatalf("accounts by status = %v, want 3 healthy (and none from the refused runs)", counts)
	}
	if _, ok, err := srv.Store().NextRefreshAt(context.Background()); !ok || err != nil {
		t.Fatalf("the seeded accounts are not scheduled for refresh: %v, %v", ok, err)
	}
}
