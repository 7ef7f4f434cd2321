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

	ErrQueueClosed = queues.ErrQueueClosed
	ErrQueueFull   = queues.ErrQueueFull
)
