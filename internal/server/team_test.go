package server_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestTeamOfThree walks a team through the story on both
// backends: an owner, a member and a viewer join by invitation; accounts
// are private until shared; the member links a shared account into a
// workflow of theirs; a token limited to one account reads it and nothing
// else, and stops working when revoked; the audit log holds each step.
func TestTeamOfThree(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		invite := func(by *client.Client, email, role string) string {
			t.Helper()
			inv, err := by.Invite(ctx, client.Invite{Email: email, Role: role})
			if err != nil {
				t.Fatalf("invite %s as %s: %v", email, role, err)
			}
			return inv.URL
		}

		// Invitations: the operator invites the owner, who invites the rest.
		owner := join(t, f.Instance, invite(f.api, "olive@acme.test", "owner"), "olive's password")
		member := join(t, f.Instance, invite(owner.api, "max@acme.test", "member"), "max's password!")
		viewer := join(t, f.Instance, invite(owner.api, "vi@acme.test", "viewer"), "vi's password!!")
		if _, err := member.api.Invite(ctx, client.Invite{Email: "eve@acme.test", Role: "owner"}); status(err) != 403 {
			t.Fatalf("a member invited someone: %v", err)
		}
		roles := map[string]string{}
		ms, err := owner.api.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			roles[m.Email] = m.Role
		}
		if roles["olive@acme.test"] != "owner" || roles["max@acme.test"] != "member" || roles["vi@acme.test"] != "viewer" {
			t.Fatalf("members: %v", roles)
		}

		// Private by default: only its owner sees a new account.
		mail := sendgrid(t, owner.api, "team mail")
		sms := twilio(t, owner.api)
		for name, who := range map[string]joined{"member": member, "viewer": viewer} {
			if slices.Contains(accountIDs(t, who.api, client.ListOptions{}), mail.ID) {
				t.Fatalf("the %s lists a private account", name)
			}
			if _, err := who.api.GetAccount(ctx, mail.ID); status(err) != 404 {
				t.Fatalf("the %s read a private account: %v", name, err)
			}
		}

		// Shared on purpose: the workspace sees it; the viewer cannot read
		// its credentials, and only its owner may change it.
		if _, err := owner.api.ShareAccount(ctx, mail.ID, client.Sharing{Workspace: true}, false); err != nil {
			t.Fatal(err)
		}
		for name, who := range map[string]joined{"member": member, "viewer": viewer} {
			if !slices.Contains(accountIDs(t, who.api, client.ListOptions{}), mail.ID) {
				t.Fatalf("the %s does not list the shared account", name)
			}
		}
		if _, err := viewer.api.Credentials(ctx, mail.ID); status(err) != 403 {
			t.Fatalf("the viewer read credentials: %v", err)
		}
		if err := member.api.DeleteAccount(ctx, mail.ID); status(err) != 403 && status(err) != 404 {
			t.Fatalf("the member deleted the owner's account: %v", err)
		}
		if _, err := member.api.RenameAccount(ctx, mail.ID, "mine now"); status(err) != 403 && status(err) != 404 {
			t.Fatalf("the member renamed the owner's account: %v", err)
		}

		// A link into another member's workflow: the member's own workflow
		// uses the owner's shared account, and runs.
		wf, err := member.api.CreateWorkflow(ctx, client.SaveWorkflow{Name: "profile", Steps: []client.WorkflowStep{
			{Key: "profile", Kind: "http", Accounts: map[string]string{"sendgrid": mail.ID}, HTTP: &client.HTTPStep{App: "sendgrid", Path: "/v3/user/profile"}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		run, err := member.api.RunWorkflow(ctx, wf.ID)
		if err != nil || run.Status != "succeeded" {
			t.Fatalf("the member's workflow with the shared account: %+v %v", run, err)
		}
		if _, err := viewer.api.RunWorkflow(ctx, wf.ID); status(err) != 403 && status(err) != 404 {
			t.Fatalf("the viewer ran the member's workflow: %v", err)
		}

		// A token limited to one account reads it, and is refused for
		// every other; revoked, it stops at once.
		tok, limited := mint(t, f.Instance, owner.api, client.CreateToken{Name: "mailer", Scopes: []string{identity.ScopeAccountsRead, identity.ScopeCredentialsRead}, AccountIDs: []string{mail.ID}})
		if creds, err := limited.Credentials(ctx, mail.ID); err != nil || creds["api_key"] != goodKey {
			t.Fatalf("the limited token's own account: %v", err)
		}
		if _, err := limited.Credentials(ctx, sms.ID); status(err) != 404 {
			t.Fatalf("the limited token read another account: %v", err)
		}
		if ids := accountIDs(t, limited, client.ListOptions{}); len(ids) != 1 || ids[0] != mail.ID {
			t.Fatalf("the limited token lists %v", ids)
		}
		if err := owner.api.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := limited.Credentials(ctx, mail.ID); status(err) != 401 {
			t.Fatalf("a revoked token still works: %v", err)
		}

		// The audit trail of each step, for the owner; the others may not
		// read it.
		events := allEvents(t, owner.api, client.AuditQuery{})
		has := func(action, actor string, match func(client.AuditEvent) bool) {
			t.Helper()
			for _, e := range events {
				if e.Action == action && (actor == "" || e.ActorID == actor) && (match == nil || match(e)) {
					return
				}
			}
			var seen []string
			for _, e := range events {
				seen = append(seen, e.Action+"/"+e.ActorID+"/"+e.Surface+"/"+e.TokenName)
			}
			t.Errorf("no %s event by %q in the audit log:\n%s", action, actor, strings.Join(seen, "\n"))
		}
		has("member.joined", member.id, nil)
		has("member.joined", viewer.id, nil)
		has("account.shared", owner.id, func(e client.AuditEvent) bool { return e.AccountID == mail.ID })
		has("workflow.created", member.id, nil)
		has("credentials.read", member.id, func(e client.AuditEvent) bool { return e.AccountID == mail.ID && e.Surface == identity.SurfaceWorkflow })
		has("credentials.read", owner.id, func(e client.AuditEvent) bool {
			return e.AccountID == mail.ID && e.TokenName == "mailer" && e.Surface == identity.SurfaceAPI && e.Addr != ""
		})
		has("token.created", owner.id, nil)
		has("token.revoked", owner.id, nil)
		for name, who := range map[string]joined{"member": member, "viewer": viewer} {
			if _, err := who.api.Audit(ctx, client.AuditQuery{}); status(err) != 403 {
				t.Fatalf("the %s read the audit log: %v", name, err)
			}
		}
	})
}
