package sfu_test

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// heldNominations is a client's network that drops the client's
// nominating checks (binding requests carrying USE-CANDIDATE) until let
// is set; everything else goes through. The server, an ICE-lite agent,
// connects only on a nomination, and Pion's client starts DTLS only once
// its nomination has succeeded: a test holds a connection back with it.
type heldNominations struct {
	ownSockets
	let     atomic.Bool
	dropped atomic.Int64
}

func (n *heldNominations) settings(t *testing.T) func() webrtc.SettingEngine {
	t.Cleanup(n.close)
	return n.ownSockets.settings(t, func(c net.PacketConn) net.PacketConn { return &nominationConn{PacketConn: c, n: n} })
}

type nominationConn struct {
	net.PacketConn
	n *heldNominations
}

func (c *nominationConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.n.let.Load() && stun.IsMessage(p) {
		m := &stun.Message{Raw: append([]byte(nil), p...)}
		if m.Decode() == nil && m.Type == stun.BindingRequest && m.Contains(stun.AttrUseCandidate) {
			c.n.dropped.Add(1)
			return len(p), nil
		}
	}
	return c.PacketConn.WriteTo(p, addr)
}
