package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

const password = "correct-horse-battery"

// browserClient is an HTTP client that keeps cookies and, like a browser,
// says where its form posts come from.
type browserClient struct {
	*http.Client
	base string
}

func newBrowser(t *testing.T, base string) *browserClient {
	jar, _ := cookiejar.New(nil)
	return &browserClient{Client: &http.Client{Jar: jar}, base: base}
}

func (b *browserClient) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	resp, err := b.Get(b.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browserClient) post(t *testing.T, path string, form url.Values, origin string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin == "" {
		origin = b.base
	}
	req.Header.Set("Origin", origin)
	if origin == b.base {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	} else {
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := b.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func start(t *testing.T) (*servertest.Instance, *browserClient) {
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{})
	return inst, newBrowser(t, inst.URL)
}

func setup(t *testing.T, b *browserClient) {
	t.Helper()
	resp, body := b.post(t, "/setup", url.Values{"email": {"Owner@Acme.test"}, "password": {password}, "confirm": {password}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<h1>Accounts</h1>") {
		t.Fatalf("setup: %d\n%s", resp.StatusCode, body)
	}
}

func TestFirstRunAndSignIn(t *testing.T) {
	_, b := start(t)
	resp, _ := b.get(t, "/")
	if resp.Request.URL.Path != "/setup" {
		t.Fatalf("a fresh install sent the browser to %s", resp.Request.URL.Path)
	}
	for name, form := range map[string]url.Values{
		"bad email":      {"email": {"nope"}, "password": {password}, "confirm": {password}},
		"short password": {"email": {"a@b.test"}, "password": {"short"}, "confirm": {"short"}},
		"mismatch":       {"email": {"a@b.test"}, "password": {password}, "confirm": {password + "x"}},
	} {
		if resp, _ := b.post(t, "/setup", form, ""); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", name, resp.StatusCode)
		}
	}
	setup(t, b)
	// Set-up happens once.
	resp, _ = b.get(t, "/setup")
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("set-up page after set-up: %s", resp.Request.URL.Path)
	}
	if resp, _ := b.post(t, "/logout", nil, ""); resp.Request.URL.Path != "/login" {
		t.Fatal("sign-out did not end at the sign-in page")
	}
	resp, _ = b.get(t, "/")
	if resp.Request.URL.Path != "/login" {
		t.Fatalf("signed out, / went to %s", resp.Request.URL.Path)
	}
	if resp, body := b.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {"wrong-password"}}, ""); resp.StatusCode != 401 || !strings.Contains(body, "wrong") {
		t.Fatalf("wrong password: %d", resp.StatusCode)
	}
	resp, body := b.post(t, "/login", url.Values{"email": {"OWNER@acme.test"}, "password": {password}, "next": {"https://evil.example/"}}, "")
	if resp.Request.URL.Host != strings.TrimPrefix(b.base, "http://") || !strings.Contains(body, "<h1>Accounts</h1>") {
		t.Fatalf("sign-in went to %s", resp.Request.URL)
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	_, b := start(t)
	setup(t, b)
	b.post(t, "/logout", nil, "")
	codes := []int{}
	for i := 0; i < 7; i++ {
		resp, _ := b.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {"wrong-password"}}, "")
		codes = append(codes, resp.StatusCode)
	}
	if codes[0] != 401 || codes[6] != 429 {
		t.Fatalf("statuses %v: want 401 first, 429 once the limit is reached", codes)
	}
	// Even the right password waits.
	if resp, _ := b.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {password}}, ""); resp.StatusCode != 429 {
		t.Fatalf("right password during the lock-out: %d", resp.StatusCode)
	}
}

func TestBrowserSecurity(t *testing.T) {
	inst, b := start(t)
	setup(t, b)
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{
		App: "openai", Nickname: ptr(`<img src=x onerror=alert(1)>`), Fields: map[string]string{"api_key": "sk-x"}, Test: ptr(false),
	})
	if err != nil {
		t.Fatal(err)
	}

	resp, body := b.get(t, "/")
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(body, "<script>") || strings.Contains(body, " style=") || strings.Contains(body, "onclick") {
		t.Error("a page has inline script or style")
	}
	if strings.Contains(body, `<img src=x`) || !strings.Contains(body, `&lt;img src=x onerror=alert(1)&gt;`) {
		t.Error("the nickname is not escaped on the accounts page")
	}
	_, detail := b.get(t, "/accounts/"+acc.ID)
	if strings.Contains(detail, `<img src=x`) {
		t.Error("the nickname is not escaped on the detail page")
	}

	// The jar hides cookie attributes; read the Set-Cookie line of a sign-in.
	lb := newBrowser(t, inst.URL)
	resp, _ = lb.post(t, "/login", url.Values{"email": {"owner@acme.test"}, "password": {password}}, "")
	setCookie := strings.Join(resp.Request.Response.Header.Values("Set-Cookie"), "; ")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "latchkey_session="} {
		if !strings.Contains(setCookie, want) {
			t.Errorf("session cookie %q lacks %s", setCookie, want)
		}
	}

	// A cross-origin form post changes nothing.
	resp, _ = b.post(t, "/accounts/"+acc.ID+"/rename", url.Values{"nickname": {"pwned"}}, "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin rename: %d", resp.StatusCode)
	}
	if got, _ := inst.Client().GetAccount(context.Background(), acc.ID); got.Nickname == "pwned" {
		t.Fatal("a cross-origin post renamed the account")
	}
	// The same post from the page works.
	if resp, _ := b.post(t, "/accounts/"+acc.ID+"/rename", url.Values{"nickname": {"renamed"}}, ""); resp.StatusCode != 200 {
		t.Fatalf("same-origin rename: %d", resp.StatusCode)
	}
	if got, _ := inst.Client().GetAccount(context.Background(), acc.ID); got.Nickname != "renamed" {
		t.Fatalf("rename did not land: %q", got.Nickname)
	}
	// Signed-out browsers reach nothing.
	anon := newBrowser(t, inst.URL)
	if resp, _ := anon.post(t, "/accounts/"+acc.ID+"/delete", nil, ""); resp.StatusCode != 401 {
		t.Fatalf("signed-out delete: %d", resp.StatusCode)
	}
	if _, err := inst.Client().GetAccount(context.Background(), acc.ID); err != nil {
		t.Fatal("a signed-out post deleted the account")
	}
}

func TestKeyFormFailureSavesNothing(t *testing.T) {
	provider := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(401) })
	srv := &http.Server{Handler: provider}
	ln := servertest.Listen(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": "http://" + ln.Addr().String()}
	inst := servertest.Start(t, cfg, server.Options{})
	b := newBrowser(t, inst.URL)
	setup(t, b)
	resp, body := b.post(t, "/connect/sendgrid", url.Values{"nickname": {"marketing"}, "field_api_key": {"SG.secret-value-typed"}}, "")
	if resp.StatusCode != 422 || !strings.Contains(body, "401") || !strings.Contains(body, "SendGrid refused these credentials (401 Unauthorized). Nothing was saved") {
		t.Fatalf("failed test: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "SG.secret-value-typed") {
		t.Fatal("the form sent the secret back to the browser")
	}
	if !strings.Contains(body, `value="marketing"`) {
		t.Error("the nickname was not kept in the form")
	}
	list, _ := inst.Client().ListAccounts(context.Background(), client.ListOptions{})
	if len(list.Data) != 0 {
		t.Fatalf("%d accounts saved after a failed test", len(list.Data))
	}
}

// TestConnectionBoundToSession: an authorization started in one browser
// does not complete in another.
func TestConnectionBoundToSession(t *testing.T) {
	idp := servertest.NewIdP(t)
	cfg := servertest.Config(t, "")
	servertest.UseIdP(t, &cfg, idp)
	inst := servertest.Start(t, cfg, server.Options{})
	if _, err := inst.Client().SetOAuthClient(context.Background(), "testidp", client.SetOAuthClient{ClientID: idp.ClientID(), ClientSecret: idp.ClientSecret(), Managed: true}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, inst.URL)
	setup(t, b)
	noFollow := *b.Client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest("POST", inst.URL+"/connect/testidp", strings.NewReader(url.Values{"nickname": {"work"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authorize := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authorize, idp.URL) {
		t.Fatalf("connect without JavaScript: %d to %q", resp.StatusCode, authorize)
	}
	callback, err := idp.FollowAuthorize(authorize)
	if err != nil {
		t.Fatal(err)
	}
	// Another browser (no session) brings the code back: refused.
	other := newBrowser(t, inst.URL)
	resp, body := other.get(t, callback.RequestURI())
	if resp.StatusCode != 400 || !strings.Contains(body, "another browser session") {
		t.Fatalf("callback in another session: %d\n%s", resp.StatusCode, body)
	}
	list, _ := inst.Client().ListAccounts(context.Background(), client.ListOptions{})
	if len(list.Data) != 0 {
		t.Fatal("an account was saved from another session's callback")
	}

	// In the browser that started it, the whole-page flow completes.
	req2, _ := http.NewRequest("POST", inst.URL+"/connect/testidp", strings.NewReader(url.Values{"nickname": {"work"}}.Encode()))
	req2.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req2.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err = noFollow.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	callback, err = idp.FollowAuthorize(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body = b.get(t, callback.RequestURI())
	if resp.StatusCode != 200 || !strings.Contains(body, "Test IdP is connected") {
		t.Fatalf("callback in the same session: %d\n%s", resp.StatusCode, body)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWorkflowPages(t *testing.T) {
	inst, b := start(t)
	setup(t, b)
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Nickname: ptr("ai"), Fields: map[string]string{"api_key": "sk-page-secret-key"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	steps := `[{"key": "check", "kind": "command", "apps": ["openai"], "command": ["sh", "-c", "cat >&2; echo '{\"ran\": true}'"]}]`
	resp, body := b.post(t, "/workflows", url.Values{"name": {"Check"}, "steps": {steps}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "<h1>Check</h1>") {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	page := resp.Request.URL.Path
	if resp, body := b.post(t, "/workflows", url.Values{"name": {"Bad"}, "steps": {"[{"}}, ""); resp.StatusCode != 422 || !strings.Contains(body, "not valid JSON") {
		t.Fatalf("bad steps: %d", resp.StatusCode)
	}
	resp, body = b.post(t, page+"/links", url.Values{"link.check.openai": {acc.ID}}, "")
	if !strings.Contains(body, "The accounts are linked.") || !strings.Contains(body, `value="`+acc.ID+`" selected`) {
		t.Fatalf("link: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.post(t, page+"/run", nil, "")
	if !strings.Contains(body, "succeeded") || !strings.Contains(body, "&#34;ran&#34;: true") {
		t.Fatalf("run: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, "sk-page-secret-key") || !strings.Contains(body, "[redacted]") {
		t.Fatal("the run page shows a secret, or did not mask the logs")
	}
	_, accountsPage := b.get(t, "/")
	if !strings.Contains(accountsPage, `href="`+page+`">Check</a>`) {
		t.Fatal("the accounts page does not say which workflow uses the account")
	}
	// Deleting the account asks again, naming the workflow.
	resp, body = b.post(t, "/accounts/"+acc.ID+"/delete", nil, "")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "They will break") || !strings.Contains(body, ">Check</a>") {
		t.Fatalf("delete in use: %d\n%s", resp.StatusCode, body)
	}
	if _, err := inst.Client().GetAccount(context.Background(), acc.ID); err != nil {
		t.Fatal("the first delete deleted the account")
	}
	b.post(t, "/accounts/"+acc.ID+"/delete", url.Values{"confirm_in_use": {"yes"}}, "")
	if _, err := inst.Client().GetAccount(context.Background(), acc.ID); !client.IsProblem(err, "not-found") {
		t.Fatalf("after confirming: %v", err)
	}
}

func TestReplaceKeysPage(t *testing.T) {
	openai := servertest.Listen(t)
	go http.Serve(openai, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer sk-new-value" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"data": []}`))
	}))
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"openai": "http://" + openai.Addr().String()}
	inst := servertest.Start(t, cfg, server.Options{})
	b := newBrowser(t, inst.URL)
	setup(t, b)
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-old-value"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	_, page := b.get(t, "/accounts/"+acc.ID)
	if !strings.Contains(page, `action="/accounts/`+acc.ID+`/credentials"`) || !strings.Contains(page, `name="field_api_key"`) {
		t.Fatal("the detail page of a key account offers no way to replace its keys")
	}
	resp, body := b.post(t, "/accounts/"+acc.ID+"/credentials", url.Values{"field_api_key": {"sk-refused"}}, "")
	if resp.StatusCode != 422 || !strings.Contains(body, "401") {
		t.Fatalf("refused key: %d", resp.StatusCode)
	}
	if creds, _ := inst.Client().Credentials(context.Background(), acc.ID); creds["api_key"] != "sk-old-value" {
		t.Fatalf("a refused key changed the account: %v", creds)
	}
	resp, body = b.post(t, "/accounts/"+acc.ID+"/credentials", url.Values{"field_api_key": {"sk-new-value"}}, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "are saved") {
		t.Fatalf("replace: %d", resp.StatusCode)
	}
	if creds, _ := inst.Client().Credentials(context.Background(), acc.ID); creds["api_key"] != "sk-new-value" {
		t.Fatalf("credentials after replacing: %v", creds)
	}
}

// TestUnsandboxedBanner: with steps_unsandboxed on, the workflow pages say
// so; with the sandbox working they do not.
func TestUnsandboxedBanner(t *testing.T) {
	for _, unsandboxed := range []bool{true, false} {
		cfg := servertest.Config(t, "")
		if !unsandboxed && cfg.StepsUnsandboxed {
			continue // no sandbox on this machine: nothing to show it working
		}
		cfg.StepsUnsandboxed = unsandboxed
		inst := servertest.Start(t, cfg, server.Options{})
		b := newBrowser(t, inst.URL)
		setup(t, b)
		_, body := b.get(t, "/workflows")
		if got := strings.Contains(body, `id="sandbox-warning"`) && strings.Contains(body, "Steps run unsandboxed"); got != unsandboxed {
			t.Errorf("steps_unsandboxed=%v: banner shown %v", unsandboxed, got)
		}
		if unsandboxed && !strings.Contains(inst.Logs.String(), "steps_unsandboxed is on") {
			t.Error("the server did not warn at start")
		}
	}
}

// TestErrorPagesThroughTheServer: a real server's pages answer a missing
// account, a refused change and an app that cannot be reached as the
// adapter decides; the unreachable app shows only the friendly page.
func TestErrorPagesThroughTheServer(t *testing.T) {
	gone := servertest.Listen(t)
	goneAddr := gone.Addr().String()
	gone.Close() // nothing listens there: the test request is refused
	cfg := servertest.Config(t, "")
	cfg.AppOrigins = map[string]string{"sendgrid": "http://" + goneAddr}
	inst := servertest.Start(t, cfg, server.Options{})
	b := newBrowser(t, inst.URL)
	setup(t, b)
	managed, err := inst.Client().SetOAuthClient(context.Background(), "github", client.SetOAuthClient{ClientID: "gh-id", ClientSecret: "gh-secret", Managed: true})
	if err != nil {
		t.Fatal(err)
	}

	resp, body := b.get(t, "/accounts/acc_01jnosuchaccount0000000000")
	if resp.StatusCode != 404 || !strings.Contains(body, "no such account, or you may not see it") {
		t.Errorf("missing account: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.post(t, "/oauth-clients/"+managed.ID+"/delete", nil, "")
	if resp.StatusCode != 403 || !strings.Contains(body, "the managed OAuth client serves every workspace") {
		t.Errorf("deleting the managed client: %d\n%s", resp.StatusCode, body)
	}
	resp, body = b.post(t, "/connect/sendgrid", url.Values{"field_api_key": {"SG.typed-key"}}, "")
	if resp.StatusCode != 502 || !strings.Contains(body, "<h1>Something went wrong</h1>") || !strings.Contains(body, `href="/">Back to accounts</a>`) {
		t.Fatalf("unreachable app: %d\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, goneAddr) || strings.Contains(body, "refused") || strings.Contains(body, "SG.typed-key") {
		t.Fatalf("the page shows the detail:\n%s", body)
	}
	if !strings.Contains(inst.Logs.String(), "page failed") || !strings.Contains(inst.Logs.String(), "could not be reached") {
		t.Fatal("the log lacks the failure's detail")
	}
	if list, _ := inst.Client().ListAccounts(context.Background(), client.ListOptions{}); len(list.Data) != 0 {
		t.Fatal("an account was saved")
	}
}

// TestErrorLinksThroughTheServer: an error whose fix is another page says
// so with a link to it, on the page and in the popup script's JSON, and
// the link leads there.
func TestErrorLinksThroughTheServer(t *testing.T) {
	inst, b := start(t)
	setup(t, b)
	acc, err := inst.Client().CreateAccount(context.Background(), client.CreateAccount{App: "openai", Fields: map[string]string{"api_key": "sk-old-value"}, Test: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, says, link, text string
	}{
		{"no OAuth client", "/connect/github", "GitHub: no OAuth client is set for this app", "/oauth-clients?app=github", "Set an OAuth client for GitHub"},
		{"a key app reconnected", "/accounts/" + acc.ID + "/reconnect", "OpenAI connects with keys: give the account new credentials instead", "/accounts/" + acc.ID + "#credentials", "Replace its keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := b.post(t, tt.path, url.Values{}, "")
			if resp.StatusCode != 422 || !strings.Contains(body, tt.says) || !strings.Contains(body, `<a class="btn" href="`+html.EscapeString(tt.link)+`">`+tt.text+`</a>`) {
				t.Fatalf("%d, want 422 saying %q with a link to %s:\n%s", resp.StatusCode, tt.says, tt.link, body)
			}
			if strings.Contains(body, "/v1/") || strings.Contains(body, "latchkey ") {
				t.Fatalf("the page names an API route or a CLI command:\n%s", body)
			}

			req, _ := http.NewRequest("POST", inst.URL+tt.path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Origin", inst.URL)
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			jr, err := b.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]string
			err = json.NewDecoder(jr.Body).Decode(&got)
			jr.Body.Close()
			if err != nil || jr.StatusCode != 422 || !strings.Contains(got["error"], tt.says) || got["link"] != tt.link || got["link_text"] != tt.text {
				t.Fatalf("JSON answer %d %v (%v)", jr.StatusCode, got, err)
			}

			resp, body = b.get(t, tt.link)
			if resp.StatusCode != 200 {
				t.Fatalf("the link %s answers %d", tt.link, resp.StatusCode)
			}
			switch {
			case strings.HasPrefix(tt.link, "/oauth-clients"):
				if !strings.Contains(body, `value="github" selected`) {
					t.Fatalf("the OAuth clients page does not have GitHub chosen:\n%s", body)
				}
			default:
				if !strings.Contains(body, `id="credentials"`) {
					t.Fatalf("the account page has no replace-keys form:\n%s", body)
				}
			}
		})
	}
}
