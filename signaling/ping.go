package signaling

import "time"

// The ping schedule. Every connection is pinged once per PingInterval, as
// a ticker per connection would, but from one goroutine of the hub: the
// interval is cut into pingSlots ticks and each connection is pinged on
// the tick of its slot, so the pings (and the writers they start) are
// spread evenly instead of coming all at once. The goroutine runs while
// the hub has connections.
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
	var due []*Conn
	for slot := uint32(0); ; slot = (slot + 1) % pingSlots {
		<-tick.C
		h.mu.Lock()
		if len(h.conns) == 0 {
			h.pinging = false
			h.mu.Unlock()
			return
		}
		due = due[:0]
		for c := range h.conns {
			if c.pingSlot == slot {
				due = append(due, c)
			}
		}
		h.mu.Unlock()
		for _, c := range due {
			c.ping()
		}
		clear(due)
	}
}
