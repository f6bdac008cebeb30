package server_test

import (
	"bytes"
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
