package refresher_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/refresher"
)

// fakeRenewer hands out due accounts from a counter. A pass reports on ch;
// with hold set, each pass waits for a value on hold before it returns,
// as a slow provider makes it.
type fakeRenewer struct {
	mu       sync.Mutex
	due      int
	next     time.Time
	hasNext  bool
	inFlight int
	maxIn    int
	ch       chan int
	hold     chan struct{}
}

func (f *fakeRenewer) RefreshDue(ctx context.Context, limit int) (int, error) {
	f.mu.Lock()
	n := min(f.due, limit)
	f.due -= n
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	f.mu.Unlock()
	if f.hold != nil && n > 0 {
		select {
		case <-f.hold:
		case <-ctx.Done():
		}
	}
	f.mu.Lock()
	f.inFlight--
	f.mu.Unlock()
	f.ch <- n
	return n, nil
}

func (f *fakeRenewer) NextDue(context.Context) (time.Time, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next, f.hasNext, nil
}

func start(t *testing.T, r *refresher.Refresher) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return ctx
}

// TestRunDrainsThenWaits: full batches run back to back, then the
// refresher waits for the clock.
func TestRunDrainsThenWaits(t *testing.T) {
	clock := clockwork.NewFakeClock()
	f := &fakeRenewer{due: 25, ch: make(chan int, 100)}
	r := &refresher.Refresher{Renewer: f, Clock: clock, Log: slog.New(slog.DiscardHandler), Interval: time.Minute, Batch: 10}
	ctx := start(t, r)

	for _, want := range []int{10, 10, 5} {
		if got := <-f.ch; got != want {
			t.Fatalf("pass renewed %d, want %d", got, want)
		}
	}
	// The partial batch ends the burst: nothing more until time passes.
	clock.BlockUntilContext(ctx, 1)
	select {
	case n := <-f.ch:
		t.Fatalf("ran again without waiting (%d)", n)
	default:
	}
	clock.Advance(2 * time.Minute)
	if got := <-f.ch; got != 0 {
		t.Fatalf("after the wait: %d", got)
	}
}

// TestConcurrencyCaps: a backlog (a restart after downtime) keeps every
// worker busy, and never more than Concurrency passes, each a provider
// call at a time, run at once.
func TestConcurrencyCaps(t *testing.T) {
	clock := clockwork.NewFakeClock()
	f := &fakeRenewer{due: 1000, ch: make(chan int, 1000), hold: make(chan struct{})}
	r := &refresher.Refresher{Renewer: f, Clock: clock, Log: slog.New(slog.DiscardHandler), Interval: time.Hour, Batch: 1, Concurrency: 4}
	start(t, r)

	// The first full pass wakes the sleeping workers; once all four are
	// in a pass, let passes finish one at a time until the backlog is gone.
	f.hold <- struct{}{}
	<-f.ch
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		f.mu.Lock()
		in := f.inFlight
		f.mu.Unlock()
		if in == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d passes ran at once after the first full pass, want 4", in)
		}
	}
	for range 999 {
		f.hold <- struct{}{}
		<-f.ch
	}
	f.mu.Lock()
	maxIn, left := f.maxIn, f.due
	f.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d accounts left", left)
	}
	if maxIn != 4 {
		t.Fatalf("at most %d passes ran at once, want the cap of 4 reached and not passed", maxIn)
	}
}

// TestWakesWhenDue: an idle worker sleeps until the next account comes
// due, not a whole interval.
func TestWakesWhenDue(t *testing.T) {
	clock := clockwork.NewFakeClock()
	f := &fakeRenewer{ch: make(chan int, 100), next: clock.Now().Add(10 * time.Second), hasNext: true}
	r := &refresher.Refresher{Renewer: f, Clock: clock, Log: slog.New(slog.DiscardHandler), Interval: time.Hour}
	ctx := start(t, r)
	<-f.ch
	clock.BlockUntilContext(ctx, 1)
	// Once these are renewed nothing more is scheduled.
	f.mu.Lock()
	f.due, f.hasNext = 3, false
	f.mu.Unlock()
	// Jitter puts the wake-up within [5s, 15s).
	clock.Advance(15 * time.Second)
	if got := <-f.ch; got != 3 {
		t.Fatalf("woke and renewed %d, want 3", got)
	}
	// With nothing scheduled it sleeps up to the interval: not woken at
	// twice the minimum wait.
	f.mu.Lock()
	f.due = 2
	f.mu.Unlock()
	clock.BlockUntilContext(ctx, 1)
	clock.Advance(2 * refresher.MinWait)
	select {
	case n := <-f.ch:
		t.Fatalf("ran after %v with nothing scheduled (%d)", 2*refresher.MinWait, n)
	case <-time.After(50 * time.Millisecond):
	}
	clock.Advance(2 * time.Hour)
	if got := <-f.ch; got != 2 {
		t.Fatalf("after the interval: %d", got)
	}
}
