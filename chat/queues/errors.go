package queues

import (
	"fmt"

	"parley/store"
)

// The chat packages' errors live here, in the lowest of them, and the
// others use these (chat re-exports them for its callers). Each answers
// Code() with its wire code.
var (
	ErrNotFound  = codedError{"not_found", "no such conversation"}
	ErrForbidden = codedError{"forbidden", "not allowed"}
	ErrConflict  = codedError{"conflict", "not possible in the current state"}
	ErrBadInput  = codedError{"bad_request", "bad input"}
	ErrTooLong   = codedError{"too_long", "the text is longer than the limit"}
)

type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.msg }
func (e codedError) Code() string  { return e.code }

// detail is a coded error with a specific message that still matches its
// sentinel with errors.Is.
type detail struct {
	codedError
	text string
}

func (d detail) Error() string        { return d.text }
func (d detail) Is(target error) bool { return target == d.codedError }

// Detail is sentinel (one of the Err… above) with a message of its own;
// errors.Is still matches it to the sentinel.
func Detail(sentinel error, text string) error {
	c, ok := sentinel.(codedError)
	if !ok {
		panic(fmt.Sprintf("chat: Detail of %v, which is not a chat error", sentinel))
	}
	return detail{c, text}
}

// Bad is a bad request with a message.
func Bad(format string, a ...any) error {
	return detail{ErrBadInput, fmt.Sprintf(format, a...)}
}

// BadText answers text the database cannot store (store.CheckTexts: pairs
// of field name and value) as a bad request naming the field.
func BadText(fields ...string) error {
	if err := store.CheckTexts(fields...); err != nil {
		return detail{ErrBadInput, err.Error()}
	}
	return nil
}

// Conflict is a conflict with a message.
func Conflict(format string, a ...any) error {
	return detail{ErrConflict, fmt.Sprintf(format, a...)}
}
