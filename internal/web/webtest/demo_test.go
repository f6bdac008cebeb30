package webtest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/client"
)

// TestDemoConnectRevoke is the quick start's demo path in a browser:
// connect the demo app from the picker, sign in and allow at the demo
// provider's page in the popup, see the account; revoke the grant at the
// demo's page; after its token expires the account needs reconnecting;
// reconnect it from its row menu, under the same id.
func TestDemoConnectRevoke(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	h := start(t, options{demo: true, clock: clock})
	h.signUp()
	acc := h.connectDemo()
	h.revokeAtDemo()

	clock.Advance(2 * time.Minute)
	if _, err := h.api.Credentials(context.Background(), acc.ID); err == nil {
		t.Fatal("credentials were handed out after the grant was revoked")
	}
	h.open("/")
	rows := h.waitRows("the account needing reconnect", func(r []row) bool { return len(r) == 1 && r[0].Status != "Healthy" })
	if r := rows[0]; r.App != "Latchkey Demo" || !strings.Contains(strings.ToLower(r.Status), "reconnect") {
		t.Errorf("row %+v", r)
	}

	// Reconnect from the row menu: still signed in at the demo, ada only
	// allows again, and the same account is healthy.
	h.openRowMenu(acc.ID)
	h.throughPopupActing("reconnect", "/accounts/"+acc.ID+"/reconnect", chromedp.Click(chromedp.CSS(`tr[data-id="`+acc.ID+`"] details.menu form[data-oauth] button`)), nil, h.allowAtDemo)
	rows = h.waitRows("the reconnected row", func(r []row) bool { return len(r) == 1 && r[0].Status == "Healthy" })
	if rows[0].ID != acc.ID {
		t.Errorf("reconnected row %+v, want id %s", rows[0], acc.ID)
	}
	if _, err := h.api.Credentials(context.Background(), acc.ID); err != nil {
		t.Fatalf("credentials after reconnecting: %v", err)
	}
}

// connectDemo connects the demo app from the picker as the demo user ada,
// signing in and allowing at the demo provider's page in the popup, and
// returns the account.
func (h *harness) connectDemo() client.Account {
	h.t.Helper()
	h.open("/connect")
	h.at("/connect", "Connect an account")
	h.openConnectDialog("demo", "demo", "Latchkey Demo")
	p := h.throughPopupActing("connect with the demo", "/connect/demo", chromedp.Click(chromedp.CSS(`#connect-dialog button[type=submit]`)), nil,
		func(pctx context.Context) {
			ctx, cancel := context.WithTimeout(pctx, waitTimeout)
			defer cancel()
			if err := chromedp.Do(ctx,
				chromedp.SendKeys(chromedp.CSS("#username"), "ada"),
				chromedp.SendKeys(chromedp.CSS("#password"), "ada-pw"),
				chromedp.Click(chromedp.CSS("#approve")),
			); err != nil {
				h.fatalf("sign in and allow at the demo provider: %v", err)
			}
		})
	if len(p.requests) == 0 || !strings.HasPrefix(p.requests[0], "GET "+h.inst.URL+"/demo/oauth/authorize?") {
		h.t.Errorf("the popup's first request was not to the demo provider: %q", p.requests)
	}
	h.waitFor("the connected notice", `(() => { const f = document.querySelector("main .flash"); return !!f && f.textContent.includes("connected") })()`)
	list, err := h.api.ListAccounts(context.Background(), client.ListOptions{})
	if err != nil || len(list.Data) != 1 || list.Data[0].App != "demo" || list.Data[0].IdentityLabel != "ada (demo)" {
		h.t.Fatalf("accounts after connecting: %+v, %v", list.Data, err)
	}
	return list.Data[0]
}

// allowAtDemo allows again in the popup, where ada is still signed in.
func (h *harness) allowAtDemo(pctx context.Context) {
	ctx, cancel := context.WithTimeout(pctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#approve"))); err != nil {
		h.fatalf("allow again at the demo provider: %v", err)
	}
}

// revokeAtDemo revokes ada's grant at the demo provider's page, signed in
// by the popup.
func (h *harness) revokeAtDemo() {
	h.t.Helper()
	h.open("/demo")
	h.waitFor("the grant", `!!document.querySelector("#demo-grants tr[data-grant]")`)
	if got := h.text("#demo-user"); !strings.Contains(got, "ada") {
		h.t.Errorf("the demo page says %q", got)
	}
	h.do("revoke the grant", chromedp.Click(chromedp.CSS("#demo-grants button.revoke")))
	h.waitFor("no grant left", `!!document.querySelector("#demo-no-grants")`)
}
