package sqlstore

import (
	"context"
	"fmt"
)

// GetMeta returns the value stored under key.
func (s *Store) GetMeta(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.queryRowDirect(ctx, `SELECT value FROM meta WHERE name = $1`, key).Scan(&v)
	if err != nil {
		return nil, notFound(err, "get meta %s", key)
	}
	return nonNil(v), nil
}

// PutMetaIfAbsent stores value under key unless the key is set, and reports
// whether it stored it. One statement, so two callers racing cannot both
// win.
func (s *Store) PutMetaIfAbsent(ctx context.Context, key string, value []byte) (bool, error) {
	res, err := s.exec(ctx, "put meta",
		`INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		key, nonNil(value))
	if err != nil {
		return false, fmt.Errorf("put meta %s: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("put meta %s: %w", key, err)
	}
	return n == 1, nil
}

// PutMeta stores value under key, replacing any value there.
func (s *Store) PutMeta(ctx context.Context, key string, value []byte) error {
	_, err := s.execIdem(ctx,
		`INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
		key, nonNil(value))
	if err != nil {
		return fmt.Errorf("put meta %s: %w", key, err)
	}
	return nil
}

// nonNil keeps a nil value from becoming SQL NULL in the NOT NULL column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
