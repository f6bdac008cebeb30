package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// agentRedirect is where the test's MCP client says it listens; nothing
// does: the browser stops at the redirect and hands its query over.
const agentRedirect = "http://127.0.0.1:9/callback"

// memberBrowser is a browser of u's: a cookie jar, and redirects followed
// only on Latchkey, so that the one to the client's redirect URI comes
// back as it is.
func memberBrowser(t *testing.T, inst *servertest.Instance) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	host := strings.TrimPrefix(inst.URL, "http://")
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host != host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// consent opens the authorize URL in the browser, signing u in when the
// page asks, and answers the consent page with decision. It returns the
// consent page and the redirect back to the client.
func consent(t *testing.T, b *http.Client, inst *servertest.Instance, u webUser, authorizeURL, decision string) (string, *url.URL) {
	t.Helper()
	resp, err := b.Get(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		next := resp.Request.URL.Query().Get("next")
		var status int
		if status, body = signInTo(t, b, inst, u, next); status != http.StatusOK {
			t.Fatalf("signing in: %d\n%s", status, body)
		}
	} else if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorize: %d\n%s", resp.StatusCode, body)
	}
	page := string(body)
	resp, err = b.PostForm(authorizeURL, url.Values{"decision": {decision}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("consent answer: %d %v", resp.StatusCode, err)
	}
	return page, loc
}

func signInTo(t *testing.T, b *http.Client, inst *servertest.Instance, u webUser, next string) (int, []byte) {
	status, body := signIn(t, b, inst, u, next)
	return status, []byte(body)
}

// oauthAgent is the Go SDK's MCP client with its OAuth handler: it
// discovers Latchkey's authorization server from the MCP URL's 401,
// registers, and sends u's browser through sign-in and consent.
func oauthAgent(t *testing.T, inst *servertest.Instance, u webUser) (*mcp.ClientSession, *auth.AuthorizationCodeHandler, *string) {
	t.Helper()
	b := memberBrowser(t, inst)
	var page string
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{agentRedirect}, ClientName: "Test agent", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}},
		RequestRefreshToken: true,
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			var back *url.URL
			page, back = consent(t, b, inst, u, args.URL, "allow")
			// The SDK checks iss against the metadata's issuer (RFC 9207).
			return &auth.AuthorizationResult{Code: back.Query().Get("code"), State: back.Query().Get("state"), Iss: back.Query().Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "oauth-agent", Version: "1"}, nil)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{Endpoint: inst.URL + "/mcp", OAuthHandler: h,
		HTTPClient: &http.Client{Timeout: 30 * time.Second}}, nil)
	if err != nil {
		t.Fatalf("connecting with OAuth: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, h, &page
}

// TestMCPOAuth: an MCP client that knows only the MCP URL discovers the
// authorization server, registers, has the member consent and calls the
// tools as the member; the member sees the grant and revokes it, and the
// client's token stops working.
func TestMCPOAuth(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMCP(t, b)
		ctx := context.Background()
		mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		acc := sharedSlack(t, f)

		cs, h, page := oauthAgent(t, f.Instance, mia)
		for _, want := range []string{"Test agent", "127.0.0.1:9", "actions:run"} {
			if !strings.Contains(*page, want) {
				t.Errorf("the consent page does not say %q", want)
			}
		}
		if names := toolNames(t, cs); !slices.Contains(names, "slack_post_message") {
			t.Fatalf("tools: %v", names)
		}
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: map[string]any{"channel": "C1", "text": "hi", "account_id": acc.ID}})
		if err != nil || res.IsError {
			t.Fatalf("posting as the member: %v %s", err, resultText(res))
		}
		if posts := f.slack.postsMade(); len(posts) != 1 || posts[0].Text != "hi" {
			t.Errorf("Slack got %+v", posts)
		}

		grants, err := mia.api.ListMCPGrants(ctx)
		if err != nil || len(grants) != 1 || grants[0].ClientName != "Test agent" || grants[0].RedirectHost != "127.0.0.1:9" || grants[0].Resource != f.URL+"/mcp" {
			t.Fatalf("grants: %+v, %v", grants, err)
		}
		if other, _ := f.api.ListMCPGrants(ctx); len(other) != 0 {
			t.Errorf("the owner sees the member's grants: %+v", other)
		}
		if err := f.api.RevokeMCPGrant(ctx, grants[0].ID); err == nil {
			t.Error("the owner revoked the member's grant")
		}
		ts, err := h.TokenSource(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		if status := mcpStatus(t, f.URL, tok.AccessToken); status != http.StatusOK {
			t.Fatalf("the access token at /mcp: %d", status)
		}
		if err := mia.api.RevokeMCPGrant(ctx, grants[0].ID); err != nil {
			t.Fatal(err)
		}
		if status := mcpStatus(t, f.URL, tok.AccessToken); status != http.StatusUnauthorized {
			t.Errorf("a revoked grant's token at /mcp: %d, want 401", status)
		}
		if _, status := refresh(t, f.URL, grants[0].ClientID, tok.RefreshToken, ""); status != http.StatusBadRequest {
			t.Errorf("a revoked grant's refresh token: %d, want 400", status)
		}
		if left, _ := mia.api.ListMCPGrants(ctx); len(left) != 0 {
			t.Errorf("grants after revoking: %+v", left)
		}
		// The workspace's audit log has the consent, the token and the
		// revocation, each the member's, and the post through MCP.
		seen := map[string]bool{}
		for _, e := range allEvents(t, f.api, client.AuditQuery{}) {
			if strings.HasPrefix(e.Action, "mcp_client.") || e.Action == "action.run" {
				if e.ActorID != mia.ID || e.Detail["grant_id"] != grants[0].ID && e.TokenID != grants[0].ID {
					t.Errorf("event %s: actor %s, detail %v, token %s", e.Action, e.ActorID, e.Detail, e.TokenID)
				}
				seen[e.Action] = true
			}
		}
		for _, want := range []string{"mcp_client.consented", "mcp_client.token_issued", "mcp_client.revoked", "action.run"} {
			if !seen[want] {
				t.Errorf("no %s event in the audit log (%v)", want, seen)
			}
		}
	})
}

// sharedSlack connects the owner's Slack account and shares it with the
// workspace, for its members to use.
func sharedSlack(t *testing.T, f mcpFixture) client.Account {
	t.Helper()
	acc := f.connectSlack(t, f.api)
	if _, err := f.api.ShareAccount(context.Background(), acc.ID, client.Sharing{Workspace: true}, false); err != nil {
		t.Fatal(err)
	}
	return acc
}

// mcpStatus is the status of an initialize request with the token.
func mcpStatus(t *testing.T, base, token string) int {
	t.Helper()
	return mcpInitialize(t, base, token).StatusCode
}

// mcpInitialize sends an initialize request with the token; the body is
// closed.
func mcpInitialize(t *testing.T, base, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// handAgent is an MCP client driven by hand with golang.org/x/oauth2:
// registered through the registration endpoint, with PKCE.
type handAgent struct {
	cfg      oauth2.Config
	clientID string
	resource string
}

func registerAgent(t *testing.T, base string) handAgent {
	t.Helper()
	var meta struct {
		AuthorizationServers []string `json:"authorization_servers"`
		Resource             string   `json:"resource"`
	}
	getJSON(t, base+"/.well-known/oauth-protected-resource", &meta)
	if len(meta.AuthorizationServers) != 1 || meta.AuthorizationServers[0] != base {
		t.Fatalf("protected-resource metadata names %v", meta.AuthorizationServers)
	}
	var as struct {
		Issuer        string   `json:"issuer"`
		Authorization string   `json:"authorization_endpoint"`
		Token         string   `json:"token_endpoint"`
		Registration  string   `json:"registration_endpoint"`
		Methods       []string `json:"code_challenge_methods_supported"`
	}
	getJSON(t, base+"/.well-known/oauth-authorization-server", &as)
	if as.Issuer != base || !slices.Equal(as.Methods, []string{"S256"}) {
		t.Fatalf("authorization server metadata: %+v", as)
	}
	status, body := postJSON(t, http.DefaultClient, as.Registration, `{"redirect_uris":["`+agentRedirect+`"],"client_name":"Hand agent","token_endpoint_auth_method":"none"}`)
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal([]byte(body), &reg); status != http.StatusCreated || err != nil || reg.ClientID == "" {
		t.Fatalf("registering: %d %s", status, body)
	}
	return handAgent{clientID: reg.ClientID, resource: meta.Resource, cfg: oauth2.Config{
		ClientID: reg.ClientID, RedirectURL: agentRedirect, Scopes: []string{"actions:run", "accounts:read"},
		Endpoint: oauth2.Endpoint{AuthURL: as.Authorization, TokenURL: as.Token, AuthStyle: oauth2.AuthStyleInParams},
	}}
}

// authorizeURL is an authorization request with PKCE and the resource;
// extra replaces or (with an empty value) removes parameters.
func (a handAgent) authorizeURL(verifier, state string, extra map[string]string) string {
	u, _ := url.Parse(a.cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", a.resource)))
	q := u.Query()
	for k, v := range extra {
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func refresh(t *testing.T, base, clientID, refreshToken, resource string) (map[string]any, int) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}, "client_id": {clientID}}
	if resource != "" {
		form.Set("resource", resource)
	}
	return postTokenForm(t, base+"/oauth2/token", form)
}

func postTokenForm(t *testing.T, u string, form url.Values) (map[string]any, int) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out, resp.StatusCode
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

func postJSON(t *testing.T, c *http.Client, u, body string) (int, string) {
	t.Helper()
	resp, err := c.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMCPOAuthRefusals: what the authorization server refuses, and that
// a refusal changes nothing; refresh tokens rotate; a token is good only
// at the MCP URL it was issued for; another workspace's member sees
// nothing of this one.
func TestMCPOAuthRefusals(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	ctx := context.Background()
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	acc := sharedSlack(t, f)
	agent := registerAgent(t, f.URL)
	b := memberBrowser(t, f.Instance)
	if status, body := signIn(t, b, f.Instance, mia, "/"); status != http.StatusOK {
		t.Fatalf("signing in: %d %s", status, body)
	}
	verifier := oauth2.GenerateVerifier()

	// The redirect URI is not the client's: a page for the member, never
	// a redirect there.
	resp, err := b.Get(agent.authorizeURL(verifier, "state-mismatch-1", map[string]string{"redirect_uri": "http://127.0.0.1:9/elsewhere"}))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("a redirect URI mismatch: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for name, tc := range map[string]struct {
		extra map[string]string
		want  string
	}{
		"no PKCE":        {map[string]string{"code_challenge": "", "code_challenge_method": ""}, "invalid_request"},
		"plain PKCE":     {map[string]string{"code_challenge": verifier, "code_challenge_method": "plain"}, "invalid_request"},
		"no resource":    {map[string]string{"resource": ""}, "invalid_target"},
		"other resource": {map[string]string{"resource": "http://127.0.0.1:1/mcp"}, "invalid_target"},
	} {
		resp, err := b.Get(agent.authorizeURL(verifier, "state-"+strings.ReplaceAll(name, " ", "-"), tc.extra))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := resp.Location()
		if loc == nil || !strings.HasPrefix(loc.String(), agentRedirect) || loc.Query().Get("error") != tc.want || loc.Query().Get("code") != "" {
			t.Errorf("%s: %d, Location %v, want error %s", name, resp.StatusCode, loc, tc.want)
		}
	}
	_, back := consent(t, b, f.Instance, mia, agent.authorizeURL(verifier, "state-denied", nil), "deny")
	if back.Query().Get("error") != "access_denied" || back.Query().Get("code") != "" || back.Query().Get("state") != "state-denied" {
		t.Errorf("denied consent came back as %v", back)
	}
	if grants, _ := mia.api.ListMCPGrants(ctx); len(grants) != 0 {
		t.Errorf("refusals left grants: %+v", grants)
	}

	// A code exchanged for another resource is refused, and is still
	// good for this one, once.
	_, back = consent(t, b, f.Instance, mia, agent.authorizeURL(verifier, "state-allowed", nil), "allow")
	code := back.Query().Get("code")
	exchange := func(resource, verifier string) (map[string]any, int) {
		return postTokenForm(t, f.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {agent.clientID},
			"redirect_uri": {agentRedirect}, "code_verifier": {verifier}, "resource": {resource}})
	}
	if out, status := exchange("http://127.0.0.1:1/mcp", verifier); status != http.StatusBadRequest || out["error"] != "invalid_target" {
		t.Errorf("another resource at /token: %d %v", status, out)
	}
	out, status := exchange(agent.resource, verifier)
	access, _ := out["access_token"].(string)
	if status != http.StatusOK || access == "" || out["refresh_token"] == nil {
		t.Fatalf("exchanging the code after the refusal: %d %v", status, out)
	}
	if _, status := exchange(agent.resource, verifier); status != http.StatusBadRequest {
		t.Errorf("a code used twice: %d, want 400", status)
	}
	if st := mcpStatus(t, f.URL, access); st != http.StatusUnauthorized {
		t.Errorf("the access token of a code used twice still works: %d", st)
	}
	// A wrong PKCE verifier is refused, and spends the code (fosite
	// drops the PKCE request before it compares).
	_, back = consent(t, b, f.Instance, mia, agent.authorizeURL(verifier, "state-allowed-2", nil), "allow")
	code = back.Query().Get("code")
	if out, status := exchange(agent.resource, oauth2.GenerateVerifier()); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("a wrong PKCE verifier: %d %v", status, out)
	}
	if _, status := exchange(agent.resource, verifier); status != http.StatusBadRequest {
		t.Errorf("the right verifier after a wrong one: %d, want 400", status)
	}

	// Start again, then refresh: the token rotates, and the old one used
	// again revokes the grant's tokens.
	_, back = consent(t, b, f.Instance, mia, agent.authorizeURL(verifier, "state-allowed-3", nil), "allow")
	code = back.Query().Get("code")
	out, _ = exchange(agent.resource, verifier)
	refreshTok, _ := out["refresh_token"].(string)
	if _, status := refresh(t, f.URL, agent.clientID, refreshTok, "http://127.0.0.1:1/mcp"); status != http.StatusBadRequest {
		t.Errorf("refreshing for another resource: %d, want 400", status)
	}
	next, status := refresh(t, f.URL, agent.clientID, refreshTok, agent.resource)
	newAccess, _ := next["access_token"].(string)
	newRefresh, _ := next["refresh_token"].(string)
	if status != http.StatusOK || newAccess == "" || newRefresh == "" || newRefresh == refreshTok {
		t.Fatalf("refreshing: %d %v", status, next)
	}
	if st := mcpStatus(t, f.URL, newAccess); st != http.StatusOK {
		t.Errorf("the refreshed access token: %d", st)
	}

	// The same store and key behind another URL: a token of this MCP URL
	// is not one of that one's.
	other := servertest.Start(t, f.cfg, server.Options{Store: f.Store()})
	if st := mcpStatus(t, other.URL, newAccess); st != http.StatusUnauthorized {
		t.Errorf("a token for %s/mcp at %s/mcp: %d, want 401", f.URL, other.URL, st)
	}
	if st := mcpStatus(t, f.URL, newAccess); st != http.StatusOK {
		t.Errorf("the token at its own MCP URL: %d", st)
	}

	if _, status := refresh(t, f.URL, agent.clientID, refreshTok, ""); status != http.StatusBadRequest {
		t.Errorf("a rotated refresh token used again: %d, want 400", status)
	}
	if st := mcpStatus(t, f.URL, newAccess); st != http.StatusUnauthorized {
		t.Errorf("after a refresh token's reuse, the grant's access token: %d, want 401", st)
	}
	if _, status := refresh(t, f.URL, agent.clientID, newRefresh, ""); status != http.StatusBadRequest {
		t.Errorf("after a refresh token's reuse, the newer refresh token: %d, want 400", status)
	}

	// A member of another workspace, through the SDK's OAuth client,
	// sees and uses nothing of this one.
	eve := otherWorkspaceUser(t, f.Instance, "eve@other.test")
	cs, _, _ := oauthAgent(t, f.Instance, eve)
	list, err := cs.ListResources(ctx, nil)
	if err != nil || len(list.Resources) != 0 {
		t.Errorf("another workspace's member sees %+v, %v", list, err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: map[string]any{"channel": "C1", "text": "not yours", "account_id": acc.ID}})
	if err != nil || !res.IsError {
		t.Errorf("another workspace's member posted with mia's account: %v %s", err, resultText(res))
	}
	if n := len(f.slack.postsMade()); n != 0 {
		t.Errorf("Slack got %d posts", n)
	}
}

// TestMCPRegistration: registration takes https, or http on a loopback
// host; bad metadata is an RFC 7591 error and registers nothing.
func TestMCPRegistration(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	n := 0
	for name, tc := range map[string]struct {
		body, want string
	}{
		"http elsewhere":   {`{"redirect_uris":["http://agent.example/cb"]}`, "invalid_redirect_uri"},
		"custom scheme":    {`{"redirect_uris":["agent:/cb"]}`, "invalid_redirect_uri"},
		"fragment":         {`{"redirect_uris":["https://agent.example/cb#x"]}`, "invalid_redirect_uri"},
		"none":             {`{"client_name":"x"}`, "invalid_redirect_uri"},
		"client secret":    {`{"redirect_uris":["https://agent.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}`, "invalid_client_metadata"},
		"implicit":         {`{"redirect_uris":["https://agent.example/cb"],"grant_types":["implicit"]}`, "invalid_client_metadata"},
		"unknown scope":    {`{"redirect_uris":["https://agent.example/cb"],"scope":"members:write"}`, "invalid_client_metadata"},
		"not json":         {`redirect_uris=x`, "invalid_client_metadata"},
		"unprintable name": {`{"redirect_uris":["https://agent.example/cb"],"client_name":"a\u0007b"}`, "invalid_client_metadata"},
		// A host the consent page's CSP would read as more than a source.
		"host with ;":         {`{"redirect_uris":["https://agent.example;frame-ancestors/cb"]}`, "invalid_redirect_uri"},
		"host with ,":         {`{"redirect_uris":["https://agent.example,evil.example/cb"]}`, "invalid_redirect_uri"},
		"host with '":         {`{"redirect_uris":["https://agent'.example/cb"]}`, "invalid_redirect_uri"},
		"host with \"":        {`{"redirect_uris":["https://agent\".example/cb"]}`, "invalid_redirect_uri"},
		"host with *":         {`{"redirect_uris":["https://*.agent.example/cb"]}`, "invalid_redirect_uri"},
		"host with escaped ;": {`{"redirect_uris":["https://agent.example%3Bsandbox/cb"]}`, "invalid_redirect_uri"},
		"loopback with ;":     {`{"redirect_uris":["http://127.0.0.1;script-src/cb"]}`, "invalid_redirect_uri"},
	} {
		// Each from its own address, so the table stays under the limit.
		n++
		status, body := postJSON(t, fromAddr(fmt.Sprintf("127.0.4.%d", n)), f.URL+"/oauth2/register", tc.body)
		var e struct{ Error string }
		_ = json.Unmarshal([]byte(body), &e)
		if status != http.StatusBadRequest || e.Error != tc.want {
			t.Errorf("%s: %d %s, want 400 %s", name, status, body, tc.want)
		}
	}
	for _, uri := range []string{"https://agent.example/cb", "http://localhost:3000/cb", "http://[::1]/cb"} {
		if status, body := postJSON(t, fromAddr("127.0.0.5"), f.URL+"/oauth2/register", `{"redirect_uris":["`+uri+`"]}`); status != http.StatusCreated {
			t.Errorf("%s: %d %s", uri, status, body)
		}
	}
	// Registering is limited per address.
	var limited bool
	for range 20 {
		resp, err := fromAddr("127.0.0.3").Post(f.URL+"/oauth2/register", "application/json", strings.NewReader(`{"redirect_uris":["https://agent.example/cb"]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "" {
			limited = true
			break
		}
	}
	if !limited {
		t.Error("20 registrations from one address were not limited")
	}
	if status, _ := postJSON(t, http.DefaultClient, f.URL+"/oauth2/register", `{"redirect_uris":["https://agent.example/cb"]}`); status != http.StatusCreated {
		t.Errorf("another address was limited too: %d", status)
	}
}

// TestMCPGrantsPage: the Tokens page lists the member's MCP clients; a
// member of the workspace and one of another workspace neither see nor
// revoke them; the member revokes one and its token stops working.
func TestMCPGrantsPage(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	ctx := context.Background()
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	bob := addUser(t, f.Instance, "bob@acme.test", store.RoleMember)
	eve := otherWorkspaceUser(t, f.Instance, "eve@other.test")
	_, h, _ := oauthAgent(t, f.Instance, mia)
	grants, err := mia.api.ListMCPGrants(ctx)
	if err != nil || len(grants) != 1 {
		t.Fatalf("grants: %+v %v", grants, err)
	}
	id := grants[0].ID
	ts, _ := h.TokenSource(ctx)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}

	br := browser(t)
	signIn(t, br, f.Instance, mia, "/tokens")
	if code, body := get(t, br, f.URL+"/tokens"); code != http.StatusOK || !strings.Contains(body, `<tr id="`+id+`">`) || !strings.Contains(body, "Test agent") {
		t.Fatalf("mia's tokens page: %d, no row for %s\n%s", code, id, body)
	}
	for name, u := range map[string]webUser{"bob": bob, "eve": eve} {
		other := browser(t)
		signIn(t, other, f.Instance, u, "/tokens")
		if _, body := get(t, other, f.URL+"/tokens"); strings.Contains(body, id) {
			t.Errorf("%s's page lists mia's MCP client", name)
		}
		if code, _ := post(t, other, f.URL+"/tokens/mcp/"+id+"/revoke", url.Values{}); code != http.StatusNotFound {
			t.Errorf("%s revoking mia's MCP client: %d, want 404", name, code)
		}
	}
	if st := mcpStatus(t, f.URL, tok.AccessToken); st != http.StatusOK {
		t.Fatalf("after the others' tries, mia's token: %d", st)
	}
	code, body := post(t, br, f.URL+"/tokens/mcp/"+id+"/revoke", url.Values{})
	if code != http.StatusOK || strings.Contains(body, `<tr id="`+id+`">`) || !strings.Contains(body, "access was revoked") {
		t.Errorf("revoking: %d\n%s", code, body)
	}
	if st := mcpStatus(t, f.URL, tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("a revoked MCP client's token: %d, want 401", st)
	}
}

// TestMCPOAuthRoles: an OAuth token acts with the member's role as it is
// at each request: a viewer is offered and given no actions:run, a member
// demoted to viewer loses it, and a member removed loses the token.
func TestMCPOAuthRoles(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	ctx := context.Background()
	acc := sharedSlack(t, f)
	vic := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	post := map[string]any{"channel": "C1", "text": "hi", "account_id": acc.ID}

	viewer, _, page := oauthAgent(t, f.Instance, vic)
	if strings.Contains(*page, "actions:run") || !strings.Contains(*page, "accounts:read") {
		t.Errorf("a viewer's consent page offers actions:run, or not accounts:read")
	}
	if res, err := viewer.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: post}); err == nil && !res.IsError {
		t.Error("a viewer posted through MCP")
	}

	member, h, _ := oauthAgent(t, f.Instance, mia)
	if res, err := member.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: post}); err != nil || res.IsError {
		t.Fatalf("the member's post: %v %s", err, resultText(res))
	}
	if _, err := f.api.ChangeRole(ctx, mia.ID, "viewer"); err != nil {
		t.Fatal(err)
	}
	if res, err := member.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: post}); err == nil && !res.IsError {
		t.Error("a member demoted to viewer still posts through MCP")
	}
	if n := len(f.slack.postsMade()); n != 1 {
		t.Errorf("Slack got %d posts, want the member's one", n)
	}
	ts, _ := h.TokenSource(ctx)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	grants, err := mia.api.ListMCPGrants(ctx)
	if err != nil || len(grants) != 1 {
		t.Fatalf("grants: %+v %v", grants, err)
	}
	if err := f.api.RemoveMember(ctx, mia.ID); err != nil {
		t.Fatal(err)
	}
	if st := mcpStatus(t, f.URL, tok.AccessToken); st != http.StatusUnauthorized {
		t.Errorf("a removed member's token: %d, want 401", st)
	}
	if out, status := refresh(t, f.URL, grants[0].ClientID, tok.RefreshToken, ""); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Errorf("a removed member's refresh token: %d %v", status, out)
	}
}

// TestMCPOAuthReplicas: two replicas behind one public URL share the
// store and the key: a code issued by one is exchanged at the other, its
// token works at both, and of concurrent refreshes with one refresh
// token, on both, exactly one wins.
func TestMCPOAuthReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMCP(t, b)
		cfg := f.cfg
		cfg.PublicURL = f.URL
		replica := servertest.Start(t, cfg, server.Options{Store: f.Store()})
		mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
		agent := registerAgent(t, f.URL)
		br := memberBrowser(t, f.Instance)
		verifier := oauth2.GenerateVerifier()
		_, back := consent(t, br, f.Instance, mia, agent.authorizeURL(verifier, "state-replica", nil), "allow")
		out, status := postTokenForm(t, replica.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")},
			"client_id": {agent.clientID}, "redirect_uri": {agentRedirect}, "code_verifier": {verifier}, "resource": {agent.resource}})
		access, _ := out["access_token"].(string)
		refreshTok, _ := out["refresh_token"].(string)
		if status != http.StatusOK || access == "" || refreshTok == "" {
			t.Fatalf("the code at the other replica: %d %v", status, out)
		}
		for _, base := range []string{f.URL, replica.URL} {
			if st := mcpStatus(t, base, access); st != http.StatusOK {
				t.Errorf("the token at %s: %d", base, st)
			}
		}
		statuses := make(chan int, 8)
		var wg sync.WaitGroup
		for i := range 8 {
			base := []string{f.URL, replica.URL}[i%2]
			wg.Go(func() {
				_, status := refresh(t, base, agent.clientID, refreshTok, agent.resource)
				statuses <- status
			})
		}
		wg.Wait()
		close(statuses)
		won := 0
		for st := range statuses {
			if st == http.StatusOK {
				won++
			} else if st != http.StatusBadRequest {
				t.Errorf("a refresh that lost: %d, want 400", st)
			}
		}
		if won != 1 {
			t.Errorf("%d of 8 concurrent refreshes with one token won, want 1", won)
		}
	})
}

// A refresh token is not an access token: /mcp refuses it.
func TestMCPRefreshTokenIsNoBearer(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	_, h, _ := oauthAgent(t, f.Instance, mia)
	ts, err := h.TokenSource(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Token()
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("token: %+v %v", tok, err)
	}
	if st := mcpStatus(t, f.URL, tok.AccessToken); st != http.StatusOK {
		t.Fatalf("the access token at /mcp: %d", st)
	}
	if st := mcpStatus(t, f.URL, tok.RefreshToken); st != http.StatusUnauthorized {
		t.Errorf("the refresh token at /mcp: %d, want 401", st)
	}
}
