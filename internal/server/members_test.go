package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// joined is a person who accepted an invitation, with a token of theirs.
type joined struct {
	id  string
	api *client.Client
}

// join accepts an invitation link and gives the new member a * token.
func join(t *testing.T, inst *servertest.Instance, link, password string) joined {
	t.Helper()
	ctx := context.Background()
	token := link[strings.LastIndex(link, "/")+1:]
	in, err := inst.Identity().AcceptInvitation(ctx, identity.Accept{Addr: "127.0.0.1", Token: token, Password: password})
	if err != nil {
		t.Fatalf("accept %s: %v", link, err)
	}
	a := in.Session.Actor
	tok, _, err := inst.Identity().IssueToken(ctx, a.WorkspaceID, a.UserID, "test", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	return joined{id: a.UserID, api: client.New(inst.URL, tok.Reveal(), nil)}
}

func status(err error) int {
	if err == nil {
		return 200
	}
	if p, ok := err.(*client.Problem); ok {
		return p.Status
	}
	return -1
}

// Every members, invitations and workspaces route, by who calls it: the
// operator's admin token, an owner, an admin, a member and a viewer of
// the workspace, and the owner of another workspace, whose ids of this
// one must find nothing.
func TestMembersRoutesByRole(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		invite := func(as *client.Client, email, role string) client.Invitation {
			t.Helper()
			inv, err := as.Invite(ctx, client.Invite{Email: email, Role: role})
			if err != nil {
				t.Fatalf("invite %s: %v", email, err)
			}
			if !strings.HasPrefix(inv.URL, f.URL+"/invite/") {
				t.Fatalf("invitation URL %q", inv.URL)
			}
			return inv
		}
		owner := join(t, f.Instance, invite(f.api, "olive@acme.test", "owner").URL, "olive's password")
		admin := join(t, f.Instance, invite(owner.api, "ada@acme.test", "admin").URL, "ada's password!")
		member := join(t, f.Instance, invite(owner.api, "max@acme.test", "member").URL, "max's password!")
		viewer := join(t, f.Instance, invite(owner.api, "vi@acme.test", "viewer").URL, "vi's password!!")
		nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: "zed@acme.test"})
		if err != nil || nw.Invitation == nil || nw.Invitation.URL == "" {
			t.Fatalf("create workspace: %+v, %v", nw, err)
		}
		other := join(t, f.Instance, nw.Invitation.URL, "zed's password!")

		callers := []struct {
			name string
			api  *client.Client
		}{{"admin token", f.api}, {"owner", owner.api}, {"admin", admin.api}, {"member", member.api}, {"viewer", viewer.api}, {"other workspace", other.api}}
		// want is the status per caller, in the order above.
		routes := []struct {
			route string
			call  func(c *client.Client, who string) error
			want  [6]int
		}{
			{"GET /v1/members", func(c *client.Client, who string) error { _, err := c.Members(ctx); return err }, [6]int{200, 200, 200, 200, 200, 200}},
			{"GET /v1/invitations", func(c *client.Client, who string) error { _, err := c.Invitations(ctx); return err }, [6]int{200, 200, 200, 403, 403, 200}},
			{"POST /v1/invitations (member)", func(c *client.Client, who string) error {
				_, err := c.Invite(ctx, client.Invite{Email: "new-" + strings.ReplaceAll(who, " ", "-") + "@acme.test", Role: "member"})
				return err
			}, [6]int{200, 200, 200, 403, 403, 200}},
			{"POST /v1/invitations (owner)", func(c *client.Client, who string) error {
				_, err := c.Invite(ctx, client.Invite{Email: "own-" + strings.ReplaceAll(who, " ", "-") + "@acme.test", Role: "owner"})
				return err
			}, [6]int{200, 200, 403, 403, 403, 200}},
			{"PATCH /v1/members/{member}", func(c *client.Client, who string) error { _, err := c.ChangeRole(ctx, member.id, "member"); return err }, [6]int{200, 200, 200, 403, 403, 404}},
			{"PATCH /v1/members/{owner}", func(c *client.Client, who string) error { _, err := c.ChangeRole(ctx, owner.id, "owner"); return err }, [6]int{200, 200, 403, 403, 403, 404}},
			{"POST /v1/members/{member}/password-reset", func(c *client.Client, who string) error { _, err := c.PasswordReset(ctx, member.id); return err }, [6]int{200, 200, 200, 403, 403, 404}},
			{"POST /v1/members/{owner}/password-reset", func(c *client.Client, who string) error { _, err := c.PasswordReset(ctx, owner.id); return err }, [6]int{200, 200, 403, 403, 403, 404}},
			{"GET /v1/workspaces", func(c *client.Client, who string) error { _, err := c.Workspaces(ctx); return err }, [6]int{200, 403, 403, 403, 403, 403}},
			{"POST /v1/workspaces", func(c *client.Client, who string) error {
				_, err := c.CreateWorkspace(ctx, client.CreateWorkspace{Name: "W " + who, OwnerEmail: "w@acme.test"})
				return err
			}, [6]int{200, 403, 403, 403, 403, 403}},
		}
		for _, rt := range routes {
			for i, c := range callers {
				if got := status(rt.call(c.api, c.name)); got != rt.want[i] {
					t.Errorf("%s as %s: %d, want %d", rt.route, c.name, got, rt.want[i])
				}
			}
		}

		// An invitation of this workspace, revoked or resent by the other
		// workspace's owner or by a member, is untouched.
		inv := invite(owner.api, "pending@acme.test", "member")
		for _, c := range []struct {
			name string
			api  *client.Client
			want int
		}{{"other workspace", other.api, 404}, {"member", member.api, 403}, {"viewer", viewer.api, 403}} {
			if got := status(c.api.RevokeInvitation(ctx, inv.ID)); got != c.want {
				t.Errorf("DELETE /v1/invitations/{id} as %s: %d, want %d", c.name, got, c.want)
			}
			if _, err := c.api.ResendInvitation(ctx, inv.ID); status(err) != c.want {
				t.Errorf("POST /v1/invitations/{id}/resend as %s: %d, want %d", c.name, status(err), c.want)
			}
		}
		resent, err := admin.api.ResendInvitation(ctx, inv.ID)
		if err != nil || resent.URL == "" || resent.URL == inv.URL {
			t.Fatalf("resend: %+v, %v", resent, err)
		}
		if err := admin.api.RevokeInvitation(ctx, inv.ID); err != nil {
			t.Fatal(err)
		}
		// The list never holds a link.
		list, err := owner.api.Invitations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range list {
			if i.URL != "" {
				t.Errorf("the list shows a link: %+v", i)
			}
		}

		// Removal: a member cannot, the other workspace finds nobody, an
		// admin cannot remove an owner, the owner can; the member's token
		// stops at once.
		for _, c := range []struct {
			name string
			api  *client.Client
			id   string
			want int
		}{{"member", member.api, viewer.id, 403}, {"other workspace", other.api, viewer.id, 404}, {"admin removing an owner", admin.api, owner.id, 403}} {
			if got := status(c.api.RemoveMember(ctx, c.id)); got != c.want {
				t.Errorf("DELETE /v1/members/{id} as %s: %d, want %d", c.name, got, c.want)
			}
		}
		if _, err := viewer.api.Me(ctx); err != nil {
			t.Fatal(err)
		}
		if err := owner.api.RemoveMember(ctx, viewer.id); err != nil {
			t.Fatal(err)
		}
		if _, err := viewer.api.Me(ctx); status(err) != 401 {
			t.Errorf("a removed member's token: %v", err)
		}
		// The last owner who signs in cannot be demoted or removed.
		if _, err := f.api.ChangeRole(ctx, owner.id, "admin"); !client.IsProblem(err, "last-owner") {
			t.Errorf("demoting the last owner: %v", err)
		}
		if err := f.api.RemoveMember(ctx, owner.id); !client.IsProblem(err, "last-owner") {
			t.Errorf("removing the last owner: %v", err)
		}
		// Bad input changes nothing.
		if _, err := owner.api.ChangeRole(ctx, member.id, "superuser"); status(err) != 422 {
			t.Errorf("a made-up role: %v", err)
		}
		if _, err := owner.api.Invite(ctx, client.Invite{Email: "not an email", Role: "member"}); status(err) != 422 {
			t.Errorf("a bad email: %v", err)
		}
		if ms, _ := owner.api.Members(ctx); len(ms) != 4 {
			t.Errorf("members after refusals: %+v", ms)
		}

		// POST /v1/me/password: the current one is needed; it changes only
		// the caller's.
		if err := member.api.ChangePassword(ctx, client.ChangePassword{CurrentPassword: "wrong wrong wrong", NewPassword: "max's new password"}); !client.IsProblem(err, "wrong-password") {
			t.Errorf("a wrong current password: %v", err)
		}
		if err := member.api.ChangePassword(ctx, client.ChangePassword{CurrentPassword: "max's password!", NewPassword: "max's new password"}); err != nil {
			t.Fatal(err)
		}
		login := func(email, pw string) int {
			resp, err := browser(t).PostForm(f.URL+"/login", url.Values{"email": {email}, "password": {pw}, "next": {"/"}})
			code, _ := page(t, resp, err)
			return code
		}
		if code := login("max@acme.test", "max's new password"); code != http.StatusOK {
			t.Errorf("signing in with the new password: %d", code)
		}
		if code := login("olive@acme.test", "max's new password"); code != http.StatusUnauthorized {
			t.Errorf("another user with max's new password: %d", code)
		}
	})
}

// The web's member routes refuse another user who may not, find nothing
// of another workspace, and the switcher moves only between one person's
// workspaces.
func TestMembersWebRoutes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := start(t, b)
		ctx := context.Background()
		inv, err := f.api.Invite(ctx, client.Invite{Email: "olive@acme.test", Role: "owner"})
		if err != nil {
			t.Fatal(err)
		}
		owner := join(t, f.Instance, inv.URL, "olive's password")
		inv, _ = owner.api.Invite(ctx, client.Invite{Email: "max@acme.test", Role: "member"})
		member := join(t, f.Instance, inv.URL, "max's password!")
		nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Ops", OwnerEmail: "zed@acme.test"})
		if err != nil {
			t.Fatal(err)
		}
		join(t, f.Instance, nw.Invitation.URL, "zed's password!")
		// Olive owns Ops too: attached with her password.
		nw2, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Olive's", OwnerEmail: "olive@acme.test"})
		if err != nil || nw2.Owner == nil {
			t.Fatalf("attach olive: %+v, %v", nw2, err)
		}

		signInAs := func(email, pw string) *http.Client {
			b := browser(t)
			if code, _ := post(t, b, f.URL+"/login", url.Values{"email": {email}, "password": {pw}, "next": {"/"}}); code != 200 {
				t.Fatalf("sign in %s: %d", email, code)
			}
			return b
		}
		maxB := signInAs("max@acme.test", "max's password!")
		zedB := signInAs("zed@acme.test", "zed's password!")
		for _, c := range []struct {
			name string
			b    *http.Client
			path string
			want int
		}{
			{"member invites", maxB, "/members", 403},
			{"member removes the owner", maxB, "/members/" + owner.id + "/remove", 403},
			{"member resets the owner's password", maxB, "/members/" + owner.id + "/password-reset", 403},
			{"other workspace removes max", zedB, "/members/" + member.id + "/remove", 404},
			{"other workspace changes max's role", zedB, "/members/" + member.id + "/role", 404},
			{"other workspace resets max's password", zedB, "/members/" + member.id + "/password-reset", 404},
			{"max switches to Ops", maxB, "/workspace", 404},
		} {
			form := url.Values{"email": {"new@acme.test"}, "role": {"viewer"}, "workspace": {nw.Workspace.ID}}
			if code, _ := post(t, c.b, f.URL+c.path, form); code != c.want {
				t.Errorf("%s: %d, want %d", c.name, code, c.want)
			}
		}
		if ms, _ := owner.api.Members(ctx); len(ms) != 3 {
			t.Errorf("members after refusals: %d", len(ms))
		}
		ws, _ := f.Store().FirstWorkspace(ctx)
		if u, _ := f.Store().GetUser(ctx, ws.ID, member.id); u.Role != "member" {
			t.Errorf("max's role is %s", u.Role)
		}

		// Olive sees the switcher and moves to her other workspace.
		oliveB := signInAs("olive@acme.test", "olive's password")
		code, body := get(t, oliveB, f.URL+"/members")
		if code != 200 || !strings.Contains(body, `name="workspace"`) || !strings.Contains(body, "Olive&#39;s") {
			t.Fatalf("olive's page has no switcher: %d", code)
		}
		if code, body := post(t, oliveB, f.URL+"/workspace", url.Values{"workspace": {nw2.Workspace.ID}}); code != 200 || !strings.Contains(body, "Accounts") {
			t.Fatalf("switch: %d", code)
		}
		_, body = get(t, oliveB, f.URL+"/members")
		if strings.Contains(body, "max@acme.test") || !strings.Contains(body, "olive@acme.test") {
			t.Error("after switching, the members page is not of the other workspace")
		}
		if _, body := get(t, maxB, f.URL+"/members"); strings.Contains(body, `name="workspace"`) {
			t.Error("max, in one workspace, is shown a switcher")
		}
	})
}
