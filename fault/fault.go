// Package fault is Parley's one coded error and its one translation table.
//
// A coded error has a wire code (one of docs/protocol.md's error table)
// and a message for the client. Domain packages keep their sentinels as
// *Error values made by New, and give a sentinel a message of its own with
// Detail, which errors.Is still matches to the sentinel. Describe turns any
// error into the code and message the client is told; the websocket and
// HTTP both use it, so they say the same thing about the same error, and
// the table (table.go) says what each code is on each of them.
package fault

import "fmt"

// Error is a coded error. Compare sentinels with errors.Is.
type Error struct {
	code, message string
}

// New makes a coded error, usually a package's sentinel. code must be in
// the table (a test checks every sentinel of the tree).
func New(code, message string) *Error { return &Error{code: code, message: message} }

// Code is the wire code.
func (e *Error) Code() string { return e.code }

// Error is the message for the client.
func (e *Error) Error() string { return e.message }

// Detail is a sentinel's error with a message of its own:
// Detail{ErrForbidden, "only agents accept chats"} is answered as
// forbidden with that message, and errors.Is matches it to ErrForbidden.
type Detail struct {
	Of      *Error
	Message string
}

// Detailf is a Detail of of with a formatted message.
func Detailf(of *Error, format string, a ...any) error {
	return Detail{of, fmt.Sprintf(format, a...)}
}

// Code is the wire code of the sentinel.
func (d Detail) Code() string { return d.Of.code }

// Error is the message for the client.
func (d Detail) Error() string { return d.Message }

// Is reports whether target is the sentinel d details.
func (d Detail) Is(target error) bool { return target == error(d.Of) }
