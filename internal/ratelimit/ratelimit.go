// Package ratelimit limits events per key (an address, a user, a token):
// each key has its own token bucket, and the number of keys kept is
// bounded.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter gives each key a bucket of burst events that refills at limit.
// Time is whatever the caller passes, so a caller's injected clock rules.
// Its memory is bounded: a call that finds more than max keys tracked
// forgets them all first, so every key starts again with a full bucket.
// That is cheap and lets an attacker with many keys reset the others, an
// accepted cost where max is far above honest use. It is safe for
// concurrent use.
type Limiter struct {
	limit rate.Limit
	burst int
	max   int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// New returns a Limiter that allows each key burst events at once, then
// limit a second, and tracks about max keys. It panics if burst or max is
// below one: those are constants of the caller, not input.
func New(limit rate.Limit, burst, max int) *Limiter {
	if burst < 1 || max < 1 {
		panic("ratelimit: burst and max must be at least one")
	}
	return &Limiter{limit: limit, burst: burst, max: max, m: map[string]*rate.Limiter{}}
}

// Allow spends one of key's events at now if it has one. If it has none,
// Allow spends nothing and returns how long from now until it has one.
func (l *Limiter) Allow(key string, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bucket(key).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d, false
	}
	return 0, true
}

// Try is Allow for a caller that does not say when to come back: it
// spends one of key's events at now if it has one and reports whether it
// did. A refused call leaves key's bucket exactly as it was.
func (l *Limiter) Try(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.bucket(key).AllowN(now, 1)
}

// bucket returns key's bucket, made full if key is new. l.mu is held.
func (l *Limiter) bucket(key string) *rate.Limiter {
	if len(l.m) > l.max {
		l.m = map[string]*rate.Limiter{}
	}
	b, ok := l.m[key]
	if !ok {
		b = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = b
	}
	return b
}
