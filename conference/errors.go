package conference

import "fmt"

// Sentinel errors; each answers Code() with its wire code. Every refusal
// of a room request is one of them, with or without a message of its own
// (WithMessage).
var (
	ErrNotFound    = codedError{"not_found", "no such room"}
	ErrEnded       = codedError{"conflict", "This room has ended"}
	ErrForbidden   = codedError{"forbidden", "not allowed in this room"}
	ErrBadInput    = codedError{"bad_request", "bad input"}
	ErrConflict    = codedError{"conflict", "conflict"}
	ErrRateLimited = codedError{"rate_limited", "too many requests"}
)

type codedError struct{ code, msg string }

func (e codedError) Error() string { return e.msg }
func (e codedError) Code() string  { return e.code }

type detail struct {
	codedError
	text string
}

func (d detail) Error() string        { return d.text }
func (d detail) Is(target error) bool { return target == d.codedError }

// WithMessage is the sentinel err told in words of its own: errors.Is
// still finds err, and the client reads msg.
func WithMessage(err codedError, msg string) error { return detail{err, msg} }

func bad(format string, a ...any) error {
	return detail{ErrBadInput, fmt.Sprintf(format, a...)}
}
