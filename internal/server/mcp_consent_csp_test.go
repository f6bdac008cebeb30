package server_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/latchkeyhq/latchkey/internal/server/servertest"
	"github.com/latchkeyhq/latchkey/internal/store"
)

// TestMCPConsentRedirectHostInCSP: a redirect URI whose host carries a
// ";" (which URL parsing allows in a host) cannot add a directive to the
// consent page's Content-Security-Policy, where its origin is written: a
// "frame-ancestors 'self' ..." ahead of the page's own would let other
// pages frame the consent page. The member is shown the refusal instead,
// and nothing is redirected.
func TestMCPConsentRedirectHostInCSP(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	const evil = "https://client.example;frame-ancestors/cb"
	status, body := postJSON(t, http.DefaultClient, f.URL+"/oauth2/register", `{"redirect_uris":["`+evil+`"],"client_name":"Framer"}`)
	if status != http.StatusCreated {
		// Refused at registration is as good.
		return
	}
	id := strings.Split(strings.Split(body, `"client_id":"`)[1], `"`)[0]
	agent := handAgent{clientID: id, resource: f.URL + "/mcp", cfg: oauth2.Config{ClientID: id, RedirectURL: evil,
		Scopes: []string{"accounts:read"}, Endpoint: oauth2.Endpoint{AuthURL: f.URL + "/oauth2/authorize"}}}
	b := memberBrowser(t, f.Instance)
	if status, body := signIn(t, b, f.Instance, mia, "/"); status != http.StatusOK {
		t.Fatalf("signing in: %d %s", status, body)
	}
	resp, err := b.Get(agent.authorizeURL(oauth2.GenerateVerifier(), "state-csp-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	if frame := firstFrameAncestors(csp); frame != "frame-ancestors 'none'" {
		t.Errorf("the consent page's first frame-ancestors is %q; CSP %q", frame, csp)
	}
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
		t.Errorf("a redirect host with a ';': %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestMCPConsentCrossSite: another site's page cannot post the member's
// Allow for them: the browser marks its post cross-site, and it is
// refused like every other form post, with no code and no grant.
func TestMCPConsentCrossSite(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	agent := registerAgent(t, f.URL)
	b := memberBrowser(t, f.Instance)
	if status, body := signIn(t, b, f.Instance, mia, "/"); status != http.StatusOK {
		t.Fatalf("signing in: %d %s", status, body)
	}
	// The page itself may not be framed, by CSP or X-Frame-Options.
	resp, err := b.Get(agent.authorizeURL(oauth2.GenerateVerifier(), "state-frame", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusOK || firstFrameAncestors(csp) != "frame-ancestors 'none'" ||
		resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("the consent page: %d, CSP %q, X-Frame-Options %q", resp.StatusCode, csp, resp.Header.Get("X-Frame-Options"))
	}
	for _, site := range []string{"cross-site", "same-site"} {
		req, _ := http.NewRequest(http.MethodPost, agent.authorizeURL(oauth2.GenerateVerifier(), "state-csrf-"+site, nil), strings.NewReader("decision=allow"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", site)
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Location") != "" {
			t.Errorf("a %s Allow: %d, Location %q", site, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if grants, err := mia.api.ListMCPGrants(context.Background()); err != nil || len(grants) != 0 {
		t.Errorf("grants after cross-site posts: %+v %v", grants, err)
	}
}

// firstFrameAncestors is the policy's first frame-ancestors directive,
// the one a browser enforces.
func firstFrameAncestors(csp string) string {
	for _, d := range strings.FieldsFunc(csp, func(r rune) bool { return r == ';' || r == ',' }) {
		if name, _, _ := strings.Cut(strings.TrimSpace(d), " "); name == "frame-ancestors" {
			return strings.TrimSpace(d)
		}
	}
	return ""
}

// TestMCPConsentIPv6Redirect: a CSP host-source cannot name an IPv6
// literal (Chromium ignores the source and blocks the redirect), so for a
// client at http://[::1]:port the consent page's form-action names no such
// source, and the member's answer is a page of Latchkey's that goes on to
// the client (a Refresh and a link, which form-action does not govern)
// rather than a redirect the CSP would block. Chromium runs it end to end
// in webtest's TestMCPConsent.
func TestMCPConsentIPv6Redirect(t *testing.T) {
	f := startMCP(t, servertest.Backends[0])
	mia := addUser(t, f.Instance, "mia@acme.test", store.RoleMember)
	const back = "http://[::1]:9/cb"
	status, body := postJSON(t, http.DefaultClient, f.URL+"/oauth2/register", `{"redirect_uris":["`+back+`"],"client_name":"Six"}`)
	if status != http.StatusCreated {
		t.Fatalf("registering: %d %s", status, body)
	}
	id := strings.Split(strings.Split(body, `"client_id":"`)[1], `"`)[0]
	agent := handAgent{clientID: id, resource: f.URL + "/mcp", cfg: oauth2.Config{ClientID: id, RedirectURL: back,
		Scopes: []string{"accounts:read"}, Endpoint: oauth2.Endpoint{AuthURL: f.URL + "/oauth2/authorize"}}}
	b := memberBrowser(t, f.Instance)
	if status, body := signIn(t, b, f.Instance, mia, "/"); status != http.StatusOK {
		t.Fatalf("signing in: %d %s", status, body)
	}
	authorize := agent.authorizeURL(oauth2.GenerateVerifier(), "state-six", nil)
	resp, err := b.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusOK || strings.Contains(csp, "[::1]") {
		t.Errorf("the consent page: %d, CSP %q; want 200 and no IPv6 source", resp.StatusCode, csp)
	}
	resp, err = b.PostForm(authorize, url.Values{"decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	refresh := resp.Header.Get("Refresh")
	next, _ := url.Parse(strings.TrimPrefix(refresh, "0; url="))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || next == nil || next.Host != "[::1]:9" || next.Query().Get("code") == "" ||
		next.Query().Get("state") != "state-six" || next.Query().Get("iss") != f.URL {
		t.Fatalf("the answer: %d, Location %q, Refresh %q", resp.StatusCode, resp.Header.Get("Location"), refresh)
	}
	if !strings.Contains(string(page), `href="`+html.EscapeString(next.String())+`"`) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the answer page has no link to the client, or may be cached (%q):\n%s", resp.Header.Get("Cache-Control"), page)
	}
}
