package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestProblemHints: a problem whose fix is a command is said in the CLI's
// words, with that command and never the API's route.
func TestProblemHints(t *testing.T) {
	tests := []struct {
		name string
		p    *client.Problem
		want string
	}{
		{"no OAuth client", &client.Problem{Type: "urn:latchkey:problem:validation", Title: "The input is not valid", Status: 422,
			Detail: "app: GitHub: no OAuth client is set for this app; an owner sets one with PUT /v1/apps/github/oauth-client", Field: "app",
			App: "github", OAuthClientPath: "/v1/apps/github/oauth-client"},
			"no OAuth client is set for github\nan owner sets one with: latchkey oauth-clients set github --client-id ID --client-secret -"},
		{"a key app reconnected", &client.Problem{Type: "urn:latchkey:problem:validation", Title: "The input is not valid", Status: 422,
			Detail: "app: SendGrid connects with keys: give the account new credentials instead (PUT /v1/accounts/acc_x/credentials)", Field: "app",
			AccountID: "acc_x", CredentialsPath: "/v1/accounts/acc_x/credentials"},
			"account acc_x connects with keys, not OAuth: give it new keys instead of reconnecting it\nrun: latchkey accounts reconnect acc_x --field NAME=VALUE"},
		{"needs reconnect", &client.Problem{Type: "urn:latchkey:problem:needs-reconnect", Title: "The account needs to be reconnected", Status: 409,
			Detail: "account acc_y needs to be reconnected", AccountID: "acc_y", ReconnectPath: "/v1/accounts/acc_y/reconnect"},
			"The account needs to be reconnected (409): account acc_y needs to be reconnected\nrun: latchkey accounts reconnect acc_y"},
		{"a plain validation problem", &client.Problem{Type: "urn:latchkey:problem:validation", Title: "The input is not valid", Status: 422, Detail: "app: is required", Field: "app"},
			"The input is not valid (422): app: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := explain(tt.p); got != tt.want {
				t.Fatalf("said:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestFixHintsFromTheServer: connecting an app with no OAuth client, and
// reconnecting a key-based account, say the command that fixes each, and
// that command works.
func TestFixHintsFromTheServer(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	_, err := run(t, env, "connect", "github", "--no-wait", "--no-browser")
	want := "no OAuth client is set for github\nan owner sets one with: latchkey oauth-clients set github --client-id ID --client-secret -"
	if err == nil || explain(err) != want {
		t.Fatalf("connect github said:\n%v\nwant:\n%s", err, want)
	}
	if out, err := runIn(t, env, "gh-secret\n", "oauth-clients", "set", "github", "--client-id", "gh-id", "--client-secret", "-"); err != nil {
		t.Fatalf("the hinted command: %v\n%s", err, out)
	}
	if out, err := run(t, env, "connect", "github", "--no-wait", "--no-browser"); err != nil || !strings.HasPrefix(out, "con_") {
		t.Fatalf("connect after setting the client: %v\n%s", err, out)
	}

	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-old"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(t, env, "accounts", "reconnect", acc.ID, "--no-wait", "--no-browser")
	want = "account " + acc.ID + " connects with keys, not OAuth: give it new keys instead of reconnecting it\nrun: latchkey accounts reconnect " + acc.ID + " --field NAME=VALUE"
	if err == nil || explain(err) != want {
		t.Fatalf("reconnecting a key account said:\n%v\nwant:\n%s", err, want)
	}
	if out, err := run(t, env, "accounts", "reconnect", acc.ID, "--field", "api_key=sk-new", "--no-test"); err != nil {
		t.Fatalf("the hinted command: %v\n%s", err, out)
	}
	if creds, _ := inst.Client().Credentials(context.Background(), acc.ID); creds["api_key"] != "sk-new" {
		t.Fatalf("credentials after the hinted command: %v", creds)
	}
}

// runIn is run with stdin.
func runIn(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	root := newRoot(func(k string) string { return env[k] })
	var out, errOut bytes.Buffer
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}
