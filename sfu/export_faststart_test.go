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
