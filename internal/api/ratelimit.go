package api

import (
	"cmp"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"
)

// Failed bearer tokens per client address: a burst of 20, then one more
// every 6 seconds (10 a minute). An address over the limit is refused
// before its token is looked at, so guessing costs the database nothing.
const (
	tokenFailureBurst = 20
	tokenFailureEvery = 6 * time.Second
	// maxTrackedAddrs bounds the limiter's memory: about 200 bytes an
	// address.
	maxTrackedAddrs = 10_000
)

// failureLimiter counts failed tokens per client address.
type failureLimiter struct {
	clock clockwork.Clock
	every time.Duration
	burst int
	max   int
	mu    sync.Mutex
	m     map[netip.Prefix]*rate.Limiter
}

func newFailureLimiter(clock clockwork.Clock) *failureLimiter {
	return &failureLimiter{clock: clock, every: tokenFailureEvery, burst: tokenFailureBurst, max: maxTrackedAddrs, m: map[netip.Prefix]*rate.Limiter{}}
}

// blocked reports whether addr has no failures left, and how long until it
// has one.
func (l *failureLimiter) blocked(addr netip.Prefix) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.m[addr]
	if !ok {
		return 0, false
	}
	tokens := lim.TokensAt(l.clock.Now())
	if tokens >= 1 {
		return 0, false
	}
	return time.Duration((1 - tokens) * float64(l.every)), true
}

// failed spends one of addr's failures.
func (l *failureLimiter) failed(addr netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	lim, ok := l.m[addr]
	if !ok {
		if len(l.m) >= l.max {
			l.makeRoom(now)
		}
		lim = rate.NewLimiter(rate.Every(l.every), l.burst)
		l.m[addr] = lim
	}
	lim.AllowN(now, 1)
}

// makeRoom forgets the addresses with the most failures left, down to
// nine tenths of the bound, so the next inserts do not sweep again. An
// address whose failures have all come back is the same as one never seen;
// one that is held back is forgotten last, so a flood of new addresses
// does not free it.
func (l *failureLimiter) makeRoom(now time.Time) {
	type left struct {
		addr   netip.Prefix
		tokens float64
	}
	all := make([]left, 0, len(l.m))
	for k, lim := range l.m {
		all = append(all, left{k, lim.TokensAt(now)})
	}
	slices.SortFunc(all, func(a, b left) int { return cmp.Compare(b.tokens, a.tokens) })
	for _, e := range all {
		if len(l.m) < l.max*9/10 && e.tokens < float64(l.burst) {
			break
		}
		delete(l.m, e.addr)
	}
}
