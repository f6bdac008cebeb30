package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// latchkey accounts share and unshare: by members' emails, with the
// workspace, and the hint with --force when another member's workflow
// uses the account.
func TestSharingCLI(t *testing.T) {
	// The stand-in provider answers the identity request on loopback.
	p := servertest.NewProvider(t, servertest.ProviderKeys{SendGridKey: "SG.cli-share"})
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": p.URL}
	inst := servertest.Start(t, cfg, server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}
	ctx := t.Context()

	out, err := run(t, env, "members", "invite", "bea@acme.test", "--role", "member")
	if err != nil {
		t.Fatal(err)
	}
	bea := join(t, inst, regexp.MustCompile(`http://\S+/invite/\S+`).FindString(out), "bea's password!")
	acc, err := inst.Client().CreateAccount(ctx, client.CreateAccount{App: "sendgrid", Fields: map[string]string{"api_key": "SG.cli-share"}})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, env, "accounts", "show", acc.ID); err != nil || !strings.Contains(out, "no one (private)") {
		t.Fatalf("a new account: %v\n%s", err, out)
	}
	for _, bad := range [][]string{{}, {"--workspace", "--member", "bea@acme.test"}, {"--member", "nobody@acme.test"}} {
		if _, err := run(t, env, append([]string{"accounts", "share", acc.ID}, bad...)...); err == nil {
			t.Errorf("share %v: no error", bad)
		}
	}
	if out, err := run(t, env, "accounts", "share", acc.ID, "--member", "BEA@acme.test"); err != nil || !strings.Contains(out, bea) {
		t.Fatalf("share --member: %v\n%s", err, out)
	}

	// bea uses it in a workflow of hers.
	ws, err := inst.Store().FirstWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := inst.Identity().IssueToken(ctx, ws.ID, bea, "t", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	beaAPI := client.New(inst.URL, tok.Reveal(), nil)
	wf, err := beaAPI.CreateWorkflow(ctx, client.SaveWorkflow{Name: "digest", Steps: []client.WorkflowStep{{Key: "s", Kind: "code", Apps: []string{"sendgrid"}, Code: "return 1", Accounts: map[string]string{"sendgrid": acc.ID}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = run(t, env, "accounts", "unshare", acc.ID)
	if err == nil || !strings.Contains(err.Error(), `"digest" (`+wf.ID+`)`) || !strings.Contains(err.Error(), "latchkey accounts unshare "+acc.ID+" --force") {
		t.Fatalf("unshare in use: %v", err)
	}
	if out, err := run(t, env, "accounts", "share", acc.ID, "--workspace"); err != nil || !strings.Contains(out, "the workspace") {
		t.Fatalf("share --workspace: %v\n%s", err, out)
	}
	if out, err := run(t, env, "accounts", "unshare", acc.ID, "--force"); err != nil || !strings.Contains(out, "no one (private)") {
		t.Fatalf("unshare --force: %v\n%s", err, out)
	}
}
