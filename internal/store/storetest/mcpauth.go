package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var mcpAuthTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"MCPClients", testMCPClients},
	{"MCPGrants", testMCPGrants},
	{"MCPTokens", testMCPTokens},
	{"MCPTokenDeactivateConcurrent", testMCPTokenDeactivateConcurrent},
	{"DeleteExpiredMCPTokens", testDeleteExpiredMCPTokens},
	{"DeleteUnusedMCPClients", testDeleteUnusedMCPClients},
}

func mcpClient(t *testing.T, s store.Store, id string) store.MCPClient {
	t.Helper()
	c := store.MCPClient{ID: id, Name: "Claude", RedirectURIs: []string{"https://claude.test/cb", "http://127.0.0.1/cb"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, CreatedAt: t0}
	must(t, "CreateMCPClient", s.CreateMCPClient(t.Context(), c))
	return c
}

func mcpGrant(t *testing.T, s store.Store, id, workspaceID, userID, clientID string, minute int) store.MCPGrant {
	t.Helper()
	g := store.MCPGrant{ID: id, WorkspaceID: workspaceID, UserID: userID, ClientID: clientID, RedirectURI: "https://claude.test/cb",
		Scopes: []string{"actions:run"}, Resource: "https://lk.test/mcp", CreatedAt: at(minute)}
	must(t, "CreateMCPGrant "+id, s.CreateMCPGrant(t.Context(), g))
	return g
}

// A client reads back as registered; an id taken is a conflict.
func testMCPClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	want := mcpClient(t, s, "mcc_1")
	got, err := s.GetMCPClient(ctx, "mcc_1")
	must(t, "GetMCPClient", err)
	if got.Name != want.Name || !slices.Equal(got.RedirectURIs, want.RedirectURIs) || !slices.Equal(got.GrantTypes, want.GrantTypes) {
		t.Errorf("GetMCPClient = %+v, want %+v", got, want)
	}
	sameTime(t, "CreatedAt", got.CreatedAt, t0)
	wantErr(t, "CreateMCPClient again", s.CreateMCPClient(ctx, want), store.ErrConflict)
	_, err = s.GetMCPClient(ctx, "mcc_none")
	wantErr(t, "GetMCPClient none", err, store.ErrNotFound)
}

// Grants list per user and workspace, newest first, with the client's
// name; deleting one takes its tokens and only the owner may.
func testMCPGrants(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mustWorkspace(t, s, "wsp_2")
	mcpClient(t, s, "mcc_1")
	mcpGrant(t, s, "mcg_1", "wsp_1", "usr_a", "mcc_1", 1)
	mcpGrant(t, s, "mcg_2", "wsp_1", "usr_a", "mcc_1", 2)
	mcpGrant(t, s, "mcg_3", "wsp_1", "usr_b", "mcc_1", 3)
	mcpGrant(t, s, "mcg_4", "wsp_2", "usr_a", "mcc_1", 4)
	list, err := s.ListMCPGrants(ctx, "wsp_1", "usr_a")
	must(t, "ListMCPGrants", err)
	var ids []string
	for _, g := range list {
		ids = append(ids, g.ID)
		if g.ClientName != "Claude" || g.Resource != "https://lk.test/mcp" || !slices.Equal(g.Scopes, []string{"actions:run"}) {
			t.Errorf("grant %+v", g)
		}
	}
	if !slices.Equal(ids, []string{"mcg_2", "mcg_1"}) {
		t.Errorf("ListMCPGrants = %v, want [mcg_2 mcg_1]", ids)
	}
	wantErr(t, "CreateMCPGrant again", s.CreateMCPGrant(ctx, list[0]), store.ErrConflict)

	tok := store.MCPToken{Kind: store.MCPAccessToken, Signature: "sig_1", GrantID: "mcg_1", Active: true, Request: []byte(`{}`), ExpiresAt: at(60)}
	must(t, "CreateMCPToken", s.CreateMCPToken(ctx, tok))
	// Another user, another workspace: not theirs to delete.
	wantErr(t, "DeleteMCPGrant by b", s.DeleteMCPGrant(ctx, "wsp_1", "usr_b", "mcg_1"), store.ErrNotFound)
	wantErr(t, "DeleteMCPGrant in wsp_2", s.DeleteMCPGrant(ctx, "wsp_2", "usr_a", "mcg_1"), store.ErrNotFound)
	if _, err := s.GetMCPToken(ctx, store.MCPAccessToken, "sig_1"); err != nil {
		t.Fatalf("the token went with a refused delete: %v", err)
	}
	must(t, "DeleteMCPGrant", s.DeleteMCPGrant(ctx, "wsp_1", "usr_a", "mcg_1"))
	_, err = s.GetMCPToken(ctx, store.MCPAccessToken, "sig_1")
	wantErr(t, "the grant's token", err, store.ErrNotFound)
	_, err = s.GetMCPGrant(ctx, "mcg_1")
	wantErr(t, "GetMCPGrant deleted", err, store.ErrNotFound)
	wantErr(t, "DeleteMCPGrant again", s.DeleteMCPGrant(ctx, "wsp_1", "usr_a", "mcg_1"), store.ErrNotFound)
}

// Tokens read back by kind and signature; deactivating and deleting act
// on one row or on the grant's rows of a kind.
func testMCPTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mcpClient(t, s, "mcc_1")
	mcpGrant(t, s, "mcg_1", "wsp_1", "usr_a", "mcc_1", 1)
	for _, tok := range []store.MCPToken{
		{Kind: store.MCPAuthorizeCode, Signature: "s1", GrantID: "mcg_1", Active: true, Request: []byte(`{"a":1}`), ExpiresAt: at(10)},
		{Kind: store.MCPRefreshToken, Signature: "s1", GrantID: "mcg_1", Active: true, Request: []byte(`{"r":1}`), ExpiresAt: at(100)},
		{Kind: store.MCPRefreshToken, Signature: "s2", GrantID: "mcg_1", Active: true, Request: []byte(`{"r":2}`), ExpiresAt: at(100)},
		{Kind: store.MCPAccessToken, Signature: "s3", GrantID: "mcg_1", Active: true, Request: []byte(`{}`), ExpiresAt: at(60)},
	} {
		must(t, "CreateMCPToken", s.CreateMCPToken(ctx, tok))
	}
	wantErr(t, "CreateMCPToken again", s.CreateMCPToken(ctx, store.MCPToken{Kind: store.MCPAuthorizeCode, Signature: "s1", GrantID: "mcg_1", Request: []byte(`{}`)}), store.ErrConflict)
	got, err := s.GetMCPToken(ctx, store.MCPAuthorizeCode, "s1")
	must(t, "GetMCPToken", err)
	if got.GrantID != "mcg_1" || !got.Active || string(got.Request) != `{"a":1}` {
		t.Errorf("GetMCPToken = %+v", got)
	}
	sameTime(t, "ExpiresAt", got.ExpiresAt, at(10))

	ok, err := s.DeactivateMCPToken(ctx, store.MCPAuthorizeCode, "s1")
	must(t, "DeactivateMCPToken", err)
	if !ok {
		t.Error("DeactivateMCPToken of an active code reported false")
	}
	if ok, _ := s.DeactivateMCPToken(ctx, store.MCPAuthorizeCode, "s1"); ok {
		t.Error("DeactivateMCPToken of a used code reported true")
	}
	if ok, _ := s.DeactivateMCPToken(ctx, store.MCPAuthorizeCode, "none"); ok {
		t.Error("DeactivateMCPToken of no row reported true")
	}
	if r, _ := s.GetMCPToken(ctx, store.MCPRefreshToken, "s1"); !r.Active {
		t.Error("deactivating the code deactivated the refresh token of the same signature")
	}
	must(t, "DeactivateMCPTokens", s.DeactivateMCPTokens(ctx, store.MCPRefreshToken, "mcg_1"))
	for _, sig := range []string{"s1", "s2"} {
		if r, _ := s.GetMCPToken(ctx, store.MCPRefreshToken, sig); r.Active {
			t.Errorf("refresh %s still active", sig)
		}
	}
	must(t, "DeleteMCPTokens", s.DeleteMCPTokens(ctx, store.MCPAccessToken, "mcg_1"))
	_, err = s.GetMCPToken(ctx, store.MCPAccessToken, "s3")
	wantErr(t, "deleted access token", err, store.ErrNotFound)
	must(t, "DeleteMCPToken", s.DeleteMCPToken(ctx, store.MCPRefreshToken, "s2"))
	must(t, "DeleteMCPToken again", s.DeleteMCPToken(ctx, store.MCPRefreshToken, "s2"))
	_, err = s.GetMCPToken(ctx, store.MCPRefreshToken, "s2")
	wantErr(t, "deleted refresh token", err, store.ErrNotFound)
}

// Of many concurrent uses of one refresh token, exactly one wins.
func testMCPTokenDeactivateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mcpClient(t, s, "mcc_1")
	mcpGrant(t, s, "mcg_1", "wsp_1", "usr_a", "mcc_1", 1)
	must(t, "CreateMCPToken", s.CreateMCPToken(ctx, store.MCPToken{Kind: store.MCPRefreshToken, Signature: "r", GrantID: "mcg_1", Active: true, Request: []byte(`{}`), ExpiresAt: at(100)}))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Go(func() {
			ok, err := s.DeactivateMCPToken(ctx, store.MCPRefreshToken, "r")
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d uses won, want 1", wins)
	}
}

// Expired rows go; a grant with no row left goes once it is old enough.
func testDeleteExpiredMCPTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	mcpClient(t, s, "mcc_1")
	mcpGrant(t, s, "mcg_old", "wsp_1", "usr_a", "mcc_1", 1)
	mcpGrant(t, s, "mcg_live", "wsp_1", "usr_a", "mcc_1", 2)
	mcpGrant(t, s, "mcg_new", "wsp_1", "usr_a", "mcc_1", 50)
	must(t, "code", s.CreateMCPToken(ctx, store.MCPToken{Kind: store.MCPAuthorizeCode, Signature: "c", GrantID: "mcg_old", Request: []byte(`{}`), ExpiresAt: at(10)}))
	must(t, "refresh", s.CreateMCPToken(ctx, store.MCPToken{Kind: store.MCPRefreshToken, Signature: "r", GrantID: "mcg_live", Active: true, Request: []byte(`{}`), ExpiresAt: at(1000)}))
	n, err := s.DeleteExpiredMCPTokens(ctx, at(20))
	must(t, "DeleteExpiredMCPTokens", err)
	if n != 2 {
		t.Errorf("deleted %d rows, want the code and its grant", n)
	}
	list, err := s.ListMCPGrants(ctx, "wsp_1", "usr_a")
	must(t, "ListMCPGrants", err)
	var ids []string
	for _, g := range list {
		ids = append(ids, g.ID)
	}
	if !slices.Equal(ids, []string{"mcg_new", "mcg_live"}) {
		t.Errorf("grants left: %v, want [mcg_new mcg_live]", ids)
	}
	if _, err := s.GetMCPToken(ctx, store.MCPRefreshToken, "r"); err != nil {
		t.Errorf("the live refresh token went: %v", err)
	}
}

// A client goes once it is old enough and no grant names it; one a grant
// names stays however old, and so does a new one with no grant yet.
func testDeleteUnusedMCPClients(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "wsp_1")
	for id, minute := range map[string]int{"mcc_old": 1, "mcc_granted": 1, "mcc_new": 50} {
		c := store.MCPClient{ID: id, Name: "Claude", RedirectURIs: []string{"https://claude.test/cb"},
			GrantTypes: []string{"authorization_code"}, CreatedAt: at(minute)}
		must(t, "CreateMCPClient", s.CreateMCPClient(ctx, c))
	}
	mcpGrant(t, s, "mcg_1", "wsp_1", "usr_a", "mcc_granted", 2)
	n, err := s.DeleteUnusedMCPClients(ctx, at(20))
	must(t, "DeleteUnusedMCPClients", err)
	if n != 1 {
		t.Errorf("deleted %d clients, want 1", n)
	}
	if _, err := s.GetMCPClient(ctx, "mcc_old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the unused old client: %v, want ErrNotFound", err)
	}
	for _, id := range []string{"mcc_granted", "mcc_new"} {
		if _, err := s.GetMCPClient(ctx, id); err != nil {
			t.Errorf("%s went: %v", id, err)
		}
	}
	if _, err := s.GetMCPGrant(ctx, "mcg_1"); err != nil {
		t.Errorf("the grant went: %v", err)
	}
}
