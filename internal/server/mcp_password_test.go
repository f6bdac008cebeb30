package server_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestMCPPasswordReset: someone who knew a member's old password may have
// consented an MCP client with it, and its refresh token outlives any
// session. A password change (whoever makes it knows the password) keeps
// the member's grants; a reset through a reset link ends every one of
// them: the access token gets 401 at /mcp, the refresh token is refused,
// and the audit log says why. Another member's grant is not touched.
func TestMCPPasswordReset(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	ctx := context.Background()
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	ben := addUser(t, f.Instance, "ben@acme.test", store.RoleMember)
	tokenOf := func(u webUser) (access, refreshToken, clientID string) {
		t.Helper()
		_, h, _ := oauthAgent(t, f.Instance, u)
		ts, err := h.TokenSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		grants, err := u.api.ListMCPGrants(ctx)
		if err != nil || len(grants) != 1 {
			t.Fatalf("%s's grants: %+v, %v", u.Email, grants, err)
		}
		return tok.AccessToken, tok.RefreshToken, grants[0].ClientID
	}
	access, refreshToken, clientID := tokenOf(mia)
	benAccess, _, _ := tokenOf(ben)

	if err := mia.api.ChangePassword(ctx, client.ChangePassword{CurrentPassword: mia.password, NewPassword: "a changed password"}); err != nil {
		t.Fatal(err)
	}
	if status := mcpStatus(t, f.URL, access); status != http.StatusOK {
		t.Fatalf("after a password change, the MCP token at /mcp: %d, want 200", status)
	}

	link, err := f.api.PasswordReset(ctx, mia.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := memberBrowser(t, f.Instance).PostForm(link.URL, url.Values{"password": {"a reset password"}, "confirm": {"a reset password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.HasPrefix(resp.Request.URL.Path, "/reset/") {
		t.Fatalf("resetting through the link: %d at %s", resp.StatusCode, resp.Request.URL.Path)
	}

	if status := mcpStatus(t, f.URL, access); status != http.StatusUnauthorized {
		t.Errorf("after a reset, the old MCP access token at /mcp: %d, want 401", status)
	}
	if _, status := refresh(t, f.URL, clientID, refreshToken, ""); status != http.StatusBadRequest {
		t.Errorf("after a reset, the old refresh token: %d, want 400", status)
	}
	if left, _ := mia.api.ListMCPGrants(ctx); len(left) != 0 {
		t.Errorf("grants after the reset: %+v", left)
	}
	if status := mcpStatus(t, f.URL, benAccess); status != http.StatusOK {
		t.Errorf("another member's MCP token after mia's reset: %d, want 200", status)
	}
	var revoked, reset bool
	for _, e := range allEvents(t, f.api, client.AuditQuery{}) {
		switch {
		case e.Action == "mcp_client.revoked" && e.ActorID == mia.ID && e.Detail["reason"] == "password.reset":
			revoked = true
		case e.Action == "password.reset" && e.ActorID == mia.ID && e.Detail["mcp_grants_revoked"] == "1":
			reset = true
		}
	}
	if !revoked || !reset {
		t.Errorf("audit log: the grant's revocation for the reset %v, the reset counting it %v", revoked, reset)
	}
}
