package signaling

import (
	"context"
	"errors"
	"log/slog"

	"parley/store"
)

// Wire error codes (docs/protocol.md, "Errors").
const (
	CodeMalformed          = "malformed"
	CodeBadRequest         = "bad_request"
	CodeUnknownType        = "unknown_type"
	CodeHelloRequired      = "hello_required"
	CodeUnsupportedVersion = "unsupported_version"
	CodeUnauthenticated    = "unauthenticated"
	CodeForbidden          = "forbidden"
	CodeNotFound           = "not_found"
	CodeConflict           = "conflict"
	CodeRateLimited        = "rate_limited"
	CodeTooLarge           = "too_large"
	CodeUnavailable        = "unavailable"
	CodeInternal           = "internal"
)

// Error is an error with a wire code. Domain packages need not use it: any
// error with a Code() string method is answered with that code and its text.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errMalformed(msg string) error  { return &Error{CodeMalformed, msg} }
func errBadRequest(msg string) error { return &Error{CodeBadRequest, msg} }

// BadRequest is the error a handler returns for a missing or invalid field.
func BadRequest(msg string) error { return errBadRequest(msg) }

// Forbidden is the error a handler returns when the principal may not act.
func Forbidden(msg string) error { return &Error{CodeForbidden, msg} }

// coder is what a domain error implements to choose its wire code.
type coder interface{ Code() string }

// toWire is the one place an error becomes what the client sees. A user
// error keeps its message; anything unrecognised is logged and answered as
// internal, without its details.
func toWire(err error, log *slog.Logger) WireError {
	var e *Error
	if errors.As(err, &e) {
		return WireError{e.Code, e.Message}
	}
	if store.IsUnavailable(err) {
		return WireError{CodeUnavailable, "the database is not answering; try again in a moment"}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return WireError{CodeUnavailable, "the request took too long; try again"}
	}
	if errors.Is(err, store.ErrNotFound) {
		return WireError{CodeNotFound, "not found"}
	}
	var c coder
	if errors.As(err, &c) {
		return WireError{c.Code(), err.Error()}
	}
	log.Error("request failed", "err", err)
	return WireError{CodeInternal, "something went wrong on the server; it has been logged"}
}
