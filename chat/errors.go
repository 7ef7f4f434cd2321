package chat

import (
	"fmt"

	"parley/store"
)

// Sentinel errors; each answers Code() with its wire code.
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

func bad(format string, a ...any) error {
	return detail{ErrBadInput, fmt.Sprintf(format, a...)}
}

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
