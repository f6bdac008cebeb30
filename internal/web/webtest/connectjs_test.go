package webtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/jonboulle/clockwork"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/identity"
	"github.com/latchkeyhq/latchkey/internal/server"
)

// ---------------------------------------------------------------------------
// A product's page on an origin of its own, which loads /connect.js from
// Latchkey under a strict CSP and calls LatchkeyConnect.open when its button
// is clicked. What the callbacks and window messages bring is kept in
// window.outcomes and window.messages for the test to read.

const productJS = `(() => {
  "use strict";
  const q = new URLSearchParams(location.search);
  window.outcomes = [];
  window.messages = [];
  window.addEventListener("message", (e) => window.messages.push({ origin: e.origin, type: e.data && e.data.type }));
  document.getElementById("connect").addEventListener("click", () => {
    if (q.get("spoof")) {
      // A page that lies about its origin: it opens the hosted page itself,
      // naming an origin the token allows.
      window.open(q.get("latchkey") + "/connect/link?" + new URLSearchParams({ token: q.get("token"), app: q.get("app"), origin: q.get("spoof") }), "spoof", "popup");
      return;
    }
    LatchkeyConnect.open({
      token: q.get("token"), app: q.get("app") || undefined, mode: q.get("mode") || undefined,
      onSuccess: (r) => window.outcomes.push({ kind: "success", accountId: r.accountId }),
      onError: (e) => window.outcomes.push({ kind: "error", code: e.code }),
      onClose: () => window.outcomes.push({ kind: "close" }),
    });
  });
})();
`

// newProductPage serves the product's page; every server is another
// loopback port, so another origin.
func newProductPage(t *testing.T, latchkey string) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		// The strict policy a careful product sends: Latchkey's origin
		// for the script and the modal's frame, nothing inline.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self' "+latchkey+"; frame-src "+latchkey+"; style-src 'self'; img-src 'self' data:; base-uri 'none'")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>Product</title><link rel="icon" href="data:,"></head><body>
<button id="connect" type="button">Connect an account</button>
<script src="%s/connect.js"></script><script src="/app.js"></script></body></html>`, latchkey)
	})
	mux.HandleFunc("GET /app.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = io.WriteString(w, productJS)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// outcome is what a LatchkeyConnect callback brought.
type outcome struct {
	Kind      string `json:"kind"`
	AccountID string `json:"accountId"`
	Code      string `json:"code"`
}

// message is a window message the product's page received.
type message struct {
	Origin string `json:"origin"`
	Type   string `json:"type"`
}

// ---------------------------------------------------------------------------
// A webhook receiver that verifies signatures with the Standard Webhooks
// library.

type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	secret string
	events []map[string]any
	bad    int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		wh, err := standardwebhooks.NewWebhook(r.secret)
		if err == nil {
			// The server's clock is fake; the signature is what counts.
			err = wh.VerifyIgnoringTimestamp(body, req.Header)
		}
		if err != nil {
			r.bad++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		r.events = append(r.events, m)
	}))
	t.Cleanup(r.Close)
	return r
}

// subscribe makes the receiver a webhook endpoint of the workspace.
func (r *receiver) subscribe(t *testing.T, h *harness) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.inst.URL+"/v1/webhooks", strings.NewReader(`{"url":"`+r.URL+`/hook"}`))
	req.Header.Set("Authorization", "Bearer "+h.inst.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ep struct{ Secret string }
	if err := json.NewDecoder(resp.Body).Decode(&ep); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating the webhook endpoint: %d, %v", resp.StatusCode, err)
	}
	r.mu.Lock()
	r.secret = ep.Secret
	r.mu.Unlock()
}

// await advances Latchkey's clock a delivery interval at a time until an
// event of type has arrived, verified; the wall clock only ends a broken
// run.
func (r *receiver) await(t *testing.T, clock *clockwork.FakeClock, typ string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if e["type"] == typ {
				r.mu.Unlock()
				return e
			}
		}
		bad := r.bad
		r.mu.Unlock()
		if bad > 0 {
			t.Fatalf("%d webhooks failed signature verification", bad)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s webhook arrived", typ)
		}
		clock.Advance(server.WebhookInterval)
		time.Sleep(20 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------

// connectFixture is a Latchkey, a product backend's token, and the pages.
type connectFixture struct {
	*harness
	clock   *clockwork.FakeClock
	backend *client.Client
}

func startConnect(t *testing.T, o options) *connectFixture {
	clock := clockwork.NewFakeClockAt(time.Now())
	o.clock = clock
	h := start(t, o)
	tok, err := h.api.CreateToken(context.Background(), client.CreateToken{Name: "product backend",
		Scopes: []string{identity.ScopeConnectWrite, identity.ScopeAccountsRead}})
	if err != nil {
		t.Fatal(err)
	}
	return &connectFixture{harness: h, clock: clock, backend: client.New(h.inst.URL, tok.Secret, nil)}
}

func (f *connectFixture) mint(in client.CreateConnectToken) client.ConnectToken {
	f.t.Helper()
	ct, err := f.backend.CreateConnectToken(context.Background(), in)
	if err != nil {
		f.t.Fatal(err)
	}
	return ct
}

// openProduct shows the product's page with the query its script reads,
// and clicks its Connect button (a real click, so a popup may open).
func (f *connectFixture) openProduct(product *httptest.Server, query string) {
	f.t.Helper()
	f.do("open the product's page", chromedp.Navigate(product.URL+"/?"+query+"&latchkey="+f.inst.URL))
	f.waitFor("connect.js to load", `typeof LatchkeyConnect === "object" && Array.isArray(window.outcomes)`)
	f.do("click Connect", chromedp.Click(chromedp.CSS("#connect")))
}

// modalFrame waits for connect.js's modal and returns its iframe, whose
// document the test reads and fills: loopback ports are one site, so the
// frame runs in the tab's process.
func (f *connectFixture) modalFrame() *chromedp.Node {
	f.t.Helper()
	return f.modalFrameAt("")
}

// modalFrameAt is modalFrame once the frame's address holds part: after
// a navigation inside the modal.
func (f *connectFixture) modalFrameAt(part string) *chromedp.Node {
	f.t.Helper()
	f.waitFor("the modal", `!!document.querySelector("dialog[open] iframe")`)
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
		nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("dialog[open] iframe")))
		cancel()
		if err != nil || len(nodes) != 1 {
			f.fatalf("the modal's frame: %d nodes, %v", len(nodes), err)
		}
		// Until the hosted page has loaded, the frame holds about:blank.
		if doc := nodes[0].ContentDocument; doc != nil && strings.HasPrefix(doc.DocumentURL, f.inst.URL) && strings.Contains(doc.DocumentURL, part) {
			return nodes[0]
		}
		if time.Now().After(deadline) {
			f.fatalf("the modal's frame never showed the hosted page")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spend uses a token up, as an end user who connected with it before.
func (f *connectFixture) spend(tok string) {
	f.t.Helper()
	resp, err := http.PostForm(f.inst.URL+"/connect/link", url.Values{"token": {tok}, "app": {"sendgrid"}, "field_api_key": {goodKey}})
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("spending a token: %d", resp.StatusCode)
	}
}

// sawText reports whether a page logged an expected error holding part.
func (f *connectFixture) sawText(part string) bool {
	_, ignored := f.log.snapshot()
	for _, s := range ignored {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

func (f *connectFixture) outcomes() []outcome { return eval[[]outcome](f.harness, `window.outcomes`) }
func (f *connectFixture) messages() []message { return eval[[]message](f.harness, `window.messages`) }

// TestConnectJSEndToEnd: a product's page on a second origin loads
// /connect.js under a strict CSP and opens a key app in the modal; the
// end user pastes a key the stand-in provider accepts; onSuccess fires
// once with the account's id, the modal closes, the account is the end
// user's with the token's tags, and a signed account.connected reaches a
// receiver that verifies it. Each app kind is a case, in the modal and in
// connect.js's popup: an OAuth app, named to LatchkeyConnect.open or
// picked in the modal, runs at the in-test authorization server, from the
// modal in a popup of its own (the provider refuses to be framed).
func TestConnectJSEndToEnd(t *testing.T) {
	cases := []struct {
		name, app, mode string
		// pick: the app is not named to LatchkeyConnect.open; the token
		// offers two, and the end user picks it in the hosted page.
		pick bool
		// connect does what the end user does in the hosted page, inside
		// the modal's frame or the popup (ctx and from say where).
		connect func(f *connectFixture, ctx context.Context, from *chromedp.Node)
	}{
		{"keys in the modal", "sendgrid", "", false, fillKey},
		{"keys in a popup", "sendgrid", "popup", false, fillKey},
		{"OAuth from the modal", "testidp", "", false, approveFromModal},
		{"OAuth picked in the modal", "testidp", "", true, pickTestIdP},
		{"OAuth in a popup", "testidp", "popup", false, approveInPopup},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := newReceiver(t)
			f := startConnect(t, options{oauth: true, webhookOrigins: []string{rcv.URL}})
			f.idp.RequireConsent(true)
			rcv.subscribe(t, f.harness)
			product := newProductPage(t, f.inst.URL)
			apps, app := []string{c.app}, c.app
			if c.pick {
				apps, app = []string{"sendgrid", c.app}, ""
			}
			ct := f.mint(client.CreateConnectToken{ExternalUserID: "customer-42", Apps: apps,
				Tags: map[string]string{"org": "acme"}, AllowedOrigins: []string{product.URL},
				// The redirect is for the full-page flow; connect.js gets the outcome by message.
				SuccessRedirectURI: product.URL + "/done"})

			query := "token=" + ct.Token + "&app=" + app + "&mode=" + c.mode
			if c.mode == "popup" {
				pctx := f.openPopup(product, query)
				c.connect(f, pctx, nil)
			} else {
				f.openProduct(product, query)
				c.connect(f, f.ctx, f.modalFrame())
			}

			got := waitEval(f.harness, "the onSuccess callback", `window.outcomes`, func(o []outcome) bool { return len(o) > 0 })
			if len(got) != 1 || got[0].Kind != "success" || !strings.HasPrefix(got[0].AccountID, "acc_") {
				t.Fatalf("callbacks %+v, want onSuccess once with the account id", got)
			}
			if c.mode == "" {
				f.waitFor("the modal to close", `!document.querySelector("dialog")`)
			}
			for _, m := range f.messages() {
				if m.Origin != f.inst.URL {
					t.Errorf("a message from %s reached the product", m.Origin)
				}
			}
			acc, err := f.backend.GetAccount(context.Background(), got[0].AccountID)
			if err != nil || acc.ExternalUserID != "customer-42" || acc.Tags["org"] != "acme" || acc.App != c.app {
				t.Fatalf("the account %+v, %v: want the end user's %s account with the token's tags", acc, err, c.app)
			}
			ev := rcv.await(t, f.clock, "account.connected")
			data, _ := ev["data"].(map[string]any)
			tags, _ := data["tags"].(map[string]any)
			if data["account_id"] != acc.ID || data["external_user_id"] != "customer-42" || tags["org"] != "acme" {
				t.Errorf("account.connected %v: want the account, its end user and tags", ev)
			}
			if raw, _ := json.Marshal(ev); strings.Contains(string(raw), goodKey) {
				t.Errorf("the webhook carries the key: %s", raw)
			}
			time.Sleep(300 * time.Millisecond) // a second callback would come now
			if n := len(f.outcomes()); n != 1 {
				t.Errorf("%d callbacks, want exactly one", n)
			}
		})
	}
}

// fillKey pastes the good key into the hosted page's SendGrid form and
// submits it.
func fillKey(f *connectFixture, ctx context.Context, from *chromedp.Node) {
	f.t.Helper()
	var opts []chromedp.QueryOption
	if from != nil {
		opts = append(opts, chromedp.FromNode(from))
	}
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx,
		chromedp.WaitVisible(chromedp.CSS("#f-api_key"), opts...),
		chromedp.SendKeys(chromedp.CSS("#f-api_key"), goodKey, opts...),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`), opts...),
	); err != nil {
		f.fatalf("filling the key in the hosted page: %v", err)
	}
}

// openPopup opens the product's page and clicks Connect, which opens a
// popup; it returns the popup's context, watched for errors like the tab.
func (f *connectFixture) openPopup(product *httptest.Server, query string) context.Context {
	f.t.Helper()
	pctx, _ := f.popupOf(func() { f.openProduct(product, query) })
	return pctx
}

// popupOf runs click, which opens a popup from the tab (or a frame in
// it), and attaches to the popup: its context, watched for errors like
// the tab, and its label in the log.
func (f *connectFixture) popupOf(click func()) (context.Context, string) {
	f.t.Helper()
	opener := f.tabID
	created := chromedp.WaitNewTarget(f.ctx, func(info *target.Info) bool {
		return info.Type == "page" && info.OpenerID == opener
	})
	click()
	var id target.ID
	select {
	case id = <-created:
	case <-time.After(waitTimeout):
		f.fatalf("no popup opened")
	}
	f.popups++
	label := fmt.Sprintf("popup %d", f.popups)
	ref := &targetRef{}
	pctx, cancel := chromedp.NewContext(f.ctx, chromedp.WithTargetID(id), chromedp.WithListener(f.log.listener(label, ref)))
	ref.set(pctx)
	f.t.Cleanup(cancel)
	if err := guarded(startTimeout, cancel, func() error { return chromedp.Do(pctx) }); err != nil {
		f.fatalf("attaching to the popup: %v", err)
	}
	return pctx, label
}

// waitIn waits until the JavaScript condition holds in the window of ctx
// (a popup, another browser's tab).
func (f *connectFixture) waitIn(ctx context.Context, what, cond string) {
	f.t.Helper()
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(50 * time.Millisecond) {
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		ok, _ := chromedp.Run(cctx, chromedp.Evaluate[bool](`document.readyState === "complete" && (`+cond+`)`))
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			f.fatalf("waited %v for %s", waitTimeout, what)
		}
	}
}

// consentCond: the window shows the in-test authorization server's
// consent page.
const consentCond = `!!document.querySelector("#approve")`

// clickIn clicks the element sel matches in the window of ctx.
func (f *connectFixture) clickIn(ctx context.Context, what, sel string, opts ...chromedp.QueryOption) {
	f.t.Helper()
	cctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(cctx, chromedp.Click(chromedp.CSS(sel), opts...)); err != nil {
		f.fatalf("%s: %v", what, err)
	}
}

// continueFromModal clicks the OAuth app's Continue in the modal's frame,
// which opens a popup at the provider's consent page; it returns the
// popup's context and log label.
func (f *connectFixture) continueFromModal(frame *chromedp.Node) (context.Context, string) {
	f.t.Helper()
	pctx, label := f.popupOf(func() {
		f.clickIn(f.ctx, "click Continue in the modal", `form[data-link-oauth] button[type="submit"]`, chromedp.FromNode(frame))
	})
	f.waitIn(pctx, "the consent page in the popup", consentCond)
	return pctx, label
}

// approveFromModal: the end user continues to the provider from the
// modal, approves in the popup that opens, and the popup closes itself.
// The modal's frame started nothing itself: the POST that sets the flow's
// cookie went top-level, in the popup.
func approveFromModal(f *connectFixture, _ context.Context, frame *chromedp.Node) {
	f.t.Helper()
	pctx, label := f.continueFromModal(frame)
	detached, err := chromedp.Detached(pctx)
	if err != nil {
		f.fatalf("watching the popup: %v", err)
	}
	f.clickIn(pctx, "approve at the provider", "#approve")
	select {
	case <-detached:
	case <-time.After(waitTimeout):
		f.fatalf("the popup did not close itself")
	}
	for _, r := range f.log.requestsOf("page") {
		if strings.HasPrefix(r, "POST "+f.inst.URL+"/connect/link") {
			f.t.Errorf("the modal's frame posted the OAuth form itself: %s", r)
		}
	}
	if navs := f.log.navigations(label); len(navs) == 0 || !strings.HasPrefix(navs[len(navs)-1], f.inst.URL+"/oauth/callback?") {
		f.t.Errorf("the popup's pages %q: want it to end at Latchkey's callback", navs)
	}
}

// pickTestIdP: the end user picks Test IdP among the token's apps inside
// the modal, then connects it as approveFromModal does.
func pickTestIdP(f *connectFixture, ctx context.Context, frame *chromedp.Node) {
	f.t.Helper()
	f.clickIn(f.ctx, "pick Test IdP in the modal", `a.app-card[href*="app=testidp"]`, chromedp.FromNode(frame))
	approveFromModal(f, ctx, f.modalFrameAt("app=testidp"))
}

// approveInPopup: in connect.js's popup the flow runs in place: Continue,
// then approve at the provider; connect.js closes the popup.
func approveInPopup(f *connectFixture, pctx context.Context, _ *chromedp.Node) {
	f.t.Helper()
	f.waitIn(pctx, "the OAuth form in the popup", `!!document.querySelector("form[data-link-oauth]")`)
	f.clickIn(pctx, "click Continue in the popup", `form[data-link-oauth] button[type="submit"]`)
	f.waitIn(pctx, "the consent page in the popup", consentCond)
	f.clickIn(pctx, "approve at the provider", "#approve")
}

// TestConnectJSAllowedOrigins: a page on an origin the token does not
// allow gets nothing. Its modal's frame is refused by the hosted page's
// frame-ancestors (the form never shows); in a popup the end user may
// connect, yet no message reaches the page and onSuccess never fires; and
// a page that names an allowed origin it is not gets nothing either.
func TestConnectJSAllowedOrigins(t *testing.T) {
	f := startConnect(t, options{})
	allowed := newProductPage(t, f.inst.URL)
	other := newProductPage(t, f.inst.URL)
	mint := func() client.ConnectToken {
		return f.mint(client.CreateConnectToken{ExternalUserID: "customer-42", Apps: []string{"sendgrid"}, AllowedOrigins: []string{allowed.URL}})
	}

	t.Run("the allowed origin hears the page", func(t *testing.T) {
		f.openProduct(allowed, "token="+mint().Token+"&app=sendgrid")
		f.modalFrame()
		waitEval(f.harness, "the hosted page's ready message", `window.messages`, func(m []message) bool {
			return len(m) == 1 && m[0].Origin == f.inst.URL && m[0].Type == "latchkey:ready"
		})
		// Escape dismisses the modal: onClose, once.
		f.do("press Escape", chromedp.KeyEvent("\x1b"))
		got := waitEval(f.harness, "onClose", `window.outcomes`, func(o []outcome) bool { return len(o) > 0 })
		if len(got) != 1 || got[0].Kind != "close" {
			t.Errorf("callbacks %+v, want onClose once", got)
		}
	})

	t.Run("the modal is refused by frame-ancestors", func(t *testing.T) {
		f.log.expectText("frame-ancestors")
		f.openProduct(other, "token="+mint().Token+"&app=sendgrid")
		f.waitFor("the modal", `!!document.querySelector("dialog[open] iframe")`)
		// The frame ends on Chromium's error page, not on Latchkey's.
		var frameURL string
		deadline := time.Now().Add(waitTimeout)
		for {
			ctx, cancel := context.WithTimeout(f.ctx, stepTimeout)
			res, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
			cancel()
			if err != nil {
				f.fatalf("the frame tree: %v", err)
			}
			if tree := res.FrameTree; tree != nil && len(tree.ChildFrames) == 1 {
				fr := tree.ChildFrames[0].Frame
				frameURL = fr.URL
				if fr.UnreachableURL != "" || strings.HasPrefix(fr.URL, "chrome-error:") {
					break
				}
			}
			if time.Now().After(deadline) {
				f.fatalf("the frame shows %q; want it refused", frameURL)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !f.sawText("frame-ancestors") {
			t.Errorf("Chromium reported no frame-ancestors violation")
		}
		time.Sleep(300 * time.Millisecond)
		if m := f.messages(); len(m) != 0 {
			t.Errorf("messages %+v reached a page the token does not allow", m)
		}
		if o := f.outcomes(); len(o) != 0 {
			t.Errorf("callbacks %+v for a refused frame", o)
		}
	})

	for _, c := range []struct{ name, query string }{
		{"a popup connects but tells nobody", "&mode=popup"},
		{"a page that names an allowed origin hears nothing", "&spoof=" + allowed.URL},
	} {
		t.Run(c.name, func(t *testing.T) {
			ct := mint()
			pctx := f.openPopup(other, "token="+ct.Token+"&app=sendgrid"+c.query)
			fillKey(f, pctx, nil)
			// The page shows it is connected, to the end user only.
			f.waitIn(pctx, "the popup's done page", `document.querySelector("h1")?.textContent === "Connected"`)
			page, err := f.backend.ListAccounts(context.Background(), client.ListOptions{ExternalUserID: "customer-42"})
			if err != nil || len(page.Data) == 0 {
				t.Fatalf("the popup connected nothing: %v", err)
			}
			time.Sleep(300 * time.Millisecond)
			if m := f.messages(); len(m) != 0 {
				t.Errorf("messages %+v reached a page the token does not allow", m)
			}
			if o := f.outcomes(); len(o) != 0 && o[0].Kind == "success" {
				t.Errorf("onSuccess fired on a page the token does not allow: %+v", o)
			}
		})
	}
}

// TestConnectJSSpentToken: through connect.js, a used token and an
// expired one open a modal that says the link does not work, and connect
// nothing; dismissing it is onClose.
func TestConnectJSSpentToken(t *testing.T) {
	f := startConnect(t, options{})
	product := newProductPage(t, f.inst.URL)
	used := f.mint(client.CreateConnectToken{ExternalUserID: "customer-1", Apps: []string{"sendgrid"}, AllowedOrigins: []string{product.URL}})
	f.spend(used.Token)
	expired := f.mint(client.CreateConnectToken{ExternalUserID: "customer-2", Apps: []string{"sendgrid"}, AllowedOrigins: []string{product.URL}})
	f.clock.Advance(4*time.Hour + time.Second)
	f.log.expectStatus("/connect/link", http.StatusGone)

	for name, tok := range map[string]string{"used": used.Token, "expired": expired.Token} {
		t.Run(name, func(t *testing.T) {
			f.openProduct(product, "token="+tok+"&app=sendgrid")
			frame := f.modalFrame()
			ctx, cancel := context.WithTimeout(f.ctx, waitTimeout)
			defer cancel()
			heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#error-page h1"), chromedp.FromNode(frame)))
			if err != nil {
				f.fatalf("the modal's page: %v", err)
			}
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main"), chromedp.FromNode(frame)))
			if heading != "This connect link does not work" || !strings.Contains(body, "used already or it expired") {
				t.Errorf("the modal shows %q: %q", heading, body)
			}
			f.do("close the modal", chromedp.Click(chromedp.CSS(`dialog button[aria-label="Close"]`)))
			got := waitEval(f.harness, "onClose", `window.outcomes`, func(o []outcome) bool { return len(o) > 0 })
			if len(got) != 1 || got[0].Kind != "close" {
				t.Errorf("callbacks %+v, want onClose once", got)
			}
		})
	}
	// The used token's one account, from before; none of the expired one.
	for user, want := range map[string]int{"customer-1": 1, "customer-2": 0} {
		if page, err := f.backend.ListAccounts(context.Background(), client.ListOptions{ExternalUserID: user}); err != nil || len(page.Data) != want {
			t.Errorf("%s: accounts %v, %v; want %d", user, page.Data, err, want)
		}
	}
}

// otherBrowser opens a tab in a fresh browser context: another browser,
// with no cookie of the end user's, watched for errors like the tab.
func (f *connectFixture) otherBrowser() context.Context {
	f.t.Helper()
	ref := &targetRef{}
	ctx, cancel := chromedp.NewContext(browser(f.t), chromedp.WithNewBrowserContext(), chromedp.WithListener(f.log.listener("other browser", ref)))
	ref.set(ctx)
	f.t.Cleanup(cancel)
	if err := guarded(startTimeout, cancel, func() error { return chromedp.Do(ctx) }); err != nil {
		f.fatalf("opening another browser: %v", err)
	}
	return ctx
}

// TestConnectJSOAuthForwarded: the end user continues to the provider
// from the modal, and the authorize URL in the popup is forwarded to
// another browser, which approves it there: that browser's page says the
// flow was started in another browser, no account is attached, and the
// product hears nothing. The flow is spent, not the token: the end user
// closes the popup, the modal says nothing was connected, and Continue
// connects in a new popup.
func TestConnectJSOAuthForwarded(t *testing.T) {
	f := startConnect(t, options{oauth: true})
	f.idp.RequireConsent(true)
	product := newProductPage(t, f.inst.URL)
	ct := f.mint(client.CreateConnectToken{ExternalUserID: "customer-7", Apps: []string{"testidp"}, AllowedOrigins: []string{product.URL}})
	f.openProduct(product, "token="+ct.Token+"&app=testidp")
	frame := f.modalFrame()
	pctx, _ := f.continueFromModal(frame)
	lctx, lcancel := context.WithTimeout(pctx, stepTimeout)
	forwarded, err := chromedp.Run(lctx, chromedp.Evaluate[string](`location.href`))
	lcancel()
	if err != nil || !strings.HasPrefix(forwarded, f.idp.URL+"/authorize?") {
		t.Fatalf("the popup is at %q (%v), want the provider's authorize URL", forwarded, err)
	}

	f.log.expectStatus("/oauth/callback", http.StatusBadRequest)
	other := f.otherBrowser()
	sctx, cancel := context.WithTimeout(other, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, chromedp.Navigate(forwarded)); err != nil {
		f.fatalf("opening the forwarded URL in another browser: %v", err)
	}
	f.waitIn(other, "the consent page in the other browser", consentCond)
	f.clickIn(other, "approve in the other browser", "#approve")
	f.waitIn(other, "the other browser's refusal", `location.pathname === "/oauth/callback" && !!document.querySelector("#error-page")`)
	page, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.querySelector("#error-page").innerText`))
	if err != nil || !strings.Contains(page, "The authorization cannot be completed") || !strings.Contains(page, "started in another browser") {
		t.Errorf("the other browser's page %q, %v: want it to say the flow was started in another browser", page, err)
	}
	if list, err := f.backend.ListAccounts(context.Background(), client.ListOptions{ExternalUserID: "customer-7"}); err != nil || len(list.Data) != 0 {
		t.Fatalf("the forwarded URL attached %v, %v", list.Data, err)
	}

	// The end user gives up on that window; the modal says so, and the
	// product has heard nothing.
	if err := chromedp.Cancel(pctx); err != nil {
		f.fatalf("closing the popup: %v", err)
	}
	for deadline := time.Now().Add(waitTimeout); ; time.Sleep(50 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(f.ctx, 3*time.Second)
		said, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[role="status"]`), chromedp.FromNode(frame)))
		cancel()
		if strings.Contains(said, "closed before you finished") {
			break
		}
		if time.Now().After(deadline) {
			f.fatalf("the modal says %q, want that the window was closed before the end", said)
		}
	}
	if o := f.outcomes(); len(o) != 0 {
		t.Errorf("callbacks %+v after the forwarded URL, want none", o)
	}
	for _, m := range f.messages() {
		if m.Type != "latchkey:ready" {
			t.Errorf("the product heard %+v from a forwarded URL", m)
		}
	}

	approveFromModal(f, f.ctx, frame)
	got := waitEval(f.harness, "the onSuccess callback", `window.outcomes`, func(o []outcome) bool { return len(o) > 0 })
	list, err := f.backend.ListAccounts(context.Background(), client.ListOptions{ExternalUserID: "customer-7"})
	if err != nil || len(list.Data) != 1 || len(got) != 1 || got[0].Kind != "success" || got[0].AccountID != list.Data[0].ID {
		t.Errorf("callbacks %+v, accounts %v, %v: want onSuccess with the one account", got, list.Data, err)
	}
}

// TestConnectJSOAuthDeclined: an end user who declines at the provider,
// in the popup the modal opened, ends the flow with onError and the
// provider's code; nothing is connected.
func TestConnectJSOAuthDeclined(t *testing.T) {
	f := startConnect(t, options{oauth: true})
	f.idp.RequireConsent(true)
	f.log.expectStatus("/oauth/callback", http.StatusBadRequest)
	product := newProductPage(t, f.inst.URL)
	ct := f.mint(client.CreateConnectToken{ExternalUserID: "customer-8", Apps: []string{"testidp"}, AllowedOrigins: []string{product.URL}})
	f.openProduct(product, "token="+ct.Token+"&app=testidp")
	pctx, _ := f.continueFromModal(f.modalFrame())
	f.clickIn(pctx, "decline at the provider", "#deny")
	got := waitEval(f.harness, "the onError callback", `window.outcomes`, func(o []outcome) bool { return len(o) > 0 })
	if len(got) != 1 || got[0].Kind != "error" || got[0].Code != "access_denied" {
		t.Errorf("callbacks %+v, want onError with access_denied", got)
	}
	f.waitFor("the modal to close", `!document.querySelector("dialog")`)
	if list, err := f.backend.ListAccounts(context.Background(), client.ListOptions{ExternalUserID: "customer-8"}); err != nil || len(list.Data) != 0 {
		t.Errorf("a declined flow connected %v, %v", list.Data, err)
	}
}
