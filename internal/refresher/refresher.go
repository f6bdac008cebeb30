// Package refresher renews OAuth tokens in the background, before they
// expire and before unused refresh tokens lapse, so that reads rarely wait
// for a provider. On PostgreSQL any number of replicas run it side by side;
// row locks keep them from renewing one account twice.
package refresher

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Renewer renews due accounts; *accounts.Service is one.
type Renewer interface {
	// RefreshDue renews up to limit due accounts, one after another.
	RefreshDue(ctx context.Context, limit int) (int, error)
	// NextDue is when the earliest account comes due.
	NextDue(ctx context.Context) (time.Time, bool, error)
}

// MinWait is the shortest an idle worker waits before looking again: it
// bounds the polling of many workers when accounts come due moments
// apart, at the cost of refreshing some up to about a second late.
const MinWait = time.Second

// Refresher runs a Renewer with Concurrency workers.
type Refresher struct {
	Renewer Renewer
	Clock   clockwork.Clock
	Log     *slog.Logger
	// Interval is the longest an idle worker sleeps; it wakes sooner when
	// an account comes due sooner.
	Interval time.Duration
	// Batch is how many accounts one pass of a worker renews before it
	// looks again.
	Batch int
	// Concurrency is how many workers renew at once, and so the most
	// provider calls this process's background refresh makes at a time
	// (refresh_concurrency). A restart with a backlog of overdue accounts
	// drains it at this width, never wider.
	Concurrency int
}

// Run renews due accounts until ctx is done. Each worker renews a batch;
// a full batch means more are due, so it goes on at once and wakes its
// idle siblings. Otherwise it sleeps until the next account comes due (at
// least MinWait, at most Interval, with jitter so that workers and
// replicas do not poll in step).
func (r *Refresher) Run(ctx context.Context) {
	w := &wakeup{ch: make(chan struct{})}
	var wg sync.WaitGroup
	for range max(r.Concurrency, 1) {
		wg.Go(func() { r.work(ctx, w) })
	}
	wg.Wait()
}

// wakeup wakes every sleeping worker at once: each sleeps on the channel
// of its time, and a wake closes it and starts the next.
type wakeup struct {
	mu sync.Mutex
	ch chan struct{}
}

func (w *wakeup) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}

func (w *wakeup) wake() {
	w.mu.Lock()
	defer w.mu.Unlock()
	close(w.ch)
	w.ch = make(chan struct{})
}

func (r *Refresher) work(ctx context.Context, w *wakeup) {
	batch := r.Batch
	if batch <= 0 {
		batch = 50
	}
	for {
		n, err := r.Renewer.RefreshDue(ctx, batch)
		if err != nil && ctx.Err() == nil {
			r.Log.ErrorContext(ctx, "background refresh pass failed", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
		if n == batch {
			w.wake()
			continue
		}
		woken := w.wait()
		select {
		case <-ctx.Done():
			return
		case <-r.Clock.After(r.idle(ctx)):
		case <-woken:
		}
	}
}

// idle is how long a worker that found nothing more due sleeps.
func (r *Refresher) idle(ctx context.Context) time.Duration {
	wait := r.Interval
	next, ok, err := r.Renewer.NextDue(ctx)
	if err != nil && ctx.Err() == nil {
		r.Log.WarnContext(ctx, "reading the next refresh time failed", "err", err)
	}
	if err == nil && ok {
		wait = min(wait, max(next.Sub(r.Clock.Now()), MinWait))
	}
	wait = max(wait, min(MinWait, r.Interval))
	if wait <= 0 {
		wait = MinWait
	}
	return wait/2 + time.Duration(rand.Int64N(int64(wait)))
}
