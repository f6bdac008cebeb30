// Package sandboxtest gives tests a step sandbox: the real one where this
// machine can run it, and otherwise (on a machine with only Go) either a
// skip or plain processes, as the test asks. LATCHKEY_REQUIRE_SANDBOX=1
// (set by CI) turns every such fallback into a failure.
package sandboxtest

import (
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/latchkeyhq/latchkey/internal/sandbox"
)

var probe = sync.OnceValue(func() error {
	s, err := sandbox.New(sandbox.Config{})
	if err != nil {
		return err
	}
	return s.Available()
})

// Available reports why the sandbox cannot run here, or nil.
func Available() error { return probe() }

func required() bool { return os.Getenv("LATCHKEY_REQUIRE_SANDBOX") != "" }

// Require skips t unless the sandbox runs here; with
// LATCHKEY_REQUIRE_SANDBOX set it fails t instead.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if required() {
			t.Fatalf("LATCHKEY_REQUIRE_SANDBOX is set, but %v", err)
		}
		t.Skipf("skipping: %v (set LATCHKEY_REQUIRE_SANDBOX=1 to make this a failure)", err)
	}
}

// Unsandboxed reports whether tests that merely run steps should run them
// as plain processes, because the sandbox cannot run here. It fails t when
// the sandbox is required.
func Unsandboxed(t testing.TB) bool {
	t.Helper()
	err := Available()
	if err == nil {
		return false
	}
	if required() {
		t.Fatalf("LATCHKEY_REQUIRE_SANDBOX is set, but %v", err)
	}
	t.Logf("steps run unsandboxed in this test: %v", err)
	return true
}

// HostPorts turns the URLs of loopback stand-ins into step_network_allow
// entries.
func HostPorts(t testing.TB, urls ...string) []string {
	t.Helper()
	out := make([]string, 0, len(urls))
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Port() == "" {
			t.Fatalf("%q is not a URL with a port", raw)
		}
		out = append(out, u.Host)
	}
	return out
}

// New returns a sandbox for a test's steps, allowed to reach the given
// loopback URLs.
func New(t testing.TB, allow ...string) *sandbox.Sandbox {
	t.Helper()
	s, err := sandbox.New(sandbox.Config{Allow: HostPorts(t, allow...), Unsandboxed: Unsandboxed(t)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}
