package sfu

import (
	"testing"
	"time"
)

// SetFastStartAge keeps layers' start caches for d instead of a second
// until the test ends: a test of the start cache must not depend on a
// connection coming up within a second on a loaded machine.
func SetFastStartAge(tb testing.TB, d time.Duration) {
	old := fastStartAge.Swap(int64(d))
	tb.Cleanup(func() { fastStartAge.Store(old) })
}

// DownReady reports whether p's down connection is up (ICE and DTLS),
// so forwarding to it has begun.
func DownReady(p *Participant) bool { return p.downReady.Load() }

// Allowed is the layer the bandwidth allocation allows p of the track
// trackID, -1 when p does not receive it.
func Allowed(p *Participant, trackID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for t, d := range p.subs {
		if t.id == trackID {
			_, allowed := d.caps()
			return allowed
		}
	}
	return -1
}

// SetStartKeyWait makes a subscriber that has not started wait d for the
// keyframe it asked for before asking again, until the test ends.
func SetStartKeyWait(tb testing.TB, d time.Duration) {
	old := startKeyWait.Swap(int64(d))
	tb.Cleanup(func() { startKeyWait.Store(old) })
}
