package webtest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/latchkeyhq/latchkey/client"
)

// warmingReceiver is a loopback webhook endpoint that verifies each signature
// with the Standard Webhooks library; it refuses its first request.
type warmingReceiver struct {
	*httptest.Server
	mu           sync.Mutex
	secret       string
	calls, wrong int
}

func newWarmingReceiver(t *testing.T) *warmingReceiver {
	r := &warmingReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.calls++
		if wh, err := standardwebhooks.NewWebhook(r.secret); err != nil || wh.Verify(body, req.Header) != nil {
			r.wrong++
		}
		if r.calls == 1 {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// An owner adds an endpoint on the Webhooks page and copies its secret,
// shown once; a delivery that failed shows its attempt, is redelivered
// and then shows both; the endpoint is turned off and on, its secret
// rotated, and it is deleted. A member sees no Webhooks page, and another
// workspace's owner cannot open this one's endpoint.
func TestWebhooksPage(t *testing.T) {
	rcv := newWarmingReceiver(t)
	h := start(t, options{webhookOrigins: []string{rcv.URL}})
	h.signUp()
	h.open("/")
	h.at("/", "Accounts")
	h.do("open Webhooks from the menu", chromedp.Click(chromedp.CSS(`nav a[href="/webhooks"]`)))
	h.at("/webhooks", "Webhooks")
	h.do("add an endpoint",
		chromedp.SendKeys(chromedp.CSS("#webhook-url"), rcv.URL+"/hook"),
		chromedp.Click(chromedp.CSS(`input[name=event_type][value="account.connected"]`)),
		chromedp.Click(chromedp.CSS(`form[action="/webhooks"] button[type=submit]`)),
	)
	h.waitFor("the new secret", `document.querySelector("#webhook-secret") !== null`)
	secret := h.text("#webhook-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("the secret shown is %q", secret)
	}
	rcv.mu.Lock()
	rcv.secret = secret
	rcv.mu.Unlock()
	list, err := h.api.Webhooks(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("endpoints: %+v, %v", list, err)
	}
	id := list[0].ID
	if got := h.text("tr#" + id); !strings.Contains(got, rcv.URL+"/hook") || !strings.Contains(got, "account.connected") || !strings.Contains(got, "On") {
		t.Errorf("the endpoint's row: %q", got)
	}
	h.open("/webhooks")
	h.at("/webhooks", "Webhooks")
	if eval[bool](h, `document.querySelector("#webhook-secret") !== null || document.body.innerText.includes(`+js(secret)+`)`) {
		t.Error("the secret is shown again")
	}
	// Bad input: a plain http URL no one trusts; nothing is added.
	h.log.expectStatus("/webhooks", 422)
	h.do("add a bad endpoint",
		chromedp.SendKeys(chromedp.CSS("#webhook-url"), "http://hooks.example/x"),
		chromedp.Click(chromedp.CSS(`form[action="/webhooks"] button[type=submit]`)),
	)
	h.waitFor("the form error", textJS(".form-error")+` === "url: must use https"`)
	if l, _ := h.api.Webhooks(context.Background()); len(l) != 1 {
		t.Errorf("a refused endpoint was added: %+v", l)
	}

	// An event; its first attempt gets 503.
	h.createKeyAccount("Team mail")
	if _, err := h.inst.Webhooks().DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := "/webhooks/" + id
	h.do("open the deliveries", chromedp.Click(chromedp.CSS(`tr#`+id+` a[href="`+page+`"]`)))
	h.at(page, "Deliveries")
	row := `#main tbody tr:first-child`
	h.waitFor("the failed attempt", textJS(row)+`.includes("503") && `+textJS(row+" .status")+` === "pending"`)
	if got := h.text(row); !strings.Contains(got, "account.connected") || !strings.Contains(got, "warming up") {
		t.Errorf("the delivery's row: %q", got)
	}
	h.do("redeliver", chromedp.Click(chromedp.CSS(row+` form button[type=submit]`)))
	h.at(page+"?done=redeliver", "Deliveries")
	if _, err := h.inst.Webhooks().DeliverDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.open(page)
	h.at(page, "Deliveries")
	h.waitFor("the delivered status", textJS(row+" .status")+` === "delivered"`)
	if n := eval[int](h, `document.querySelectorAll(`+js(row+" ol.attempts li")+`).length`); n != 2 {
		t.Errorf("the delivery lists %d attempts, want 2: %q", n, h.text(row))
	}

	h.open("/webhooks")
	h.at("/webhooks", "Webhooks")
	h.do("turn it off", chromedp.Click(chromedp.CSS(`form[action="/webhooks/`+id+`/disable"] button`)))
	h.at("/webhooks?done=disabled", "Webhooks")
	if got := h.text("tr#" + id + " .state"); got != "Off: turned off by a person" {
		t.Errorf("state after turning off: %q", got)
	}
	h.do("turn it on", chromedp.Click(chromedp.CSS(`form[action="/webhooks/`+id+`/enable"] button`)))
	h.at("/webhooks?done=enabled", "Webhooks")
	if got := h.text("tr#" + id + " .state"); got != "On" {
		t.Errorf("state after turning on: %q", got)
	}
	h.do("rotate the secret",
		chromedp.SetValue(chromedp.CSS("#overlap-"+id), "0s"),
		chromedp.Click(chromedp.CSS(`form[action="/webhooks/`+id+`/rotate"] button`)),
	)
	h.waitFor("the rotated secret", `document.querySelector("#webhook-secret") !== null`)
	if got := h.text("#webhook-secret"); got == secret || !strings.HasPrefix(got, "whsec_") {
		t.Errorf("the rotated secret is %q (the old was %q)", got, secret)
	}

	// A member: no menu item, and the pages refuse.
	link, err := h.api.Invite(context.Background(), client.Invite{Email: memberEmail, Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	inv, _ := url.Parse(link.URL)
	member := &harness{t: t, inst: h.inst, provider: h.provider, log: newConsoleLog()}
	member.openTab(browser(t))
	member.open(inv.Path)
	member.at(inv.Path, "Join Default")
	member.do("accept",
		chromedp.SendKeys(chromedp.CSS("#name"), memberName),
		chromedp.SendKeys(chromedp.CSS("#password"), memberPassword),
		chromedp.SendKeys(chromedp.CSS("#confirm"), memberPassword),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	member.at("/", "Accounts")
	if eval[bool](member, `document.querySelector('nav a[href="/webhooks"]') !== null`) {
		t.Error("a member is shown the Webhooks menu item")
	}
	for _, p := range []string{"/webhooks", page} {
		member.log.expectStatus(p, 403)
		member.open(p)
		member.at(p, "Not allowed")
	}

	// Another workspace of the same person: this endpoint is not there.
	if _, err := h.api.CreateWorkspace(context.Background(), client.CreateWorkspace{Name: "Sales", OwnerEmail: ownerEmail}); err != nil {
		t.Fatal(err)
	}
	// Switched from the Webhooks page, so the landing on / shows it done.
	h.open("/webhooks")
	h.at("/webhooks", "Webhooks")
	h.do("switch to Sales",
		chromedp.SetValue(chromedp.CSS("#workspace-switch"), eval[string](h, `[...document.querySelectorAll("#workspace-switch option")].find(o => o.textContent === "Sales").value`)),
		chromedp.Click(chromedp.CSS(`form[action="/workspace"] button`)),
	)
	h.at("/", "Accounts")
	h.waitFor("the Sales workspace", `[...document.querySelectorAll("#workspace-switch option")].find(o => o.selected)?.textContent === "Sales"`)
	h.open("/webhooks")
	h.at("/webhooks", "Webhooks")
	if eval[bool](h, `document.querySelector("tr#`+id+`") !== null`) {
		t.Error("another workspace lists the endpoint")
	}
	h.log.expectStatus(page, 404)
	h.open(page)
	h.at(page, "Not found")
	h.log.expectStatus("/webhooks/"+id+"/delete", 404)
	h.do("delete it from the other workspace", chromedp.Evaluate[chromedp.Void](`(() => { const f = document.createElement("form"); f.method = "post"; f.action = "/webhooks/`+id+`/delete"; document.body.append(f); f.submit(); })()`))
	h.at("/webhooks/"+id+"/delete", "Not found")
	if l, _ := h.api.Webhooks(context.Background()); len(l) != 1 {
		t.Fatalf("another workspace deleted the endpoint: %+v", l)
	}
	// Back home, delete it (the confirm dialog is the browser's own; the
	// form is submitted as the dialog's OK would).
	h.open("/webhooks")
	h.at("/webhooks", "Webhooks")
	h.do("switch back",
		chromedp.SetValue(chromedp.CSS("#workspace-switch"), eval[string](h, `[...document.querySelectorAll("#workspace-switch option")].find(o => o.textContent === "Default").value`)),
		chromedp.Click(chromedp.CSS(`form[action="/workspace"] button`)),
	)
	h.at("/", "Accounts")
	h.waitFor("the Default workspace", `[...document.querySelectorAll("#workspace-switch option")].find(o => o.selected)?.textContent === "Default"`)
	h.open("/webhooks")
	h.at("/webhooks", "Webhooks")
	h.do("delete", chromedp.Evaluate[chromedp.Void](`document.querySelector('form[action="/webhooks/`+id+`/delete"]').submit()`))
	h.at("/webhooks?done=deleted", "Webhooks")
	if l, _ := h.api.Webhooks(context.Background()); len(l) != 0 {
		t.Errorf("endpoints after delete: %+v", l)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if rcv.calls != 2 || rcv.wrong != 0 {
		t.Errorf("the receiver got %d calls, %d unverified; want 2, all verified", rcv.calls, rcv.wrong)
	}
}
