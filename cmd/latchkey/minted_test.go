package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestCreateJWTAccount connects a JWT bearer app from the command line with
// its key file read by --field-file: the account is labelled by the
// delegated subject, and `latchkey credentials` prints the minted token,
// never the key.
func TestCreateJWTAccount(t *testing.T) {
	idp := servertest.NewJWTIdP(t)
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, []byte(servertest.ServiceAccountKey(t, idp, "robot@project.iam.example.com", "bob@acme.example")), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := servertest.Config(t, "")
	servertest.UseJWTIdP(t, &cfg, idp)
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "accounts", "create", "testjwt", "--field-file", "service_account_json="+path, "--field", "sub=bob@acme.example")
	if err != nil {
		t.Fatalf("accounts create: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`acc_[0-9a-z]{26}`).FindString(out)
	if id == "" || !strings.Contains(out, "bob@acme.example") || strings.Contains(out, "PRIVATE KEY") {
		t.Fatalf("accounts create printed:\n%s", out)
	}
	out, err = run(t, env, "credentials", id)
	if err != nil {
		t.Fatal(err)
	}
	var creds map[string]string
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds["oauth_access_token"] == "" || creds["service_account_json"] != "" {
		t.Fatalf("credentials printed %d fields (%v), want the token and never the key", len(creds), err)
	}
}
