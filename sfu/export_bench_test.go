package sfu

import (
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Hooks for the forwarding benchmarks (forward_bench_test.go), which live
// in package sfu_test with the real peers.

// BatchesSent counts the sendmmsg calls of s's media socket and the
// packets they carried (batchconn.go).
func BatchesSent(s *SFU) (calls, packets uint64) {
	return s.out.batches.Load(), s.out.batched.Load()
}

// BenchForwarder returns what t's read loop does with a packet of layer 0
// once it has read and parsed it (n bytes): Track.forward.
func BenchForwarder(t *Track) func(n int, pkt *rtp.Packet) {
	t.mu.Lock()
	l := t.layers[0]
	t.mu.Unlock()
	return func(n int, pkt *rtp.Packet) { t.forward(l, n, pkt) }
}

// BenchRedirect makes t's subscribers write to w instead of their
// connections, until restore is called: what is left is the SFU's own
// part of the forwarding path, without Pion's interceptors, SRTP and the
// socket.
func BenchRedirect(t *Track, w webrtc.TrackLocalWriter) (restore func()) {
	subs := *t.subs.Load()
	outs := make([]webrtc.TrackLocalWriter, len(subs))
	for i, d := range subs {
		d.mu.Lock()
		outs[i], d.out = d.out, w
		d.mu.Unlock()
	}
	return func() {
		for i, d := range subs {
			d.mu.Lock()
			d.out = outs[i]
			d.mu.Unlock()
		}
	}
}
