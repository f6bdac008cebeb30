package webtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauth1test"
	"github.com/latchkeyhq/latchkey/internal/oauth/oauthtest"
	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

const (
	// goodKey is the one SendGrid key the stand-in provider accepts.
	goodKey       = "SG.browsertestkey.Zm9vYmFyYmF6cXV4"
	ownerEmail    = "ada@example.com"
	ownerName     = "Ada"
	ownerPassword = "correct horse battery"

	// stepTimeout limits one browser step (a navigation, a click, typing).
	stepTimeout = 15 * time.Second
	// waitTimeout limits one wait for the page to reach a state.
	waitTimeout = 10 * time.Second
	// startTimeout limits starting Chromium, and opening a tab.
	startTimeout = 30 * time.Second

	skipMessage = "no Chromium installed; install Debian's chromium package, or set LATCHKEY_CHROMIUM; LATCHKEY_REQUIRE_BROWSER=1 makes this fail"
)

// ---------------------------------------------------------------------------
// The shared browser: one Chromium for the whole test binary, started by the
// first test that needs it; each test gets a tab in a browser context of its
// own (its own cookies).

var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	stop   context.CancelFunc // the allocator
	dir    string
	err    error
	output servertest.LockedBuffer
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}

// findChromium returns the browser to run. LATCHKEY_CHROMIUM wins; when it
// names no file, Chromium counts as not installed.
func findChromium() (string, error) {
	if p := os.Getenv("LATCHKEY_CHROMIUM"); p != "" {
		if !strings.ContainsRune(p, filepath.Separator) {
			if lp, err := exec.LookPath(p); err == nil {
				return lp, nil
			}
		}
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			return "", fmt.Errorf("LATCHKEY_CHROMIUM=%s names no browser", p)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("none of chromium, chromium-browser and google-chrome is on PATH")
}

// browser returns the shared browser's context, starting it on first use;
// it skips the test (or fails it, with LATCHKEY_REQUIRE_BROWSER=1) when no
// Chromium is installed.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		if os.Getenv("LATCHKEY_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%v: %s", err, skipMessage)
		}
		t.Log(err)
		t.Skip(skipMessage)
	}
	shared.once.Do(func() { shared.err = startBrowser(path) })
	if shared.err != nil {
		t.Fatalf("starting %s: %v\nits output:\n%s", path, shared.err, shared.output.String())
	}
	return shared.ctx
}

func startBrowser(path string) error {
	dir, err := os.MkdirTemp("", "latchkey-chromium-")
	if err != nil {
		return err
	}
	shared.dir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		// Small /dev/shm in containers crashes tabs.
		chromedp.Flag("disable-dev-shm-usage", true),
		// The popup and the tab that opened it are different windows;
		// neither may have its timers throttled.
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.Flag("force-color-profile", "srgb"),
		// No disable-popup-blocking: the OAuth popup must get past
		// Chromium's real popup blocker.
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(&shared.output),
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	shared.ctx, shared.cancel, shared.stop = ctx, cancel, allocCancel
	// The first Run starts the browser and binds it to ctx, so it gets no
	// timeout of its own; guarded stops it if it hangs.
	return guarded(startTimeout, cancel, func() error { return chromedp.Do(ctx) })
}

func stopBrowser() {
	if shared.cancel == nil {
		return
	}
	ctx, cancel := context.WithTimeout(shared.ctx, 10*time.Second)
	_ = chromedp.Cancel(ctx) // closes Chromium gracefully
	cancel()
	shared.cancel()
	shared.stop()
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
}

// guarded runs fn, which must end when cancel is called, and gives up
// after limit.
func guarded(limit time.Duration, cancel func(), fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		cancel()
		<-done
		return fmt.Errorf("gave up after %v", limit)
	}
}

// ---------------------------------------------------------------------------
// What the pages log. Every tab and popup reports here; a test fails at its
// end if any page threw, logged a console error, logged an error entry
// (network, security, CSP...), or opened a JavaScript dialog.

type consoleLog struct {
	mu        sync.Mutex
	problems  []string
	ignored   []string
	expected  []expectedStatus
	texts     []string // expected messages, by a part of their text
	navs      map[string][]string
	requests  map[string][]string
	responses map[string][]response
}

// expectedStatus is an error status a test provokes on purpose: Chromium
// logs "Failed to load resource: the server responded with a status of
// 422" for a form the server answers with 422, and that is no fault.
type expectedStatus struct {
	path   string
	status int
}

type response struct {
	url    string
	status int64
}

func newConsoleLog() *consoleLog {
	return &consoleLog{navs: map[string][]string{}, requests: map[string][]string{}, responses: map[string][]response{}}
}

// targetRef is the context of a tab, filled in once it exists, so that a
// listener made before it can act on it.
type targetRef struct {
	mu  sync.Mutex
	ctx context.Context
}

func (r *targetRef) set(ctx context.Context) {
	r.mu.Lock()
	r.ctx = ctx
	r.mu.Unlock()
}

func (r *targetRef) get() context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ctx
}

// listener records the events of one target (label names it in messages).
// It runs on chromedp's reading goroutine: it must return fast and may not
// run commands, so it dismisses dialogs from another goroutine.
func (l *consoleLog) listener(label string, ref *targetRef) func(ev any) {
	return func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			l.problem(label, "uncaught exception: "+exceptionText(ev.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				l.problem(label, "console."+string(ev.Type)+": "+argsText(ev.Args))
			}
		case *log.EventEntryAdded:
			if ev.Entry != nil && ev.Entry.Level == log.EntryLevelError {
				l.logEntry(label, ev.Entry)
			}
		case *page.EventJavascriptDialogOpening:
			l.problem(label, fmt.Sprintf("a JavaScript %s dialog opened: %q", ev.Type, ev.Message))
			if ctx := ref.get(); ctx != nil {
				go func() {
					cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					defer cancel()
					_, _ = chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
				}()
			}
		case *page.EventFrameNavigated:
			if ev.Frame != nil && ev.Frame.ParentID == "" {
				l.mu.Lock()
				l.navs[label] = append(l.navs[label], ev.Frame.URL)
				l.mu.Unlock()
			}
		case *network.EventRequestWillBeSent:
			if ev.Request != nil {
				l.mu.Lock()
				l.requests[label] = append(l.requests[label], ev.Request.Method+" "+ev.Request.URL)
				l.mu.Unlock()
			}
		case *network.EventResponseReceived:
			if ev.Response != nil {
				l.mu.Lock()
				l.responses[label] = append(l.responses[label], response{ev.Response.URL, ev.Response.Status})
				l.mu.Unlock()
			}
		}
	}
}

func (l *consoleLog) problem(label, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, "["+label+"] "+msg)
}

func (l *consoleLog) logEntry(label string, e *log.Entry) {
	msg := fmt.Sprintf("log entry (%s): %s [%s]", e.Source, e.Text, e.URL)
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.texts {
		if strings.Contains(e.Text, x) {
			l.ignored = append(l.ignored, "["+label+"] expected: "+msg)
			return
		}
	}
	if e.Source == log.EntrySourceNetwork && e.URL != "" {
		u, err := url.Parse(e.URL)
		if err == nil && u.Path == "/favicon.ico" {
			l.ignored = append(l.ignored, "["+label+"] favicon: "+msg)
			return
		}
		for _, x := range l.expected {
			if err == nil && u.Path == x.path && strings.Contains(e.Text, fmt.Sprintf("status of %d", x.status)) {
				l.ignored = append(l.ignored, "["+label+"] expected: "+msg)
				return
			}
		}
	}
	l.problems = append(l.problems, "["+label+"] "+msg)
}

// expectStatus allows the network error Chromium logs for a response of
// path with status.
func (l *consoleLog) expectStatus(path string, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.expected = append(l.expected, expectedStatus{path, status})
}

// expectText allows a log entry whose text holds part: an error a test
// provokes on purpose, such as a refused frame.
func (l *consoleLog) expectText(part string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.texts = append(l.texts, part)
}

func (l *consoleLog) snapshot() (problems, ignored []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.problems...), append([]string(nil), l.ignored...)
}

func (l *consoleLog) navigations(label string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.navs[label]...)
}

func (l *consoleLog) requestsOf(label string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.requests[label]...)
}

// reset forgets the problems so far (for the harness's self-test).
func (l *consoleLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems, l.ignored = nil, nil
}

func (l *consoleLog) responsesOf(label string) []response {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]response(nil), l.responses[label]...)
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "?"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

func argsText(args []*runtime.RemoteObject) string {
	var parts []string
	for _, a := range args {
		switch {
		case a == nil:
		case len(a.Value) > 0:
			parts = append(parts, string(a.Value))
		case a.Description != "":
			parts = append(parts, a.Description)
		default:
			parts = append(parts, string(a.Type))
		}
	}
	return strings.Join(parts, " ")
}

// ---------------------------------------------------------------------------
// The stand-in for key-based providers.

// newProvider stands in for SendGrid: it accepts exactly goodKey and
// counts the requests it gets. OpenAI and Anthropic point here too, so
// that no test reaches the internet.
func newProvider(t *testing.T) *servertest.Provider {
	return servertest.NewProvider(t, servertest.ProviderKeys{SendGridKey: goodKey})
}

// ---------------------------------------------------------------------------
// The harness: a Latchkey, its stand-ins, and a browser tab.

type harness struct {
	t        *testing.T
	inst     *servertest.Instance
	api      *client.Client
	provider *servertest.Provider
	idp      *oauthtest.Server
	oauth1   *oauth1test.Server
	log      *consoleLog
	ctx      context.Context // the tab
	tabID    target.ID
	viewport viewport
	popups   int
}

type options struct {
	oauth bool // the test IdP app, its stand-in and its managed client
	// oauth1 sends Trello to an in-test OAuth 1.0a provider, whose
	// consumer is Trello's managed client.
	oauth1 bool
	// jwt: the test IdP as a JWT bearer app, testjwt (no OAuth client).
	jwt bool
	// demo runs the server with --demo.
	demo bool
	// sandboxed runs steps in the real sandbox; the test has checked
	// that it runs here (sandboxtest.Require).
	sandboxed bool
	clock     clockwork.Clock // nil: the real clock
	// webhookOrigins are receivers' origins Latchkey may deliver to.
	webhookOrigins []string
}

// start runs a Latchkey on SQLite with its stand-ins, and opens a tab.
func start(t *testing.T, o options) *harness {
	t.Helper()
	bctx := browser(t) // skip before starting anything
	h := &harness{t: t, provider: newProvider(t), log: newConsoleLog()}
	cfg := servertest.Config(t, "")
	cfg.RefreshInterval = 0
	cfg.AppOrigins = map[string]string{}
	cfg.WebhookOrigins = o.webhookOrigins
	for _, app := range []string{"sendgrid", "openai", "anthropic"} {
		cfg.AppOrigins[app] = h.provider.URL
	}
	if o.oauth {
		h.idp = servertest.NewIdP(t)
		servertest.UseIdP(t, &cfg, h.idp)
	}
	if o.oauth1 {
		h.oauth1 = oauth1test.New(t)
		cfg.AppOrigins["trello"] = h.oauth1.URL
	}
	if o.jwt {
		h.idp = servertest.NewJWTIdP(t)
		servertest.UseJWTIdP(t, &cfg, h.idp)
	}
	cfg.WebhookOrigins = o.webhookOrigins
	cfg.Demo = o.demo
	if o.sandboxed {
		cfg.StepsUnsandboxed = false
	}
	h.inst = servertest.Start(t, cfg, server.Options{Clock: o.clock})
	h.api = h.inst.Client()
	if o.oauth1 {
		if _, err := h.api.SetOAuthClient(context.Background(), "trello", client.SetOAuthClient{
			ClientID: h.oauth1.ConsumerKey, ClientSecret: h.oauth1.ConsumerSecret, Managed: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if o.oauth {
		if _, err := h.api.SetOAuthClient(context.Background(), "testidp", client.SetOAuthClient{
			ClientID: h.idp.ClientID(), ClientSecret: h.idp.ClientSecret(), Managed: true,
		}); err != nil {
			t.Fatal(err)
		}
	}
	h.openTab(bctx)
	return h
}

func (h *harness) openTab(bctx context.Context) {
	ref := &targetRef{}
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(h.log.listener("page", ref)))
	ref.set(ctx)
	h.t.Cleanup(cancel)
	// The first Run opens the tab and binds it to ctx: no timeout on ctx.
	if err := guarded(startTimeout, cancel, func() error {
		return chromedp.Do(ctx, desktop.emulate(desktop.height))
	}); err != nil {
		h.t.Fatalf("opening a tab: %v", err)
	}
	h.viewport = desktop
	h.ctx = ctx
	h.tabID = chromedp.FromContext(ctx).Target.TargetID
	// Cleanups run last-in first-out: this check runs before the tab closes.
	h.t.Cleanup(h.checkConsole)
}

// checkConsole fails the test for anything the pages logged as an error.
func (h *harness) checkConsole() {
	h.t.Helper()
	problems, ignored := h.log.snapshot()
	for _, s := range ignored {
		h.t.Logf("ignored %s", s)
	}
	for _, p := range problems {
		h.t.Errorf("the page reported: %s", p)
	}
}

// fatalf stops the test with the page's address and text, for diagnosis.
func (h *harness) fatalf(format string, args ...any) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, 3*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 1500) : ""`))
	problems, _ := h.log.snapshot()
	h.t.Fatalf(format+"\n--- the tab is at %s\n--- its text:\n%s\n--- console problems so far: %q", append(args, loc, text, problems)...)
}

// do runs browser steps, each call limited to stepTimeout.
func (h *harness) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		h.fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression in the tab.
func eval[T any](h *harness, expr string) T {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		h.fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitEval evaluates expr until ok accepts its value, for at most
// waitTimeout. Errors (a page in the middle of loading) count as not yet.
func waitEval[T any](h *harness, what, expr string, ok func(T) bool) T {
	h.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(h.ctx, 3*time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
		cancel()
		if err == nil && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			h.fatalf("waited %v for %s\n--- last value: %+v\n--- last error: %v", waitTimeout, what, v, err)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// waitFor waits until the JavaScript condition is true.
func (h *harness) waitFor(what, cond string) {
	h.t.Helper()
	waitEval(h, what, cond, func(b bool) bool { return b })
}

// row is an account row of the accounts page.
type row struct {
	ID       string `json:"id"`
	App      string `json:"app"`
	Nickname string `json:"nickname"`
	Identity string `json:"identity"`
	Status   string `json:"status"`
	Fresh    bool   `json:"fresh"`
}

const rowsJS = `[...document.querySelectorAll("#account-rows tr[data-id]")].map(r => ({
	id: r.dataset.id,
	app: r.querySelector('[data-label="App"] .app-cell > span:not(.mono)').textContent.trim(),
	nickname: r.querySelector("a.nick").textContent,
	identity: r.querySelector('[data-label="Identity"]').textContent.trim(),
	status: r.querySelector('[data-label="Status"]').textContent.trim(),
	fresh: r.classList.contains("fresh"),
}))`

// waitRows waits until the accounts table's rows satisfy ok.
func (h *harness) waitRows(what string, ok func([]row) bool) []row {
	h.t.Helper()
	return waitEval(h, what, rowsJS, ok)
}

func nicknames(rows []row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.Nickname)
	}
	return out
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// textJS is the trimmed text of the first element sel matches, or "".
func textJS(sel string) string {
	return `(document.querySelector(` + js(sel) + `)?.textContent ?? "").trim()`
}

// clearField empties an input, as a person selecting its text and
// deleting it would (chromedp's SetValue cannot set "").
func (h *harness) clearField(sel string) {
	h.t.Helper()
	h.do("clear "+sel, chromedp.Evaluate[chromedp.Void](`document.querySelector(`+js(sel)+`).value = ""`))
}

// text reads the trimmed text of the first element sel matches.
func (h *harness) text(sel string) string {
	h.t.Helper()
	return eval[string](h, textJS(sel))
}

// at waits until the tab shows path (and query, if it has one) with the
// given h1.
func (h *harness) at(pathAndQuery, heading string) {
	h.t.Helper()
	path, query, _ := strings.Cut(pathAndQuery, "?")
	cond := `location.pathname === ` + js(path) + ` && document.readyState === "complete" && ` + textJS("h1") + ` === ` + js(heading)
	if query != "" {
		cond += ` && location.search === ` + js("?"+query)
	}
	h.waitFor(pathAndQuery+` with the heading "`+heading+`"`, cond)
}

// atDone waits until the tab shows the accounts list after an action:
// path "/", done=what (and any other query), the heading "Accounts".
func (h *harness) atDone(what string) {
	h.t.Helper()
	h.waitFor("the accounts list after "+what, `location.pathname === "/" && document.readyState === "complete" && new URLSearchParams(location.search).get("done") === `+js(what)+` && `+textJS("h1")+` === "Accounts"`)
}

// open navigates the tab to a path of the server.
func (h *harness) open(path string) {
	h.t.Helper()
	h.do("open "+path, chromedp.Navigate(h.inst.URL+path))
}

// signUp creates the owner through the set-up form (by HTTP, not by the
// browser: TestSetupAndSignIn covers the form) and gives the browser the
// session cookie.
func (h *harness) signUp() {
	h.t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(h.inst.URL+"/setup", url.Values{
		"email": {ownerEmail}, "name": {ownerName}, "password": {ownerPassword}, "confirm": {ownerPassword},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(cookies) != 1 {
		h.t.Fatalf("set-up answered %s, Location %q, %d cookies", resp.Status, resp.Header.Get("Location"), len(cookies))
	}
	ctx, cancel := context.WithTimeout(h.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: cookies[0].Name, Value: cookies[0].Value, URL: h.inst.URL, Path: "/",
		HTTPOnly: ptr(true), SameSite: network.CookieSameSiteLax,
	}); err != nil {
		h.t.Fatalf("setting the session cookie: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// createKeyAccount adds a SendGrid account through the API; the stand-in
// accepts its key, so its identity is "Ada Lovelace".
func (h *harness) createKeyAccount(nickname string) client.Account {
	h.t.Helper()
	acc, err := h.api.CreateAccount(context.Background(), client.CreateAccount{App: "sendgrid", Nickname: &nickname, Fields: map[string]string{"api_key": goodKey}})
	if err != nil {
		h.t.Fatal(err)
	}
	return acc
}

// createUntested adds an account of a key-based app without its test.
func (h *harness) createUntested(app, nickname string) client.Account {
	h.t.Helper()
	acc, err := h.api.CreateAccount(context.Background(), client.CreateAccount{App: app, Nickname: &nickname, Fields: map[string]string{"api_key": "sk-not-checked"}, Test: ptr(false)})
	if err != nil {
		h.t.Fatal(err)
	}
	return acc
}

// connectByAPI connects a Test IdP account without the browser: the API
// starts it and a plain HTTP client plays the user's browser.
func (h *harness) connectByAPI(nickname string) client.Account {
	h.t.Helper()
	ctx := context.Background()
	started, err := h.api.Connect(ctx, client.Connect{App: "testidp", Nickname: &nickname})
	if err != nil {
		h.t.Fatal(err)
	}
	status, body, err := servertest.Approve(&http.Client{Timeout: 10 * time.Second}, started.AuthorizeURL, started.OneTimeCode)
	if err != nil {
		h.t.Fatal(err)
	}
	if status != http.StatusOK || !strings.Contains(body, "is connected") {
		h.t.Fatalf("callback page %d:\n%s", status, body)
	}
	done, err := h.api.GetConnection(ctx, started.ID)
	if err != nil || done.Status != "completed" {
		h.t.Fatalf("connection %+v, %v", done, err)
	}
	acc, err := h.api.GetAccount(ctx, done.AccountID)
	if err != nil {
		h.t.Fatal(err)
	}
	return acc
}

// openConnectDialog searches the picker (already open) for query, clicks
// the app's card and waits for its dialog.
func (h *harness) openConnectDialog(query, slug, name string) {
	h.t.Helper()
	card := `#app-results a[data-connect=` + js(slug) + `]`
	h.do("type "+query+" in the app search", chromedp.SendKeys(chromedp.CSS("#app-search"), query))
	// picker-status is written by the type-ahead only, so the card comes
	// from the live search, not from the page as served.
	h.waitFor("the "+name+" card from the type-ahead",
		`document.querySelector("#picker-status").textContent.endsWith(" apps") && !!document.querySelector(`+js(card)+`)`)
	h.do("click the "+name+" card", chromedp.Click(chromedp.CSS(card)))
	h.waitFor("the "+name+" dialog", `document.querySelector("#connect-dialog").open && `+textJS("#connect-dialog-title")+` === `+js("Connect "+name))
}

// openRowMenu opens the "⋯" menu of an account's row.
func (h *harness) openRowMenu(id string) {
	h.t.Helper()
	sel := `tr[data-id=` + js(id) + `] details.menu`
	h.do("open the row menu", chromedp.Click(chromedp.CSS(sel+" > summary")))
	h.waitFor("the open row menu", `document.querySelector(`+js(sel)+`).open`)
}

// popup is what a test saw of an OAuth popup.
type popup struct {
	label     string
	navs      []string   // main-frame URLs it committed
	requests  []string   // every request it sent, "METHOD URL"
	responses []response // every response it received
}

// throughPopup runs trigger, a click that starts an OAuth connection: the
// page opens a popup, asks Latchkey (POST startPath, by fetch) for the
// authorize URL, and points the popup at it. The test holds that request
// back (CDP Fetch interception in the opener) until it has attached to the
// popup, so that everything the popup loads is watched for errors; then the
// IdP auto-approves, the popup lands on Latchkey's callback, and the test
// waits until the popup has closed itself. before runs while the request is
// held: the opener must not have moved by then.
//
// (Holding the IdP's answer instead does not work: Chromium answers no
// Runtime.evaluate in a popup whose first navigation is pending, and
// chromedp evaluates when it attaches.)
func (h *harness) throughPopup(what, startPath string, trigger chromedp.Action[chromedp.Void], before func()) popup {
	h.t.Helper()
	return h.throughPopupActing(what, startPath, trigger, before, nil)
}

// throughPopupActing is throughPopup for a provider that wants the user to
// act in the popup: inside runs there once the popup is on its way.
func (h *harness) throughPopupActing(what, startPath string, trigger chromedp.Action[chromedp.Void], before func(), inside func(ctx context.Context)) popup {
	h.t.Helper()
	paused, stop := h.holdFetches(h.inst.URL + startPath)
	defer stop()

	opener := h.tabID
	created := chromedp.WaitNewTarget(h.ctx, func(info *target.Info) bool {
		return info.Type == "page" && info.OpenerID == opener
	})
	h.do(what, trigger)
	var id target.ID
	select {
	case id = <-created:
	case <-time.After(waitTimeout):
	}
	if id == "" {
		h.fatalf("%s: no popup opened", what)
	}
	request := h.nextHeld(paused, "the POST to "+startPath)

	h.popups++
	p := popup{label: fmt.Sprintf("popup %d", h.popups)}
	ref := &targetRef{}
	pctx, cancel := chromedp.NewContext(h.ctx, chromedp.WithTargetID(id), chromedp.WithListener(h.log.listener(p.label, ref)))
	ref.set(pctx)
	defer cancel()
	if err := guarded(startTimeout, cancel, func() error { return chromedp.Do(pctx) }); err != nil {
		h.fatalf("%s: attaching to the popup: %v", what, err)
	}
	detached, err := chromedp.Detached(pctx)
	if err != nil {
		h.fatalf("%s: %v", what, err)
	}
	if before != nil {
		before()
	}
	h.letThrough(request)
	if inside != nil {
		inside(pctx)
	}
	select {
	case <-detached:
	case <-time.After(waitTimeout):
		ctx, c := context.WithTimeout(pctx, 2*time.Second)
		loc, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
		c()
		h.fatalf("%s: the popup did not close itself; it shows %s", what, loc)
	}
	p.navs = h.log.navigations(p.label)
	p.requests = h.log.requestsOf(p.label)
	p.responses = h.log.responsesOf(p.label)
	return p
}

// holdFetches makes the tab's fetch() requests whose URL matches pattern
// (CDP Fetch wildcards: * and ?) wait; their ids arrive on the channel, and
// letThrough sends one on. stop ends the holding.
func (h *harness) holdFetches(pattern string) (held <-chan fetch.RequestID, stop func()) {
	h.t.Helper()
	ch := make(chan fetch.RequestID, 16)
	lctx, lcancel := context.WithCancel(h.ctx)
	if err := chromedp.Listen(lctx, func(ev any) {
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			select {
			case ch <- ev.RequestID:
			default:
			}
		}
	}); err != nil {
		lcancel()
		h.fatalf("listening for held requests: %v", err)
	}
	h.call("hold back "+pattern, func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{
			{URLPattern: pattern, ResourceType: network.ResourceTypeFetch},
		}})
		return err
	})
	return ch, func() {
		// No Fatal here: stop may run while a failed test unwinds.
		ctx, cancel := context.WithTimeout(h.ctx, stepTimeout)
		defer cancel()
		if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
			h.t.Errorf("stop holding requests: %v", err)
		}
		lcancel()
	}
}

// nextHeld waits for the next held request.
func (h *harness) nextHeld(held <-chan fetch.RequestID, what string) fetch.RequestID {
	h.t.Helper()
	select {
	case id := <-held:
		return id
	case <-time.After(waitTimeout):
		h.fatalf("waited %v for the page to send %s", waitTimeout, what)
		return ""
	}
}

// letThrough sends a held request on.
func (h *harness) letThrough(id fetch.RequestID) {
	h.t.Helper()
	h.call("let a held request through", func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: id})
		return err
	})
}

// call runs a protocol command (in fn) on the tab.
func (h *harness) call(what string, fn func(ctx context.Context) error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, stepTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		h.fatalf("%s: %v", what, err)
	}
}

// viewport is the size a tab emulates.
type viewport struct {
	width, height int64
	mobile        bool
}

var (
	desktop = viewport{1280, 900, false}
	phone   = viewport{390, 844, true}
)

func (v viewport) emulate(height int64) chromedp.Action[chromedp.Void] {
	if v.mobile {
		return chromedp.EmulateViewport(v.width, height, chromedp.EmulateMobile, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(v.width, height)
}

// setViewport makes the tab emulate v.
func (h *harness) setViewport(v viewport) {
	h.t.Helper()
	h.do(fmt.Sprintf("emulate %dx%d", v.width, v.height), v.emulate(v.height))
	h.viewport = v
}

// screenshot saves a full-page PNG of the tab as dir/name.png. The viewport
// grows to the page's height for the capture, so that fixed elements (a
// modal dialog and its backdrop) cover the whole picture, then shrinks back.
func (h *harness) screenshot(dir, name string) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, fullPagePNG(h.viewport))
	if err != nil {
		h.fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func fullPagePNG(v viewport) chromedp.Action[[]byte] {
	return func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		height := v.height
		if m.CSSContentSize != nil {
			height = max(height, int64(math.Ceil(m.CSSContentSize.Height)))
		}
		if height != v.height {
			if _, err := v.emulate(height)(ctx, t); err != nil {
				return nil, err
			}
			defer func() { _, _ = v.emulate(v.height)(ctx, t) }()
			// Let the page lay out and paint at the new size.
			if _, err := chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`, chromedp.EvalAwaitPromise)(ctx, t); err != nil {
				return nil, err
			}
		}
		res, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:      page.CaptureScreenshotFormatPng,
			FromSurface: ptr(true),
		})
		return res.Data, err
	}
}
