package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

const sendgridKey = "SG.cli-test-key.c2VjcmV0"

// run executes one CLI command line in-process and returns its output.
func run(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	root := newRoot(func(k string) string { return env[k] })
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

// TestQuickStart runs the walk-through, command for command,
// against a real server; the CLI finds the server and its admin token from
// the data folder and listen address alone.
func TestQuickStart(t *testing.T) {
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+sendgridKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"first_name":"Grace","last_name":"Hopper","scopes":[]}`))
	}))
	defer provider.Close()
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": provider.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "apps", "list", "--auth", "keys")
	if err != nil || !strings.Contains(out, "sendgrid") || strings.Contains(out, "oauth2") {
		t.Fatalf("apps list --auth keys: %v\n%s", err, out)
	}
	out, err = run(t, env, "apps", "show", "sendgrid")
	if err != nil || !strings.Contains(out, `"slug": "sendgrid"`) {
		t.Fatalf("apps show: %v\n%s", err, out)
	}
	if strings.Contains(out, "logo_url") {
		t.Errorf("apps show sendgrid names a logo, but simple-icons has none:\n%s", out)
	}
	out, err = run(t, env, "apps", "show", "github")
	if err != nil || !strings.Contains(out, `"logo_url": "/logos/github.svg"`) {
		t.Fatalf("apps show github: %v\n%s", err, out)
	}

	out, err = run(t, env, "accounts", "create", "sendgrid", "--nickname", "marketing", "--field", "api_key="+sendgridKey)
	if err != nil {
		t.Fatalf("accounts create: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`acc_[0-9a-z]{26}`).FindString(out)
	if id == "" || !strings.Contains(out, "Grace Hopper") {
		t.Fatalf("accounts create printed:\n%s", out)
	}
	if strings.Contains(out, sendgridKey) {
		t.Fatal("accounts create printed the key")
	}

	out, err = run(t, env, "accounts", "list")
	if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "marketing") {
		t.Fatalf("accounts list: %v\n%s", err, out)
	}
	out, err = run(t, env, "accounts", "rename", id, "marketing (EU)")
	if err != nil || !strings.Contains(out, "marketing (EU)") {
		t.Fatalf("accounts rename: %v\n%s", err, out)
	}

	out, err = run(t, env, "credentials", id)
	if err != nil {
		t.Fatal(err)
	}
	var creds map[string]string
	if err := json.Unmarshal([]byte(out), &creds); err != nil || creds["api_key"] != sendgridKey || len(creds) != 1 {
		t.Fatalf("credentials printed %q (%v)", out, err)
	}

	env["LATCHKEY_MASTER_KEY"] = "must-not-leak"
	out, err = run(t, env, "exec", "--account", id, "--", "env")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "LATCHKEY_SENDGRID_API_KEY="+sendgridKey+"\n") {
		t.Fatalf("exec env lacks the key:\n%s", out)
	}
	if strings.Contains(out, "must-not-leak") {
		t.Fatal("exec passed LATCHKEY_MASTER_KEY to the child")
	}
	_, err = run(t, env, "exec", "--account", id, "--", "sh", "-c", "exit 7")
	var code exitCode
	if !errors.As(err, &code) || code != 7 {
		t.Fatalf("exec exit status: %v", err)
	}

	out, err = run(t, env, "accounts", "delete", id)
	if err != nil || !strings.Contains(out, "deleted "+id) {
		t.Fatalf("accounts delete: %v\n%s", err, out)
	}
	if _, err := run(t, env, "credentials", id); err == nil || !strings.Contains(err.Error(), "Not found") {
		t.Fatalf("credentials after delete: %v", err)
	}
}

func TestClientWithoutToken(t *testing.T) {
	_, err := run(t, map[string]string{"LATCHKEY_DATA_DIR": t.TempDir()}, "accounts", "list")
	if err == nil || !strings.Contains(err.Error(), "latchkey serve") {
		t.Fatalf("no token: %v", err)
	}
}

func TestBadFlagIsNamed(t *testing.T) {
	_, err := run(t, nil, "migrate", "--refresh-margin", "soon", "--data-dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "--refresh-margin") {
		t.Fatalf("bad flag: %v", err)
	}
}

func TestChildEnv(t *testing.T) {
	got := childEnv([]string{"PATH=/bin", "LATCHKEY_TOKEN=x", "LATCHKEY_MASTER_KEY=y", "LATCHKEY_SLACK_X=old"}, map[string]string{"LATCHKEY_SLACK_X": "new"})
	want := "PATH=/bin LATCHKEY_SLACK_X=new"
	if strings.Join(got, " ") != want {
		t.Fatalf("childEnv = %v, want %s", got, want)
	}
}

func TestAppsLint(t *testing.T) {
	out, err := run(t, nil, "apps", "lint")
	if err != nil || !strings.Contains(out, "apps are valid") {
		t.Fatalf("lint of the shipped catalog: %v\n%s", err, out)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "acme.yaml"), []byte("slug: acme\nname: Acme\ncategories: [crm]\nauth: keys\ndocs_url: http://acme.example\n"), 0o600)
	_, err = run(t, nil, "apps", "lint", "--dir", dir)
	for _, want := range []string{"acme.yaml", "docs_url", "must be an absolute https URL", "fields: a keys app needs at least one field"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("lint error %v does not name %q", err, want)
		}
	}
}

func TestWorkflowCommands(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-cli-workflow-key"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "steps.json")
	os.WriteFile(file, []byte(`[{"key": "check", "kind": "command", "apps": ["openai"],
		"command": ["sh", "-c", "grep -q sk-cli-workflow-key && echo '{\"got_key\": true}'"]}]`), 0o600)
	out, err := run(t, env, "workflows", "create", "--name", "Check key", "--file", file)
	id := regexp.MustCompile(`wfl_[0-9a-z]{26}`).FindString(out)
	if err != nil || id == "" {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if _, err := run(t, env, "workflows", "run", id); err == nil {
		t.Fatal("a run with an unlinked account succeeded")
	}
	if out, err := run(t, env, "workflows", "link", id, "check", "openai", acc.ID); err != nil {
		t.Fatalf("link: %v\n%s", err, out)
	}
	out, err = run(t, env, "workflows", "run", id)
	if err != nil || !strings.Contains(out, "check (command): succeeded") || !strings.Contains(out, `{"got_key":true}`) {
		t.Fatalf("run: %v\n%s", err, out)
	}
	// Deleting it is refused, in the CLI's words: the flag, never the
	// API's query parameter.
	for _, revoke := range []bool{false, true} {
		args, flags := []string{"accounts", "delete", acc.ID}, ""
		if revoke {
			args, flags = append(args, "--revoke"), " --revoke"
		}
		_, err = run(t, env, args...)
		want := `account ` + acc.ID + ` is used by "Check key" (` + id + `); they will break if it is deleted` + "\n" +
			"to delete it anyway, run: latchkey accounts delete " + acc.ID + flags + " --force"
		if err == nil || explain(err) != want {
			t.Fatalf("deleting an account in use (revoke %v) said:\n%v\nwant:\n%s", revoke, err, want)
		}
		if strings.Contains(explain(err), "?force") {
			t.Fatal("the CLI names the API's query parameter")
		}
	}
	if _, err := inst.Client().GetAccount(context.Background(), acc.ID); err != nil {
		t.Fatalf("a refused delete deleted the account: %v", err)
	}
	// The command the hint names works.
	if out, err = run(t, env, "accounts", "delete", acc.ID, "--revoke", "--force"); err != nil || !strings.Contains(out, "deleted "+acc.ID) {
		t.Fatalf("delete --revoke --force: %v\n%s", err, out)
	}
}

func ptr[T any](v T) *T { return &v }

func TestTokenCommands(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-cli-token-key"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := run(t, env, "tokens", "create", "mailer", "--scope", "credentials:read", "--account", acc.ID, "--expires", "30d")
	secret := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(secret, "lk_") {
		t.Fatalf("create: %v\n%s", err, out)
	}
	if creds, err := client.New(inst.URL, secret, nil).Credentials(context.Background(), acc.ID); err != nil || creds["api_key"] != "sk-cli-token-key" {
		t.Fatalf("the new token reads its account: %v, %v", creds, err)
	}
	out, err = run(t, env, "tokens", "list")
	id := regexp.MustCompile(`tok_[0-9a-z]{26}\s+mailer`).FindString(out)
	if err != nil || id == "" || !strings.Contains(out, acc.ID) || strings.Contains(out, secret) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	id = strings.Fields(id)[0]
	if _, err := run(t, env, "tokens", "create", "x", "--scope", "accounts:read", "--expires", "soon"); err == nil || !strings.Contains(err.Error(), "--expires") {
		t.Fatalf("a bad --expires: %v", err)
	}
	out, err = run(t, env, "tokens", "rotate", id, "--overlap", "0s")
	fresh := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(fresh, "lk_") || fresh == secret {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	if _, err := client.New(inst.URL, secret, nil).Credentials(context.Background(), acc.ID); !client.IsProblem(err, "unauthorized") {
		t.Fatalf("the old secret after a rotation with no overlap: %v", err)
	}
	out, err = run(t, env, "tokens", "list")
	newID := regexp.MustCompile(`tok_[0-9a-z]{26}\s+mailer`).FindString(out)
	if err != nil || newID == "" {
		t.Fatalf("list after rotate: %v\n%s", err, out)
	}
	if out, err := run(t, env, "tokens", "revoke", strings.Fields(newID)[0]); err != nil {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if _, err := client.New(inst.URL, fresh, nil).Credentials(context.Background(), acc.ID); !client.IsProblem(err, "unauthorized") {
		t.Fatalf("a revoked token: %v", err)
	}
}

// TestServeDemoRefusedWithPostgres: "serve --demo" alone turns the demo on,
// and the server will not start it against a PostgreSQL database.
func TestServeDemoRefusedWithPostgres(t *testing.T) {
	_, err := run(t, nil, "serve", "--demo", "--data-dir", t.TempDir(), "--database-url", "postgres://latchkey@127.0.0.1:5432/test")
	if err == nil || !strings.Contains(err.Error(), "LATCHKEY_DEMO") || !strings.Contains(err.Error(), "PostgreSQL") {
		t.Fatalf("serve --demo with PostgreSQL: %v, want the demo's refusal", err)
	}
}
