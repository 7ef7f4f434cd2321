package fault

import (
	"context"
	"errors"
	"log/slog"

	"parley/store"
)

// The messages of the errors that are not coded.
const (
	msgUnavailable = "The database is not answering; try again in a moment."
	msgNotFound    = "not found"
	msgInternal    = "Something went wrong on the server; it has been logged."
)

// coded is what Error and Detail have in common.
type coded interface{ Code() string }

var (
	_ coded = (*Error)(nil)
	_ coded = Detail{}
)

// Describe is what the client is told of err, on any transport. A coded
// error keeps its code and message. A passed deadline or a database that
// does not answer is unavailable, and store.ErrNotFound is not_found.
// Anything else is logged on log and is internal, without its details.
func Describe(err error, log *slog.Logger) (code, message string) {
	if store.IsUnavailable(err) || errors.Is(err, context.DeadlineExceeded) {
		return Unavailable, msgUnavailable
	}
	if errors.Is(err, store.ErrNotFound) {
		return NotFound, msgNotFound
	}
	var c coded
	if errors.As(err, &c) {
		if _, ok := rules[c.Code()]; ok {
			return c.Code(), err.Error()
		}
	}
	log.Error("request failed", "err", err)
	return Internal, msgInternal
}

// Refuse is what a transport answers when err's code is not one it sends
// (Describe's code has no HTTP status, or is not sent on the websocket):
// the fault is the server's, so it is logged on log and answered as
// internal.
func Refuse(code string, err error, log *slog.Logger) (string, string) {
	log.Error("request failed: the code is not sent on this transport", "code", code, "err", err)
	return Internal, msgInternal
}
