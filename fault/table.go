package fault

import (
	"net/http"
	"sort"
)

// The wire codes: the error table of docs/protocol.md, which a test
// checks against Rules code by code.
const (
	Malformed          = "malformed"
	BadRequest         = "bad_request"
	TooLong            = "too_long"
	UnknownType        = "unknown_type"
	HelloRequired      = "hello_required"
	UnsupportedVersion = "unsupported_version"
	Unauthenticated    = "unauthenticated"
	InvalidCredentials = "invalid_credentials"
	Forbidden          = "forbidden"
	ForbiddenOrigin    = "forbidden_origin"
	NotFound           = "not_found"
	Conflict           = "conflict"
	Gone               = "gone"
	MethodNotAllowed   = "method_not_allowed"
	RateLimited        = "rate_limited"
	TooLarge           = "too_large"
	TooManyConnections = "too_many_connections"
	Unavailable        = "unavailable"
	Internal           = "internal"
	// QueueClosed and QueueFull refuse chat.start: the queue is disabled
	// or outside its hours, or has as many chats waiting as it allows.
	QueueClosed = "queue_closed"
	QueueFull   = "queue_full"
)

// Socket is what a code is on the websocket.
type Socket int

const (
	// NotOnSocket: the websocket never sends the code.
	NotOnSocket Socket = iota
	// Stays: the code answers a request and the connection stays open.
	Stays
	// Closes: the code is sent, then the connection is closed.
	Closes
	// BeforeUpgrade: the code refuses the upgrade, as an HTTP answer.
	BeforeUpgrade
)

// Rule is what a code is on each transport.
type Rule struct {
	Status int    // the HTTP status; 0 when HTTP never answers the code
	Socket Socket // what it is on the websocket
}

// rules is the one translation table. It is read, never written.
var rules = map[string]Rule{
	Malformed:          {0, Stays},
	BadRequest:         {http.StatusBadRequest, Stays},
	TooLong:            {0, Stays},
	UnknownType:        {0, Stays},
	HelloRequired:      {0, Stays},
	UnsupportedVersion: {0, Stays},
	Unauthenticated:    {http.StatusUnauthorized, Stays},
	InvalidCredentials: {http.StatusUnauthorized, NotOnSocket},
	Forbidden:          {http.StatusForbidden, Stays},
	ForbiddenOrigin:    {http.StatusForbidden, BeforeUpgrade},
	NotFound:           {http.StatusNotFound, Stays},
	Conflict:           {http.StatusConflict, Stays},
	Gone:               {http.StatusGone, NotOnSocket},
	MethodNotAllowed:   {http.StatusMethodNotAllowed, NotOnSocket},
	RateLimited:        {http.StatusTooManyRequests, Stays},
	TooLarge:           {http.StatusRequestEntityTooLarge, Closes},
	TooManyConnections: {http.StatusTooManyRequests, BeforeUpgrade},
	Unavailable:        {http.StatusServiceUnavailable, Stays},
	Internal:           {http.StatusInternalServerError, Stays},
	QueueClosed:        {http.StatusConflict, Stays},
	QueueFull:          {http.StatusConflict, Stays},
}

// Lookup is the rule of code; ok is false for a code not in the table.
func Lookup(code string) (r Rule, ok bool) {
	r, ok = rules[code]
	return r, ok
}

// Codes lists every code of the table, sorted.
func Codes() []string {
	out := make([]string, 0, len(rules))
	for c := range rules {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
