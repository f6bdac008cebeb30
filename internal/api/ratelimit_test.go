package api

import (
	"net/netip"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

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
