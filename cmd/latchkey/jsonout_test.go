package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestJSONIsNotHTMLEscaped: what the CLI prints as JSON shows <, > and & as
// they are, whether it encoded the value or the server did (the API's own
// encoder leaves them be, and the CLI passes its JSON through).
func TestJSONIsNotHTMLEscaped(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "apps", "show", "sendgrid")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Settings > API Keys") || strings.Contains(out, `\u00`) {
		t.Fatalf("apps show sendgrid escapes HTML:\n%s", out)
	}
	var app map[string]any
	if err := json.Unmarshal([]byte(out), &app); err != nil {
		t.Fatalf("apps show sendgrid is not JSON: %v", err)
	}

	// A value the CLI encodes itself.
	file := filepath.Join(t.TempDir(), "steps.json")
	os.WriteFile(file, []byte(`[{"key": "a", "kind": "command", "command": ["true"]}]`), 0o600)
	if out, err := run(t, env, "workflows", "create", "--name", "Q&A <test>", "--file", file); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	out, err = run(t, env, "--json", "workflows", "list")
	if err != nil || !strings.Contains(out, `"Q&A <test>"`) || strings.Contains(out, `\u00`) {
		t.Fatalf("workflows list --json escapes HTML: %v\n%s", err, out)
	}

	// JSON Lines streamed from the server: a deleted account's nickname.
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Nickname: ptr("Q&A <eu>"), Fields: map[string]string{"api_key": "sk-cli-escape-key"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, env, "accounts", "delete", acc.ID); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	out, err = run(t, env, "audit", "export", "--since", "2000-01-01")
	if err != nil || !strings.Contains(out, `"nickname":"Q&A <eu>"`) || strings.Contains(out, `\u00`) {
		t.Fatalf("audit export escapes HTML: %v\n%s", err, out)
	}
}

// TestListsHaveOneShape: every list the CLI prints with --json is
// {"data": [...]}, as the API's lists are, even when it is empty; a list
// that stops after a page says where the next starts.
func TestListsHaveOneShape(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}
	ctx := context.Background()
	acc, err := inst.Client().CreateAccount(ctx, client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-cli-shape-key"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"two", "three"} {
		if _, err := inst.Client().RenameAccount(ctx, acc.ID, n); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "steps.json")
	os.WriteFile(file, []byte(`[{"key": "s", "kind": "command", "command": ["true"]}]`), 0o600)
	if out, err := run(t, env, "workflows", "create", "--name", "Shape", "--file", file); err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	wf, err := inst.Client().ListWorkflows(ctx)
	if err != nil || len(wf) != 1 {
		t.Fatalf("workflows: %v %v", wf, err)
	}

	for _, tc := range []struct {
		args     []string
		min      int  // items the list must hold
		nextPage bool // whether a next_cursor must be printed
	}{
		{[]string{"workflows", "list"}, 1, false},
		{[]string{"workflows", "runs", wf[0].ID}, 0, false},
		{[]string{"accounts", "list"}, 1, false},
		{[]string{"accounts", "events", acc.ID}, 1, false},
		{[]string{"apps", "list", "--auth", "keys"}, 50, false},
		{[]string{"apps", "categories"}, 5, false},
		{[]string{"apps", "requests"}, 0, false},
		{[]string{"actions", "list"}, 1, false},
		{[]string{"oauth-clients", "list"}, 0, false},
		{[]string{"tokens", "list"}, 1, false},
		{[]string{"members", "list"}, 1, false},
		{[]string{"members", "invitations"}, 0, false},
		{[]string{"workspaces", "list"}, 1, false},
		{[]string{"webhooks", "list"}, 0, false},
		{[]string{"audit", "list", "--limit", "1"}, 1, true},
		{[]string{"audit", "list", "--all"}, 3, false},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, err := run(t, env, append([]string{"--json"}, tc.args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("not a JSON object: %v\n%s", err, out)
			}
			var items []json.RawMessage
			if err := json.Unmarshal(got["data"], &items); err != nil || items == nil {
				t.Fatalf(`"data" is not a list (%v):\n%s`, err, out)
			}
			if len(items) < tc.min {
				t.Errorf("%d items, want at least %d:\n%s", len(items), tc.min, out)
			}
			_, hasNext := got["next_cursor"]
			if hasNext != tc.nextPage {
				t.Errorf("next_cursor printed: %v, want %v:\n%s", hasNext, tc.nextPage, out)
			}
			if len(got) != 1+map[bool]int{true: 1}[hasNext] {
				t.Errorf("keys other than data and next_cursor:\n%s", out)
			}
		})
	}

	// The cursor it printed fetches the next page.
	out, _ := run(t, env, "--json", "audit", "list", "--limit", "1")
	var first client.Page[client.AuditEvent]
	if err := json.Unmarshal([]byte(out), &first); err != nil || first.NextCursor == nil {
		t.Fatalf("first page: %v\n%s", err, out)
	}
	out, err = run(t, env, "--json", "audit", "list", "--limit", "1", "--cursor", *first.NextCursor)
	var next client.Page[client.AuditEvent]
	if err != nil || json.Unmarshal([]byte(out), &next) != nil || len(next.Data) != 1 || next.Data[0].ID == first.Data[0].ID {
		t.Fatalf("audit list --cursor %s: %v\n%s\nafter\n%+v", *first.NextCursor, err, out, first)
	}
}
