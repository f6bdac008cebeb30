package server_test

import (
	"net/http"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestMCPOAuthTokenRateLimit: an MCP client's OAuth access tokens are
// limited per grant as an API token is, and answered the same way over
// the limit: 429 with Retry-After, not a 401 that would send the client
// to sign in again. A refreshed token is of the same grant and gets no
// new burst; another grant is not held back. The limit is lowered (a
// burst of 3, one more an hour) so that no test sends a thousand
// requests and none depends on timing.
func TestMCPOAuthTokenRateLimit(t *testing.T) {
	f := startMCPWith(t, servertest.Backends[0], server.Options{MCPTokenRate: rate.Every(time.Hour), MCPTokenBurst: 3})
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	ben := addUser(t, f.Instance, "ben@acme.test", store.RoleMember)
	agent := registerAgent(t, f.URL)
	access, refreshTok := handTokens(t, f, agent, mia)
	benAccess, _ := handTokens(t, f, agent, ben)
	initialize := func(token string) *http.Response { return mcpInitialize(t, f.URL, token) }
	for i := range 3 {
		if resp := initialize(access); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d", i+1, resp.StatusCode)
		}
	}
	resp := initialize(access)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("past the burst: %d, Retry-After %q, WWW-Authenticate %q; want 429 with Retry-After and no challenge",
			resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("WWW-Authenticate"))
	}
	out, status := refresh(t, f.URL, agent.clientID, refreshTok, "")
	fresh, _ := out["access_token"].(string)
	if status != http.StatusOK || fresh == "" {
		t.Fatalf("refreshing: %d %v", status, out)
	}
	if resp := initialize(fresh); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a refreshed token of the same grant: %d, want 429", resp.StatusCode)
	}
	if resp := initialize(benAccess); resp.StatusCode != http.StatusOK {
		t.Errorf("another grant: %d, want 200", resp.StatusCode)
	}
}
