package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable marks a failure to reach the database, as opposed to a
// query the database refused. The surfaces answer it with the wire code
// "unavailable" and the client may try again.
var ErrUnavailable = errors.New("database unavailable")

// ErrNotFound is returned by lookups that found no row.
var ErrNotFound = errors.New("not found")

// IsUnavailable reports whether err means the database could not be
// reached or dropped the connection: dial failures, broken connections,
// timeouts (a deadline passed while waiting on it, for a connection or
// an answer), and the server shutting down or starting up.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P0x: shutdown, crash, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	if errors.Is(err, pgconn.ErrConnClosed) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
