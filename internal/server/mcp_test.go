package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/config"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// slackQuirks is Slack as far as its OAuth quirks and two methods go.
// Authorization is the in-test authorization server's: the stand-in turns
// Slack's user_scope into scope, and wraps the token answer in Slack's
// authed_user; its API methods accept only an access token the
// authorization server issued.
type slackQuirks struct {
	*httptest.Server
	idp *oauthtest.Server

	mu    sync.Mutex
	posts []slackPost
	seen  []string // every bearer token presented
}

type slackPost struct{ Channel, Text string }

// archivedChannel is a channel the stand-in refuses posts to, 200 with
// "ok": false, as Slack does.
const archivedChannel = "C0ARCHIVED"

func newSlackQuirks(t *testing.T) *slackQuirks {
	s := &slackQuirks{idp: oauthtest.New(t, oauthtest.Options{
		RedirectURIs: []string{"http://127.0.0.1/oauth/callback"},
		Scopes:       []string{"users:read", "chat:write", "channels:read"},
	})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth/v2/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		q.Set("scope", strings.ReplaceAll(q.Get("user_scope"), ",", " "))
		q.Del("user_scope")
		http.Redirect(w, r, s.idp.AuthorizeURL()+"?"+q.Encode(), http.StatusFound)
	})
	mux.HandleFunc("POST /api/oauth.v2.access", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequest(http.MethodPost, s.idp.TokenURL(), bytes.NewReader(body))
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		req.Header.Set("Authorization", r.Header.Get("Authorization"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		var tok map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		if resp.StatusCode != http.StatusOK {
			writeJSONAnswer(w, map[string]any{"ok": false, "error": tok["error"]})
			return
		}
		writeJSONAnswer(w, map[string]any{"ok": true, "app_id": "A0123", "team": map[string]string{"id": "T0123", "name": "Acme"}, "authed_user": tok})
	})
	mux.HandleFunc("POST /api/auth.revoke", func(w http.ResponseWriter, r *http.Request) {
		writeJSONAnswer(w, map[string]any{"ok": true, "revoked": true})
	})
	mux.HandleFunc("/api/auth.test", s.authed(func(w http.ResponseWriter, r *http.Request, user string) {
		writeJSONAnswer(w, map[string]any{"ok": true, "user": user, "team": "Acme", "user_id": "U0123"})
	}))
	mux.HandleFunc("POST /api/chat.postMessage", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		var in struct{ Channel, Text string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Channel == "" {
			writeJSONAnswer(w, map[string]any{"ok": false, "error": "invalid_arguments"})
			return
		}
		if in.Channel == archivedChannel {
			writeJSONAnswer(w, map[string]any{"ok": false, "error": "is_archived"})
			return
		}
		s.mu.Lock()
		s.posts = append(s.posts, slackPost(in))
		s.mu.Unlock()
		writeJSONAnswer(w, map[string]any{"ok": true, "channel": in.Channel, "ts": "1700000000.000100", "message": map[string]string{"text": in.Text}})
	}))
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// authed admits a request whose bearer token the authorization server
// knows, as Slack checks its tokens; Slack answers a bad one with 200 and
// ok:false, and so does this.
func (s *slackQuirks) authed(next func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		s.seen = append(s.seen, tok)
		s.mu.Unlock()
		req, _ := http.NewRequest(http.MethodGet, s.idp.UserinfoURL(), nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			writeJSONAnswer(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		var who struct{ Sub string }
		_ = json.NewDecoder(resp.Body).Decode(&who)
		resp.Body.Close()
		next(w, r, who.Sub)
	}
}

func (s *slackQuirks) postsMade() []slackPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]slackPost(nil), s.posts...)
}

func (s *slackQuirks) tokensSeen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func writeJSONAnswer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

type mcpFixture struct {
	*servertest.Instance
	slack *slackQuirks
	api   *client.Client
	cfg   config.Config
}

// startMCP runs Latchkey with Slack, and the other apps named, sent to
// the stand-in and Slack's OAuth client set.
func startMCP(t *testing.T, b servertest.Backend, also ...string) mcpFixture {
	return startMCPWith(t, b, server.Options{}, also...)
}

// startMCPWith is startMCP with the server's options.
func startMCPWith(t *testing.T, b servertest.Backend, opt server.Options, also ...string) mcpFixture {
	slack := newSlackQuirks(t)
	cfg := servertest.Config(t, b.DatabaseURL(t))
	cfg.AppOrigins = map[string]string{"slack": slack.URL}
	for _, app := range also {
		cfg.AppOrigins[app] = slack.URL
	}
	cfg.RefreshInterval = 0
	inst := servertest.Start(t, cfg, opt)
	api := inst.Client()
	if _, err := api.SetOAuthClient(context.Background(), "slack", client.SetOAuthClient{
		ClientID: slack.idp.ClientID(), ClientSecret: slack.idp.ClientSecret(), Managed: true,
	}); err != nil {
		t.Fatal(err)
	}
	return mcpFixture{Instance: inst, slack: slack, api: api, cfg: cfg}
}

// connectSlack connects a Slack account through the API and the stand-in.
func (f mcpFixture) connectSlack(t *testing.T, api *client.Client) client.Account {
	t.Helper()
	ctx := context.Background()
	started, err := api.Connect(ctx, client.Connect{App: "slack"})
	if err != nil {
		t.Fatal(err)
	}
	status, page, err := servertest.Approve(nil, started.AuthorizeURL, started.OneTimeCode)
	if err != nil || status != http.StatusOK {
		t.Fatalf("approving: %d %v\n%s", status, err, page)
	}
	done, err := api.GetConnection(ctx, started.ID)
	if err != nil || done.AccountID == "" {
		t.Fatalf("connection: %+v, %v", done, err)
	}
	acc, err := api.GetAccount(ctx, done.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects the Go SDK's client to Latchkey's MCP server at
// path (with its query) with the token.
func mcpSession(t *testing.T, base, path, token string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "latchkey-test", Version: "1"}, opts)
	cs, err := c.Connect(context.Background(), &mcp.StreamableClientTransport{
		Endpoint: base + path, HTTPClient: &http.Client{Transport: bearerTransport{token}, Timeout: 30 * time.Second},
	}, nil)
	if err != nil {
		t.Fatalf("connecting to %s: %v", path, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	return names
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func newScopedToken(t *testing.T, api *client.Client, scopes ...string) string {
	t.Helper()
	tok, err := api.CreateToken(context.Background(), client.CreateToken{Name: "agent", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Secret
}

// TestMCPToolCall: an agent lists the tools and posts to Slack with the
// member's account; the stand-in sees the account's token, the agent
// never does.
func TestMCPToolCall(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMCP(t, b)
		ctx := context.Background()
		acc := f.connectSlack(t, f.api)
		agent := newScopedToken(t, f.api, identity.ScopeActionsRun, identity.ScopeAccountsRead)
		cs := mcpSession(t, f.URL, "/mcp", agent, nil)

		names := toolNames(t, cs)
		for _, want := range []string{"slack_post_message", "github_create_issue"} {
			if !contains(names, want) {
				t.Errorf("tools %v lack %s", names, want)
			}
		}
		only := toolNames(t, mcpSession(t, f.URL, "/mcp?apps=slack", agent, nil))
		for _, n := range only {
			if !strings.HasPrefix(n, "slack_") {
				t.Errorf("?apps=slack lists %s", n)
			}
		}

		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: map[string]any{"channel": "C0123456789", "text": "Hello from an agent"}})
		if err != nil {
			t.Fatal(err)
		}
		text := resultText(res)
		if res.IsError || !strings.Contains(text, `"ts":"1700000000.000100"`) {
			t.Fatalf("tool result (error %v): %s", res.IsError, text)
		}
		if posts := f.slack.postsMade(); len(posts) != 1 || posts[0] != (slackPost{"C0123456789", "Hello from an agent"}) {
			t.Errorf("Slack got %+v", posts)
		}
		seen := f.slack.tokensSeen()
		if len(seen) == 0 || seen[len(seen)-1] == "" {
			t.Fatal("the stand-in saw no token")
		}
		for _, tok := range seen {
			if strings.Contains(text, tok) {
				t.Errorf("the tool result holds the account's access token")
			}
		}

		// The accounts are resources, with no credential in them.
		list, err := cs.ListResources(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Resources) != 1 || list.Resources[0].URI != "latchkey://accounts/"+acc.ID {
			t.Fatalf("resources: %+v", list.Resources)
		}
		read, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: list.Resources[0].URI})
		if err != nil {
			t.Fatal(err)
		}
		body := read.Contents[0].Text
		if !strings.Contains(body, `"app":"slack"`) || !strings.Contains(body, `"status":"healthy"`) {
			t.Errorf("account resource: %s", body)
		}
		for _, tok := range seen {
			if strings.Contains(body, tok) {
				t.Errorf("the account resource holds its access token")
			}
		}
		assertNoSecrets(t, f.Logs.String(), seen...)

		// Bad input is the tool's error, and sends nothing.
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: map[string]any{"channel": "C1"}})
		if err != nil {
			t.Fatal(err)
		}
		if !res.IsError || !strings.Contains(resultText(res), "text") {
			t.Errorf("missing text: %v %s", res.IsError, resultText(res))
		}
		if n := len(f.slack.postsMade()); n != 1 {
			t.Errorf("bad input reached Slack: %d posts", n)
		}
	})
}

// TestMCPOthers: another member, another workspace and a viewer cannot
// post with the owner's private account, and nothing reaches Slack.
func TestMCPOthers(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	ctx := context.Background()
	acc := f.connectSlack(t, f.api)
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	viewer := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
	outsider := otherWorkspace(t, f.Instance)
	args := map[string]any{"channel": "C1", "text": "not yours", "account_id": acc.ID}
	for name, api := range map[string]*client.Client{"member": member.api, "viewer": viewer.api, "other workspace": outsider} {
		tok := newScopedToken(t, api, identity.ScopeAccountsRead)
		if name != "viewer" {
			tok = newScopedToken(t, api, identity.ScopeActionsRun, identity.ScopeAccountsRead)
		}
		cs := mcpSession(t, f.URL, "/mcp", tok, nil)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !res.IsError {
			t.Errorf("%s posted with the owner's account: %s", name, resultText(res))
		}
		list, err := cs.ListResources(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Resources) != 0 {
			t.Errorf("%s sees %+v", name, list.Resources)
		}
		if _, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "latchkey://accounts/" + acc.ID}); err == nil {
			t.Errorf("%s read the owner's account", name)
		}
	}
	if n := len(f.slack.postsMade()); n != 0 {
		t.Errorf("Slack got %d posts from callers who may not post", n)
	}

	// A token of the member's may not act for an end user.
	tok := newScopedToken(t, member.api, identity.ScopeActionsRun)
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/mcp?external_user_id=cust-1", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a member's token acting for an end user: %d, want 403", resp.StatusCode)
	}
}

// TestMCPAuthorization: no token or a bad one is a 401 that points to the
// protected-resource metadata, which names the server.
func TestMCPAuthorization(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	for name, authz := range map[string]string{"none": "", "bad": "Bearer lk_not-a-token", "not bearer": "Basic abc"} {
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `resource_metadata="`+f.URL+`/.well-known/oauth-protected-resource"`) {
			t.Errorf("%s: %d, WWW-Authenticate %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	resp, err := http.Get(f.URL + "/.well-known/oauth-protected-resource")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var meta struct {
		Resource string   `json:"resource"`
		Methods  []string `json:"bearer_methods_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || meta.Resource != f.URL+"/mcp" || !contains(meta.Methods, "header") {
		t.Errorf("metadata: %+v, %v", meta, err)
	}
}

// TestMCPConnectFirst: with no Slack account, the call asks the person to
// connect one. A client that supports URL elicitation gets the hosted
// connect page for its end user, and word when the account is there; the
// call then succeeds. A client that does not gets the link as text.
func TestMCPConnectFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startMCP(t, b)
		ctx := context.Background()
		args := map[string]any{"channel": "C0123456789", "text": "Hi from an end user's agent"}

		// A member's agent, with a client that cannot open links.
		agent := newScopedToken(t, f.api, identity.ScopeActionsRun, identity.ScopeAccountsRead)
		res, err := mcpSession(t, f.URL, "/mcp", agent, nil).CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		if !res.IsError || !strings.Contains(resultText(res), f.URL+"/connect/slack") {
			t.Errorf("no account, plain client: %v %s", res.IsError, resultText(res))
		}

		// The product's agent for its end user, with a client that opens links.
		product := newScopedToken(t, f.api, identity.ScopeActionsRun, identity.ScopeAccountsRead, identity.ScopeConnectWrite)
		completed := make(chan string, 1)
		cs := mcpSession(t, f.URL, "/mcp?external_user_id=cust-42", product, &mcp.ClientOptions{
			Capabilities: &mcp.ClientCapabilities{Elicitation: &mcp.ElicitationCapabilities{URL: &mcp.URLElicitationCapabilities{}}},
			ElicitationCompleteHandler: func(_ context.Context, req *mcp.ElicitationCompleteNotificationRequest) {
				completed <- req.Params.ElicitationID
			},
		})
		_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: args})
		var rpcErr *jsonrpc.Error
		if !errors.As(err, &rpcErr) || rpcErr.Code != mcp.CodeURLElicitationRequired {
			t.Fatalf("no account, URL-elicitation client: %v", err)
		}
		var data struct{ Elicitations []mcp.ElicitParams }
		if err := json.Unmarshal(rpcErr.Data, &data); err != nil || len(data.Elicitations) != 1 {
			t.Fatalf("elicitation data %s: %v", rpcErr.Data, err)
		}
		el := data.Elicitations[0]
		link, err := url.Parse(el.URL)
		if err != nil || el.Mode != "url" || !strings.HasPrefix(el.URL, f.URL+"/connect/link?") || el.ElicitationID == "" {
			t.Fatalf("elicitation %+v", el)
		}
		if n := len(f.slack.postsMade()); n != 0 {
			t.Fatalf("Slack got %d posts before any account", n)
		}

		// The end user opens the link, sees the scopes and approves.
		browser := endUserBrowser(t)
		resp, err := browser.Get(el.URL)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "chat:write") {
			t.Fatalf("hosted page %d:\n%s", resp.StatusCode, page)
		}
		resp, err = browser.PostForm(f.URL+"/connect/link", url.Values{"token": {link.Query().Get("token")}, "app": {"slack"}})
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Connected") {
			t.Fatalf("after approving %d:\n%s", resp.StatusCode, page)
		}

		select {
		case id := <-completed:
			if id != el.ElicitationID {
				t.Errorf("completed %s, asked %s", id, el.ElicitationID)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the server never said the connection was done")
		}
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError || !strings.Contains(resultText(res), `"ok":true`) {
			t.Fatalf("after connecting: %v %s", res.IsError, resultText(res))
		}
		page2, err := f.api.ListAccounts(ctx, client.ListOptions{ExternalUserID: "cust-42"})
		if err != nil || len(page2.Data) != 1 || page2.Data[0].App != "slack" {
			t.Fatalf("the end user's accounts: %+v, %v", page2, err)
		}
		if posts := f.slack.postsMade(); len(posts) != 1 || posts[0].Text != "Hi from an end user's agent" {
			t.Errorf("Slack got %+v", posts)
		}
		// The member's own agent still has no Slack account: the end
		// user's is not the member's.
		res, err = mcpSession(t, f.URL, "/mcp", agent, nil).CallTool(ctx, &mcp.CallToolParams{Name: "slack_post_message", Arguments: args})
		if err != nil || !res.IsError {
			t.Errorf("the member's agent used the end user's account: %v %v", err, resultText(res))
		}
	})
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
