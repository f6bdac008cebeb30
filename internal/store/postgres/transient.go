package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// transientCodes are the SQLSTATEs, besides class 08 (connection
// exception), of a server that went away or is not yet back: a session
// ended by a fast shutdown or pg_terminate_backend (57P01), by a crash of
// another backend (57P02), or refused while starting or stopping (57P03).
var transientCodes = map[string]bool{
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now
}

// Transient reports whether err is a lost or refused connection to the
// server, after which the same work may succeed on a new one. Whether it
// may be run again depends on whether it can have been kept; see Unsent.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		return strings.HasPrefix(pe.Code, "08") || transientCodes[pe.Code]
	}
	if Unsent(err) {
		return true
	}
	if _, ok := errors.AsType[*net.OpError](err); ok {
		return true
	}
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, sql.ErrConnDone,
		syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Unsent reports whether a failed statement surely never reached the
// server: the connection was found broken before anything was written,
// or none could be made.
func Unsent(err error) bool {
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	return pgconn.SafeToRetry(err) || errors.Is(err, driver.ErrBadConn)
}
