package identity

import (
	"errors"
	"fmt"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/ids"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// Who may give a member of one role another, by the actor's role and
// token: the table of the members routes' decisions.
func TestMayManage(t *testing.T) {
	session := func(r Role) Actor { return Actor{WorkspaceID: "w", UserID: "u", Role: r} }
	token := func(r Role, scopes ...string) Actor {
		a := session(r)
		a.Scopes = append([]string{}, scopes...)
		return a
	}
	roles := append([]Role{""}, Roles...)
	for _, actor := range []struct {
		name string
		a    Actor
		// may reports whether the actor may move a member from one role
		// to another.
		may func(from, to Role) bool
	}{
		{"owner", session(RoleOwner), func(_, _ Role) bool { return true }},
		{"admin", session(RoleAdmin), func(from, to Role) bool { return from != RoleOwner && to != RoleOwner }},
		{"member", session(RoleMember), func(_, _ Role) bool { return false }},
		{"viewer", session(RoleViewer), func(_, _ Role) bool { return false }},
		{"owner's token with members:write", token(RoleOwner, ScopeMembersWrite), func(_, _ Role) bool { return true }},
		{"owner's * token", token(RoleOwner, ScopeAll), func(_, _ Role) bool { return true }},
		{"owner's token without members:write", token(RoleOwner, ScopeAccountsRead, ScopeCredentialsRead), func(_, _ Role) bool { return false }},
		{"member's token with members:write", token(RoleMember, ScopeMembersWrite), func(_, _ Role) bool { return false }},
	} {
		for _, from := range roles {
			for _, to := range roles {
				err := mayManage(actor.a, from, to)
				if want := actor.may(from, to); (err == nil) != want || (err != nil && !errors.Is(err, ErrForbidden)) {
					t.Errorf("%s: %q -> %q: %v, want allowed=%v", actor.name, from, to, err, want)
				}
			}
		}
	}
	// The accounts-side predicates, for the services that use them.
	for _, tc := range []struct {
		r                          Role
		manage, creds, all, change bool
	}{
		{RoleOwner, true, true, true, true},
		{RoleAdmin, true, true, false, true},
		{RoleMember, false, true, false, true},
		{RoleViewer, false, false, false, false},
		{"", false, false, false, false},
	} {
		a := session(tc.r)
		if a.CanManageMembers() != tc.manage || a.CanManageWorkspace() != tc.manage || a.CanReadCredentials() != tc.creds ||
			a.SeesAllAccounts() != tc.all || a.CanChangeAccounts() != tc.change {
			t.Errorf("%q: manage %v, workspace %v, credentials %v, all accounts %v, change %v; want %+v", tc.r, a.CanManageMembers(),
				a.CanManageWorkspace(), a.CanReadCredentials(), a.SeesAllAccounts(), a.CanChangeAccounts(), tc)
		}
	}
}

// team is the fixture's workspace with a web owner and a member who both
// joined by invitation.
type team struct {
	fixture
	admin, owner, member Actor
	memberSession        SignedIn
}

func newTeam(t *testing.T, f fixture) team {
	t.Helper()
	ctx := t.Context()
	tm := team{fixture: f}
	adminID, err := f.st.GetMeta(ctx, store.MetaAdminUser)
	if err != nil {
		t.Fatal(err)
	}
	tm.admin = Actor{WorkspaceID: f.ws, UserID: string(adminID), Role: RoleOwner, Scopes: []string{ScopeAll}}
	join := func(email string, role Role) SignedIn {
		l, err := f.svc.Invite(ctx, tm.admin, email, role)
		if err != nil {
			t.Fatalf("invite %s: %v", email, err)
		}
		in, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.1", Token: l.Token.Reveal(), Name: email, Password: pw})
		if err != nil {
			t.Fatalf("accept %s: %v", email, err)
		}
		return in
	}
	tm.owner = join("olive@acme.test", RoleOwner).Session.Actor
	tm.memberSession = join("max@acme.test", RoleMember)
	tm.member = tm.memberSession.Session.Actor
	return tm
}

func auditActions(t *testing.T, st store.Store, ws string) map[string]int {
	t.Helper()
	evs, err := st.ListAudit(t.Context(), store.AuditFilter{WorkspaceID: ws, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, e := range evs {
		out[e.Action]++
	}
	return out
}

func TestInvitationLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		if tm.member.Role != RoleMember || tm.member.WorkspaceID != f.ws {
			t.Fatalf("the accepted member is %+v", tm.member)
		}
		// Signing in works with the password chosen on acceptance.
		if _, err := f.svc.SignIn(ctx, SignInInput{Addr: "127.0.0.2", Email: "max@acme.test", Password: pw}); err != nil {
			t.Fatalf("sign in after joining: %v", err)
		}

		l, err := f.svc.Invite(ctx, tm.owner, "vi@acme.test", RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Invite(ctx, tm.owner, "VI@acme.test ", RoleMember); !errors.As(err, new(*InputError)) {
			t.Fatalf("a second invitation for the same email: %v", err)
		}
		if _, err := f.svc.Invite(ctx, tm.owner, "max@acme.test", RoleMember); !errors.As(err, new(*InputError)) {
			t.Fatalf("inviting a member: %v", err)
		}
		if _, err := f.svc.Invite(ctx, tm.member, "x@acme.test", RoleMember); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a member inviting: %v", err)
		}
		// Resending voids the old link.
		l2, err := f.svc.ResendInvitation(ctx, tm.owner, l.Invitation.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.3", Token: l.Token.Reveal(), Password: pw}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("the old link after a resend: %v", err)
		}
		// It expires after seven days.
		f.clock.Advance(InvitationTTL)
		if _, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.4", Token: l2.Token.Reveal(), Password: pw}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("an expired link: %v", err)
		}
		list, err := f.svc.Invitations(ctx, tm.owner)
		if err != nil || len(list) != 1 || !list[0].Expired {
			t.Fatalf("Invitations = %+v, %v; want the one, expired", list, err)
		}
		l3, err := f.svc.ResendInvitation(ctx, tm.owner, l.Invitation.ID)
		if err != nil {
			t.Fatal(err)
		}
		in, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.5", Token: l3.Token.Reveal(), Name: "Vi", Password: pw})
		if err != nil || in.Session.Actor.Role != RoleViewer {
			t.Fatalf("accept: %+v, %v", in.Session.Actor, err)
		}
		// Single use.
		if _, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.6", Token: l3.Token.Reveal(), Password: pw}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("a used link: %v", err)
		}
		// Revoked: the link stops working.
		l4, err := f.svc.Invite(ctx, tm.owner, "rev@acme.test", RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeInvitation(ctx, tm.owner, l4.Invitation.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.7", Token: l4.Token.Reveal(), Password: pw}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("a revoked link: %v", err)
		}
		got := auditActions(t, f.st, f.ws)
		for action, n := range map[string]int{"member.invited": 4, "member.joined": 3, "invitation.resent": 2, "invitation.revoked": 1} {
			if got[action] != n {
				t.Errorf("audit has %d %s, want %d (all: %v)", got[action], action, n, got)
			}
		}
	})
}

func TestLinkAttemptsLimited(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		var err error
		for i := 0; i < 5; i++ {
			_, err = f.svc.AcceptInvitation(t.Context(), Accept{Addr: "127.0.0.9", Token: fmt.Sprint("guess", i), Password: pw})
			if !errors.Is(err, ErrLinkInvalid) {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if _, err = f.svc.ResetPassword(t.Context(), Reset{Addr: "127.0.0.9", Token: "guess", Password: pw}); !errors.Is(err, ErrTooManyLinkAttempts) {
			t.Fatalf("sixth attempt: %v, want ErrTooManyLinkAttempts", err)
		}
		// Another address is not held up.
		if _, err = f.svc.AcceptInvitation(t.Context(), Accept{Addr: "127.0.0.10", Token: "guess", Password: pw}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("another address: %v", err)
		}
	})
}

func TestRemoveMember(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		now := f.clock.Now()
		acc := store.Account{ID: ids.New(ids.Account, now), WorkspaceID: f.ws, OwnerID: tm.member.UserID, App: "slack",
			Status: store.StatusHealthy, CreatedAt: now, UpdatedAt: now}
		if err := f.st.CreateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.svc.IssueToken(ctx, f.ws, tm.member.UserID, "ci", []string{ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.VerifyToken(ctx, tok.Reveal()); err != nil {
			t.Fatal(err) // now cached
		}
		if err := f.svc.RemoveMember(ctx, tm.member, tm.owner.UserID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a member removing an owner: %v", err)
		}
		if err := f.svc.RemoveMember(ctx, tm.owner, tm.member.UserID); err != nil {
			t.Fatal(err)
		}
		// Token and session stop at once, cache or not.
		if _, err := f.svc.VerifyToken(ctx, tok.Reveal()); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("the removed member's token: %v", err)
		}
		if _, err := f.svc.Session(ctx, tm.memberSession.Value.Reveal()); !errors.Is(err, ErrNoSession) {
			t.Fatalf("the removed member's session: %v", err)
		}
		got, err := f.st.GetAccount(ctx, f.ws, acc.ID)
		if err != nil || got.OwnerID != tm.owner.UserID {
			t.Fatalf("the account is owned by %s (%v), want the remover %s", got.OwnerID, err, tm.owner.UserID)
		}
		evs, err := f.st.ListAudit(ctx, store.AuditFilter{WorkspaceID: f.ws, AccountID: acc.ID})
		if err != nil || len(evs) != 1 || evs[0].Action != "account.owner_changed" || evs[0].Detail["to"] != tm.owner.UserID {
			t.Fatalf("the account's audit: %+v, %v", evs, err)
		}
		if auditActions(t, f.st, f.ws)["member.removed"] != 1 {
			t.Error("no member.removed event")
		}
		// The last owner who signs in cannot go, nor step down; nor can
		// the admin principal.
		if err := f.svc.RemoveMember(ctx, tm.admin, tm.owner.UserID); !errors.Is(err, ErrLastOwner) {
			t.Fatalf("removing the last owner: %v", err)
		}
		if _, err := f.svc.ChangeRole(ctx, tm.owner, tm.owner.UserID, RoleAdmin); !errors.Is(err, ErrLastOwner) {
			t.Fatalf("the last owner stepping down: %v", err)
		}
		if got, _ := f.st.GetAccount(ctx, f.ws, acc.ID); got.OwnerID != tm.owner.UserID {
			t.Fatalf("a refused removal moved accounts to %s", got.OwnerID)
		}
		if err := f.svc.RemoveMember(ctx, tm.owner, tm.admin.UserID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("removing the admin principal: %v", err)
		}
	})
}

// A role change takes effect at once on the replica that made it, and
// within tokenCacheTTL on another.
func TestRoleChangeReachesCachedTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		other := New(Options{Store: f.st, Clock: f.clock})
		tok, _, err := f.svc.IssueToken(ctx, f.ws, tm.member.UserID, "ci", []string{ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []*Service{f.svc, other} {
			if a, err := s.VerifyToken(ctx, tok.Reveal()); err != nil || a.Role != RoleMember {
				t.Fatalf("before: %+v, %v", a, err)
			}
		}
		if _, err := f.svc.ChangeRole(ctx, tm.owner, tm.member.UserID, RoleViewer); err != nil {
			t.Fatal(err)
		}
		if a, _ := f.svc.VerifyToken(ctx, tok.Reveal()); a.Role != RoleViewer {
			t.Fatalf("this replica still sees %s", a.Role)
		}
		if a, _ := other.VerifyToken(ctx, tok.Reveal()); a.Role != RoleMember {
			t.Fatalf("the other replica's cache was expected to hold %s for up to %v: %s", RoleMember, tokenCacheTTL, a.Role)
		}
		f.clock.Advance(tokenCacheTTL)
		if a, _ := other.VerifyToken(ctx, tok.Reveal()); a.Role != RoleViewer {
			t.Fatalf("after %v the other replica sees %s", tokenCacheTTL, a.Role)
		}
	})
}

func TestPasswords(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		const newPW = "a new long password"
		if err := f.svc.ChangePassword(ctx, tm.member, "wrong password!", newPW, nil); !errors.Is(err, ErrWrongPassword) {
			t.Fatalf("wrong current password: %v", err)
		}
		if err := f.svc.ChangePassword(ctx, tm.member, pw, "short", nil); !errors.Is(err, ErrPasswordLength) {
			t.Fatalf("short new password: %v", err)
		}
		if err := f.svc.ChangePassword(ctx, tm.member, pw, newPW, nil); err != nil {
			t.Fatal(err)
		}
		signIn := func(p string) error {
			_, err := f.svc.SignIn(ctx, SignInInput{Addr: "127.0.0.1", Email: "max@acme.test", Password: p})
			return err
		}
		if signIn(pw) == nil || signIn(newPW) != nil {
			t.Fatal("after the change the old password works or the new one does not")
		}
		// A reset link, made by an owner, shown once, used once.
		if _, err := f.svc.PasswordResetLink(ctx, tm.member, tm.owner.UserID); !errors.Is(err, ErrForbidden) {
			t.Fatalf("a member resetting an owner: %v", err)
		}
		old, err := f.svc.PasswordResetLink(ctx, tm.owner, tm.member.UserID)
		if err != nil {
			t.Fatal(err)
		}
		l, err := f.svc.PasswordResetLink(ctx, tm.owner, tm.member.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ResetPassword(ctx, Reset{Addr: "127.0.0.2", Token: old.Token.Reveal(), Password: pw}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("an earlier reset link: %v", err)
		}
		// An invitation's token is no reset link.
		in, err := f.svc.ResetPassword(ctx, Reset{Addr: "127.0.0.3", Token: l.Token.Reveal(), Password: "reset password 1"})
		if err != nil || in.Session.Actor.UserID != tm.member.UserID {
			t.Fatalf("reset: %+v, %v", in.Session.Actor, err)
		}
		if _, err := f.svc.ResetPassword(ctx, Reset{Addr: "127.0.0.4", Token: l.Token.Reveal(), Password: "reset password 2"}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("a used reset link: %v", err)
		}
		if signIn("reset password 1") != nil || signIn(newPW) == nil {
			t.Fatal("after the reset the new password fails or the old one works")
		}
		l2, err := f.svc.PasswordResetLink(ctx, tm.owner, tm.member.UserID)
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(PasswordResetTTL)
		if _, err := f.svc.ResetPassword(ctx, Reset{Addr: "127.0.0.5", Token: l2.Token.Reveal(), Password: "reset password 3"}); !errors.Is(err, ErrLinkInvalid) {
			t.Fatalf("a reset link after 24 h: %v", err)
		}
		got := auditActions(t, f.st, f.ws)
		if got["password.changed"] != 1 || got["password.reset"] != 1 || got["password.reset_link"] != 3 {
			t.Errorf("audit: %v", got)
		}
	})
}

func TestWorkspacesAndSwitching(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		if _, err := f.svc.CreateWorkspace(ctx, tm.owner, "Nope", "x@acme.test"); !errors.Is(err, ErrForbidden) {
			t.Fatalf("an owner (not the operator) creating a workspace: %v", err)
		}
		if _, err := f.svc.Workspaces(ctx, tm.owner); !errors.Is(err, ErrForbidden) {
			t.Fatalf("an owner listing workspaces: %v", err)
		}
		// Max already signs in here: he is attached as the owner at once.
		nw, err := f.svc.CreateWorkspace(ctx, tm.admin, "Ops", "MAX@acme.test")
		if err != nil || nw.Owner == nil || nw.Invite != nil || nw.Owner.Role != RoleOwner {
			t.Fatalf("CreateWorkspace for max: %+v, %v", nw, err)
		}
		// A new person is invited as its owner.
		nw2, err := f.svc.CreateWorkspace(ctx, tm.admin, "Sales", "sue@acme.test")
		if err != nil || nw2.Invite == nil || nw2.Invite.Invitation.Role != RoleOwner || nw2.Invite.Invitation.WorkspaceID != nw2.Workspace.ID {
			t.Fatalf("CreateWorkspace for sue: %+v, %v", nw2, err)
		}
		list, err := f.svc.Workspaces(ctx, tm.admin)
		if err != nil || len(list) != 3 {
			t.Fatalf("Workspaces = %+v, %v", list, err)
		}
		ms, err := f.svc.Memberships(ctx, tm.memberSession.Session)
		if err != nil || len(ms) != 2 || !ms[0].Current || ms[1].Workspace.ID != nw.Workspace.ID || ms[1].Role != RoleOwner {
			t.Fatalf("Memberships = %+v, %v", ms, err)
		}
		in, err := f.svc.SwitchWorkspace(ctx, tm.memberSession.Value.Reveal(), nw.Workspace.ID)
		if err != nil || in.Session.Actor.WorkspaceID != nw.Workspace.ID || in.Session.Actor.Role != RoleOwner {
			t.Fatalf("switch: %+v, %v", in.Session.Actor, err)
		}
		if _, err := f.svc.Session(ctx, tm.memberSession.Value.Reveal()); !errors.Is(err, ErrNoSession) {
			t.Fatalf("the old session after a switch: %v", err)
		}
		if _, err := f.svc.SwitchWorkspace(ctx, in.Value.Reveal(), nw2.Workspace.ID); !errors.Is(err, ErrNoUser) {
			t.Fatalf("switching to a workspace max does not belong to: %v", err)
		}
		// Olive, an owner here, resets max's password here and uses the
		// link herself: she becomes max here, and only here.
		l, err := f.svc.PasswordResetLink(ctx, tm.owner, tm.member.UserID)
		if err != nil {
			t.Fatal(err)
		}
		stolen, err := f.svc.ResetPassword(ctx, Reset{Addr: "127.0.0.8", Token: l.Token.Reveal(), Password: "olive knows this"})
		if err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.svc.Memberships(ctx, stolen.Session); len(ms) != 1 {
			t.Fatalf("after a reset here, max's memberships seen from here: %+v", ms)
		}
		if _, err := f.svc.SwitchWorkspace(ctx, stolen.Value.Reveal(), nw.Workspace.ID); !errors.Is(err, ErrNoUser) {
			t.Fatalf("a reset password reached max's other workspace: %v", err)
		}
		// Nor can she invite sue's email to Ops and take it without sue's
		// password, once sue has joined Sales.
		if _, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.9", Token: nw2.Invite.Token.Reveal(), Name: "Sue", Password: "sue's own password"}); err != nil {
			t.Fatal(err)
		}
		opsOwner := Actor{WorkspaceID: nw.Workspace.ID, UserID: nw.Owner.ID, Role: RoleOwner}
		inv, err := f.svc.Invite(ctx, opsOwner, "sue@acme.test", RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.10", Token: inv.Token.Reveal(), Password: "not sue's password"}); !errors.Is(err, ErrExistingPassword) {
			t.Fatalf("joining as an email that signs in elsewhere without its password: %v", err)
		}
		joined, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.11", Token: inv.Token.Reveal(), Password: "sue's own password"})
		if err != nil {
			t.Fatal(err)
		}
		if ms, _ := f.svc.Memberships(ctx, joined.Session); len(ms) != 2 {
			t.Fatalf("sue's memberships: %+v", ms)
		}
	})
}

// Nothing reaches into another workspace: ids of this one, used by an
// owner of another, are not found there.
func TestMembersCrossWorkspace(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		nw, err := f.svc.CreateWorkspace(ctx, tm.admin, "Other", "zed@acme.test")
		if err != nil {
			t.Fatal(err)
		}
		zed, err := f.svc.AcceptInvitation(ctx, Accept{Addr: "127.0.0.1", Token: nw.Invite.Token.Reveal(), Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		z := zed.Session.Actor
		l, err := f.svc.Invite(ctx, tm.owner, "pending@acme.test", RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"change role":   get(f.svc.ChangeRole(ctx, z, tm.member.UserID, RoleViewer)),
			"remove":        f.svc.RemoveMember(ctx, z, tm.member.UserID),
			"reset link":    get(f.svc.PasswordResetLink(ctx, z, tm.member.UserID)),
			"revoke":        f.svc.RevokeInvitation(ctx, z, l.Invitation.ID),
			"resend":        get(f.svc.ResendInvitation(ctx, z, l.Invitation.ID)),
			"switch to it ": get(f.svc.SwitchWorkspace(ctx, zed.Value.Reveal(), f.ws)),
		} {
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s across workspaces: %v, want not found", name, err)
			}
		}
		if ms, _ := f.svc.Members(ctx, z); len(ms) != 1 || ms[0].ID != z.UserID {
			t.Errorf("the other workspace's members: %+v", ms)
		}
		if u, _ := f.st.GetUser(ctx, f.ws, tm.member.UserID); u.Role != RoleMember.store() {
			t.Errorf("the member's role is %s", u.Role)
		}
	})
}

func (r Role) store() store.Role { return store.Role(r) }

func get[T any](_ T, err error) error { return err }

// Opening a good link does not use up attempts; bad links do.
func TestLookUpLinkLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		l, err := f.svc.Invite(ctx, tm.owner, "new@acme.test", RoleMember)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 10; i++ {
			if o, err := f.svc.LookUpLink(ctx, "127.0.0.20", l.Token.Reveal(), LinkInvite); err != nil || o.Email != "new@acme.test" {
				t.Fatalf("look-up %d: %+v, %v", i, o, err)
			}
		}
		for i := 0; i < 5; i++ {
			if _, err := f.svc.LookUpLink(ctx, "127.0.0.21", "bad", LinkInvite); !errors.Is(err, ErrLinkInvalid) {
				t.Fatalf("bad look-up %d: %v", i, err)
			}
		}
		if _, err := f.svc.LookUpLink(ctx, "127.0.0.21", "bad", LinkInvite); !errors.Is(err, ErrTooManyLinkAttempts) {
			t.Fatalf("sixth bad look-up: %v", err)
		}
		if _, err := f.svc.LookUpLink(ctx, "127.0.0.21", l.Token.Reveal(), LinkPasswordReset); !errors.Is(err, ErrTooManyLinkAttempts) {
			t.Fatalf("an invitation looked up as a reset link, after the limit: %v", err)
		}
	})
}

// TestPasswordChangeEndsSessions: whoever knew the old password may be
// signed in elsewhere. A change ends the member's other sessions, keeping
// the one it was made in; a reset ends them all. Others' sessions stay.
func TestPasswordChangeEndsSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		tm := newTeam(t, f)
		signIn := func(addr, email, p string) SignedIn {
			t.Helper()
			in, err := f.svc.SignIn(ctx, SignInInput{Addr: addr, Email: email, Password: p})
			if err != nil {
				t.Fatalf("sign in %s from %s: %v", email, addr, err)
			}
			return in
		}
		live := func(in SignedIn) bool {
			_, err := f.svc.Session(ctx, in.Value.Reveal())
			if err != nil && !errors.Is(err, ErrNoSession) {
				t.Fatal(err)
			}
			return err == nil
		}
		here := signIn("127.0.0.11", "max@acme.test", pw)
		laptop := signIn("127.0.0.12", "max@acme.test", pw)
		owner := signIn("127.0.0.13", "olive@acme.test", pw)

		const newPW = "a new long password"
		if err := f.svc.ChangePassword(ctx, tm.member, pw, newPW, here.Session.Key); err != nil {
			t.Fatal(err)
		}
		if !live(here) || live(laptop) || !live(owner) {
			t.Fatalf("after a change: this session %v (want live), the other %v (want ended), the owner's %v (want live)", live(here), live(laptop), live(owner))
		}

		again := signIn("127.0.0.14", "max@acme.test", newPW)
		l, err := f.svc.PasswordResetLink(ctx, tm.owner, tm.member.UserID)
		if err != nil {
			t.Fatal(err)
		}
		reset, err := f.svc.ResetPassword(ctx, Reset{Addr: "127.0.0.15", Token: l.Token.Reveal(), Password: "the reset password"})
		if err != nil {
			t.Fatal(err)
		}
		if live(here) || live(again) || !live(reset) || !live(owner) {
			t.Fatalf("after a reset: old sessions %v %v (want ended), the reset's %v, the owner's %v (want live)", live(here), live(again), live(reset), live(owner))
		}
	})
}
