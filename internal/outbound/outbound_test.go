package outbound

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"github.com/latchkeyhq/latchkey/internal/netpolicy"
)

// The dial decision, one row per case; Control is called directly, so
// nothing here is dialled.
func TestControl(t *testing.T) {
	p := NewPolicy(
		[]string{"127.0.0.1:8443", "gateway.internal:443", "[::1]:9000"},
		[]netip.Addr{netip.MustParseAddr("93.184.216.34")}, // this machine's public address
	)
	cases := []struct {
		name                string
		requested, resolved string
		network             string
		want                string // "" when allowed, else a word of the refusal
	}{
		{"public name", "api.example.com:443", "151.101.1.69:443", "tcp", ""},
		{"public v6", "api.example.com:443", "[2606:4700:4700::1111]:443", "tcp6", ""},
		{"public literal", "8.8.8.8:443", "8.8.8.8:443", "tcp4", ""},
		{"mapped public", "api.example.com:443", "[::ffff:8.8.8.8]:443", "tcp6", ""},
		{"loopback", "api.example.com:443", "127.0.0.1:443", "tcp", "loopback"},
		{"loopback elsewhere in 127/8", "api.example.com:443", "127.3.2.1:443", "tcp", "loopback"},
		{"loopback v6", "api.example.com:443", "[::1]:443", "tcp6", "loopback"},
		{"mapped loopback", "api.example.com:443", "[::ffff:127.0.0.1]:443", "tcp6", "loopback"},
		{"private 10", "api.example.com:443", "10.0.0.5:443", "tcp", "private"},
		{"private 172", "api.example.com:443", "172.20.1.1:443", "tcp", "private"},
		{"private 192", "api.example.com:443", "192.168.1.1:443", "tcp", "private"},
		{"cgnat", "api.example.com:443", "100.64.1.1:443", "tcp", "carrier-grade NAT"},
		{"metadata", "api.example.com:80", "169.254.169.254:80", "tcp", "link-local"},
		{"mapped metadata", "api.example.com:80", "[::ffff:169.254.169.254]:80", "tcp", "link-local"},
		{"link-local v6", "api.example.com:443", "[fe80::1%eth0]:443", "tcp6", "link-local"},
		{"unique-local", "api.example.com:443", "[fd12:3456::1]:443", "tcp6", "unique-local"},
		{"multicast", "api.example.com:443", "224.0.0.251:443", "tcp", "multicast"},
		{"unspecified", "api.example.com:443", "0.0.0.0:443", "tcp", "unspecified"},
		{"unspecified v6", "api.example.com:443", "[::]:443", "tcp6", "unspecified"},
		{"nat64 of loopback", "api.example.com:443", "[64:ff9b::7f00:1]:443", "tcp6", "NAT64"},
		{"this machine", "api.example.com:443", "93.184.216.34:443", "tcp", "this machine"},
		{"this machine, mapped", "api.example.com:443", "[::ffff:93.184.216.34]:443", "tcp", "this machine"},
		{"not an address", "api.example.com:443", "api.example.com:443", "tcp", "not an IP address"},
		{"udp", "api.example.com:443", "151.101.1.69:443", "udp", "not a TCP"},
		// The operator's app_origins are trusted by host:port.
		{"allowed origin", "127.0.0.1:8443", "127.0.0.1:8443", "tcp", ""},
		{"allowed origin, other port", "127.0.0.1:8444", "127.0.0.1:8444", "tcp", "loopback"},
		{"allowed name", "gateway.internal:443", "10.1.2.3:443", "tcp", ""},
		{"allowed name, any case", "Gateway.Internal:443", "10.1.2.3:443", "tcp", ""},
		{"allowed name, other port", "gateway.internal:8443", "10.1.2.3:8443", "tcp", "private"},
		{"other name resolving to an allowed address", "evil.example:8443", "127.0.0.1:8443", "tcp", "loopback"},
		{"allowed v6", "[::1]:9000", "[::1]:9000", "tcp6", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := p.Control(c.requested)(c.network, c.resolved, nil)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("allowed %s as %s", c.requested, c.resolved)
			}
			if !errors.Is(err, netpolicy.ErrBlocked) {
				t.Errorf("%v does not wrap netpolicy.ErrBlocked", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			host, _, _ := net.SplitHostPort(c.requested)
			if !strings.HasPrefix(err.Error(), host) {
				t.Errorf("error %q does not start with the host %s", err, host)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:5555":  "127.0.0.1:5555",
		"https://gw.example.com": "gw.example.com:443",
		"http://GW.example.com/": "gw.example.com:80",
		"http://[::1]:7000":      "[::1]:7000",
	} {
		if got, err := Origin(in); err != nil || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:5555", "ftp://x.example"} {
		if got, err := Origin(bad); err == nil {
			t.Errorf("Origin(%q) = %q, want an error", bad, got)
		}
	}
}

// counting is a loopback listener that counts the connections it accepts
// and answers each with 200 "reached".
func counting(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "reached")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

func hostport(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	return strings.TrimPrefix(srv.URL, "http://")
}

// A loopback listener the operator did not name is never connected to; one
// named in app_origins is.
func TestClientRefusesLoopbackUnlessAllowed(t *testing.T) {
	allowed, allowedConns := counting(t)
	other, otherConns := counting(t)
	c := New(Options{Allow: []string{hostport(t, allowed)}})

	resp, err := c.Get(allowed.URL)
	if err != nil {
		t.Fatalf("allowed origin: %v", err)
	}
	resp.Body.Close()
	if allowedConns.Load() != 1 {
		t.Fatalf("allowed origin saw %d connections", allowedConns.Load())
	}

	// The same listener by another spelling is not the allowed origin.
	for _, u := range []string{other.URL, strings.Replace(allowed.URL, "127.0.0.1", "localhost", 1)} {
		_, err = c.Get(u)
		if !errors.Is(err, netpolicy.ErrBlocked) {
			t.Fatalf("GET %s: %v, want a refusal", u, err)
		}
		var be *BlockedError
		if !errors.As(err, &be) || !strings.Contains(err.Error(), "loopback") {
			t.Fatalf("GET %s: %v, want a *BlockedError naming loopback", u, err)
		}
	}
	if n := otherConns.Load(); n != 0 {
		t.Fatalf("the refused listener saw %d connections", n)
	}
	if n := allowedConns.Load(); n != 1 {
		t.Fatalf("the allowed listener was reached by another name (%d connections)", n)
	}
}

// A redirect comes back as the 3xx answer; its target sees nothing, not
// even when it is an allowed origin, and the credentials stay put.
func TestClientDoesNotFollowRedirects(t *testing.T) {
	target, targetConns := counting(t)
	var auth atomic.Value
	provider := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		http.Redirect(w, r, target.URL+"/internal?token=s3cr3t", http.StatusFound)
	}))
	t.Cleanup(provider.Close)
	c := New(Options{Allow: []string{hostport(t, provider), hostport(t, target)}})

	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, provider.URL+"/v1/test", nil)
	req.Header.Set("Authorization", "Bearer key")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want the 302 itself", resp.StatusCode)
	}
	if n := targetConns.Load(); n != 0 {
		t.Fatalf("the redirect target saw %d connections", n)
	}
	err = Redirect(resp)
	var re *RedirectError
	if !errors.As(err, &re) || !errors.Is(err, ErrRedirect) {
		t.Fatalf("Redirect = %v, want a *RedirectError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "redirect to "+hostport(t, target)) || !strings.Contains(msg, "does not follow redirects") {
		t.Errorf("message %q does not name the target host and say it was not followed", msg)
	}
	if strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "/internal") {
		t.Errorf("message %q repeats the target's path or query", msg)
	}
	if Redirect(&http.Response{StatusCode: http.StatusNotModified}) != nil || Redirect(&http.Response{StatusCode: http.StatusOK}) != nil {
		t.Error("a 304 or 200 is reported as a redirect")
	}
}

// A proxy from the environment would take every request past the address
// check (the check would see only the proxy's address); the transport
// must not read one.
func TestClientIgnoresEnvironmentProxy(t *testing.T) {
	tr, ok := New(Options{}).Transport.(*http.Transport)
	if !ok {
		t.Fatal("the client's transport is not an *http.Transport")
	}
	if tr.Proxy != nil {
		t.Fatal("the transport takes a proxy")
	}
	if tr.DialContext == nil {
		t.Fatal("the transport dials without the policy")
	}
}

func TestClip(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"invalid_grant", "invalid_grant"},
		{"  line one\r\nline\ttwo  ", "line one line two"},
		{"bell\x07 and nul\x00 and del\x7f", "bell and nul and del"},
		{"c1\u0085\u009b control", "c1 control"},
		{"evil\u202egnp.exe", "evilgnp.exe"},
		{"isolate\u2066x\u2069", "isolatex"},
		{"bad \xff byte", "bad \ufffd byte"},
		{"Zoë on Ünïcode", "Zoë on Ünïcode"},
	}
	for _, c := range cases {
		if got := Clip(c.in); got != c.want {
			t.Errorf("Clip(%q) = %q, want %q", c.in, got, c.want)
		}
	}

	for _, unit := range []string{"a", "é", "界", "🔑"} {
		long := strings.Repeat(unit, 5000)
		got := Clip(long)
		if len(got) > ClipBytes {
			t.Errorf("Clip of %q×5000 is %d bytes", unit, len(got))
		}
		if len(got) < ClipBytes-8 {
			t.Errorf("Clip of %q×5000 kept only %d bytes", unit, len(got))
		}
		if !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("Clip of %q×5000 = %q: not valid UTF-8 ending in the mark", unit, got)
		}
	}
	exact := strings.Repeat("x", ClipBytes)
	if Clip(exact) != exact {
		t.Error("text of exactly ClipBytes was cut")
	}
}
