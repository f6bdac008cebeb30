package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// latchkey exec's reads are recorded as cli-exec, latchkey credentials'
// as api; audit list filters them and audit export writes JSON Lines,
// oldest first.
func TestAuditCommands(t *testing.T) {
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"first_name":"Grace","last_name":"Hopper","scopes":[]}`))
	}))
	defer provider.Close()
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": provider.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "accounts", "create", "sendgrid", "--field", "api_key="+sendgridKey)
	if err != nil {
		t.Fatalf("accounts create: %v\n%s", err, out)
	}
	id := regexp.MustCompile(`acc_[0-9a-z]{26}`).FindString(out)
	if _, err := run(t, env, "exec", "--account", id, "--", "true"); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, env, "credentials", id); err != nil {
		t.Fatal(err)
	}

	out, err = run(t, env, "--json", "audit", "list", "--account", id, "--action", "credentials.read")
	if err != nil {
		t.Fatalf("audit list: %v\n%s", err, out)
	}
	var page client.Page[client.AuditEvent]
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatalf("audit list --json: %v\n%s", err, out)
	}
	reads := page.Data
	if len(reads) != 2 || reads[0].Surface != "api" || reads[1].Surface != "cli-exec" || reads[1].Addr != "127.0.0.1" {
		t.Fatalf("credential reads, newest first: %+v; want api, then cli-exec from 127.0.0.1", reads)
	}

	out, err = run(t, env, "audit", "list", "--action", "account.")
	if err != nil || !strings.Contains(out, "account.connected") || strings.Contains(out, "credentials.read") {
		t.Fatalf("audit list --action account.: %v\n%s", err, out)
	}
	if _, err := run(t, env, "audit", "list", "--since", "last week"); err == nil || !strings.Contains(err.Error(), "since") {
		t.Fatalf("audit list --since 'last week': %v, want an error about since", err)
	}

	out, err = run(t, env, "audit", "export", "--since", "2000-01-01")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e client.AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if e.AccountID == id {
			actions = append(actions, e.Action+"/"+e.Surface)
		}
	}
	if got := strings.Join(actions, " "); got != "account.connected/api credentials.read/cli-exec credentials.read/api" {
		t.Fatalf("exported events of the account, oldest first: %s", got)
	}
}
