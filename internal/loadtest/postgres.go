package loadtest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// FreshSchema creates a schema of its own on the PostgreSQL server at
// base, for one run, and returns a URL whose connections use it and a
// function that drops it. Stop the Latchkey using it before dropping.
func FreshSchema(ctx context.Context, base string) (string, func() error, error) {
	schema := "lk_load_" + strings.ToLower(rand.Text()[:16])
	u, err := withSearchPath(base, schema)
	if err != nil {
		return "", nil, err
	}
	if err := admin(ctx, base, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return admin(ctx, base, "DROP SCHEMA "+schema+" CASCADE")
	}
	return u, drop, nil
}

// admin runs one statement on its own connection to the server.
func admin(ctx context.Context, base, stmt string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}

// withSearchPath adds search_path=schema to a URL or key=value string;
// pgx sends it to the server as a run-time parameter of every connection.
func withSearchPath(base, schema string) (string, error) {
	if !strings.HasPrefix(base, "postgres://") && !strings.HasPrefix(base, "postgresql://") {
		return base + " search_path=" + schema, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		// Not wrapped: the error quotes the URL, password and all.
		return "", errors.New("the PostgreSQL URL does not parse")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}
