package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// seen is one request the stand-in provider got.
type seen struct {
	Method, Path, RawQuery string
	Authorization, Cookie  string
	BodyLen                int64
	BodySHA                string
	At                     time.Time
}

// standIn stands in for SendGrid behind the proxy: it answers the test
// and identity requests, and records everything else it is sent.
type standIn struct {
	*httptest.Server
	mu      sync.Mutex
	got     []seen
	revoked atomic.Bool
	flaky   atomic.Int64
}

func (s *standIn) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.got...)
}

func newStandIn(t *testing.T, redirectTo string) *standIn {
	s := &standIn{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authed := (r.Header.Get("Authorization") == "Bearer "+goodKey || r.Header.Get("X-Api-Key") == goodKey) && !s.revoked.Load()
		switch r.URL.Path {
		case "/v3/scopes", "/v3/user/profile":
			if !authed {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = io.WriteString(w, `{"scopes":["mail.send"],"first_name":"Ada","last_name":"Lovelace"}`)
			return
		}
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		s.mu.Lock()
		s.got = append(s.got, seen{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
			Authorization: r.Header.Get("Authorization"), Cookie: r.Header.Get("Cookie"), BodyLen: n, BodySHA: hex.EncodeToString(h.Sum(nil)), At: time.Now()})
		s.mu.Unlock()
		if !authed {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"message":"authorization required"}]}`)
			return
		}
		switch r.URL.Path {
		case "/v3/flaky":
			if s.flaky.Add(1) == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
		case "/v3/redirect":
			http.Redirect(w, r, redirectTo+"/steal", http.StatusFound)
			return
		case "/v3/huge":
			w.Header().Set("Content-Length", fmt.Sprint(64<<20))
			_, _ = io.WriteString(w, "x")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "provider_session", Value: "s3cr3t"})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery, "bytes": n, "sha256": hex.EncodeToString(h.Sum(nil))})
	}))
	t.Cleanup(s.Close)
	return s
}

// proxyFixture is a server whose sendgrid goes to the stand-in, with a
// shared sendgrid account, and a loopback listener a redirect points at.
type proxyFixture struct {
	fixture
	standIn *standIn
	// elsewhere counts the requests the redirect target gets.
	elsewhere *atomic.Int64
	account   client.Account
}

func startProxy(t *testing.T, b servertest.Backend) proxyFixture {
	t.Helper()
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(target.Close)
	si := newStandIn(t, target.URL)
	cfg := servertest.Config(t, b.DatabaseURL(t))
	// The redirect target is a trusted origin too, so that only the rule
	// "never follow" keeps the request from it, not the address check.
	cfg.AppOrigins = map[string]string{"sendgrid": si.URL, "twilio": target.URL, "keyed": si.URL}
	servertest.WriteApp(t, &cfg, "keyed", keyedApp)
	inst := servertest.Start(t, cfg, server.Options{})
	f := fixture{Instance: inst, api: inst.Client()}
	acc, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Shared: true, Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	return proxyFixture{fixture: f, standIn: si, elsewhere: &hits, account: acc}
}

// keyedApp sends its key in a header of its own, so a caller's
// Authorization header would reach it unless the proxy drops it.
const keyedApp = `slug: keyed
name: Keyed
categories: [developer-tools]
docs_url: https://keyed.example/docs
auth: keys
base_url: https://api.keyed.example/v1
fields:
  - {name: api_key, label: API key, secret: true}
request_auth:
  header: X-Api-Key
  value: '{api_key}'
`

// proxyCall sends a request through the proxy with the token.
func proxyCall(t *testing.T, base, token, method, path string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestProxyGet(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b servertest.Backend) {
		f := startProxy(t, b)
		resp, body := proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+f.account.ID+"/v3/templates?generations=dynamic&page_size=2", nil,
			http.Header{"Cookie": {"latchkey_session=mine"}, "Accept": {"application/json"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET: %d %s", resp.StatusCode, body)
		}
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil || got["path"] != "/v3/templates" || got["query"] != "generations=dynamic&page_size=2" {
			t.Fatalf("answer = %s", body)
		}
		if resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("the provider's cookie was passed on: %q", resp.Header.Get("Set-Cookie"))
		}
		reqs := f.standIn.requests()
		if len(reqs) != 1 {
			t.Fatalf("stand-in got %d requests, want 1", len(reqs))
		}
		// The app's credential went in; the caller's own Authorization
		// (its Latchkey token) and cookie did not.
		if reqs[0].Authorization != "Bearer "+goodKey || reqs[0].Cookie != "" {
			t.Errorf("stand-in saw Authorization %q, Cookie %q", reqs[0].Authorization, reqs[0].Cookie)
		}
		if bytes.Contains(body, []byte(goodKey)) || strings.Contains(fmt.Sprint(resp.Header), goodKey) {
			t.Error("the answer carries the credential")
		}

		// An app whose key goes in a header of its own: the caller's
		// Authorization is dropped, not passed along beside it.
		keyed, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "keyed", Test: ptr(false), Fields: map[string]string{"api_key": goodKey}})
		if err != nil {
			t.Fatal(err)
		}
		resp, body = proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+keyed.ID+"/items", nil,
			http.Header{"Proxy-Authorization": {"Basic bWU6cHc="}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"path":"/v1/items"`) {
			t.Fatalf("keyed GET: %d %s", resp.StatusCode, body)
		}
		reqs = f.standIn.requests()
		if last := reqs[len(reqs)-1]; last.Authorization != "" {
			t.Errorf("the keyed app got the caller's Authorization %q", last.Authorization)
		}

		// The call is audited: method, path, status, duration; no query
		// values, no bodies.
		page, err := f.api.Audit(context.Background(), client.AuditQuery{Action: "proxy.request", Account: f.account.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) != 1 {
			t.Fatalf("%d proxy events, want 1", len(page.Data))
		}
		d := page.Data[0].Detail
		if page.Data[0].AccountID != f.account.ID || d["method"] != "GET" || d["path"] != "/v3/templates" || d["status"] != "200" ||
			d["query_keys"] != "generations,page_size" || d["duration_ms"] == "" {
			t.Errorf("audit event = %+v", page.Data[0])
		}
		if strings.Contains(fmt.Sprint(d), "dynamic") {
			t.Errorf("the audit event holds a query value: %v", d)
		}
	})
}

func TestProxyStreamsLargePost(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	const size = 5 << 20
	payload := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	want := sha256.Sum256(payload)
	// Through a pipe, so the body has no length and is sent chunked: the
	// proxy must stream it, not expect it whole.
	pr, pw := io.Pipe()
	go func() {
		for off := 0; off < len(payload); off += 64 << 10 {
			_, _ = pw.Write(payload[off:min(off+64<<10, len(payload))])
		}
		pw.Close()
	}()
	resp, body := proxyCall(t, f.URL, f.Token, http.MethodPost, "/v1/proxy/"+f.account.ID+"/v3/mail/send", pr, http.Header{"Content-Type": {"application/octet-stream"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	reqs := f.standIn.requests()
	if len(reqs) != 1 || reqs[0].BodyLen != size || reqs[0].BodySHA != hex.EncodeToString(want[:]) || reqs[0].Authorization != "Bearer "+goodKey {
		t.Fatalf("stand-in got %+v, want all %d bytes with the app's auth", reqs, size)
	}
}

func TestProxyRetriesAfter429(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	resp, body := proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+f.account.ID+"/v3/flaky", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET after a 429: %d %s, want the retry's 200", resp.StatusCode, body)
	}
	reqs := f.standIn.requests()
	if len(reqs) != 2 {
		t.Fatalf("stand-in got %d requests, want 2 (the 429, then the retry)", len(reqs))
	}
	if gap := reqs[1].At.Sub(reqs[0].At); gap < 900*time.Millisecond {
		t.Errorf("retried after %v; Retry-After asked for 1 s", gap)
	}
	page, err := f.api.Audit(context.Background(), client.AuditQuery{Action: "proxy.request"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].Detail["attempts"] != "2" || page.Data[0].Detail["status"] != "200" {
		t.Errorf("audit = %+v, want one event of 2 attempts", page.Data)
	}

	// A POST is not retried: the provider's 429 comes back as it is.
	f.standIn.flaky.Store(0)
	resp, _ = proxyCall(t, f.URL, f.Token, http.MethodPost, "/v1/proxy/"+f.account.ID+"/v3/flaky", strings.NewReader("{}"), nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("POST after a 429: %d, Retry-After %q; want the 429 handed back", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestProxyRefusesPathEscapes(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	for _, path := range []string{
		"/../accounts",
		"/v3/../../accounts/" + f.account.ID + "/credentials",
		"/%2e%2e/admin",
		"/v3/%2F%2Fevil.example",
		"/v3%5C..%5Cadmin",
		"/https://evil.example/x",
		"//evil.example/x",
		"/v3/%00",
	} {
		resp, body := proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+f.account.ID+path, nil, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "proxy-path") {
			t.Errorf("%s: %d %s, want 400 proxy-path", path, resp.StatusCode, body)
		}
	}
	if n := len(f.standIn.requests()); n != 0 {
		t.Errorf("the stand-in got %d requests; every escape must be refused before it is sent", n)
	}
	// TRACE would echo the credential back.
	resp, _ := proxyCall(t, f.URL, f.Token, http.MethodTrace, "/v1/proxy/"+f.account.ID+"/v3/x", nil, nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("TRACE: %d, want 405", resp.StatusCode)
	}
}

func TestProxyDoesNotFollowRedirects(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	resp, _ := proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+f.account.ID+"/v3/redirect", nil, nil)
	if resp.StatusCode != http.StatusFound || !strings.HasSuffix(resp.Header.Get("Location"), "/steal") {
		t.Errorf("redirect: %d to %q, want the provider's 302 handed back", resp.StatusCode, resp.Header.Get("Location"))
	}
	if n := f.elsewhere.Load(); n != 0 {
		t.Errorf("the redirect's loopback target got %d requests, want none", n)
	}
}

func TestProxyLimits(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	resp, body := proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+f.account.ID+"/v3/huge", nil, nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "answer-too-large") {
		t.Errorf("huge answer: %d %s, want 502 answer-too-large", resp.StatusCode, body)
	}
	// A body declared past the limit is refused before anything is sent.
	req, _ := http.NewRequest(http.MethodPost, f.URL+"/v1/proxy/"+f.account.ID+"/v3/upload", io.LimitReader(zeros{}, 17<<20))
	req.ContentLength = 17 << 20
	req.Header.Set("Authorization", "Bearer "+f.Token)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("17 MiB body: %d, want 413", resp.StatusCode)
		}
	}
	for _, r := range f.standIn.requests() {
		if r.Path == "/v3/upload" {
			t.Error("the stand-in got the body that is too large")
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestProxyAccess(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	ctx := context.Background()
	private := sendgridVia(t, f, "private")
	member := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	viewer := addUser(t, f.Instance, "vic@acme.test", store.RoleViewer)
	me, err := f.api.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	token := func(scopes []string, accountIDs []string) string {
		t.Helper()
		tok, err := f.api.CreateToken(ctx, client.CreateToken{Name: "t", Scopes: scopes, AccountIDs: accountIDs})
		if err != nil {
			t.Fatal(err)
		}
		return tok.Secret
	}
	secret := func(u webUser) string {
		t.Helper()
		s, _, err := f.Identity().IssueToken(ctx, me.WorkspaceID, u.ID, "t", []string{identity.ScopeAll})
		if err != nil {
			t.Fatal(err)
		}
		return s.Reveal()
	}
	nw, err := f.api.CreateWorkspace(ctx, client.CreateWorkspace{Name: "Other", OwnerEmail: "zed@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	other := join(t, f.Instance, nw.Invitation.URL, "zed's password!")
	otherTok, err := other.api.CreateToken(ctx, client.CreateToken{Name: "t", Scopes: []string{identity.ScopeProxy}})
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name, token, account string
		want                 int
	}{
		{"proxy token", token([]string{identity.ScopeProxy}, nil), f.account.ID, http.StatusOK},
		{"limited to the account", token([]string{identity.ScopeProxy}, []string{f.account.ID}), f.account.ID, http.StatusOK},
		{"no proxy scope", token([]string{identity.ScopeAccountsRead, identity.ScopeCredentialsRead}, nil), f.account.ID, http.StatusForbidden},
		{"limited to another account", token([]string{identity.ScopeProxy}, []string{private.ID}), f.account.ID, http.StatusNotFound},
		{"another user's private account", secret(member), private.ID, http.StatusNotFound},
		{"a viewer", secret(viewer), f.account.ID, http.StatusForbidden},
		{"another workspace", otherTok.Secret, f.account.ID, http.StatusNotFound},
	} {
		before := len(f.standIn.requests())
		resp, body := proxyCall(t, f.URL, tt.token, http.MethodGet, "/v1/proxy/"+tt.account+"/v3/templates", nil, nil)
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if sent := len(f.standIn.requests()) - before; tt.want != http.StatusOK && sent != 0 {
			t.Errorf("%s: the stand-in got %d requests", tt.name, sent)
		}
	}
}

// sendgridVia makes an owner's private sendgrid account on the stand-in.
func sendgridVia(t *testing.T, f proxyFixture, nickname string) client.Account {
	t.Helper()
	acc, err := f.api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Nickname: &nickname, Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestProxyNeedsReconnectAfter401(t *testing.T) {
	f := startProxy(t, servertest.Backends[0])
	f.standIn.revoked.Store(true)
	resp, body := proxyCall(t, f.URL, f.Token, http.MethodGet, "/v1/proxy/"+f.account.ID+"/v3/templates", nil, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "authorization required") {
		t.Fatalf("revoked key: %d %s, want the provider's 401 as it is", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Latchkey-Account-Status"); got != "needs_reconnect" {
		t.Errorf("Latchkey-Account-Status = %q, want needs_reconnect", got)
	}
	acc, err := f.api.GetAccount(context.Background(), f.account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Status != "needs_reconnect" {
		t.Errorf("account status = %q after the app refused its key, want needs_reconnect", acc.Status)
	}
}
