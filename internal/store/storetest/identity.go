package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

func testWorkspaces(t *testing.T, s store.Store) {
	ctx := t.Context()

	_, err := s.FirstWorkspace(ctx)
	wantErr(t, "FirstWorkspace on a fresh install", err, store.ErrNotFound)

	// Created out of order: FirstWorkspace goes by CreatedAt, not by insertion.
	later := store.Workspace{ID: "wsp_b", Name: "Later", CreatedAt: at(10)}
	first := store.Workspace{ID: "wsp_c", Name: "First", CreatedAt: at(-10).In(time.FixedZone("X", 5*3600))}
	must(t, "CreateWorkspace later", s.CreateWorkspace(ctx, later))
	must(t, "CreateWorkspace first", s.CreateWorkspace(ctx, first))

	got, err := s.GetWorkspace(ctx, "wsp_c")
	must(t, "GetWorkspace", err)
	if got.ID != first.ID || got.Name != first.Name {
		t.Errorf("GetWorkspace = %+v, want %+v", got, first)
	}
	sameTime(t, "GetWorkspace CreatedAt", got.CreatedAt, first.CreatedAt)

	got, err = s.FirstWorkspace(ctx)
	must(t, "FirstWorkspace", err)
	if got.ID != first.ID {
		t.Errorf("FirstWorkspace = %s, want %s", got.ID, first.ID)
	}

	all, err := s.ListWorkspaces(ctx)
	must(t, "ListWorkspaces", err)
	if len(all) != 2 || all[0].ID != first.ID || all[1].ID != later.ID {
		t.Errorf("ListWorkspaces = %+v, want %s then %s", all, first.ID, later.ID)
	}

	_, err = s.GetWorkspace(ctx, "wsp_missing")
	wantErr(t, "GetWorkspace missing", err, store.ErrNotFound)

	err = s.CreateWorkspace(ctx, store.Workspace{ID: "wsp_b", Name: "Again", CreatedAt: t0})
	wantErr(t, "CreateWorkspace duplicate id", err, store.ErrConflict)
	got, err = s.GetWorkspace(ctx, "wsp_b")
	must(t, "GetWorkspace after duplicate", err)
	if got.Name != "Later" {
		t.Errorf("duplicate CreateWorkspace changed the name to %q", got.Name)
	}
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")

	alice := store.User{
		ID: "usr_alice", WorkspaceID: "wsp_1", Email: "alice@acme.com", Name: "Alice",
		Role: store.RoleOwner, PasswordHash: "$argon2id$v=19$abc", CreatedAt: at(1),
	}
	bob := store.User{
		ID: "usr_bob", WorkspaceID: "wsp_1", Email: "bob@acme.com", Name: "Bob",
		Role: store.RoleMember, CreatedAt: at(2),
	}
	must(t, "CreateUser alice", s.CreateUser(ctx, alice))
	must(t, "CreateUser bob", s.CreateUser(ctx, bob))

	check := func(what string, got store.User, err error, want store.User) {
		t.Helper()
		must(t, what, err)
		sameTime(t, what+" CreatedAt", got.CreatedAt, want.CreatedAt)
		got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
		if got != want {
			t.Errorf("%s = %+v, want %+v", what, got, want)
		}
	}
	u, err := s.GetUser(ctx, "wsp_1", "usr_alice")
	check("GetUser alice", u, err, alice)
	u, err = s.GetUserByEmail(ctx, "wsp_1", "bob@acme.com")
	check("GetUserByEmail bob", u, err, bob)

	// The same email in another workspace is another person.
	other := store.User{ID: "usr_alice2", WorkspaceID: "wsp_2", Email: "alice@acme.com", Role: store.RoleOwner, CreatedAt: at(3)}
	must(t, "CreateUser same email in wsp_2", s.CreateUser(ctx, other))
	u, err = s.GetUserByEmail(ctx, "wsp_2", "alice@acme.com")
	check("GetUserByEmail in wsp_2", u, err, other)

	tests := []struct {
		name string
		err  error
		want error
	}{
		{"duplicate id", s.CreateUser(ctx, store.User{ID: "usr_alice", WorkspaceID: "wsp_1", Email: "new@acme.com", Role: store.RoleMember, CreatedAt: t0}), store.ErrConflict},
		{"duplicate email", s.CreateUser(ctx, store.User{ID: "usr_new", WorkspaceID: "wsp_1", Email: "alice@acme.com", Role: store.RoleMember, CreatedAt: t0}), store.ErrConflict},
		{"GetUser in another workspace", get(s.GetUser(ctx, "wsp_2", "usr_alice")), store.ErrNotFound},
		{"GetUser missing", get(s.GetUser(ctx, "wsp_1", "usr_missing")), store.ErrNotFound},
		{"GetUserByEmail in another workspace", get(s.GetUserByEmail(ctx, "wsp_2", "bob@acme.com")), store.ErrNotFound},
		{"GetUserByEmail missing", get(s.GetUserByEmail(ctx, "wsp_1", "carol@acme.com")), store.ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.name, tc.err, tc.want) })
	}

	// Foreign keys are on: a user cannot belong to no workspace.
	err = s.CreateUser(ctx, store.User{ID: "usr_orphan", WorkspaceID: "wsp_missing", Email: "x@y.z", Role: store.RoleMember, CreatedAt: t0})
	if err == nil {
		t.Error("CreateUser in a missing workspace succeeded")
	}
}

// get keeps the error of a two-value call.
func get[T any](_ T, err error) error { return err }

func testAPITokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")

	full := store.APIToken{
		ID: "tok_full", WorkspaceID: "wsp_1", UserID: "usr_alice", Name: "CI",
		Hash:      bytes.Repeat([]byte{0xab, 0x00}, 16),
		Scopes:    []string{"accounts:read", "accounts:write"},
		CreatedAt: at(1), LastUsedAt: ptr(at(2)), ExpiresAt: ptr(at(60 * 24)),
	}
	bare := store.APIToken{
		ID: "tok_bare", WorkspaceID: "wsp_2", UserID: "usr_bob", Name: "",
		Hash: []byte{1, 2, 3}, CreatedAt: at(3),
	}
	must(t, "CreateAPIToken full", s.CreateAPIToken(ctx, full))
	must(t, "CreateAPIToken bare", s.CreateAPIToken(ctx, bare))

	for _, want := range []store.APIToken{full, bare} {
		got, err := s.APITokenByHash(ctx, want.Hash)
		must(t, "APITokenByHash "+want.ID, err)
		if got.ID != want.ID || got.WorkspaceID != want.WorkspaceID || got.UserID != want.UserID ||
			got.Name != want.Name || !bytes.Equal(got.Hash, want.Hash) || !slices.Equal(got.Scopes, want.Scopes) {
			t.Errorf("APITokenByHash = %+v, want %+v", got, want)
		}
		sameTime(t, want.ID+" CreatedAt", got.CreatedAt, want.CreatedAt)
		samePtr(t, want.ID+" LastUsedAt", got.LastUsedAt, want.LastUsedAt)
		samePtr(t, want.ID+" ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	}

	_, err := s.APITokenByHash(ctx, []byte{9, 9, 9})
	wantErr(t, "APITokenByHash unknown", err, store.ErrNotFound)
	// A prefix of a hash is not the hash.
	_, err = s.APITokenByHash(ctx, full.Hash[:4])
	wantErr(t, "APITokenByHash prefix", err, store.ErrNotFound)

	dup := bare
	dup.ID = "tok_other"
	wantErr(t, "CreateAPIToken duplicate hash", s.CreateAPIToken(ctx, dup), store.ErrConflict)
	dup = bare
	dup.Hash = []byte{4, 5, 6}
	wantErr(t, "CreateAPIToken duplicate id", s.CreateAPIToken(ctx, dup), store.ErrConflict)

	wantErr(t, "DeleteAPIToken from another workspace", s.DeleteAPIToken(ctx, "wsp_2", "tok_full"), store.ErrNotFound)
	if _, err := s.APITokenByHash(ctx, full.Hash); err != nil {
		t.Errorf("token gone after another workspace's delete: %v", err)
	}
	must(t, "DeleteAPIToken", s.DeleteAPIToken(ctx, "wsp_1", "tok_full"))
	_, err = s.APITokenByHash(ctx, full.Hash)
	wantErr(t, "APITokenByHash after delete", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIToken twice", s.DeleteAPIToken(ctx, "wsp_1", "tok_full"), store.ErrNotFound)
}

func samePtr(t *testing.T, what string, got, want *time.Time) {
	t.Helper()
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		t.Errorf("%s = %v, want %v", what, got, want)
	default:
		sameTime(t, what, *got, *want)
	}
}
