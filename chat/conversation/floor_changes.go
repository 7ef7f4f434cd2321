package conversation

// The floor's changes on the bus: after each commit the conversation
// log marks the queue of a chat whose state, agent, queue or times
// changed (floor.go), or everything, and a FloorNotifier publishes what
// was marked, at most once per window, on FloorSubject. Every node's
// floor (chat/floor) recomputes a watched scope's snapshot when one of its
// queues was marked.
//
// It replaces the NOTIFY triggers of chat's tables (migration 0027):
// PostgreSQL holds a global lock from a notifying transaction's commit
// until it is flushed, so every chat's start, offer, accept and close
// committed one at a time.

import (
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"parley/bus"
	"parley/chat/queues"
)

// FloorSubject is the bus subject of the floor's changes, on every node.
const FloorSubject = "floor.changes"

// floorFrameType is the envelope type of a change on FloorSubject.
const floorFrameType = "floor.changes"

// FloorWindow is the least time between two publishes of one node.
const FloorWindow = 50 * time.Millisecond

// FloorChange is what changed: the chats of Queues, or (All) anything the floor
// shows, in any queue.
type FloorChange struct {
	All    bool             `json:"all,omitempty"`
	Queues []queues.QueueID `json:"queues,omitempty"`
}

// FloorNotifier gathers the changes of one node and publishes them. The first
// mark after a quiet window is published at once; marks within the window
// after a publish are gathered and published together when it ends. A nil
// FloorNotifier marks nothing.
type FloorNotifier struct {
	bus    bus.Bus
	log    *slog.Logger
	window time.Duration

	mu      sync.Mutex
	all     bool
	queues  map[queues.QueueID]struct{}
	last    time.Time   // when the last change was published
	pending *time.Timer // set while a publish is due at the window's end
	marks   int64       // marks, for the metrics
	sent    int64       // publishes, for tests and the metrics
}

// NewFloorNotifier makes a notifier publishing on b at most once per
// window (zero: FloorWindow).
func NewFloorNotifier(b bus.Bus, log *slog.Logger, window time.Duration) *FloorNotifier {
	if window <= 0 {
		window = FloorWindow
	}
	return &FloorNotifier{bus: b, log: log, window: window, queues: map[queues.QueueID]struct{}{}}
}

// Queue marks the chats of the queues ids as changed.
func (n *FloorNotifier) Queue(ids ...queues.QueueID) {
	if n == nil {
		return
	}
	n.mark(func() {
		for _, id := range ids {
			n.queues[id] = struct{}{}
		}
	})
}

// All marks everything the floor shows as changed: an agent's status,
// open chats or last activity, which count in every queue the agent is a
// member of.
func (n *FloorNotifier) All() {
	if n == nil {
		return
	}
	n.mark(func() { n.all = true })
}

// Sent is how many changes this notifier published.
func (n *FloorNotifier) Sent() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.sent
}

// Marks is how many marks this notifier was given (each a queue or
// everything): what one publish per mark would have sent.
func (n *FloorNotifier) Marks() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.marks
}

func (n *FloorNotifier) mark(how func()) {
	n.mu.Lock()
	n.marks++
	how()
	if n.pending != nil {
		n.mu.Unlock()
		return
	}
	if wait := n.window - time.Since(n.last); wait > 0 {
		n.pending = time.AfterFunc(wait, n.flush)
		n.mu.Unlock()
		return
	}
	c := n.takeLocked()
	n.mu.Unlock()
	n.publish(c)
}

// Flush publishes what is marked now, without waiting for the window to
// end.
func (n *FloorNotifier) Flush() {
	if n == nil {
		return
	}
	n.mu.Lock()
	if n.pending != nil {
		n.pending.Stop()
	}
	n.mu.Unlock()
	n.flush()
}

// flush publishes what was marked during the window, if anything was.
func (n *FloorNotifier) flush() {
	n.mu.Lock()
	n.pending = nil
	if !n.all && len(n.queues) == 0 {
		n.mu.Unlock()
		return
	}
	c := n.takeLocked()
	n.mu.Unlock()
	n.publish(c)
}

// takeLocked takes the marks as a FloorChange and notes the publish; n.mu is
// held.
func (n *FloorNotifier) takeLocked() FloorChange {
	c := FloorChange{All: n.all}
	if !n.all {
		c.Queues = make([]queues.QueueID, 0, len(n.queues))
		for id := range n.queues {
			c.Queues = append(c.Queues, id)
		}
		slices.Sort(c.Queues)
	}
	n.all = false
	clear(n.queues)
	n.last = time.Now()
	n.sent++
	return c
}

func (n *FloorNotifier) publish(c FloorChange) {
	frame, err := bus.Frame(floorFrameType, c)
	if err != nil {
		n.log.Error("floor changes: encode", "err", err)
		return
	}
	if err := n.bus.Publish(FloorSubject, frame); err != nil {
		n.log.Warn("floor changes: publish: the floor shows them at its next change", "err", err)
	}
}

// Decode reads a change published on FloorSubject.
func DecodeFloorChange(frame []byte) (FloorChange, error) {
	var env struct {
		Data FloorChange `json:"data"`
	}
	err := json.Unmarshal(frame, &env)
	return env.Data, err
}
