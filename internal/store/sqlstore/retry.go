package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// RetryBudget bounds how long one store call keeps trying again while the
// database is lost: long enough for a server restart, short enough that
// the caller still gets an answer. Past it the last error is returned.
const RetryBudget = 10 * time.Second

// Waits between attempts: the first retry goes at once (a pooled
// connection the server closed is usually all that failed), then they
// double up to maxWait.
const (
	firstWait = 10 * time.Millisecond
	maxWait   = time.Second
)

// errStillRunning says the server still runs a transaction whose COMMIT
// got no answer; asking again later tells how it ended.
var errStillRunning = errors.New("transaction still in progress")

// retrying reports whether the work that failed with err may simply be
// tried again: nothing of it can have been kept.
func (s *Store) retrying(err error) bool {
	if errors.Is(err, store.ErrOutcomeUnknown) || errors.Is(err, store.ErrUnavailable) {
		return false
	}
	return errors.Is(err, errStillRunning) || (s.d.Transient != nil && s.d.Transient(err))
}

// retry runs fn, and again while it fails with a lost or refused
// connection, waiting longer each time, until RetryBudget has passed or
// ctx ends. fn must be safe to run more than once: a read, an idempotent
// write, or a whole transaction that cannot have committed.
func (s *Store) retry(ctx context.Context, fn func(context.Context) error) error {
	if s.d.Transient == nil {
		return fn(ctx)
	}
	start := s.clock.Now()
	var wait time.Duration
	for {
		err := fn(ctx)
		if err == nil || ctx.Err() != nil || !s.retrying(err) {
			return err
		}
		if s.clock.Since(start)+wait > RetryBudget {
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		if wait > 0 {
			t := s.clock.NewTimer(wait)
			select {
			case <-t.Chan():
			case <-ctx.Done():
				t.Stop()
				return err
			}
		}
		wait = nextWait(wait)
	}
}

func nextWait(w time.Duration) time.Duration {
	if w == 0 {
		return firstWait
	}
	// Up to a quarter more, so that callers who failed together do not
	// all come back together.
	w = 2*w + rand.N(w/2)
	return min(w, maxWait)
}

// inTx runs fn in a transaction and commits it. While the database is
// lost before the commit, the whole of fn runs again in a new
// transaction, so fn must start from nothing each time: it may set
// variables of its caller, but must not append to them or act outside
// the transaction. A COMMIT that got no answer is not run again unless
// the server, asked once it answers, says the transaction did not commit.
func (s *Store) inTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	return s.retry(ctx, func(ctx context.Context) error { return s.txOnce(ctx, op, fn) })
}

func (s *Store) txOnce(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", op, err)
	}
	// After a successful Commit this is a no-op; on every other path it
	// releases the locks and discards whatever was written.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	var xid sql.NullInt64
	if s.d.TxID != "" {
		if err := tx.QueryRowContext(ctx, s.d.TxID).Scan(&xid); err != nil {
			return fmt.Errorf("%s: transaction id: %w", op, err)
		}
	}
	err = tx.Commit()
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: commit: %w", op, err)
	if !s.retrying(err) || (s.d.Unsent != nil && s.d.Unsent(err)) {
		// Either not a lost connection, or the COMMIT never left: the
		// transaction is rolled back and retry may run it again.
		return err
	}
	if s.d.TxID == "" {
		return fmt.Errorf("%w (%w)", store.ErrOutcomeUnknown, err)
	}
	if !xid.Valid {
		// The transaction wrote nothing, so whatever became of its
		// COMMIT, what it read stands.
		return nil
	}
	committed, serr := s.committed(ctx, xid.Int64)
	switch {
	case serr != nil:
		return fmt.Errorf("%w (%w; asking after it: %w)", store.ErrOutcomeUnknown, err, serr)
	case committed:
		return nil
	}
	// Rolled back: retry runs it again, as after any lost connection.
	return err
}

// committed asks the server, retrying until it answers, how the
// transaction xid ended.
func (s *Store) committed(ctx context.Context, xid int64) (bool, error) {
	var status sql.NullString
	err := s.retry(ctx, func(ctx context.Context) error {
		if err := s.db.QueryRowContext(ctx, s.d.TxStatus, xid).Scan(&status); err != nil {
			return err
		}
		if status.String == "in progress" {
			return errStillRunning
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	switch status.String {
	case "committed":
		return true, nil
	case "aborted":
		return false, nil
	}
	return false, fmt.Errorf("transaction %d: status %q", xid, status.String)
}

// query runs a read, retried while the database is lost. Only the query
// itself is retried: a connection lost while rows are read surfaces
// through rows.Err.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		rows, err = s.db.QueryContext(ctx, query, args...)
		return err
	})
	return rows, err
}

// execIdem runs a write that leaves the same rows however often it runs
// (a conditional UPDATE to fixed values, a DELETE of what is gone anyway),
// retried while the database is lost, even after a COMMIT that got no
// answer. Its result counts only the last run.
func (s *Store) execIdem(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.retry(ctx, func(ctx context.Context) error {
		var err error
		res, err = s.db.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// exec runs a write that must not run twice (an INSERT, a DELETE whose
// count is reported) in a transaction of its own, so that it is retried
// only when it surely was not kept. Where nothing is retried it runs as
// it is.
func (s *Store) exec(ctx context.Context, op, query string, args ...any) (sql.Result, error) {
	if s.d.Transient == nil {
		return s.db.ExecContext(ctx, query, args...)
	}
	var res sql.Result
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// row is a single-row read whose query runs, and is retried while the
// database is lost, when it is scanned.
type row struct {
	s     *Store
	ctx   context.Context
	query func(context.Context) (*sql.Rows, error)
}

// queryRowDirect reads one row without a prepared statement.
func (s *Store) queryRowDirect(ctx context.Context, query string, args ...any) scanner {
	return &row{s: s, ctx: ctx, query: func(ctx context.Context) (*sql.Rows, error) {
		return s.db.QueryContext(ctx, query, args...)
	}}
}

// Scan reads the row into dest, as sql.Row's Scan does: sql.ErrNoRows
// when there is none.
func (r *row) Scan(dest ...any) error {
	return r.s.retry(r.ctx, func(ctx context.Context) error {
		rows, err := r.query(ctx)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			if err := rows.Err(); err != nil {
				return err
			}
			return sql.ErrNoRows
		}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		return rows.Close()
	})
}

// inTxValue is inTx for a transaction that yields a value.
func inTxValue[T any](ctx context.Context, s *Store, op string, fn func(*sql.Tx) (T, error)) (T, error) {
	var out T
	err := s.inTx(ctx, op, func(tx *sql.Tx) error {
		v, err := fn(tx)
		if err != nil {
			return err
		}
		out = v
		return nil
	})
	return out, err
}

// reads is a querier whose queries are retried while the database is lost.
type reads struct{ s *Store }

func (r reads) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.s.query(ctx, query, args...)
}
