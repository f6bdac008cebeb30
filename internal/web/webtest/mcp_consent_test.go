package webtest_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"
)

// An MCP client registers and sends the member to the consent page,
// which names the client and where the browser goes back to; Allow
// sends the browser, in Chromium with the page's Content-Security-Policy,
// to the client's loopback redirect URI with a code, and Deny with
// access_denied. The client listens on 127.0.0.1 and on [::1]: an IPv6
// literal is an origin the CSP's form-action must let the form go to.
func TestMCPConsent(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	for _, loopback := range []string{"127.0.0.1", "[::1]"} {
		// Not t.Run: the harness fails its own test.
		consentThrough(t, h, loopback)
	}
}

// consentThrough runs the consent with a client listening on loopback.
func consentThrough(t *testing.T, h *harness, loopback string) {
	got := make(chan url.Values, 2)
	agent := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			got <- r.URL.Query()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>agent</title><h1>Back at the agent</h1>"))
	}))
	ln, err := net.Listen("tcp", loopback+":0")
	if err != nil {
		t.Fatal(err)
	}
	agent.Listener.Close()
	agent.Listener = ln
	agent.Start()
	t.Cleanup(agent.Close)
	redirect := agent.URL + "/callback"
	resp, err := http.Post(h.inst.URL+"/oauth2/register", "application/json",
		strings.NewReader(`{"redirect_uris":["`+redirect+`"],"client_name":"Chromium agent"}`))
	if err != nil {
		t.Fatal(err)
	}
	var reg struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&reg); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("registering %s: %d %v", redirect, resp.StatusCode, err)
	}
	resp.Body.Close()
	cfg := oauth2.Config{ClientID: reg.ClientID, RedirectURL: redirect, Scopes: []string{"actions:run"},
		Endpoint: oauth2.Endpoint{AuthURL: h.inst.URL + "/oauth2/authorize"}}
	authorize := func(state string) string {
		u := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("resource", h.inst.URL+"/mcp"))
		return strings.TrimPrefix(u, h.inst.URL)
	}
	host := strings.TrimPrefix(agent.URL, "http://")

	for _, tc := range []struct{ button, state, want string }{
		{"allow", "state-allow-1", "code"},
		{"deny", "state-deny-1", "error"},
	} {
		path := authorize(tc.state)
		h.open(path)
		h.at(strings.SplitN(path, "?", 2)[0], "Allow Chromium agent?")
		if text := h.text("#mcp-consent"); !strings.Contains(text, host) || !strings.Contains(text, "actions:run") {
			t.Errorf("the consent page does not name %s and actions:run:\n%s", host, text)
		}
		h.do(tc.button, chromedp.Click(chromedp.CSS(`button[value="`+tc.button+`"]`)))
		h.waitFor("the agent's page", `location.host === `+js(host)+` && document.readyState === "complete"`)
		q := <-got
		// iss names the server that answered (RFC 9207).
		if q.Get("state") != tc.state || q.Get(tc.want) == "" || q.Get("iss") != h.inst.URL {
			t.Errorf("%s %s: the agent got %v", loopback, tc.button, q)
		}
		if tc.button == "deny" && q.Get("error") != "access_denied" {
			t.Errorf("%s deny: error %q, want access_denied", loopback, q.Get("error"))
		}
	}
}

// An MCP client in a web page on another origin (an inspector) reads
// the metadata and calls registration, token and revocation from
// Chromium, preflights and all; Chromium keeps from it the answers of
// /mcp and /oauth2/authorize, which allow no other origin.
func TestMCPOAuthFromAnotherOrigin(t *testing.T) {
	h := start(t, options{})
	inspector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>inspector</title><h1>An MCP inspector</h1>"))
	}))
	t.Cleanup(inspector.Close)
	h.log.expectStatus("/oauth2/token", http.StatusBadRequest)
	h.log.expectText("blocked by CORS policy")
	h.log.expectText("net::ERR_FAILED")
	h.do("open the inspector", chromedp.Navigate(inspector.URL+"/"))
	eval[bool](h, `(() => {
		const latchkey = `+js(h.inst.URL)+`;
		const call = async (path, init) => {
			try {
				const r = await fetch(latchkey + path, init);
				return {status: r.status, body: await r.text()};
			} catch (e) {
				return {status: 0, body: String(e)};
			}
		};
		const form = o => ({method: "POST", body: new URLSearchParams(o)});
		(async () => {
			const out = {}, version = {"MCP-Protocol-Version": "2025-06-18"};
			out.resource = await call("/.well-known/oauth-protected-resource/mcp", {headers: version});
			out.server = await call("/.well-known/oauth-authorization-server", {headers: version});
			out.register = await call("/oauth2/register", {method: "POST", headers: {"Content-Type": "application/json"},
				body: JSON.stringify({redirect_uris: [location.origin + "/callback"], client_name: "Inspector"})});
			let id = "";
			try { id = JSON.parse(out.register.body).client_id; } catch (e) {}
			out.token = await call("/oauth2/token", form({grant_type: "refresh_token", refresh_token: "ory_rt_x.y", client_id: id}));
			out.revoke = await call("/oauth2/revoke", form({token: "ory_rt_x.y", client_id: id}));
			out.mcp = await call("/mcp", {method: "POST", headers: {"Content-Type": "application/json", "Authorization": "Bearer x"}, body: "{}"});
			out.authorize = await call("/oauth2/authorize?response_type=code&client_id=" + id);
			window.result = JSON.stringify(out);
		})();
		return true;
	})()`)
	raw := waitEval(h, "the inspector's requests", `window.result || ""`, func(s string) bool { return s != "" })
	var got map[string]struct {
		Status int
		Body   string
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		status int
		body   string
	}{
		"resource":  {http.StatusOK, `"authorization_servers":["` + h.inst.URL + `"]`},
		"server":    {http.StatusOK, `"revocation_endpoint":"` + h.inst.URL + `/oauth2/revoke"`},
		"register":  {http.StatusCreated, `"client_name":"Inspector"`},
		"token":     {http.StatusBadRequest, `"error":"invalid_grant"`},
		"revoke":    {http.StatusOK, ""},
		"mcp":       {0, "TypeError"},
		"authorize": {0, "TypeError"},
	} {
		if g := got[name]; g.Status != want.status || !strings.Contains(g.Body, want.body) {
			t.Errorf("%s from the inspector: %d %s, want %d with %s", name, g.Status, g.Body, want.status, want.body)
		}
	}
}
