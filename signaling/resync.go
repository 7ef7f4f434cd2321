package signaling

import "parley/bus"

// ResyncReasonBus is session.resync's reason when the node's bus may have
// lost events.
const ResyncReasonBus = "bus"

// Resync sends session.resync to every connection of this node: events
// meant for them may have been lost on the way (the bus lost its link, or
// fell behind), so each client checks the conversations it follows with
// chat.position and fetches what it lacks with chat.resume. Send never
// blocks, so it may be called from the bus's own goroutine.
func (h *Hub) Resync(reason string) {
	frame, err := bus.Frame("session.resync", map[string]string{"reason": reason})
	if err != nil {
		h.log.Error("encode session.resync", "err", err)
		return
	}
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	h.log.Info("bus may have lost events: clients told to resync", "connections", len(conns), "reason", reason)
	for _, c := range conns {
		c.Send(frame)
	}
}
