package ratelimit

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"
)

// step is one call: after advancing the clock by after, key asks for an
// event.
type step struct {
	after    time.Duration
	key      string
	wantOK   bool
	wantWait time.Duration
}

// One event every 2 seconds is exact in floating point, so waits compare
// to the nanosecond.
const every = 2 * time.Second

func TestLimiter(t *testing.T) {
	tests := []struct {
		name  string
		burst int
		max   int
		steps []step
	}{
		{"a burst, then refused with the wait for the next event", 3, 10, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0},
			{0, "a", false, every},
		}},
		{"refills one event per interval, never past the burst", 2, 10, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, every},
			{every / 2, "a", false, every / 2},
			{every / 2, "a", true, 0}, {0, "a", false, every},
			// Far past the interval the bucket holds only burst events.
			{100 * every, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, every},
		}},
		{"a refused call spends nothing", 1, 10, []step{
			{0, "a", true, 0},
			{0, "a", false, every}, {0, "a", false, every}, {0, "a", false, every},
			{every, "a", true, 0},
		}},
		{"keys are independent", 1, 10, []step{
			{0, "a", true, 0}, {0, "a", false, every},
			{0, "b", true, 0}, {0, "b", false, every},
			{every / 2, "a", false, every / 2}, {0, "c", true, 0},
		}},
		{"up to max keys, none is forgotten", 1, 3, []step{
			{0, "a", true, 0}, {0, "b", true, 0}, {0, "c", true, 0},
			{0, "a", false, every}, {0, "b", false, every},
		}},
		{"a new key past max forgets the full buckets first", 2, 3, []step{
			// a is held back; b and c have refilled by the time d comes.
			{0, "a", true, 0}, {0, "a", true, 0},
			{0, "b", true, 0}, {0, "c", true, 0},
			{every, "a", true, 0},
			{every, "d", true, 0},
			// b and c were forgotten (full), a was not: still held.
			{0, "a", true, 0}, {0, "a", false, every},
		}},
		{"when every bucket is held back, the fullest go", 3, 3, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0}, // a: none left
			{0, "b", true, 0}, {0, "b", true, 0}, // b: one left
			{0, "c", true, 0}, // c: two left
			// d needs room: keep nine tenths of 3 (2), so c, the
			// fullest, goes; a and b stay as they were.
			{0, "d", true, 0},
			{0, "a", false, every}, {0, "b", true, 0}, {0, "b", false, every},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/Allow", func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			l := New(rate.Every(every), tt.burst, tt.max)
			for i, s := range tt.steps {
				clock.Advance(s.after)
				wait, ok := l.Allow(s.key, clock.Now())
				if ok != s.wantOK || wait != s.wantWait {
					t.Fatalf("step %d (%s): Allow = %v, %v; want %v, %v", i, s.key, wait, ok, s.wantWait, s.wantOK)
				}
			}
		})
		t.Run(tt.name+"/Try", func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			l := New(rate.Every(every), tt.burst, tt.max)
			for i, s := range tt.steps {
				clock.Advance(s.after)
				if ok := l.Try(s.key, clock.Now()); ok != s.wantOK {
					t.Fatalf("step %d (%s): Try = %v; want %v", i, s.key, ok, s.wantOK)
				}
			}
		})
	}
}

// TestManyKeysDoNotResetAHeldKey: a key under attack stays held back
// however many other keys are made meanwhile.
func TestManyKeysDoNotResetAHeldKey(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := New(rate.Every(time.Minute), 5, 100)
	for range 5 {
		l.Try("victim", now)
	}
	for i := range 10_000 {
		// Each attacker key spends one event, so none is full again.
		l.Try(fmt.Sprint("attacker", i), now)
	}
	if l.Try("victim", now) {
		t.Fatal("10,000 other keys gave the held-back key a fresh burst")
	}
	if n := len(l.m); n > 100 {
		t.Fatalf("%d keys tracked, want at most 100", n)
	}
}

// Many goroutines at one instant get exactly the burst between them, per
// key; run with -race.
func TestLimiterConcurrent(t *testing.T) {
	const burst, callers, keys = 5, 40, 3
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := New(rate.Every(every), burst, 100)
	var mu sync.Mutex
	allowed := map[string]int{}
	var wg sync.WaitGroup
	for i := range callers * keys {
		wg.Go(func() {
			key := fmt.Sprint("k", i%keys)
			var ok bool
			if i%2 == 0 {
				_, ok = l.Allow(key, now)
			} else {
				ok = l.Try(key, now)
			}
			if ok {
				mu.Lock()
				allowed[key]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for k := range keys {
		if got := allowed[fmt.Sprint("k", k)]; got != burst {
			t.Errorf("key k%d: %d of %d calls allowed, want the burst of %d", k, got, callers, burst)
		}
	}
}

func TestNewRefusesEmptyBuckets(t *testing.T) {
	for _, c := range []struct{ burst, max int }{{0, 10}, {1, 0}, {-1, 10}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New(burst %d, max %d) did not panic", c.burst, c.max)
				}
			}()
			New(rate.Every(every), c.burst, c.max)
		}()
	}
}
