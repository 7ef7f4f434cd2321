package sfu_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"parley/rtcpeer"
	"parley/sfu"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newSFU(t *testing.T) *sfu.SFU {
	t.Helper()
	s, err := sfu.New(sfu.Config{ListenIP: "127.0.0.1", TCPPort: -1, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// client is rtcpeer's client joined to the SFU directly: both test peers
// are one.
type client struct {
	*rtcpeer.Peer
	srv     *rtcpeer.Direct
	up      *webrtc.PeerConnection
	down    *webrtc.PeerConnection
	closing atomic.Bool // the test is tearing down: late offers are expected to fail
}

// newClient makes a client with opt; a failed answer fails the test
// unless it is closing.
func newClient(t *testing.T, opt rtcpeer.Options) *client {
	t.Helper()
	c := &client{srv: rtcpeer.NewDirect()}
	opt.OnError = func(err error) {
		if !c.closing.Load() {
			t.Errorf("down answer: %v", err)
		}
	}
	var err error
	if c.Peer, err = rtcpeer.New(c.srv, opt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.up, c.down = c.Up(), c.Down()
	return c
}

func (c *client) participant() *sfu.Participant { return c.srv.Participant() }

func (c *client) join(t *testing.T, r *sfu.Room, id string, opt sfu.JoinOptions) {
	t.Helper()
	if _, err := c.srv.Join(r, id, c.Peer, opt); err != nil {
		t.Fatal(err)
	}
}

// offerUp offers the up connection and applies the server's answer.
func (c *client) offerUp(t *testing.T) {
	t.Helper()
	if err := c.OfferUp(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// peer is a client recording what it receives as the simulcast tests
// need it.
type peer struct {
	*client
	received  atomic.Int64 // RTP packets on all down tracks
	keyframes atomic.Int64
	layer     atomic.Int32    // the simulcast layer of the last packet (third payload byte)
	layerKeys [3]atomic.Int64 // keyframes received per layer
	maxGap    atomic.Int32    // the largest jump in sequence numbers seen
	firstKey  atomic.Int32    // 1 if the first packet received was a keyframe's, 2 if not
	headMu    sync.Mutex
	head      []rtp.Header // the first headHeaders packets' headers
	tracks    chan *webrtc.TrackRemote
}

// headHeaders is how many of the first packets' headers a peer keeps.
const headHeaders = 64

func newPeer(t *testing.T) *peer {
	t.Helper()
	return newPeerWith(t, rtcpeer.DefaultAPI(), webrtc.Configuration{})
}

// newPeerWith makes a peer whose connections come from api (one on a slow
// network, say) with configuration cfg.
func newPeerWith(t *testing.T, api *webrtc.API, cfg webrtc.Configuration) *peer {
	t.Helper()
	c := &peer{tracks: make(chan *webrtc.TrackRemote, 16)}
	c.client = newClient(t, rtcpeer.Options{
		Config:  cfg,
		API:     func() *webrtc.API { return api },
		OnTrack: func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { c.record(tr) },
	})
	return c
}

// record reads a received track until it ends.
func (c *peer) record(tr *webrtc.TrackRemote) {
	c.tracks <- tr
	var last uint16
	for n := 0; ; n++ {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		c.received.Add(1)
		if n > 0 {
			if gap := int32(pkt.SequenceNumber - last); gap > c.maxGap.Load() {
				c.maxGap.Store(gap)
			}
		}
		last = pkt.SequenceNumber
		layer := int32(pkt.Payload[2])
		c.layer.Store(layer)
		key := pkt.Payload[0]&0x10 != 0 && pkt.Payload[1]&0x01 == 0
		if key {
			c.keyframes.Add(1)
			c.layerKeys[layer].Add(1)
		}
		if n == 0 {
			c.firstKey.CompareAndSwap(0, map[bool]int32{true: 1, false: 2}[key])
		}
		if n < headHeaders {
			c.headMu.Lock()
			c.head = append(c.head, pkt.Header)
			c.headMu.Unlock()
		}
	}
}

// publish offers the up connection with the given local tracks.
func (c *peer) publish(t *testing.T, tracks ...*webrtc.TrackLocalStaticRTP) {
	t.Helper()
	for _, tr := range tracks {
		if _, err := c.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
	}
	c.offerUp(t)
}

// vp8 makes a VP8 packet of layer 0: a keyframe or a delta frame.
func vp8(seq uint16, ts uint32, key bool) *rtp.Packet { return rtcpeer.VP8(seq, ts, key, 0) }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
}

func vp8Track(t *testing.T, id string) *webrtc.TrackLocalStaticRTP {
	t.Helper()
	tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, id, "stream-"+id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestAPublishedTrackReachesEverySubscriberAndLeavingCleansUp(t *testing.T) {
	before := runtime.NumGoroutine()
	s := newSFU(t)
	room := s.Room("r1")
	pub, sub1, sub2 := newPeer(t), newPeer(t), newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	sub1.join(t, room, "sub1", sfu.JoinOptions{})
	track := vp8Track(t, "cam")
	pub.publish(t, track)
	stop := make(chan struct{})
	sending := make(chan struct{})
	go func() { rtcpeer.SendVP8(stop, 50, track); close(sending) }()
	sub2.join(t, room, "sub2", sfu.JoinOptions{ReceiveOnly: true}) // joins after publishing
	for i, c := range []*peer{sub1, sub2} {
		eventually(t, fmt.Sprintf("subscriber %d receives video", i+1), func() bool { return c.received.Load() > 50 })
		if c.keyframes.Load() == 0 {
			t.Errorf("subscriber %d got no keyframe", i+1)
		}
	}
	if n := pub.received.Load(); n != 0 {
		t.Errorf("the publisher received %d packets of its own track", n)
	}
	// The subscribers' copies went out in batches, a sendmmsg a pass.
	if calls, sent := sfu.BatchesSent(s); calls == 0 || sent < 100 {
		t.Errorf("%d packets sent in %d batches; the forwarding passes did not batch", sent, calls)
	}
	close(stop)
	<-sending
	// The publisher leaves: the track ends for both subscribers.
	pub.participant().Leave()
	eventually(t, "subscriptions end", func() bool {
		return sub1.participant().Subscriptions() == 0 && sub2.participant().Subscriptions() == 0
	})
	for _, c := range []*peer{pub, sub1, sub2} {
		c.closing.Store(true)
	}
	sub1.participant().Leave()
	sub2.participant().Leave()
	for _, c := range []*peer{pub, sub1, sub2} {
		c.up.Close()
		c.down.Close()
	}
	s.Close()
	goroutinesBackTo(t, before)
}

// A publisher sends three simulcast layers; one subscriber is held to the
// low layer and moves there on a keyframe, the other stays on the high
// one; both keep receiving a continuous stream.
func TestSimulcastSubscribersGetTheLayerTheyCanTake(t *testing.T) {
	s := newSFU(t)
	room := s.Room("sim")
	pub, hi, lo := newPeer(t), newPeer(t), newPeer(t)
	pub.join(t, room, "pub", sfu.JoinOptions{})
	hi.join(t, room, "hi", sfu.JoinOptions{})
	lo.join(t, room, "lo", sfu.JoinOptions{})
	sim := publishSimulcast(t, pub)
	go func() {
		for {
			if _, _, err := sim.sender.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	stop, sending := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sending)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for li := range sim.layers {
				sim.write(li, rtcpeer.VP8(uint16(i+li*10000), uint32(i*3000+li*777777), i%40 == 0, byte(li))) // each layer numbers its own packets
			}
		}
	}()
	defer func() { close(stop); <-sending }()

	for _, c := range []*peer{hi, lo} {
		c := c
		eventually(t, "the high layer arrives", func() bool { return c.layer.Load() == 2 && c.layerKeys[2].Load() > 0 })
		t.Logf("receiving layer %d after %d packets", c.layer.Load(), c.received.Load())
	}
	lo.participant().SetMaxLayer("cam", 0)
	eventually(t, "the held subscriber moves to the low layer", func() bool { return lo.layer.Load() == 0 && lo.layerKeys[0].Load() > 0 })
	before := lo.received.Load()
	eventually(t, "it keeps receiving after the switch", func() bool { return lo.received.Load() > before+50 })
	if lo.layer.Load() != 0 {
		t.Fatalf("the held subscriber went back to layer %d", lo.layer.Load())
	}
	if hi.layer.Load() != 2 {
		t.Fatalf("the other subscriber left the high layer for %d", hi.layer.Load())
	}
	if gap := lo.maxGap.Load(); gap != 1 {
		t.Fatalf("sequence numbers jumped by %d across the switch: the subscriber would see loss", gap)
	}
	// And back up.
	lo.participant().SetMaxLayer("cam", 2)
	eventually(t, "it returns to the high layer", func() bool { return lo.layer.Load() == 2 })
	for _, c := range []*peer{pub, hi, lo} {
		c.closing.Store(true)
	}
}

// simulcast is a publisher's camera in three layers, sent as a browser
// sends it.
type simulcast struct {
	layers       []*webrtc.TrackLocalStaticRTP
	sender       *webrtc.RTPSender
	mid          string
	midID, ridID uint8
}

var simulcastRIDs = []string{"l", "m", "h"}

// publishSimulcast adds a three-layer VP8 track "cam" to pub's up
// connection and negotiates it.
func publishSimulcast(t *testing.T, pub *peer) *simulcast {
	t.Helper()
	sim := &simulcast{}
	for _, rid := range simulcastRIDs {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "cam", "pub", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
		sim.layers = append(sim.layers, tr)
	}
	var err error
	if sim.sender, err = pub.up.AddTrack(sim.layers[0]); err != nil {
		t.Fatal(err)
	}
	for _, l := range sim.layers[1:] {
		if err := sim.sender.AddEncoding(l); err != nil {
			t.Fatal(err)
		}
	}
	pub.offerUp(t)
	// A browser tags simulcast packets with mid and rid header extensions;
	// Pion's static track does not, so write does it as a browser would.
	for _, e := range sim.sender.GetParameters().HeaderExtensions {
		switch e.URI {
		case "urn:ietf:params:rtp-hdrext:sdes:mid":
			sim.midID = uint8(e.ID)
		case "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id":
			sim.ridID = uint8(e.ID)
		}
	}
	if sim.midID == 0 || sim.ridID == 0 {
		t.Fatal("mid and rid extensions were not negotiated")
	}
	for _, tr := range pub.up.GetTransceivers() {
		if tr.Sender() == sim.sender {
			sim.mid = tr.Mid()
		}
	}
	return sim
}

// write sends pkt on layer li, tagged with the mid and the layer's rid.
func (sim *simulcast) write(li int, pkt *rtp.Packet) {
	pkt.Header.SetExtension(sim.midID, []byte(sim.mid))           //nolint:errcheck
	pkt.Header.SetExtension(sim.ridID, []byte(simulcastRIDs[li])) //nolint:errcheck
	sim.layers[li].WriteRTP(pkt)                                  //nolint:errcheck
}

func dumpGoroutines(t *testing.T) {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	t.Logf("%s", buf[:n])
}
