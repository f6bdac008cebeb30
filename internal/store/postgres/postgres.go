// Package postgres is Latchkey's production storage backend: PostgreSQL
// (through pgx's database/sql adapter) behind the shared SQL store, with its
// migrations.
//
// The schema lives in the first schema of the connection's search_path, so
// several installations (or test runs) can share one database: put
// search_path=NAME in the URL's query.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/latchkeyhq/latchkey/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect describes PostgreSQL to the shared store.
var Dialect = sqlstore.Dialect{
	Name:           "postgres",
	LockRows:       " FOR UPDATE",
	SkipLocked:     " FOR UPDATE SKIP LOCKED",
	MultiRowInsert: true,
	ILike:          "ILIKE",
	TextSample: &sqlstore.TextSample{
		// reltuples is -1 before the first ANALYZE: searched as it is.
		Rows:   `SELECT reltuples::float8 FROM pg_class WHERE oid = 'accounts'::regclass`,
		From:   `accounts TABLESAMPLE SYSTEM ($1::real) REPEATABLE (0)`,
		Within: `id = ANY(ARRAY(%s))`,
	},
	// Parse and bind in one round trip, planned with the values.
	PlanWithValues:    pgx.QueryExecModeExec,
	CopyRows:          copyRows,
	IsUniqueViolation: isUniqueViolation,
}

// copyRows stores rows with COPY, one statement: all or none, a unique
// violation included.
func copyRows(ctx context.Context, db *sql.DB, table string, columns []string, rows [][]any) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: a %T is not a pgx connection", table, dc)
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, pgx.CopyFromRows(rows))
		return err
	})
}

// DefaultConns is how many connections a store keeps open at most when
// not told: bounded so that several replicas (and parallel tests) stay
// well under the server's max_connections.
const DefaultConns = 10

// Open connects to the database at url (a postgres:// URL or a key=value
// string; search_path is honoured) and brings its schema up to date.
func Open(ctx context.Context, url string) (*sqlstore.Store, error) {
	return OpenSized(ctx, url, DefaultConns)
}

// OpenSized is Open with at most conns connections (database_connections).
func OpenSized(ctx context.Context, url string, conns int) (*sqlstore.Store, error) {
	db, err := openDB(ctx, url, conns)
	if err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, Dialect), nil
}

// OpenDB connects to the database at url without migrating it.
func OpenDB(ctx context.Context, url string) (*sql.DB, error) {
	return openDB(ctx, url, DefaultConns)
}

func openDB(ctx context.Context, url string, conns int) (*sql.DB, error) {
	if conns < 1 {
		conns = DefaultConns
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx leaves the password out of its parse errors.
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s@%s:%d/%s: %w", cfg.User, cfg.Host, cfg.Port, cfg.Database, err)
	}
	return db, nil
}

// Migrate applies the pending migrations to db and returns the schema
// version it is at now. Replicas starting together take turns: each
// migrates under an advisory lock named after the current schema.
func Migrate(ctx context.Context, db *sql.DB) (int64, error) {
	return sqlstore.Migrate(ctx, db, goose.DialectPostgres, migrations, "postgres", goose.WithSessionLocker(schemaLocker{}))
}

// schemaLocker is a goose session locker that waits for a session advisory
// lock keyed by the current schema. goose's own locker uses one key for the
// whole server and polls every few seconds; this one lets installations in
// other schemas migrate at the same time, and wakes as soon as the lock is
// free.
type schemaLocker struct{}

const lockKey = `hashtext('latchkey.migrate.' || coalesce(current_schema(), ''))`

func (schemaLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("take migration lock: %w", err)
	}
	return nil
}

func (schemaLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	var ok bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`).Scan(&ok); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	if !ok {
		return errors.New("release migration lock: it was not held")
	}
	return nil
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505" // unique_violation
}
