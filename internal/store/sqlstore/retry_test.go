package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/latchkeyhq/latchkey/internal/store"
)

var (
	errLost  = errors.New("connection lost")
	errFinal = errors.New("a failure retrying cannot mend")
)

// retryStore is a Store whose dialect calls errLost transient, on a fake
// clock; it runs no query.
func retryStore() (*Store, *clockwork.FakeClock) {
	clock := clockwork.NewFakeClock()
	return &Store{clock: clock, d: Dialect{Transient: func(err error) bool { return errors.Is(err, errLost) }}}, clock
}

// runRetry runs s.retry in the background and, until it returns, moves
// the fake clock past each wait it starts.
func runRetry(t *testing.T, ctx context.Context, s *Store, clock *clockwork.FakeClock, fn func(context.Context) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.retry(ctx, fn) }()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		if clock.BlockUntilContext(wctx, 1) == nil {
			clock.Advance(maxWait)
		}
		cancel()
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name string
		// fails is how many times fn fails before it succeeds, with err.
		fails    int
		err      error
		wantErr  error
		wantRuns int
	}{
		{"success at once", 0, nil, nil, 1},
		{"lost three times, then through", 3, errLost, nil, 4},
		{"a failure not transient is returned at once", 5, errFinal, errFinal, 1},
		{"an unknown commit outcome is not retried, lost connection or not", 5, fmt.Errorf("%w (%w)", store.ErrOutcomeUnknown, errLost), store.ErrOutcomeUnknown, 1},
		{"lost for good: gives up as unavailable", 1 << 30, errLost, store.ErrUnavailable, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, clock := retryStore()
			start := clock.Now()
			runs := 0
			err := runRetry(t, t.Context(), s, clock, func(context.Context) error {
				runs++
				if runs <= tc.fails {
					return tc.err
				}
				return nil
			})
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("retry = %v, want %v", err, tc.wantErr)
			}
			if tc.wantRuns >= 0 && runs != tc.wantRuns {
				t.Errorf("fn ran %d times, want %d", runs, tc.wantRuns)
			}
			if errors.Is(tc.wantErr, store.ErrUnavailable) {
				if !errors.Is(err, errLost) {
					t.Errorf("retry = %v, which does not say what failed", err)
				}
				if took := clock.Since(start); took > RetryBudget+maxWait {
					t.Errorf("gave up after %v of waiting, past the budget of %v", took, RetryBudget)
				}
				if runs < 5 {
					t.Errorf("gave up after %d runs", runs)
				}
			}
		})
	}
}

// A caller who gives up stops the retries: retry returns while it waits.
func TestRetryStopsWithTheCaller(t *testing.T) {
	s, clock := retryStore()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	runs := 0
	go func() {
		done <- s.retry(ctx, func(context.Context) error { runs++; return errLost })
	}()
	// The first retry goes at once; the second waits on the clock.
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, errLost) {
		t.Fatalf("retry = %v, want the last failure", err)
	}
	if runs != 2 {
		t.Errorf("fn ran %d times, want 2", runs)
	}
}

// Where the dialect calls nothing transient (SQLite), fn runs once.
func TestRetryOffWithoutTransient(t *testing.T) {
	s := &Store{clock: clockwork.NewFakeClock()}
	runs := 0
	err := s.retry(t.Context(), func(context.Context) error { runs++; return errLost })
	if !errors.Is(err, errLost) || runs != 1 {
		t.Fatalf("retry = %v after %d runs, want errLost after 1", err, runs)
	}
}
