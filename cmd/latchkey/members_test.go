package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// The CLI on the server's machine, with no set-up, invites, lists, changes
// and removes members, and creates workspaces.
func TestMembersCLI(t *testing.T) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	env := map[string]string{"LATCHKEY_DATA_DIR": inst.Config.DataDir, "LATCHKEY_LISTEN": inst.Config.Listen}

	out, err := run(t, env, "members", "invite", "max@acme.test", "--role", "viewer")
	link := regexp.MustCompile(`http://\S+/invite/\S+`).FindString(out)
	if err != nil || link == "" || !strings.Contains(out, "as viewer") {
		t.Fatalf("members invite: %v\n%s", err, out)
	}
	out, err = run(t, env, "members", "invitations")
	if err != nil || !strings.Contains(out, "max@acme.test") || strings.Contains(out, "/invite/") {
		t.Fatalf("members invitations (no link shown again): %v\n%s", err, out)
	}
	if _, err := run(t, env, "members", "invite", "x@acme.test", "--role", "superuser"); err == nil || !strings.Contains(err.Error(), "no role") {
		t.Fatalf("a made-up role: %v", err)
	}
	m := join(t, inst, link, "max's password!")
	out, err = run(t, env, "members", "list")
	if err != nil || !strings.Contains(out, "max@acme.test") || !strings.Contains(out, "viewer") {
		t.Fatalf("members list: %v\n%s", err, out)
	}
	if out, err = run(t, env, "members", "role", m, "member"); err != nil || !strings.Contains(out, "is now member") {
		t.Fatalf("members role: %v\n%s", err, out)
	}
	if out, err = run(t, env, "members", "reset-password", m); err != nil || !strings.Contains(out, "/reset/") {
		t.Fatalf("members reset-password: %v\n%s", err, out)
	}
	if out, err = run(t, env, "members", "remove", m); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("members remove: %v\n%s", err, out)
	}
	out, err = run(t, env, "workspaces", "create", "Sales", "--owner", "sue@acme.test")
	if err != nil || !strings.Contains(out, "/invite/") {
		t.Fatalf("workspaces create: %v\n%s", err, out)
	}
	out, err = run(t, env, "workspaces", "list")
	if err != nil || !strings.Contains(out, "Sales") || !strings.Contains(out, "Default") {
		t.Fatalf("workspaces list: %v\n%s", err, out)
	}
}

func join(t *testing.T, inst *servertest.Instance, link, pw string) string {
	t.Helper()
	in, err := inst.Identity().AcceptInvitation(t.Context(), acceptInput(link, pw))
	if err != nil {
		t.Fatal(err)
	}
	return in.Session.Actor.UserID
}

func acceptInput(link, pw string) identity.Accept {
	return identity.Accept{Addr: "127.0.0.1", Token: link[strings.LastIndex(link, "/")+1:], Password: pw}
}
