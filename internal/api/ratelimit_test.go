package api

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.1:4242":              "127.0.0.1/32",
		"[::ffff:127.0.0.1]:4242":     "127.0.0.1/32",
		"[2001:db8:1:2:3:4:5:6]:4242": "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1]:4242": "2001:db8:1:2::/64",
		"[fe80::1%eth0]:4242":         "fe80::/64",
		"not an address":              "invalid Prefix",
	} {
		if got := clientAddr(&http.Request{RemoteAddr: remote}).String(); got != want {
			t.Errorf("clientAddr(%q) = %s, want %s", remote, got, want)
		}
	}
}

// The limiter remembers at most max addresses, forgets first those with
// the most failures left, and keeps one that is held back.
func TestFailureLimiterIsBounded(t *testing.T) {
	clock := clockwork.NewFakeClock()
	l := newFailureLimiter(clock)
	l.max = 100
	addr := func(i int) netip.Prefix {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), 32)
	}
	// One address uses up its failures.
	limited := netip.MustParsePrefix("192.0.2.1/32")
	for range tokenFailureBurst {
		l.failed(limited)
	}
	if _, ok := l.blocked(limited); !ok {
		t.Fatal("an address with every failure spent is not blocked")
	}
	for i := range 1000 {
		l.failed(addr(i))
		if len(l.m) > l.max {
			t.Fatalf("after %d addresses the limiter holds %d, more than %d", i+1, len(l.m), l.max)
		}
		if _, ok := l.blocked(limited); !ok {
			t.Fatalf("after %d new addresses the limited one was forgotten", i+1)
		}
	}
	if wait, ok := l.blocked(limited); !ok || wait <= 0 || wait > tokenFailureEvery {
		t.Fatalf("blocked = %v, %v; want a wait of at most %v", wait, ok, tokenFailureEvery)
	}
	clock.Advance(time.Duration(tokenFailureEvery))
	if _, ok := l.blocked(limited); ok {
		t.Fatal("still blocked after a failure came back")
	}
}
