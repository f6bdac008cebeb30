// Package refresher renews OAuth tokens in the background, before they
// expire and before unused refresh tokens lapse, so that reads rarely wait
// for a provider. On PostgreSQL any number of replicas run it side by side;
// row locks keep them from renewing one account twice.
package refresher

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jonboulle/clockwork"
)

// Renewer renews due accounts; *accounts.Service is one.
type Renewer interface {
	RefreshDue(ctx context.Context, limit int) (int, error)
}

// Refresher runs a Renewer on an interval.
type Refresher struct {
	Renewer  Renewer
	Clock    clockwork.Clock
	Log      *slog.Logger
	Interval time.Duration
	// Batch is how many accounts one pass renews before yielding.
	Batch int
}

// Run renews due accounts every Interval (with jitter, so replicas do not
// poll in step) until ctx is done. A full batch runs again at once.
func (r *Refresher) Run(ctx context.Context) {
	batch := r.Batch
	if batch <= 0 {
		batch = 50
	}
	for {
		n, err := r.Renewer.RefreshDue(ctx, batch)
		if err != nil && ctx.Err() == nil {
			r.Log.ErrorContext(ctx, "background refresh pass failed", "err", err)
		}
		wait := r.Interval/2 + time.Duration(rand.Int64N(int64(r.Interval)))
		if n == batch {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return
		case <-r.Clock.After(wait):
		}
	}
}
