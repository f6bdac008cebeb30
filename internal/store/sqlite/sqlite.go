// Package sqlite is Latchkey's embedded storage backend: a SQLite file
// (pure Go driver, WAL) behind the shared SQL store, with its migrations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkeyhq/latchkey/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect describes SQLite to the shared store. Row locks are not needed:
// OpenDB makes every transaction take the write lock at BEGIN.
var Dialect = sqlstore.Dialect{
	Name:              "sqlite",
	LockRows:          "",
	SkipLocked:        "",
	ILike:             "LIKE",
	TextIndex:         "accounts_fts",
	IsUniqueViolation: isUniqueViolation,
}

// Open opens the database file at path, creating it and its directory if
// needed, and brings its schema up to date.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	db, err := OpenDB(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, Dialect), nil
}

// DSN is the driver's data source name for the database file at path,
// with the pragmas every connection needs. It makes the file's directory.
func DSN(path string) (string, error) {
	if path == "" {
		return "", errors.New("open sqlite: empty path")
	}
	// The driver splits its DSN at the first '?'.
	if strings.ContainsRune(path, '?') {
		return "", fmt.Errorf("open sqlite %s: path must not contain '?'", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("open sqlite %s: %w", path, err)
		}
	}
	q := url.Values{}
	// A writer waits up to 5 s for the lock. Every transaction is short:
	// none is open while Latchkey waits on a provider (a token refresh
	// holds a lease on its account instead).
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// In WAL mode NORMAL keeps the database consistent after a crash and
	// skips an fsync per commit; a power loss may drop the last commits.
	q.Add("_pragma", "synchronous(NORMAL)")
	// Every transaction takes the write lock at BEGIN, so a read-modify-write
	// in UpdateAccount cannot interleave with another writer's, and a writer
	// waits (busy_timeout) instead of failing to upgrade its lock.
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), nil
}

// OpenDB opens the database file at path, creating it and its directory if
// needed, without migrating it.
func OpenDB(ctx context.Context, path string) (*sql.DB, error) {
	dsn, err := DSN(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return Configure(ctx, db, path)
}

// Configure sizes db's pool as the store needs and checks that it
// answers; path names it in errors. OpenDB calls it; so may a caller that
// opens the database its own way (a test counting statements).
func Configure(ctx context.Context, db *sql.DB, path string) (*sql.DB, error) {
	// WAL lets readers run beside the one writer; writers queue on the lock.
	db.SetMaxOpenConns(8)
	// Keep them open: a new connection re-runs the pragmas and re-reads
	// the schema.
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies the pending migrations to db and returns the schema
// version it is at now.
func Migrate(ctx context.Context, db *sql.DB) (int64, error) {
	return sqlstore.Migrate(ctx, db, goose.DialectSQLite3, migrations, "sqlite")
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}
