package signaling

import (
	"time"

	"parley/bus"
)

// ResyncReasonBus is session.resync's reason when the node's bus may have
// lost events.
const ResyncReasonBus = "bus"

// Resync sends session.resync to every connection of this node: events
// meant for them may have been lost on the way (the bus lost its link, or
// fell behind), so each client checks the conversations it follows with
// chat.position and fetches what it lacks with chat.resume. Every client
// asks again when told, so they are told in waves of ResyncWave
// connections, ResyncPace apart (10,000 connections over a second by
// default), not all at once. It never blocks: the waves after the first
// go out from a goroutine of their own, so it may be called from the
// bus's goroutine.
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
	wave := max(h.cfg.ResyncWave, 1)
	first := min(wave, len(conns))
	for _, c := range conns[:first] {
		c.Send(frame)
	}
	if rest := conns[first:]; len(rest) > 0 {
		go h.resyncInWaves(rest, frame, wave)
	}
}

// resyncInWaves tells conns, wave by wave, ResyncPace apart.
func (h *Hub) resyncInWaves(conns []*Conn, frame []byte, wave int) {
	pace := time.NewTicker(max(h.cfg.ResyncPace, time.Millisecond))
	defer pace.Stop()
	for len(conns) > 0 {
		<-pace.C
		n := min(wave, len(conns))
		for _, c := range conns[:n] {
			c.Send(frame)
		}
		conns = conns[n:]
	}
}
