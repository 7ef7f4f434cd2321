package sfu_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
)

// heldNominations is a client's network that drops the client's
// nominating checks (binding requests carrying USE-CANDIDATE) until let
// is set; everything else goes through. The server, an ICE-lite agent,
// connects only on a nomination, and Pion's client starts DTLS only once
// its nomination has succeeded: a test holds a connection back with it.
type heldNominations struct {
	let     atomic.Bool
	dropped atomic.Int64
	mu      sync.Mutex
	muxes   []ice.UDPMux
}

func (n *heldNominations) settings(t *testing.T) func() webrtc.SettingEngine {
	t.Cleanup(func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		for _, m := range n.muxes {
			m.Close()
		}
	})
	return func() webrtc.SettingEngine {
		udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		mux := webrtc.NewICEUDPMux(nil, &nominationConn{PacketConn: udp, n: n})
		n.mu.Lock()
		n.muxes = append(n.muxes, mux)
		n.mu.Unlock()
		se := rtcpeer.Settings()
		se.SetICEUDPMux(mux)
		se.SetIncludeLoopbackCandidate(true)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		return se
	}
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
