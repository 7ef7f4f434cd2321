package queues

import (
	"fmt"

	"parley/fault"
	"parley/store"
)

// The chat packages' errors live here, in the lowest of them, and the
// others use these (chat re-exports them for its callers).
var (
	ErrNotFound  = fault.New(fault.NotFound, "no such conversation")
	ErrForbidden = fault.New(fault.Forbidden, "not allowed")
	ErrConflict  = fault.New(fault.Conflict, "not possible in the current state")
	ErrBadInput  = fault.New(fault.BadRequest, "bad input")
	ErrTooLong   = fault.New(fault.TooLong, "the text is longer than the limit")
	// ErrQueueClosed and ErrQueueFull refuse a chat.start; each refusal
	// carries the queue's own message (Detail).
	ErrQueueClosed = fault.New(fault.QueueClosed, DefaultOfflineMessage)
	ErrQueueFull   = fault.New(fault.QueueFull, DefaultUnavailableMessage)
)

// detail is a sentinel with a message of its own: a fault.Detail that the
// chat packages write without field names (detail{ErrForbidden, "…"}),
// and that SaveQueue finds with errors.As among its own errors.
type detail fault.Detail

func (d detail) Error() string { return d.Message }
func (d detail) Unwrap() error { return fault.Detail(d) }

// Detail is sentinel (one of the Err… above) with a message of its own;
// errors.Is still matches it to the sentinel.
func Detail(sentinel error, text string) error {
	c, ok := sentinel.(*fault.Error)
	if !ok {
		panic(fmt.Sprintf("chat: Detail of %v, which is not a coded error", sentinel))
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
