// Package ratelimit limits events per key (an address, a user, a token):
// each key has its own token bucket, and the number of keys kept is
// bounded.
package ratelimit

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter gives each key a bucket of burst events that refills at limit.
// Time is whatever the caller passes, so a caller's injected clock rules.
// Its memory is bounded to max keys. A new key that finds max tracked
// makes room by forgetting the keys whose bucket is full again (they are
// as good as new), then, if that is not enough, those with the most
// events left, down to nine tenths of max. The keys being held back are
// kept: an attacker who makes many keys cannot give a key under attack
// a fresh burst. It is safe for concurrent use.
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
	r := l.bucket(key, now).ReserveN(now, 1)
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
	return l.bucket(key, now).AllowN(now, 1)
}

// bucket returns key's bucket, made full if key is new. l.mu is held.
func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	if b, ok := l.m[key]; ok {
		return b
	}
	if len(l.m) >= l.max {
		l.evict(now)
	}
	b := rate.NewLimiter(l.limit, l.burst)
	l.m[key] = b
	return b
}

// evict makes room for new keys: it forgets the full buckets, and then,
// while more than nine tenths of max are left, the fullest. The sort runs
// once for every tenth of max new keys at most. l.mu is held.
func (l *Limiter) evict(now time.Time) {
	type left struct {
		key    string
		tokens float64
	}
	var held []left
	for k, b := range l.m {
		t := b.TokensAt(now)
		if t >= float64(l.burst) {
			delete(l.m, k)
			continue
		}
		held = append(held, left{k, t})
	}
	keep := l.max - max(l.max/10, 1)
	if len(held) <= keep {
		return
	}
	slices.SortFunc(held, func(a, b left) int { return cmp.Compare(b.tokens, a.tokens) })
	for _, h := range held[:len(held)-keep] {
		delete(l.m, h.key)
	}
}
