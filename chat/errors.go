package chat

import (
	"fmt"

	"parley/fault"
	"parley/store"
)

// Sentinel errors, with their wire codes.
var (
	ErrNotFound  = fault.New(fault.NotFound, "no such conversation")
	ErrForbidden = fault.New(fault.Forbidden, "not allowed")
	ErrConflict  = fault.New(fault.Conflict, "not possible in the current state")
	ErrBadInput  = fault.New(fault.BadRequest, "bad input")
	ErrTooLong   = fault.New(fault.TooLong, "the text is longer than the limit")
)

// detail is a sentinel with a message of its own: a fault.Detail that
// chat writes without field names (detail{ErrForbidden, "…"}), and finds
// with errors.As among its own errors (SaveQueue).
type detail fault.Detail

func (d detail) Error() string { return d.Message }
func (d detail) Unwrap() error { return fault.Detail(d) }

func bad(format string, a ...any) error { return detail{ErrBadInput, fmt.Sprintf(format, a...)} }

// badText answers text the database cannot store (store.CheckTexts: pairs
// of field name and value) as a bad request naming the field.
func badText(fields ...string) error {
	if err := store.CheckTexts(fields...); err != nil {
		return detail{ErrBadInput, err.Error()}
	}
	return nil
}

func conflict(format string, a ...any) error {
	return detail{ErrConflict, fmt.Sprintf(format, a...)}
}
