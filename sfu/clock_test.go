package sfu

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// counter counts its ticks and tells of each on a channel, if given one;
// it is done after last ticks (0: never).
type counter struct {
	n    atomic.Int32
	last int32
	tell chan struct{}
}

func (c *counter) tick(time.Time) bool {
	n := c.n.Add(1)
	if c.tell != nil {
		select {
		case c.tell <- struct{}{}:
		default:
		}
	}
	return c.last == 0 || n < c.last
}

// waitTicks waits until c has ticked n times.
func waitTicks(t *testing.T, c *counter, n int32) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for c.n.Load() < n {
		select {
		case <-c.tell:
		case <-deadline:
			t.Fatalf("%d ticks of %d within 10s", c.n.Load(), n)
		}
	}
}

// A hundred members tick from the one goroutine the clock adds, and it
// ends once the last has left; the next member starts it again.
func TestOneClockTicksEveryMemberFromOneGoroutineWhileItHasAny(t *testing.T) {
	c := newClock(time.Millisecond)
	before := runtime.NumGoroutine()
	members := make([]*counter, 100)
	for i := range members {
		members[i] = &counter{tell: make(chan struct{}, 1)}
		c.add(members[i])
	}
	for _, m := range members {
		waitTicks(t, m, 3)
	}
	if n := runtime.NumGoroutine() - before; n > 1 {
		t.Fatalf("%d goroutines for 100 members", n)
	}
	for _, m := range members {
		c.remove(m)
	}
	stopped := func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return !c.running
	}
	deadline := time.Now().Add(10 * time.Second)
	for !stopped() {
		if time.Now().After(deadline) {
			t.Fatal("the clock still runs with no members")
		}
		time.Sleep(time.Millisecond) // polling a condition
	}
	again := &counter{tell: make(chan struct{}, 1)}
	c.add(again)
	waitTicks(t, again, 2)
	c.remove(again)
}

// A member that reports itself done is not ticked again.
func TestAMemberThatIsDoneLeavesTheClock(t *testing.T) {
	c := newClock(time.Millisecond)
	done := &counter{last: 1}
	other := &counter{tell: make(chan struct{}, 1)}
	c.add(done)
	c.add(other)
	waitTicks(t, other, 5) // the tick after done's first has run
	if n := done.n.Load(); n != 1 {
		t.Fatalf("a member done after one tick ticked %d times", n)
	}
	c.remove(other)
}

// blocker's tick waits to be released, and notes that it has returned.
type blocker struct {
	in, release chan struct{}
	finished    atomic.Bool
}

func (b *blocker) tick(time.Time) bool {
	b.in <- struct{}{}
	<-b.release
	b.finished.Store(true)
	return true
}

// remove returns only once the tick under way has finished: after it,
// nothing the member's owner closes is used by a tick.
func TestRemoveWaitsOutTheTickUnderWay(t *testing.T) {
	c := newClock(time.Millisecond)
	b := &blocker{in: make(chan struct{}), release: make(chan struct{})}
	c.add(b)
	<-b.in
	removed := make(chan bool)
	go func() {
		c.remove(b)
		removed <- b.finished.Load()
	}()
	select {
	case <-removed:
		t.Fatal("remove returned while the member's tick was under way")
	case <-time.After(100 * time.Millisecond): // a wrong return shows at once; this only gives it the chance
	}
	close(b.release)
	if !<-removed {
		t.Fatal("remove returned before the tick finished")
	}
}
