package staff

import "parley/fault"

// The staff messages' errors.
var (
	ErrForbidden = fault.New(fault.Forbidden, "staff messages are for agents, supervisors and admins")
	ErrNotFound  = fault.New(fault.NotFound, "no such thread")
	ErrBadInput  = fault.New(fault.BadRequest, "bad input")
	ErrTooLong   = fault.New(fault.TooLong, "the text is longer than the limit")
)

func bad(format string, a ...any) error { return fault.Detailf(ErrBadInput, format, a...) }

func notFound(format string, a ...any) error { return fault.Detailf(ErrNotFound, format, a...) }

func tooLong(n int) error {
	return fault.Detailf(ErrTooLong, "text: %d characters, at most %d", n, MaxText)
}
