package main

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

func TestActionCommands(t *testing.T) {
	const sid, tok = "AC0123456789abcdef0123456789abcdef", "cli-twilio-auth-token-1234"
	provider := servertest.NewProvider(t, servertest.ProviderKeys{TwilioSID: sid, TwilioToken: tok})
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"twilio": provider.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "twilio", Fields: map[string]string{"account_sid": sid, "auth_token": tok}})
	if err != nil {
		t.Fatal(err)
	}

	out, err := run(t, env, "actions", "list", "--app", "twilio")
	if err != nil || !strings.Contains(out, "twilio.send_sms") || !strings.Contains(out, "POST /2010-04-01/Accounts/{account_sid}/Messages.json") {
		t.Fatalf("actions list: %v\n%s", err, out)
	}
	out, err = run(t, env, "actions", "show", "twilio.send_sms")
	if err != nil || !strings.Contains(out, `"docs_url"`) || !strings.Contains(out, `"required"`) {
		t.Fatalf("actions show: %v\n%s", err, out)
	}
	out, err = run(t, env, "actions", "run", "twilio.send_sms", "--account", acc.ID, "--input", `{"to":"+14155552671","from":"+15017122661","body":"Hi"}`)
	if err != nil || !strings.Contains(out, "status 201") || !strings.Contains(out, `"status": "queued"`) || strings.Contains(out, tok) {
		t.Fatalf("actions run: %v\n%s", err, out)
	}
	before := provider.Requests.Load()
	_, err = run(t, env, "actions", "run", "twilio.send_sms", "--account", acc.ID, "--input", `{"to":"nope"}`)
	for _, want := range []string{"to:", "from: is required", "body: is required", "actions show twilio.send_sms"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad input: %v does not say %q", err, want)
		}
	}
	if provider.Requests.Load() != before {
		t.Error("bad input reached the provider")
	}
	if _, err := run(t, env, "actions", "run", "twilio.send_sms", "--input", `{}`); err == nil || !strings.Contains(err.Error(), "--account") {
		t.Errorf("no --account: %v", err)
	}
}
