package sfu_test

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/stdnet"
	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

// A subscriber's network loses one video packet; the subscriber (Pion's
// default interceptors, so its NACK generator) asks for it, and the SFU
// sends it again from its history.
func TestALostPacketIsSentAgainWhenTheSubscriberNacksIt(t *testing.T) {
	s := newSFU(t)
	room := s.Room("nack")
	loss := newOneLoss(t, 20)
	se := rtcpeer.Settings()
	se.SetNet(loss)
	pub, sub := newPeer(t), newPeerWith(t, webrtc.NewAPI(webrtc.WithSettingEngine(se)), webrtc.Configuration{})

	var mu sync.Mutex
	seen := map[uint16]int{}
	sub.down.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			pkt, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			mu.Lock()
			seen[pkt.SequenceNumber]++
			mu.Unlock()
		}
	})
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	cam := vp8Track(t, "cam")
	pub.publish(t, cam)
	stop := make(chan struct{})
	defer close(stop)
	go rtcpeer.SendVP8(stop, 50, cam)

	var lost uint16
	select {
	case lost = <-loss.dropped:
	case <-time.After(15 * time.Second):
		t.Fatal("the subscriber's network dropped no packet within 15s")
	}
	eventually(t, "the lost packet arrives after all", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return seen[lost] > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if seen[lost+1] == 0 && seen[lost-1] == 0 {
		t.Errorf("packet %d came back, but its neighbours never came", lost)
	}
	pub.closing.Store(true)
	sub.closing.Store(true)
}

// A subscriber's picture loss indication reaches the publisher as a
// keyframe request: the publisher here sends keyframes only when asked.
func TestASubscribersPictureLossBringsAKeyframe(t *testing.T) {
	s := newSFU(t)
	room := s.Room("pli")
	pub, sub := newNetPeer(t, webrtc.Configuration{}, nil), newNetPeer(t, webrtc.Configuration{}, nil)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub.join(t, room, "sub", sfu.JoinOptions{ReceiveOnly: true})
	pub.publishMedia(t, vp8Track(t, "cam"))
	keys := func() (n int) {
		for _, p := range sub.got("cam") {
			if p.key {
				n++
			}
		}
		return n
	}
	eventually(t, "the subscriber starts at a keyframe and goes on", func() bool { return keys() > 0 && sub.count("cam") > 20 })
	var ssrc uint32
	for _, r := range sub.down.GetReceivers() {
		if tr := r.Track(); tr != nil && tr.ID() == "cam" {
			ssrc = uint32(tr.SSRC())
		}
	}
	before := keys()
	err := sub.down.WriteRTCP([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 1}, // compound, as browsers send it
		&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: ssrc},
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "a keyframe follows the picture loss", func() bool { return keys() > before })
	pub.closing.Store(true)
	sub.closing.Store(true)
}

// oneLoss is a client's network that drops one RTP packet: the after-th
// of the first stream it sees (SRTP leaves the header in the clear).
type oneLoss struct {
	transport.Net
	after   int
	dropped chan uint16 // the sequence number dropped

	mu    sync.Mutex
	ssrc  uint32
	count int
}

func newOneLoss(t *testing.T, after int) *oneLoss {
	n, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	return &oneLoss{Net: n, after: after, dropped: make(chan uint16, 1)}
}

func (l *oneLoss) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := l.Net.ListenUDP(network, addr)
	if err != nil || addr.IP.IsMulticast() {
		return c, err
	}
	return &lossyConn{UDPConn: c, loss: l}, nil
}

// drop reports whether p is the packet to lose.
func (l *oneLoss) drop(p []byte) bool {
	// RTP, not RTCP (payload types 64-95 with the marker bit are RTCP's).
	if len(p) < 12 || p[0]>>6 != 2 || (p[1]&0x7f >= 64 && p[1]&0x7f < 96) {
		return false
	}
	ssrc := binary.BigEndian.Uint32(p[8:])
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count > l.after {
		return false
	}
	if l.ssrc == 0 {
		l.ssrc = ssrc
	}
	if ssrc != l.ssrc {
		return false
	}
	l.count++
	if l.count <= l.after {
		return false
	}
	l.dropped <- binary.BigEndian.Uint16(p[2:])
	return true
}

type lossyConn struct {
	transport.UDPConn
	loss *oneLoss
}

func (c *lossyConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, from, err := c.UDPConn.ReadFrom(p)
		if err != nil || !c.loss.drop(p[:n]) {
			return n, from, err
		}
	}
}
