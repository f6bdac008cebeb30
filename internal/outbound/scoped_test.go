package outbound

import (
	"errors"
	"strings"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
)

// TestScopedPaths is the demo's exception as a table: its own address is
// open for the listed path prefixes and nothing else.
func TestScopedPaths(t *testing.T) {
	s := Scoped{HostPort: "127.0.0.1:8080", Paths: []string{"/demo/oauth/", "/demo/api/"}}
	for path, want := range map[string]bool{
		"/demo/oauth/token":           true,
		"/demo/api/me":                true,
		"/demo/api/messages":          true,
		"/demo":                       false,
		"/demo/grants/x/revoke":       false,
		"/v1/accounts":                false,
		"/demo/api/../../v1/accounts": false,
		"/demo/api/..":                false,
		"/demo/api/%2e%2e/v1":         false,
		"/demo/api//me":               false,
		"/demo/api/./me":              false,
		"/":                           false,
		"":                            false,
	} {
		if got := s.allows(path); got != want {
			t.Errorf("allows(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestClientScopedException: a scoped loopback listener is reached under
// its paths only; outside them, and at another port, nothing is dialled.
func TestClientScopedException(t *testing.T) {
	self, selfConns := counting(t)
	other, otherConns := counting(t)
	c := New(Options{Scoped: []Scoped{{HostPort: hostport(t, self), Paths: []string{"/demo/api/"}}}})

	resp, err := c.Get(self.URL + "/demo/api/me")
	if err != nil {
		t.Fatalf("a scoped path: %v", err)
	}
	resp.Body.Close()
	if n := selfConns.Load(); n != 1 {
		t.Fatalf("the scoped listener saw %d connections, want 1", n)
	}
	for _, u := range []string{self.URL + "/v1/accounts", self.URL + "/demo/api/%2e%2e/v1", other.URL + "/demo/api/me",
		strings.Replace(self.URL, "127.0.0.1", "localhost", 1) + "/demo/api/me"} {
		_, err := c.Get(u)
		if !errors.Is(err, netpolicy.ErrBlocked) {
			t.Fatalf("GET %s: %v, want a refusal", u, err)
		}
	}
	if n := otherConns.Load(); n != 0 {
		t.Fatalf("the other listener saw %d connections", n)
	}
	if n := selfConns.Load(); n != 1 {
		t.Fatalf("the scoped listener saw %d connections after the refusals, want 1", n)
	}
}
