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

type fakeRenewer struct {
	mu    sync.Mutex
	calls int
	due   int
	ch    chan int
}

func (f *fakeRenewer) RefreshDue(_ context.Context, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	n := min(f.due, limit)
	f.due -= n
	f.ch <- n
	return n, nil
}

// TestRunDrainsThenWaits: full batches run back to back, then the
// refresher waits for the clock.
func TestRunDrainsThenWaits(t *testing.T) {
	clock := clockwork.NewFakeClock()
	f := &fakeRenewer{due: 25, ch: make(chan int, 100)}
	r := &refresher.Refresher{Renewer: f, Clock: clock, Log: slog.New(slog.DiscardHandler), Interval: time.Minute, Batch: 10}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()

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
	cancel()
	<-done
}
