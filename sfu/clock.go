package sfu

import (
	"sync"
	"time"
)

// The shared clock. What a connection owes on a timer (an up
// connection's NACKs, TWCC feedback and receiver reports, a subscriber's
// layer choice) is done on one ticker for the whole process instead of a
// ticker and a goroutine per connection: a room of ten costs one wake-up
// per tick, not eleven, and a node with thousands of idle connections
// does not pay thousands of timer goroutines for them. The work of a
// tick is the same; only the wake-ups and the goroutines go.

// tickPeriod is the clock's one period; everything on it runs on a
// multiple of it.
const tickPeriod = 50 * time.Millisecond

// ticking is what runs on the clock. tick is called once a period, in
// the clock's goroutine, with the time of the tick; it reports false when
// it is done, and is then dropped.
type ticking interface {
	tick(now time.Time) bool
}

// clock runs its members' ticks while it has any: its goroutine ends
// when the last one leaves and starts again with the next.
type clock struct {
	period time.Duration

	mu      sync.Mutex
	members map[ticking]struct{}
	running bool

	// ticking is held while a tick runs, so that remove can wait until
	// no tick is calling the member it removed.
	ticking sync.Mutex
}

// sharedClock is the process's: every SFU's connections tick on it.
var sharedClock = newClock(tickPeriod)

func newClock(period time.Duration) *clock {
	return &clock{period: period, members: map[ticking]struct{}{}}
}

// add puts m on the clock; its first tick is within a period.
func (c *clock) add(m ticking) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.members[m] = struct{}{}
	if !c.running {
		c.running = true
		go c.run()
	}
}

// remove takes m off the clock and returns once no tick is calling it.
// It must not be called from a tick: a member that is done reports false
// instead.
func (c *clock) remove(m ticking) {
	c.mu.Lock()
	delete(c.members, m)
	c.mu.Unlock()
	// Gone from the members first, so that no later tick calls it; then
	// the tick under way, if any, is waited out.
	c.ticking.Lock()
	//lint:ignore SA2001 the empty critical section is the wait
	c.ticking.Unlock()
}

func (c *clock) run() {
	t := time.NewTicker(c.period)
	defer t.Stop()
	var members []ticking
	for now := range t.C {
		c.ticking.Lock()
		c.mu.Lock()
		if len(c.members) == 0 {
			c.running = false
			c.mu.Unlock()
			c.ticking.Unlock()
			return
		}
		members = members[:0]
		for m := range c.members {
			members = append(members, m)
		}
		c.mu.Unlock()
		for _, m := range members {
			if !m.tick(now) {
				c.mu.Lock()
				delete(c.members, m)
				c.mu.Unlock()
			}
		}
		clear(members) // hold no member past its tick
		c.ticking.Unlock()
	}
}
