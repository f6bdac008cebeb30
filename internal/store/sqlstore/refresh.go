package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// RefreshDue hands fn the due accounts one at a time, each in a transaction
// that holds its row; PostgreSQL skips rows other replicas hold.
func (s *Store) RefreshDue(ctx context.Context, now time.Time, limit int, fn func(*store.Account) error) (int, error) {
	done := 0
	for done < limit {
		ok, err := s.refreshOne(ctx, now, fn)
		if err != nil {
			return done, err
		}
		if !ok {
			break
		}
		done++
	}
	return done, nil
}

func (s *Store) refreshOne(ctx context.Context, now time.Time, fn func(*store.Account) error) (bool, error) {
	return inTxValue(ctx, s, "refresh due", func(tx *sql.Tx) (bool, error) {
		a, err := scanAccount(tx.QueryRowContext(ctx,
			`SELECT `+accountSelect+` FROM accounts WHERE next_refresh_at <= $1
		ORDER BY next_refresh_at LIMIT 1`+s.d.SkipLocked, micros(now)))
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("refresh due: %w", err)
		}
		if a.SharedWith, err = readShares(ctx, tx, a.ID); err != nil {
			return false, err
		}
		orig := a
		if err := fn(&a); err != nil {
			return false, err
		}
		a.ID, a.WorkspaceID, a.CreatedAt = orig.ID, orig.WorkspaceID, orig.CreatedAt
		// Compared as stored, to the microsecond: a next refresh within now's
		// microsecond would still be due, and handed over again in this run.
		if a.NextRefreshAt != nil && micros(*a.NextRefreshAt) <= micros(now) {
			return false, fmt.Errorf("refresh due: account %s: next refresh %v is not after %v", a.ID, a.NextRefreshAt, now)
		}
		if err := writeAccount(ctx, tx, orig, a); err != nil {
			return false, err
		}
		return true, nil
	})
}

// NextRefreshAt reads the earliest next refresh off the index.
func (s *Store) NextRefreshAt(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.queryRowDirect(ctx, `SELECT MIN(next_refresh_at) FROM accounts`).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next refresh: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(next.Int64), true, nil
}

// CountAccountsByStatus counts every account by status: it adds up the
// counts that triggers keep as accounts come, go and change status, a few
// rows whatever the number of accounts.
func (s *Store) CountAccountsByStatus(ctx context.Context) (map[store.AccountStatus]int, error) {
	rows, err := s.query(ctx, `SELECT status, CAST(SUM(n) AS BIGINT) FROM account_counts GROUP BY status HAVING SUM(n) <> 0`)
	if err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	defer rows.Close()
	out := map[store.AccountStatus]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count accounts: %w", err)
		}
		out[store.AccountStatus(st)] = n
	}
	return out, rows.Err()
}

// TakeRefreshLease is one conditional UPDATE: it wins only where no lease
// is held or the one held has lapsed by now.
func (s *Store) TakeRefreshLease(ctx context.Context, workspaceID, id, holder string, now, until time.Time) (bool, error) {
	if holder == "" {
		return false, fmt.Errorf("take refresh lease of %s: empty holder", id)
	}
	res, err := s.exec(ctx, "take refresh lease", `UPDATE accounts SET refresh_lease_holder = $3, refresh_lease_until = $4
		WHERE workspace_id = $1 AND id = $2
		AND (refresh_lease_holder = '' OR refresh_lease_until IS NULL OR refresh_lease_until <= $5)`,
		workspaceID, id, holder, micros(until), micros(now))
	if err != nil {
		return false, fmt.Errorf("take refresh lease of %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("take refresh lease of %s: %w", id, err)
	}
	if n == 1 {
		return true, nil
	}
	// Lost, or no such account: tell the two apart.
	if _, err := s.GetAccount(ctx, workspaceID, id); err != nil {
		return false, fmt.Errorf("take refresh lease: %w", err)
	}
	return false, nil
}

// ReleaseRefreshLease clears the lease where holder holds it.
func (s *Store) ReleaseRefreshLease(ctx context.Context, workspaceID, id, holder string) error {
	if holder == "" {
		return nil
	}
	_, err := s.execIdem(ctx, `UPDATE accounts SET refresh_lease_holder = '', refresh_lease_until = NULL
		WHERE workspace_id = $1 AND id = $2 AND refresh_lease_holder = $3`,
		workspaceID, id, holder)
	if err != nil {
		return fmt.Errorf("release refresh lease of %s: %w", id, err)
	}
	return nil
}
