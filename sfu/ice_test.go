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
	"parley/sfu"
)

// heldNominations is a client's network that drops the client's
// nominating checks (binding requests carrying USE-CANDIDATE) until let
// is set; everything else goes through.
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

// The server's connections come up on the first pair the client checks,
// without waiting for the client to nominate one: a browser's DTLS
// starts as soon as its own check succeeds, and nominates a check later.
// Once the nomination comes, media flows on the pair nominated.
func TestTheServerTakesTheFirstCheckedPairWithoutWaitingForTheNomination(t *testing.T) {
	s := newSFU(t)
	room := s.Room("ice")
	pub := newNetPeer(t, webrtc.Configuration{}, nil)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	pub.publishMedia(t, vp8Track(t, "cam"))

	var held heldNominations
	sub := newNetPeer(t, webrtc.Configuration{}, held.settings(t))
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	eventually(t, "the server's down connection is connected, no nomination having reached it", func() bool {
		return sfu.ICEState(sub.participant(), sfu.Down) == webrtc.ICEConnectionStateConnected
	})
	if got := sub.down.ICEConnectionState(); got == webrtc.ICEConnectionStateConnected {
		t.Errorf("the client's down connection is %s with its nominations held back", got)
	}

	eventually(t, "the client tries to nominate", func() bool { return held.dropped.Load() > 0 })
	held.let.Store(true)
	eventually(t, "video reaches the subscriber once the client nominates", func() bool { return sub.count("cam") > 30 })
	pair, err := sub.down.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("the client's down connection has no selected pair (%v)", err)
	}
	for _, c := range []*netPeer{pub, sub} {
		c.closing.Store(true)
	}
}
