package conference

import "parley/fault"

// Sentinel errors, with their wire codes. Every refusal of a room request
// is one of them, with or without a message of its own (WithMessage).
var (
	ErrNotFound    = fault.New(fault.NotFound, "no such room")
	ErrEnded       = fault.New(fault.Conflict, "This room has ended")
	ErrForbidden   = fault.New(fault.Forbidden, "not allowed in this room")
	ErrBadInput    = fault.New(fault.BadRequest, "bad input")
	ErrConflict    = fault.New(fault.Conflict, "conflict")
	ErrRateLimited = fault.New(fault.RateLimited, "too many requests")
	ErrUnavailable = fault.New(fault.Unavailable, "The room's media server is not answering; try again in a moment.")
)

// WithMessage is the sentinel err told in words of its own: errors.Is
// still finds err, and the client reads msg.
func WithMessage(err *fault.Error, msg string) error { return fault.Detail{Of: err, Message: msg} }

func bad(format string, a ...any) error { return fault.Detailf(ErrBadInput, format, a...) }
