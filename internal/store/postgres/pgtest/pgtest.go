// Package pgtest gives tests an isolated PostgreSQL store: a fresh schema
// per test, dropped when the test ends.
//
// The server comes from LATCHKEY_TEST_POSTGRES_URL. When it is unset, tests
// that ask for one skip, or fail when LATCHKEY_REQUIRE_POSTGRES=1 (for CI,
// so a missing database cannot pass as green).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/sqlstore"
)

// Environment variables that configure the PostgreSQL tests.
const (
	EnvURL     = "LATCHKEY_TEST_POSTGRES_URL"
	EnvRequire = "LATCHKEY_REQUIRE_POSTGRES"
)

// BaseURL returns the server's URL from the environment, skipping the test
// (or failing it, when PostgreSQL is required) if there is none.
func BaseURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	if os.Getenv(EnvRequire) == "1" {
		t.Fatal(EnvURL + " is not set but " + EnvRequire + "=1")
	}
	t.Skip(EnvURL + " is not set; run the PostgreSQL tests with " + EnvURL +
		"=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./...")
	return ""
}

// URL creates a fresh schema and returns a URL whose connections use it, so
// several stores opened from it share one isolated database. The schema is
// dropped when the test ends; close stores opened from the URL before that,
// in a cleanup registered after calling URL.
func URL(t testing.TB) string {
	t.Helper()
	base := BaseURL(t)
	schema := "lk_test_" + randomHex(t)

	admin(t, base, `CREATE SCHEMA `+schema)
	t.Cleanup(func() { admin(t, base, `DROP SCHEMA `+schema+` CASCADE`) })
	return withSearchPath(t, base, schema)
}

// Open returns a migrated store in a fresh schema, closed and dropped when
// the test ends.
func Open(t testing.TB) *sqlstore.Store {
	t.Helper()
	u := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("open postgres store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// admin runs one statement on its own connection to the server.
func admin(t testing.TB, base, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// withSearchPath adds search_path=schema to a URL or key=value string;
// pgx sends it to the server as a run-time parameter of every connection.
func withSearchPath(t testing.TB, base, schema string) string {
	t.Helper()
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
