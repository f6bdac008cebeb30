package server_test

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/server"
	"github.com/latchkeyhq/latchkey/internal/server/servertest"
)

// fromAddr is an HTTP client whose connections start at the loopback
// address local, so a test can be two clients on one machine.
func fromAddr(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func getMe(t *testing.T, c *http.Client, base, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestFailedTokensAreLimitedPerAddress(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Now())
	inst := servertest.Start(t, servertest.Config(t, ""), server.Options{Clock: clock})
	guesser, other := fromAddr("127.0.0.2"), fromAddr("127.0.0.1")

	for i := range 20 {
		if resp := getMe(t, guesser, inst.URL, "lk_not-a-token-"+strconv.Itoa(i)); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failed token %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp := getMe(t, guesser, inst.URL, "lk_not-a-token-21")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("21st failed token: %d, want 429", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("429 Content-Type %q", ct)
	}
	if ra, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 6 {
		t.Errorf("Retry-After %q, want 1 to 6 seconds", resp.Header.Get("Retry-After"))
	}
	var p struct{ Type, Detail string }
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || p.Type != "urn:latchkey:problem:too-many-failed-tokens" {
		t.Errorf("429 body: %+v, %v", p, err)
	}
	// While it waits, the address is refused before any token is checked,
	// the right one included.
	if resp := getMe(t, guesser, inst.URL, inst.Token); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("valid token from the limited address: %d, want 429", resp.StatusCode)
	}
	// Another address is not held back, for a valid token or a bad one.
	if resp := getMe(t, other, inst.URL, inst.Token); resp.StatusCode != http.StatusOK {
		t.Fatalf("valid token from another address: %d, want 200", resp.StatusCode)
	}
	if resp := getMe(t, other, inst.URL, "lk_not-a-token"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad token from another address: %d, want 401", resp.StatusCode)
	}
	// A request without a token is no guess and spends nothing.
	if resp, err := other.Get(inst.URL + "/v1/me"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v %v", resp, err)
	}
	// One failure comes back every 6 seconds.
	clock.Advance(6 * time.Second)
	if resp := getMe(t, guesser, inst.URL, inst.Token); resp.StatusCode != http.StatusOK {
		t.Fatalf("valid token after waiting: %d, want 200", resp.StatusCode)
	}
}
