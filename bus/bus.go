// Package bus carries events from the domain packages to the connections
// that should see them. Domains publish; the signaling surface subscribes on
// behalf of its local connections. With one node the bus is in-process
// (MemoryBus); with many it is NATS, and callers cannot tell the difference.
//
// A message on the bus is a complete, already-encoded envelope frame: it is
// marshalled once by the publisher and the same bytes go to every recipient.
package bus

import (
	"encoding/json"
	"fmt"
)

// Bus publishes frames on subjects and delivers them to subscribers.
type Bus interface {
	// Publish hands frame to every current subscriber of subject. It does
	// not block on slow subscribers: handlers must only enqueue.
	Publish(subject string, frame []byte) error
	// Subscribe registers h for subject until the returned function is
	// called.
	Subscribe(subject string, h Handler) (unsubscribe func(), err error)
}

// Handler receives a frame. It runs on the publisher's goroutine (memory
// bus) or the bus client's (NATS), so it must not block.
type Handler func(frame []byte)

// Frame encodes an event envelope {"type": typ, "data": data}.
func Frame(typ string, data any) ([]byte, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("bus: encode %s: %w", typ, err)
	}
	return json.Marshal(struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data,omitempty"`
	}{typ, raw})
}

// PrincipalSubject is the subject that reaches every connection of one
// principal (all of a user's tabs), by the principal's key.
func PrincipalSubject(key string) string { return "principal." + key }

// BroadcastSubject reaches every connection on every node.
const BroadcastSubject = "broadcast"
