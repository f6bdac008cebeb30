// Package ttlcache is a small concurrent map whose entries expire after a
// fixed time. Latchkey uses it to spare the database the same reads on
// every request: each cache says how stale it may be, and why that is safe.
package ttlcache

import (
	"sync"
	"time"
)

// maxEntries bounds memory; past it the cache starts over.
const maxEntries = 100_000

type entry[V any] struct {
	v       V
	expires time.Time
}

// Cache maps keys to values for TTL after they are set.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.RWMutex
	m   map[K]entry[V]
}

// New returns a cache whose entries live for ttl by the clock now.
func New[K comparable, V any](ttl time.Duration, now func() time.Time) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, now: now, m: map[K]entry[V]{}}
}

// Get returns the value for k if it was set less than TTL ago.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Set stores v for k.
func (c *Cache[K, V]) Set(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxEntries {
		c.m = map[K]entry[V]{}
	}
	c.m[k] = entry[V]{v: v, expires: c.now().Add(c.ttl)}
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// Clear forgets every entry.
func (c *Cache[K, V]) Clear() {
	c.mu.Lock()
	c.m = map[K]entry[V]{}
	c.mu.Unlock()
}
