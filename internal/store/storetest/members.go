package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var memberTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ListUsersAndByEmail", testListUsersAndByEmail},
	{"UpdateUser", testUpdateUser},
	{"UpdateUserConcurrent", testUpdateUserConcurrent},
	{"LastOwner", testLastOwner},
	{"LastOwnerConcurrent", testLastOwnerConcurrent},
	{"DeleteUser", testDeleteUser},
	{"ReassignAccounts", testReassignAccounts},
	{"Invitations", testInvitations},
	{"InvitationUsedOnce", testInvitationUsedOnce},
}

func mustUser(t *testing.T, s store.Store, ws, id, email string, role store.Role, hash string, minute int) store.User {
	t.Helper()
	u := store.User{ID: id, WorkspaceID: ws, Email: email, Name: id, Role: role, PasswordHash: hash, CreatedAt: at(minute)}
	must(t, "CreateUser "+id, s.CreateUser(t.Context(), u))
	return u
}

func userIDs(us []store.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

func testListUsersAndByEmail(t *testing.T, s store.Store) {
	ctx := t.Context()
	// wsp_b is the older workspace, so its membership comes first.
	must(t, "CreateWorkspace", s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_a", Name: "A", CreatedAt: at(10)}))
	must(t, "CreateWorkspace", s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_b", Name: "B", CreatedAt: at(1)}))
	mustUser(t, s, "wsp_a", "usr_2", "ann@x.io", store.RoleOwner, "h", 2)
	mustUser(t, s, "wsp_a", "usr_1", "bo@x.io", store.RoleMember, "", 1)
	mustUser(t, s, "wsp_b", "usr_3", "ann@x.io", store.RoleViewer, "h2", 3)

	list, err := s.ListUsers(ctx, "wsp_a")
	must(t, "ListUsers", err)
	if got := userIDs(list); !slices.Equal(got, []string{"usr_1", "usr_2"}) {
		t.Errorf("ListUsers(wsp_a) = %v, want usr_1, usr_2 (oldest first, wsp_a only)", got)
	}
	byEmail, err := s.UsersByEmail(ctx, "ann@x.io")
	must(t, "UsersByEmail", err)
	if got := userIDs(byEmail); !slices.Equal(got, []string{"usr_3", "usr_2"}) {
		t.Errorf("UsersByEmail = %v, want usr_3 (older workspace) then usr_2", got)
	}
	if byEmail[0].Role != store.RoleViewer || byEmail[0].PasswordHash != "h2" {
		t.Errorf("UsersByEmail[0] = %+v", byEmail[0])
	}
	none, err := s.UsersByEmail(ctx, "nobody@x.io")
	must(t, "UsersByEmail nobody", err)
	if len(none) != 0 {
		t.Errorf("UsersByEmail nobody = %v", none)
	}
}

func testUpdateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustUser(t, s, "wsp_1", "usr_o", "o@x.io", store.RoleOwner, "ho", 1)
	u := mustUser(t, s, "wsp_1", "usr_m", "m@x.io", store.RoleMember, "hm", 2)

	got, err := s.UpdateUser(ctx, "wsp_1", "usr_m", func(old store.User) (store.User, error) {
		if old.Role != store.RoleMember || old.PasswordHash != "hm" {
			t.Errorf("fn saw %+v", old)
		}
		old.Role, old.Name, old.PasswordHash = store.RoleAdmin, "Em", "hm2"
		// Identity fields cannot change.
		old.ID, old.WorkspaceID, old.Email, old.CreatedAt = "usr_x", "wsp_2", "x@x.io", at(99)
		return old, nil
	})
	must(t, "UpdateUser", err)
	want := u
	want.Role, want.Name, want.PasswordHash = store.RoleAdmin, "Em", "hm2"
	for what, g := range map[string]store.User{"returned": got, "read back": ok(s.GetUser(ctx, "wsp_1", "usr_m"))} {
		sameTime(t, what+" CreatedAt", g.CreatedAt, want.CreatedAt)
		g.CreatedAt = want.CreatedAt
		if g != want {
			t.Errorf("UpdateUser %s = %+v, want %+v", what, g, want)
		}
	}

	boom := errors.New("boom")
	_, err = s.UpdateUser(ctx, "wsp_1", "usr_m", func(old store.User) (store.User, error) {
		old.Role = store.RoleViewer
		return old, boom
	})
	wantErr(t, "UpdateUser fn error", err, boom)
	if g := ok(s.GetUser(ctx, "wsp_1", "usr_m")); g.Role != store.RoleAdmin {
		t.Errorf("fn error wrote role %s", g.Role)
	}
	_, err = s.UpdateUser(ctx, "wsp_2", "usr_m", func(old store.User) (store.User, error) { return old, nil })
	wantErr(t, "UpdateUser from another workspace", err, store.ErrNotFound)
	_, err = s.UpdateUser(ctx, "wsp_1", "usr_none", func(old store.User) (store.User, error) { return old, nil })
	wantErr(t, "UpdateUser missing", err, store.ErrNotFound)
}

// ok returns v; a read that fails panics, which fails the test.
func ok[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func testUpdateUserConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustUser(t, s, "wsp_1", "usr_m", "m@x.io", store.RoleMember, "", 1)
	const n = 20
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateUser(ctx, "wsp_1", "usr_m", func(old store.User) (store.User, error) {
				old.Name += "x"
				return old, nil
			})
			if err != nil {
				t.Errorf("UpdateUser: %v", err)
			}
		}()
	}
	wg.Wait()
	if g := ok(s.GetUser(ctx, "wsp_1", "usr_m")); len(g.Name) != len("usr_m")+n {
		t.Errorf("after %d concurrent appends the name is %q: updates were lost", n, g.Name)
	}
}

func testLastOwner(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	// The passwordless owner (the admin token's principal) does not count:
	// nobody signs in as it.
	mustUser(t, s, "wsp_1", "usr_admin", "admin@localhost", store.RoleOwner, "", 0)
	mustUser(t, s, "wsp_1", "usr_o", "o@x.io", store.RoleOwner, "ho", 1)
	mustUser(t, s, "wsp_1", "usr_m", "m@x.io", store.RoleMember, "hm", 2)
	mustUser(t, s, "wsp_2", "usr_o2", "o@x.io", store.RoleOwner, "ho", 1)

	demote := func(old store.User) (store.User, error) { old.Role = store.RoleAdmin; return old, nil }
	_, err := s.UpdateUser(ctx, "wsp_1", "usr_o", demote)
	wantErr(t, "demote the last owner", err, store.ErrLastOwner)
	wantErr(t, "delete the last owner", s.DeleteUser(ctx, "wsp_1", "usr_o"), store.ErrLastOwner)
	if g := ok(s.GetUser(ctx, "wsp_1", "usr_o")); g.Role != store.RoleOwner {
		t.Errorf("refused demotion left role %s", g.Role)
	}
	// Demoting a member, or the owner once there is another, is fine.
	must(t, "demote a member", get(s.UpdateUser(ctx, "wsp_1", "usr_m", func(old store.User) (store.User, error) { old.Role = store.RoleViewer; return old, nil })))
	must(t, "promote", get(s.UpdateUser(ctx, "wsp_1", "usr_m", func(old store.User) (store.User, error) { old.Role = store.RoleOwner; return old, nil })))
	must(t, "demote the owner, another remains", get(s.UpdateUser(ctx, "wsp_1", "usr_o", demote)))
	// Another workspace's owner is no help.
	_, err = s.UpdateUser(ctx, "wsp_2", "usr_o2", demote)
	wantErr(t, "demote wsp_2's only owner", err, store.ErrLastOwner)
}

func testLastOwnerConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	ids := []string{"usr_a", "usr_b", "usr_c", "usr_d"}
	for i, id := range ids {
		mustUser(t, s, "wsp_1", id, id+"@x.io", store.RoleOwner, "h", i)
	}
	// Every owner demotes or removes themselves at once: one must remain.
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i%2 == 0 {
				err = s.DeleteUser(ctx, "wsp_1", id)
			} else {
				_, err = s.UpdateUser(ctx, "wsp_1", id, func(old store.User) (store.User, error) { old.Role = store.RoleMember; return old, nil })
			}
			if err != nil && !errors.Is(err, store.ErrLastOwner) {
				t.Errorf("%s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	list := ok(s.ListUsers(ctx, "wsp_1"))
	owners := 0
	for _, u := range list {
		if u.Role == store.RoleOwner {
			owners++
		}
	}
	if owners != 1 {
		t.Errorf("%d owners remain after they all stepped down at once, want 1: %+v", owners, list)
	}
}

func testDeleteUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustUser(t, s, "wsp_1", "usr_o", "o@x.io", store.RoleOwner, "h", 1)
	mustUser(t, s, "wsp_1", "usr_m", "m@x.io", store.RoleMember, "h", 2)
	mustUser(t, s, "wsp_2", "usr_m2", "m@x.io", store.RoleMember, "h", 2)
	for i, u := range []store.User{{ID: "usr_m", WorkspaceID: "wsp_1"}, {ID: "usr_m2", WorkspaceID: "wsp_2"}, {ID: "usr_o", WorkspaceID: "wsp_1"}} {
		must(t, "CreateSession", s.CreateSession(ctx, store.Session{Hash: hash(byte(i)), WorkspaceID: u.WorkspaceID, UserID: u.ID, CreatedAt: t0, ExpiresAt: at(60)}))
		must(t, "CreateAPIToken", s.CreateAPIToken(ctx, store.APIToken{ID: fmt.Sprint("tok_", i), WorkspaceID: u.WorkspaceID, UserID: u.ID, Hash: hash(byte(10 + i)), CreatedAt: t0}))
	}
	wantErr(t, "DeleteUser from another workspace", s.DeleteUser(ctx, "wsp_2", "usr_m"), store.ErrNotFound)
	must(t, "DeleteUser", s.DeleteUser(ctx, "wsp_1", "usr_m"))
	wantErr(t, "GetUser after delete", get(s.GetUser(ctx, "wsp_1", "usr_m")), store.ErrNotFound)
	wantErr(t, "their session", get(s.GetSession(ctx, hash(0), t0)), store.ErrNotFound)
	wantErr(t, "their token", get(s.APITokenByHash(ctx, hash(10))), store.ErrNotFound)
	// The same email in another workspace, and other users, keep theirs.
	must(t, "other workspace's session", get(s.GetSession(ctx, hash(1), t0)))
	must(t, "other workspace's token", get(s.APITokenByHash(ctx, hash(11))))
	must(t, "owner's session", get(s.GetSession(ctx, hash(2), t0)))
	must(t, "owner's token", get(s.APITokenByHash(ctx, hash(12))))
	wantErr(t, "DeleteUser twice", s.DeleteUser(ctx, "wsp_1", "usr_m"), store.ErrNotFound)
}

func testReassignAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mustAccount(t, s, newAccount("wsp_1", "acc_1", "usr_m", "slack"))
	mustAccount(t, s, newAccount("wsp_1", "acc_2", "usr_m", "github"))
	mustAccount(t, s, newAccount("wsp_1", "acc_3", "usr_x", "slack"))
	// Ids are per workspace in the store's eyes; the same owner id in
	// another workspace is not moved.
	mustAccount(t, s, newAccount("wsp_2", "acc_4", "usr_m", "slack"))

	moved, err := s.ReassignAccounts(ctx, "wsp_1", "usr_m", "usr_o")
	must(t, "ReassignAccounts", err)
	if !slices.Equal(moved, []string{"acc_1", "acc_2"}) {
		t.Errorf("moved %v, want acc_1, acc_2", moved)
	}
	for id, owner := range map[string]string{"acc_1": "usr_o", "acc_2": "usr_o", "acc_3": "usr_x"} {
		if a := ok(s.GetAccount(ctx, "wsp_1", id)); a.OwnerID != owner {
			t.Errorf("%s owner = %s, want %s", id, a.OwnerID, owner)
		}
	}
	if a := ok(s.GetAccount(ctx, "wsp_2", "acc_4")); a.OwnerID != "usr_m" {
		t.Errorf("another workspace's account moved to %s", a.OwnerID)
	}
	moved, err = s.ReassignAccounts(ctx, "wsp_1", "usr_m", "usr_o")
	must(t, "ReassignAccounts again", err)
	if len(moved) != 0 {
		t.Errorf("second reassign moved %v", moved)
	}
}

func testInvitations(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	inv := store.Invitation{ID: "inv_1", WorkspaceID: "wsp_1", Kind: store.KindInvite, Email: "n@x.io", Role: store.RoleViewer,
		TokenHash: hash(1), CreatedBy: "usr_o", CreatedAt: at(1), ExpiresAt: at(60)}
	reset := store.Invitation{ID: "inv_2", WorkspaceID: "wsp_1", Kind: store.KindPasswordReset, Email: "m@x.io", Role: store.RoleMember,
		UserID: "usr_m", TokenHash: hash(2), CreatedBy: "usr_o", CreatedAt: at(2), ExpiresAt: at(30)}
	must(t, "CreateInvitation", s.CreateInvitation(ctx, inv))
	must(t, "CreateInvitation reset", s.CreateInvitation(ctx, reset))
	dup := inv
	dup.ID = "inv_3"
	wantErr(t, "CreateInvitation same hash", s.CreateInvitation(ctx, dup), store.ErrConflict)

	same := func(what string, got, want store.Invitation) {
		t.Helper()
		sameTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
		sameTime(t, what+" ExpiresAt", got.ExpiresAt, want.ExpiresAt)
		samePtr(t, what+" UsedAt", got.UsedAt, want.UsedAt)
		if got.ID != want.ID || got.WorkspaceID != want.WorkspaceID || got.Kind != want.Kind || got.Email != want.Email ||
			got.Role != want.Role || got.UserID != want.UserID || !bytes.Equal(got.TokenHash, want.TokenHash) || got.CreatedBy != want.CreatedBy {
			t.Errorf("%s = %+v, want %+v", what, got, want)
		}
	}
	same("GetInvitation", ok(s.GetInvitation(ctx, "wsp_1", "inv_1")), inv)
	same("InvitationByHash", ok(s.InvitationByHash(ctx, hash(2))), reset)
	wantErr(t, "GetInvitation from another workspace", get(s.GetInvitation(ctx, "wsp_2", "inv_1")), store.ErrNotFound)
	wantErr(t, "InvitationByHash unknown", get(s.InvitationByHash(ctx, hash(9))), store.ErrNotFound)

	list := ok(s.ListInvitations(ctx, "wsp_1", store.KindInvite))
	if len(list) != 1 || list[0].ID != "inv_1" {
		t.Errorf("ListInvitations invite = %+v, want inv_1 only", list)
	}
	if l := ok(s.ListInvitations(ctx, "wsp_2", store.KindInvite)); len(l) != 0 {
		t.Errorf("another workspace lists %+v", l)
	}

	// Resend: a new hash and expiry; the old hash no longer finds it.
	got, err := s.UpdateInvitation(ctx, "wsp_1", "inv_1", func(old store.Invitation) (store.Invitation, error) {
		old.TokenHash, old.ExpiresAt, old.Role = hash(3), at(120), store.RoleMember
		old.Email, old.WorkspaceID, old.Kind = "evil@x.io", "wsp_2", store.KindPasswordReset
		return old, nil
	})
	must(t, "UpdateInvitation", err)
	want := inv
	want.TokenHash, want.ExpiresAt, want.Role = hash(3), at(120), store.RoleMember
	same("UpdateInvitation returned", got, want)
	same("UpdateInvitation read back", ok(s.InvitationByHash(ctx, hash(3))), want)
	wantErr(t, "old hash after resend", get(s.InvitationByHash(ctx, hash(1))), store.ErrNotFound)
	_, err = s.UpdateInvitation(ctx, "wsp_2", "inv_1", func(old store.Invitation) (store.Invitation, error) { return old, nil })
	wantErr(t, "UpdateInvitation from another workspace", err, store.ErrNotFound)

	// A used link leaves the list.
	must(t, "use", get(s.UpdateInvitation(ctx, "wsp_1", "inv_1", func(old store.Invitation) (store.Invitation, error) {
		old.UsedAt = ptr(at(5))
		return old, nil
	})))
	if l := ok(s.ListInvitations(ctx, "wsp_1", store.KindInvite)); len(l) != 0 {
		t.Errorf("a used invitation is still listed: %+v", l)
	}

	wantErr(t, "DeleteInvitation from another workspace", s.DeleteInvitation(ctx, "wsp_2", "inv_2"), store.ErrNotFound)
	must(t, "DeleteInvitation", s.DeleteInvitation(ctx, "wsp_1", "inv_2"))
	wantErr(t, "after delete", get(s.InvitationByHash(ctx, hash(2))), store.ErrNotFound)
}

// Many acceptances of one link at once: exactly one uses it.
func testInvitationUsedOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	must(t, "CreateInvitation", s.CreateInvitation(ctx, store.Invitation{ID: "inv_1", WorkspaceID: "wsp_1", Kind: store.KindInvite,
		Email: "n@x.io", Role: store.RoleMember, TokenHash: hash(1), CreatedAt: t0, ExpiresAt: at(60)}))
	used := errors.New("used")
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.UpdateInvitation(ctx, "wsp_1", "inv_1", func(old store.Invitation) (store.Invitation, error) {
				if old.UsedAt != nil {
					return old, used
				}
				old.UsedAt = ptr(at(1))
				return old, nil
			})
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, used):
				t.Errorf("UpdateInvitation: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of 20 concurrent acceptances used the link, want 1", wins)
	}
}
