package signaling

import (
	"time"

	"github.com/gorilla/websocket"
)

// The ping schedule. Every connection is pinged once per PingInterval, as
// a ticker per connection would, but from one goroutine of the hub: the
// interval is cut into pingSlots ticks and each connection is pinged on
// the tick of its slot, so the pings (and the writers they start) are
// spread evenly instead of coming all at once. The goroutine runs while
// the hub has connections.
//
// The same ticks keep the pong timeout: a connection whose client has
// sent nothing, no frame and no pong, for PongTimeout is ended on the
// next tick (no later than PingInterval/pingSlots past it). A reader
// blocked with a read deadline did this before; an idle connection has
// no reader now (poll.go).
const pingSlots = 25

// startPingingLocked starts the schedule unless it runs. The caller holds
// h.mu.
func (h *Hub) startPingingLocked() {
	if !h.pinging {
		h.pinging = true
		go h.pingLoop()
	}
}

func (h *Hub) pingLoop() {
	tick := time.NewTicker(max(h.cfg.PingInterval/pingSlots, time.Millisecond))
	defer tick.Stop()
	var due, dead []*Conn
	for slot := uint32(0); ; slot = (slot + 1) % pingSlots {
		now := <-tick.C
		heard := now.Add(-h.cfg.PongTimeout).UnixNano() // the oldest still alive
		h.mu.Lock()
		if len(h.conns) == 0 {
			h.pinging = false
			h.mu.Unlock()
			return
		}
		due, dead = due[:0], dead[:0]
		for c := range h.conns {
			switch {
			case c.lastRead.Load() < heard:
				dead = append(dead, c)
			case c.pingSlot == slot:
				due = append(due, c)
			}
		}
		h.mu.Unlock()
		for _, c := range due {
			c.ping()
		}
		for _, c := range dead {
			c.silent()
		}
		clear(due)
		clear(dead)
	}
}

// silent ends a connection whose client has not been heard from for
// PongTimeout. Its buffers may be full, so no close frame is tried.
func (c *Conn) silent() {
	if c.end(closeFrame{websocket.CloseAbnormalClosure, "no frame or pong within the pong timeout"}) {
		c.logger().Info("pong timeout, disconnecting", "timeout", c.cfg.PongTimeout)
		c.closeSocket()
	}
}
