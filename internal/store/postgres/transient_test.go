package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkeyhq/latchkey/internal/store/postgres"
	"github.com/latchkeyhq/latchkey/internal/store/postgres/pgtest"
)

// Which failures the store retries (Transient), and which of those surely
// never reached the server (Unsent), so that even a write or a COMMIT may
// go again. Errors the drivers make themselves come from real attempts:
// a refused loopback port, a closed connection, a missing database.
func TestTransient(t *testing.T) {
	ctx := t.Context()
	base := pgtest.BaseURL(t)

	refused := func() error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = pgconn.Connect(ctx, "postgres://postgres@"+addr+"/test?sslmode=disable&connect_timeout=5")
		return err
	}()
	closedConn := func() error {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		c.Close(ctx)
		_, err = c.Exec(ctx, "SELECT 1")
		return err
	}()
	noDatabase := func() error {
		u := strings.Replace(base, "/test?", "/lk_no_such_database?", 1)
		_, err := pgconn.Connect(ctx, u)
		return err
	}()
	canceled := func() error {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err = c.Exec(cctx, "SELECT 1")
		return err
	}()
	for name, err := range map[string]error{"refused": refused, "closed": closedConn, "no database": noDatabase, "canceled": canceled} {
		if err == nil {
			t.Fatalf("%s: the attempt did not fail", name)
		}
	}
	pg := func(code string) error {
		return fmt.Errorf("get account: %w", &pgconn.PgError{Code: code, Message: "x"})
	}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}

	tests := []struct {
		name              string
		err               error
		transient, unsent bool
	}{
		{"admin_shutdown 57P01 (fast shutdown, pg_terminate_backend)", pg("57P01"), true, false},
		{"crash_shutdown 57P02", pg("57P02"), true, false},
		{"cannot_connect_now 57P03 (starting up)", pg("57P03"), true, false},
		{"connection_failure 08006", pg("08006"), true, false},
		{"connection_exception 08000", pg("08000"), true, false},
		{"query_canceled 57014", pg("57014"), false, false},
		{"unique_violation 23505", pg("23505"), false, false},
		{"serialization_failure 40001", pg("40001"), false, false},
		{"syntax_error 42601", pg("42601"), false, false},
		{"connection refused at connect", refused, true, true},
		{"statement on a closed connection", closedConn, true, true},
		{"missing database at connect (3D000)", noDatabase, false, true},
		{"caller's context canceled", canceled, false, true},
		{"context deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), false, false},
		{"driver.ErrBadConn", fmt.Errorf("x: %w", driver.ErrBadConn), true, true},
		{"sql.ErrConnDone", sql.ErrConnDone, true, false},
		{"connection reset by peer", reset, true, false},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true, false},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true, false},
		{"no rows", sql.ErrNoRows, false, false},
		{"some other error", errors.New("boom"), false, false},
		{"nil", nil, false, false},
	}
	for _, tc := range tests {
		if got := postgres.Transient(tc.err); got != tc.transient {
			t.Errorf("%s: Transient(%v) = %v, want %v", tc.name, tc.err, got, tc.transient)
		}
		if got := postgres.Unsent(tc.err); got != tc.unsent {
			t.Errorf("%s: Unsent(%v) = %v, want %v", tc.name, tc.err, got, tc.unsent)
		}
	}
}
