package sfu

import (
	"testing"
	"time"
)

// SetFastStartAge keeps layers' start caches for d instead of 300 ms
// until the test ends: a test of the start cache must not depend on a
// connection coming up within 300 ms on a loaded machine.
func SetFastStartAge(tb testing.TB, d time.Duration) {
	old := fastStartAge.Swap(int64(d))
	tb.Cleanup(func() { fastStartAge.Store(old) })
}
