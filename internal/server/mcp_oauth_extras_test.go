package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// inspectorOrigin is the origin of a web page with an MCP client in it,
// as a browser sends it.
const inspectorOrigin = "http://127.0.0.1:6274"

// corsRequest sends a request from inspectorOrigin and returns the answer.
func corsRequest(t *testing.T, method, u, contentType, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", inspectorOrigin)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestMCPOAuthCORS: a browser lets a page on another origin read the
// metadata and call registration, token and revocation, preflight
// first; it lets it read none of /oauth2/authorize, which the browser
// navigates to, nor of /mcp.
func TestMCPOAuthCORS(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	form := "application/x-www-form-urlencoded"
	for _, tc := range []struct {
		method, path, contentType, body string
		status                          int
	}{
		{"GET", "/.well-known/oauth-protected-resource", "", "", http.StatusOK},
		{"GET", "/.well-known/oauth-protected-resource/mcp", "", "", http.StatusOK},
		{"GET", "/.well-known/oauth-authorization-server", "", "", http.StatusOK},
		{"POST", "/oauth2/register", "application/json", `{"redirect_uris":["` + agentRedirect + `"]}`, http.StatusCreated},
		// The browser shows the page an error only with the header too.
		{"POST", "/oauth2/token", form, "grant_type=refresh_token&refresh_token=x&client_id=nobody", http.StatusUnauthorized},
		{"POST", "/oauth2/revoke", form, "token=x&client_id=nobody", http.StatusUnauthorized},
	} {
		pre := corsRequest(t, http.MethodOptions, f.URL+tc.path, "", "", map[string]string{
			"Access-Control-Request-Method": tc.method, "Access-Control-Request-Headers": "content-type,mcp-protocol-version"})
		allowHeaders := strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers"))
		if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), tc.method) ||
			!strings.Contains(allowHeaders, "content-type") || !strings.Contains(allowHeaders, "mcp-protocol-version") ||
			pre.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("preflight of %s %s: %d %v", tc.method, tc.path, pre.StatusCode, pre.Header)
		}
		resp := corsRequest(t, tc.method, f.URL+tc.path, tc.contentType, tc.body, map[string]string{"MCP-Protocol-Version": "2025-06-18"})
		if resp.StatusCode != tc.status || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("%s %s from another origin: %d, Allow-Origin %q, Allow-Credentials %q", tc.method, tc.path, resp.StatusCode,
				resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Credentials"))
		}
	}
	for _, path := range []string{"/oauth2/authorize", "/mcp"} {
		for _, method := range []string{http.MethodOptions, http.MethodGet, http.MethodPost} {
			resp := corsRequest(t, method, f.URL+path, "", "", map[string]string{"Access-Control-Request-Method": "POST"})
			if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
				t.Errorf("%s %s answers another origin: Allow-Origin %q", method, path, h)
			}
		}
	}
}

// handTokens has u consent to a and exchanges the code.
func handTokens(t *testing.T, f mcpFixture, a handAgent, u webUser) (access, refreshTok string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	_, back := consent(t, memberBrowser(t, f.Instance), f.Instance, u, a.authorizeURL(verifier, "state-hand", nil), "allow")
	out, status := postTokenForm(t, f.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
		"client_id": {a.clientID}, "redirect_uri": {agentRedirect}, "code_verifier": {verifier}, "resource": {a.resource}})
	access, _ = out["access_token"].(string)
	refreshTok, _ = out["refresh_token"].(string)
	if status != http.StatusOK || access == "" || refreshTok == "" {
		t.Fatalf("exchanging the code: %d %v", status, out)
	}
	return access, refreshTok
}

// TestMCPTokenRevocation: a client revokes its access or its refresh
// token (RFC 7009) and the grant's tokens stop working, the grant leaves
// the member's list and the workspace's audit log says so; another
// client, of a member of another workspace, revokes nothing of it; a
// token that is no token is a 200 that changes nothing.
func TestMCPTokenRevocation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMCP(t, b)
		ctx := context.Background()
		mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		eve := otherWorkspaceUser(t, f.Instance, "eve@other.test")
		agent, other := registerAgent(t, f.URL), registerAgent(t, f.URL)
		revoke := func(clientID, token, hint string) (map[string]any, int) {
			form := url.Values{"client_id": {clientID}, "token": {token}}
			if hint != "" {
				form.Set("token_type_hint", hint)
			}
			return postTokenForm(t, f.URL+"/oauth2/revoke", form)
		}
		tokens := func(a handAgent, u webUser) (access, refreshTok string) { return handTokens(t, f, a, u) }

		access, refreshTok := tokens(agent, mia)
		eveAccess, _ := tokens(other, eve)
		// Another client's tokens, garbage and a missing token revoke
		// nothing; an unknown client is refused.
		for name, tc := range map[string]struct {
			clientID, token string
			status          int
		}{
			"another client's refresh token": {other.clientID, refreshTok, http.StatusOK},
			"another client's access token":  {other.clientID, access, http.StatusOK},
			"garbage":                        {agent.clientID, "ory_rt_not.a-token", http.StatusOK},
			"no token":                       {agent.clientID, "", http.StatusBadRequest},
			"an unknown client":              {"mcc_nobody", refreshTok, http.StatusUnauthorized},
		} {
			if out, status := revoke(tc.clientID, tc.token, ""); status != tc.status {
				t.Errorf("%s: %d %v, want %d", name, status, out, tc.status)
			}
		}
		if st := mcpStatus(t, f.URL, access); st != http.StatusOK {
			t.Fatalf("after the others' revocations, the access token: %d", st)
		}
		grants, err := mia.api.ListMCPGrants(ctx)
		if err != nil || len(grants) != 1 {
			t.Fatalf("grants after the others' revocations: %+v %v", grants, err)
		}
		// The refresh token still works: it rotates.
		next, status := refresh(t, f.URL, agent.clientID, refreshTok, "")
		access, _ = next["access_token"].(string)
		refreshTok, _ = next["refresh_token"].(string)
		if status != http.StatusOK || access == "" {
			t.Fatalf("refreshing after the others' revocations: %d %v", status, next)
		}

		// Revoking the access token ends the refresh token too.
		if out, status := revoke(agent.clientID, access, "access_token"); status != http.StatusOK {
			t.Fatalf("revoking the access token: %d %v", status, out)
		}
		if st := mcpStatus(t, f.URL, access); st != http.StatusUnauthorized {
			t.Errorf("a revoked access token at /mcp: %d, want 401", st)
		}
		if out, status := refresh(t, f.URL, agent.clientID, refreshTok, ""); status != http.StatusBadRequest {
			t.Errorf("the refresh token of a revoked access token: %d %v, want 400", status, out)
		}
		if left, _ := mia.api.ListMCPGrants(ctx); len(left) != 0 {
			t.Errorf("grants after the client revoked its token: %+v", left)
		}

		// Revoking a refresh token ends its access tokens, those of the
		// refresh before it too; revoking it again changes nothing.
		first, refreshTok := tokens(agent, mia)
		next, _ = refresh(t, f.URL, agent.clientID, refreshTok, "")
		access, _ = next["access_token"].(string)
		refreshTok, _ = next["refresh_token"].(string)
		for range 2 {
			if out, status := revoke(agent.clientID, refreshTok, ""); status != http.StatusOK {
				t.Fatalf("revoking the refresh token: %d %v", status, out)
			}
		}
		for _, tok := range []string{first, access} {
			if st := mcpStatus(t, f.URL, tok); st != http.StatusUnauthorized {
				t.Errorf("an access token of a revoked refresh token at /mcp: %d, want 401", st)
			}
		}
		if out, status := refresh(t, f.URL, agent.clientID, refreshTok, ""); status != http.StatusBadRequest {
			t.Errorf("a revoked refresh token: %d %v, want 400", status, out)
		}
		if st := mcpStatus(t, f.URL, eveAccess); st != http.StatusOK {
			t.Errorf("the other client's token after these revocations: %d", st)
		}

		// Two revocations, each the member's, in their workspace's log.
		var revoked []client.AuditEvent
		for _, e := range allEvents(t, f.api, client.AuditQuery{}) {
			if e.Action == "mcp_client.token_revoked" {
				revoked = append(revoked, e)
			}
		}
		if len(revoked) != 2 {
			t.Fatalf("%d mcp_client.token_revoked events, want 2: %+v", len(revoked), revoked)
		}
		types := map[string]bool{}
		for _, e := range revoked {
			if e.ActorID != mia.ID || e.Detail["client_id"] != agent.clientID || e.Detail["grant_id"] == "" {
				t.Errorf("event: actor %s, detail %v", e.ActorID, e.Detail)
			}
			types[e.Detail["token_type"]] = true
		}
		if !types["access_token"] || !types["refresh_token"] {
			t.Errorf("the events' token types: %v", types)
		}
		assertNoSecrets(t, f.Logs.String(), "ory_at_", "ory_rt_", "ory_ac_")
	})
}

// TestMCPAuthorizationIss: every answer at the client's redirect URI, a
// code, a denial or a refusal, names the issuer (RFC 9207), as the
// metadata says it does.
func TestMCPAuthorizationIss(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	agent := registerAgent(t, f.URL)
	var meta struct {
		Iss        bool   `json:"authorization_response_iss_parameter_supported"`
		Revocation string `json:"revocation_endpoint"`
	}
	getJSON(t, f.URL+"/.well-known/oauth-authorization-server", &meta)
	if !meta.Iss || meta.Revocation != f.URL+"/oauth2/revoke" {
		t.Errorf("metadata: %+v", meta)
	}
	b := memberBrowser(t, f.Instance)
	verifier := oauth2.GenerateVerifier()
	check := func(name string, back *url.URL, wantError string) {
		t.Helper()
		q := back.Query()
		if q.Get("iss") != f.URL || q.Get("error") != wantError || (wantError == "") == (q.Get("code") == "") || q.Get("state") != "state-iss" {
			t.Errorf("%s came back as %v", name, back)
		}
	}
	_, back := consent(t, b, f.Instance, mia, agent.authorizeURL(verifier, "state-iss", nil), "allow")
	check("allowed", back, "")
	_, back = consent(t, b, f.Instance, mia, agent.authorizeURL(verifier, "state-iss", nil), "deny")
	check("denied", back, "access_denied")
	for name, tc := range map[string]struct {
		extra map[string]string
		want  string
	}{
		"no PKCE":         {map[string]string{"code_challenge": ""}, "invalid_request"},
		"unknown scope":   {map[string]string{"scope": "members:write"}, "invalid_scope"},
		"a fragment mode": {map[string]string{"response_mode": "fragment"}, "unsupported_response_mode"},
	} {
		resp, err := b.Get(agent.authorizeURL(verifier, "state-iss", tc.extra))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil || loc.Fragment != "" {
			t.Errorf("%s: %d, Location %v", name, resp.StatusCode, loc)
			continue
		}
		check(name, loc, tc.want)
	}
}

// TestMCPRegistrationLimitIPv6: the registration limit counts an IPv6
// peer by its /64, as the API's failed-token limit does, since one host
// commonly holds the whole /64: new addresses in it get no new burst,
// while another /64 is not held back. The requests go to the handler in
// the process, so no address outside loopback is dialled.
func TestMCPRegistrationLimitIPv6(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	register := func(remote string) int {
		req := httptest.NewRequest("POST", f.URL+"/oauth2/register", strings.NewReader(`{"redirect_uris":["https://agent.example/cb"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = remote
		w := httptest.NewRecorder()
		f.Instance.Handler().ServeHTTP(w, req)
		return w.Code
	}
	var limited bool
	for i := range 20 {
		if code := register(fmt.Sprintf("[2001:db8:1:2::%x]:4000", i+1)); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("20 registrations from 20 addresses of one /64 were not limited")
	}
	if code := register("[2001:db8:1:3::1]:4000"); code != http.StatusCreated {
		t.Errorf("another /64 was limited too: %d", code)
	}
}
