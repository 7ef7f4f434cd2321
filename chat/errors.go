package chat

import "parley/chat/queues"

// The errors are chat/queues' (errors.go there), the lowest chat package,
// re-exported for chat's callers.
var (
	ErrNotFound  = queues.ErrNotFound
	ErrForbidden = queues.ErrForbidden
	ErrConflict  = queues.ErrConflict
	ErrBadInput  = queues.ErrBadInput
	ErrTooLong   = queues.ErrTooLong
)

// bad, conflict, badText and detail are queues.Bad, Conflict, BadText and
// Detail. They are functions, not variables holding them, so that the
// compiler inlines them and a call's arguments stay on the stack (the
// send path checks its text with badText).
func bad(format string, a ...any) error      { return queues.Bad(format, a...) }
func conflict(format string, a ...any) error { return queues.Conflict(format, a...) }
func badText(fields ...string) error         { return queues.BadText(fields...) }
func detail(sentinel error, text string) error {
	return queues.Detail(sentinel, text)
}
