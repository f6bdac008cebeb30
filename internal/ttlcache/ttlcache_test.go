package ttlcache_test

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/ttlcache"
)

func TestExpiry(t *testing.T) {
	clock := clockwork.NewFakeClock()
	c := ttlcache.New[string, int](time.Second, clock.Now)
	c.Set("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("fresh entry: %v %v", v, ok)
	}
	clock.Advance(999 * time.Millisecond)
	if _, ok := c.Get("a"); !ok {
		t.Fatal("entry gone before its time")
	}
	clock.Advance(time.Millisecond)
	if _, ok := c.Get("a"); ok {
		t.Fatal("entry outlived its time")
	}
	c.Set("b", 2)
	c.Delete("b")
	if _, ok := c.Get("b"); ok {
		t.Fatal("deleted entry found")
	}
}
