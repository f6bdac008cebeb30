package webtest_test

import (
	"encoding/json"
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
// access_denied.
func TestMCPConsent(t *testing.T) {
	h := start(t, options{})
	h.signUp()
	got := make(chan url.Values, 2)
	agent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			got <- r.URL.Query()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>agent</title><h1>Back at the agent</h1>"))
	}))
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
		t.Fatalf("registering: %d %v", resp.StatusCode, err)
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
		if q.Get("state") != tc.state || q.Get(tc.want) == "" {
			t.Errorf("%s: the agent got %v", tc.button, q)
		}
		if tc.button == "deny" && q.Get("error") != "access_denied" {
			t.Errorf("deny: error %q, want access_denied", q.Get("error"))
		}
	}
}
