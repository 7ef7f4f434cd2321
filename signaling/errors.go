package signaling

import (
	"errors"
	"log/slog"

	"parley/fault"
)

// Wire error codes (docs/protocol.md, "Errors"; fault's table).
const (
	CodeMalformed          = fault.Malformed
	CodeBadRequest         = fault.BadRequest
	CodeUnknownType        = fault.UnknownType
	CodeHelloRequired      = fault.HelloRequired
	CodeUnsupportedVersion = fault.UnsupportedVersion
	CodeUnauthenticated    = fault.Unauthenticated
	CodeForbidden          = fault.Forbidden
	CodeNotFound           = fault.NotFound
	CodeConflict           = fault.Conflict
	CodeRateLimited        = fault.RateLimited
	CodeTooLarge           = fault.TooLarge
	CodeUnavailable        = fault.Unavailable
	CodeInternal           = fault.Internal
)

// Error is an error the websocket surface itself answers, written as a
// literal: &Error{CodeConflict, "…"}. toWire answers it as the
// fault.Error of the same code and message.
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

// toWire is the one place an error becomes what the client sees on the
// websocket: fault.Describe's code and message, where a code the
// websocket never sends (fault's table) is the server's fault.
func toWire(err error, log *slog.Logger) WireError {
	var e *Error
	if errors.As(err, &e) {
		err = fault.New(e.Code, e.Message)
	}
	code, msg := fault.Describe(err, log)
	if r, _ := fault.Lookup(code); r.Socket != fault.Stays && r.Socket != fault.Closes {
		code, msg = fault.Refuse(code, err, log)
	}
	return WireError{code, msg}
}
