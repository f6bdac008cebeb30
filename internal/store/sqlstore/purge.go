package sqlstore

import (
	"context"
	"fmt"
	"time"
)

// purgeBatch is how many rows one DELETE removes, so that a long-unpurged
// table does not hold the write lock for one long statement.
const purgeBatch = 1000

// DeleteExpiredSessions deletes sessions that expired at or before now.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	n, err := s.purge(ctx, `DELETE FROM sessions WHERE hash IN
		(SELECT hash FROM sessions WHERE expires_at <= $1 LIMIT $2)`, now)
	if err != nil {
		return n, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}

// DeleteExpiredConnections deletes connections that expired at or before
// the given time.
func (s *Store) DeleteExpiredConnections(ctx context.Context, before time.Time) (int, error) {
	n, err := s.purge(ctx, `DELETE FROM connections WHERE id IN
		(SELECT id FROM connections WHERE expires_at <= $1 LIMIT $2)`, before)
	if err != nil {
		return n, fmt.Errorf("delete expired connections: %w", err)
	}
	return n, nil
}

// purge runs a batched DELETE until a batch comes back short.
func (s *Store) purge(ctx context.Context, query string, t time.Time) (int, error) {
	total := 0
	for {
		res, err := s.execIdem(ctx, query, micros(t), purgeBatch)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < purgeBatch {
			return total, nil
		}
	}
}
