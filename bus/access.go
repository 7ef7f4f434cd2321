package bus

import "encoding/json"

// AccessSubject carries the ends of access: a domain publishes an
// AccessEnded frame on it when a principal loses the right to follow
// something (an offer ended, a queue it was removed from, a logout), and
// every node's websocket surface acts on its own connections of that
// principal. So it works the same with one node or many.
const AccessSubject = "access"

// AccessEndedType is the envelope type of an AccessEnded frame on
// AccessSubject. Such frames are for the nodes, never for clients.
const AccessEndedType = "access.ended"

// AccessEnded says that the principal with key Principal may no longer
// follow Subjects: each of its connections drops them, then receives Event
// (an encoded envelope frame, if any). With Close, its connections are
// closed with CloseCode and CloseReason instead.
type AccessEnded struct {
	Principal   string          `json:"principal"`
	Subjects    []string        `json:"subjects,omitempty"`
	Event       json.RawMessage `json:"event,omitempty"`
	Close       bool            `json:"close,omitempty"`
	CloseCode   int             `json:"close_code,omitempty"`
	CloseReason string          `json:"close_reason,omitempty"`
}
