// Package sqlstore implements store.Store over database/sql, with one set of
// SQL text shared by the SQLite and PostgreSQL backends.
//
// The backends differ only in what a Dialect describes. Times are stored as
// unix microseconds (UTC), string slices and maps as JSON text, bytes as
// BLOB/BYTEA. The store has no clock: every time comes from a record.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// Dialect is what differs between the databases behind one Store.
type Dialect struct {
	// Name names the database in messages, e.g. "sqlite" or "postgres".
	Name string
	// LockRows is appended to a SELECT inside a transaction to lock the rows
	// it returns until the transaction ends (" FOR UPDATE"). It is empty
	// where every transaction already holds the database's write lock from
	// BEGIN on (SQLite opened with _txlock=immediate).
	LockRows string
	// SkipLocked is appended to a SELECT to lock its rows and pass over
	// rows other transactions hold (" FOR UPDATE SKIP LOCKED"); empty
	// where transactions take the write lock at BEGIN.
	SkipLocked string
	// ILike is the case-insensitive LIKE operator ("ILIKE", or "LIKE" in
	// SQLite, whose LIKE ignores ASCII case).
	ILike string
	// TextIndex names the FTS5 table (trigram tokenizer) that narrows a
	// text filter down before its LIKE runs, in SQLite; empty where
	// ILike itself is indexed (PostgreSQL's pg_trgm).
	TextIndex string
	// TextSample, where set, leads a text filter with a rare piece of
	// it, found in a sample of the accounts (PostgreSQL).
	TextSample *TextSample
	// PlanWithValues, when set, is put before the arguments of a query
	// whose best plan depends on their values, a text search: PostgreSQL
	// would otherwise come to reuse one generic plan for a cached
	// statement, made without the pattern, which cannot use the trigram
	// index and walks every account instead.
	PlanWithValues any
	// MultiRowInsert batches rows into one INSERT, for a database whose
	// every statement is a network round trip.
	MultiRowInsert bool
	// CopyRows, when set, stores rows in table in one bulk statement that
	// is all or none (PostgreSQL's COPY): the audit log's batches go that
	// way, which costs both sides much less than an INSERT's parameters.
	CopyRows func(ctx context.Context, db *sql.DB, table string, columns []string, rows [][]any) error
	// IsUniqueViolation reports whether err is a primary key or unique
	// constraint violation.
	IsUniqueViolation func(error) bool
}

// Page sizes for the List methods.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// Store is a store.Store over a *sql.DB whose schema the backend's
// migrations created.
type Store struct {
	db *sql.DB
	d  Dialect
	// stmts holds prepared statements of the hot reads, so that each
	// connection parses them once rather than on every call.
	stmts sync.Map // query -> *sql.Stmt
	// textIndexCap overrides the constant of that name when set.
	textIndexCap int
	// textSampleFloor overrides the constant of that name when set.
	textSampleFloor *int
}

var _ store.Store = (*Store)(nil)

// New returns a Store over db, which it owns from now on: Close closes it.
func New(db *sql.DB, d Dialect) *Store {
	return &Store{db: db, d: d}
}

// DB returns the underlying database, for backend-specific work such as
// migrations.
func (s *Store) DB() *sql.DB { return s.db }

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d.Name, err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool {
		v.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// queryRow runs a hot read through a prepared statement.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, ok := s.stmts.Load(query)
	if !ok {
		prepared, err := s.db.PrepareContext(ctx, query)
		if err != nil {
			// QueryRow reports the same error through Scan.
			return s.db.QueryRowContext(ctx, query, args...)
		}
		if st, ok = s.stmts.LoadOrStore(query, prepared); ok {
			prepared.Close()
		}
	}
	return st.(*sql.Stmt).QueryRowContext(ctx, args...)
}

// conflict turns a unique violation into store.ErrConflict and wraps any
// other error as it is, both with what failed.
func (s *Store) conflict(err error, format string, args ...any) error {
	if s.d.IsUniqueViolation != nil && s.d.IsUniqueViolation(err) {
		return fmt.Errorf(format+": %w", append(args, store.ErrConflict)...)
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// limit applies the default and the cap to a requested page size.
func limit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

// stored returns t as it reads back from the database.
func stored(t time.Time) time.Time { return fromMicros(micros(t)) }

func storedPtr(t *time.Time) *time.Time { return fromNullMicros(nullMicros(t)) }

// storedBytes returns b as it reads back: drivers differ on whether an
// empty value comes back empty or nil, so empty is always nil.
func storedBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
