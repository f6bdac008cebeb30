package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/client"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// TestConnectScript: /connect.js is served to anyone as JavaScript, cached
// and revalidated by its ETag, loadable cross-origin with integrity checks.
func TestConnectScript(t *testing.T) {
	f := startLink(t, servertest.Backends[0])
	get := func(etag string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(f.URL, "/")+"/connect.js", nil)
		req.Header.Set("Origin", "https://app.example")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := f.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp, b.String()
	}
	resp, body := get("")
	h := resp.Header
	if resp.StatusCode != 200 || !strings.Contains(body, "window.LatchkeyConnect = Object.freeze({ open })") {
		t.Fatalf("GET /connect.js: %d\n%.200s", resp.StatusCode, body)
	}
	for k, want := range map[string]string{
		"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=3600",
		"Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin", "X-Content-Type-Options": "nosniff",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if strings.Contains(h.Get("Cache-Control"), "no-store") || h.Get("ETag") == "" {
		t.Errorf("Cache-Control %q, ETag %q: want it cached and revalidated", h.Get("Cache-Control"), h.Get("ETag"))
	}
	if resp, body := get(h.Get("ETag")); resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidating with its ETag: %d, %d bytes; want 304 and nothing", resp.StatusCode, len(body))
	}
	if resp, _ := get(`"stale"`); resp.StatusCode != 200 {
		t.Errorf("revalidating with another ETag: %d, want 200", resp.StatusCode)
	}
}

// TestConnectLinkEmbedded: opened by connect.js with &origin=, the hosted
// page reports to that origin only if the token allows it, keeps it
// through the app list, the search and the form, and on success shows the
// done page that posts the account id instead of redirecting. A used
// token's page may be framed anywhere, to say so inside the modal.
func TestConnectLinkEmbedded(t *testing.T) {
	f := startLink(t, servertest.Backends[0])
	const app = "https://app.example"
	ct := f.mint(t, client.CreateConnectToken{ExternalUserID: "customer-9", Apps: []string{"sendgrid", "twilio"},
		Tags: map[string]string{"org": "acme"}, SuccessRedirectURI: app + "/done", AllowedOrigins: []string{app}})
	embed := `id="link-embed" hidden data-origin="` + app + `"`

	for _, origin := range []string{"https://evil.example", "https://app.example:8443", "http://app.example", "*", ""} {
		_, body := f.get(t, ct.Token, url.Values{"origin": {origin}, "app": {"sendgrid"}})
		if strings.Contains(body, "link-embed") || strings.Contains(body, `name="origin"`) {
			t.Errorf("origin %q, not allowed: the page would report to it:\n%s", origin, body)
		}
	}
	_, body := f.get(t, ct.Token, url.Values{"origin": {"HTTPS://APP.EXAMPLE"}})
	if !strings.Contains(body, embed) || !strings.Contains(body, `src="/static/connect_link.js"`) {
		t.Fatalf("the allowed origin: no reporter in the page:\n%s", body)
	}
	if !strings.Contains(body, `origin=https%3A%2F%2Fapp.example`) || !strings.Contains(body, `<input type="hidden" name="origin" value="`+app+`">`) {
		t.Errorf("the app cards or the search lose the origin:\n%s", body)
	}
	_, body = f.get(t, ct.Token, url.Values{"origin": {app}, "app": {"sendgrid"}})
	if !strings.Contains(body, `<input type="hidden" name="origin" value="`+app+`">`) {
		t.Errorf("the keys form loses the origin:\n%s", body)
	}

	// A post without the origin is told nothing either.
	resp, body := f.post(t, ct.Token, "sendgrid", map[string]string{"api_key": "SG.wrong-key"})
	if resp.StatusCode != 422 || strings.Contains(body, "link-embed") {
		t.Errorf("a refused key without an origin: %d\n%s", resp.StatusCode, body)
	}
	form := url.Values{"token": {ct.Token}, "app": {"sendgrid"}, "origin": {app}, "field_api_key": {goodKey}}
	req, _ := http.NewRequest(http.MethodPost, strings.TrimSuffix(f.URL, "/")+"/connect/link", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	list := f.endUserAccounts(t, "customer-9")
	if resp.StatusCode != 200 || len(list) != 1 {
		t.Fatalf("embedded success: %d (Location %q), %d accounts; want the done page, not the redirect", resp.StatusCode, resp.Header.Get("Location"), len(list))
	}
	if want := embed + ` data-account="` + list[0].ID + `"`; !strings.Contains(b.String(), want) {
		t.Errorf("the done page does not post the account id; want %s in:\n%s", want, b.String())
	}

	// Spent: the page says so, and may be shown in any modal.
	resp, body = f.get(t, ct.Token, url.Values{"origin": {app}})
	if resp.StatusCode != http.StatusGone || !strings.Contains(body, "used already or it expired") || strings.Contains(body, "link-embed") {
		t.Errorf("a used token's page: %d\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors *;") || resp.Header.Get("X-Frame-Options") != "" {
		t.Errorf("a used token's page: CSP %q, X-Frame-Options %q; want it frameable", csp, resp.Header.Get("X-Frame-Options"))
	}

	// A token without allowed origins reports to nobody.
	closed := f.mint(t, client.CreateConnectToken{ExternalUserID: "customer-10"})
	if _, body := f.get(t, closed.Token, url.Values{"origin": {app}}); strings.Contains(body, "link-embed") {
		t.Errorf("a token without allowed origins would report:\n%s", body)
	}
}

// TestHostedOAuthEmbedded: an OAuth flow started from a page connect.js
// embeds keeps the embedding origin, and whether the modal's page relays
// the outcome, in cookies as narrow as the flow's own; the callback then
// shows the outcome for the popup to post (to its Latchkey opener when
// relayed, else to the origin) instead of redirecting. An origin the
// token does not allow is kept by no cookie, relayed or not, and the
// flow ends in the redirect.
func TestHostedOAuthEmbedded(t *testing.T) {
	f := startHosted(t, servertest.Backends[0])
	const app = "https://app.example"
	cases := []struct {
		name, origin string
		relay, deny  bool
		// embedded: the page posts to app; want is its relay attribute.
		embedded bool
	}{
		{name: "relayed by the modal's page", origin: app, relay: true, embedded: true},
		{name: "declined, relayed", origin: app, relay: true, deny: true, embedded: true},
		{name: "connect.js's popup", origin: app, embedded: true},
		{name: "an origin the token does not allow", origin: "https://evil.example", relay: true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			user := fmt.Sprintf("eu-embed-%d", i)
			ct := f.mint(t, client.CreateConnectToken{ExternalUserID: user, Apps: []string{"testidp"}, AllowedOrigins: []string{app},
				SuccessRedirectURI: app + "/done", ErrorRedirectURI: app + "/failed"})
			browser := endUserBrowser(t)
			form := url.Values{"token": {ct.Token}, "app": {"testidp"}, "origin": {c.origin}}
			if c.relay {
				form.Set("relay", "1")
			}
			resp, authURL := f.startForm(t, browser, form)
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authURL, f.idp.URL+"/authorize") {
				t.Fatalf("starting: %d to %q", resp.StatusCode, authURL)
			}
			set := map[string]*http.Cookie{}
			for _, ck := range resp.Cookies() {
				set[ck.Name] = ck
			}
			wantCookies := map[string]string{"latchkey_link_origin": "", "latchkey_link_relay": ""}
			if c.embedded {
				wantCookies["latchkey_link_origin"] = app
				if c.relay {
					wantCookies["latchkey_link_relay"] = "1"
				}
			}
			for name, want := range wantCookies {
				ck := set[name]
				switch {
				case want == "" && ck != nil:
					t.Errorf("cookie %s = %q, want none", name, ck.Value)
				case want != "" && (ck == nil || ck.Value != want || !ck.HttpOnly || ck.Path != "/oauth/callback" || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge <= 0 || ck.MaxAge > 600):
					t.Errorf("cookie %s %+v, want %q, HttpOnly, SameSite=Lax, path /oauth/callback, at most 10 minutes", name, ck, want)
				}
			}

			if c.deny {
				f.idp.Deny("access_denied")
				defer f.idp.Deny("")
			}
			resp, body := finish(t, browser, authURL)
			accounts := f.endUserAccounts(t, user)
			if !c.embedded {
				if loc := location(t, resp); loc.Host != "app.example" || loc.Path != "/done" || len(accounts) != 1 {
					t.Fatalf("finished at %q with %d accounts, want the success redirect", loc, len(accounts))
				}
				if strings.Contains(body, "link-embed") {
					t.Errorf("the callback would post to an origin the token does not allow:\n%s", body)
				}
				return
			}
			embed := `id="link-embed" hidden data-origin="` + app + `"`
			switch {
			case c.deny:
				embed += ` data-account="" data-failed="access_denied"`
			case len(accounts) == 1:
				embed += ` data-account="` + accounts[0].ID + `" data-failed=""`
			default:
				t.Fatalf("%d accounts after the flow, want one", len(accounts))
			}
			if c.relay {
				embed += ` data-relay="1"`
			}
			embed += `></div>`
			if resp.Request.URL.Path != "/oauth/callback" || !strings.Contains(body, embed) {
				t.Errorf("the callback page (%d at %s) does not post the outcome; want %s in:\n%s", resp.StatusCode, resp.Request.URL.Path, embed, body)
			}
			cb, _ := url.Parse(strings.TrimSuffix(f.URL, "/") + "/oauth/callback")
			if left := browser.Jar.Cookies(cb); len(left) != 0 {
				t.Errorf("the callback left cookies %v", left)
			}
		})
	}
}
